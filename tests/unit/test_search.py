"""Search without a server: parameter validation, the bulk actions and the indexer's partial failures."""

from __future__ import annotations

import base64

import pytest

from chirp.composition import Services
from chirp.errors import InvalidInput
from chirp.paging import parse_id_cursor
from chirp.search.query import (
    IndexingFailed,
    SearchPage,
    bulk_actions,
    bulk_failures,
    public_request,
    search_page,
    search_request,
)
from chirp.search.schema import DELETED_VERSION, LIVE_VERSION
from chirp.tweets.model import Tweet
from tests.conftest import load_handler
from tests.unit.test_stream_records import RecordingPoisonSink


def _tweet(tweet_id: int, *, deleted: bool = False, text: str = "hello #py @bob") -> Tweet:
    return Tweet(
        tweet_id=tweet_id,
        author_id="alice",
        text=text,
        created_at_ms=1_700_000_000_000,
        hashtags=["py"],
        mentions=["bob"],
        deleted=deleted,
    )


@pytest.fixture(scope="module")
def indexer():
    return load_handler("indexer")


# --- validation -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cursor", ["abc", "-1", "1.5", " 12", "١٢٣", "99999999999999999999", "9223372036854775808"])
def test_given_a_malformed_cursor_when_searching_then_invalid_input(cursor):
    with pytest.raises(InvalidInput, match="cursor"):
        search_request("hello", cursor=cursor)


@pytest.mark.parametrize(
    ("cursor", "expected"), [(None, None), ("", None), ("42", 42), ("9223372036854775807", 2**63 - 1)]
)
def test_given_a_valid_cursor_when_parsed_then_it_is_the_tweet_id(cursor, expected):
    assert parse_id_cursor(cursor) == expected


@pytest.mark.parametrize("limit", [0, -1, 101, True])
def test_given_an_out_of_range_limit_when_searching_then_invalid_input(limit):
    with pytest.raises(InvalidInput, match="limit"):
        search_request("hello", limit=limit)


@pytest.mark.parametrize("query", [None, "", "   "])
def test_given_no_query_and_no_filter_when_searching_then_invalid_input(query):
    with pytest.raises(InvalidInput, match="query, a hashtag or an author"):
        search_request(query)


def test_given_a_query_over_200_characters_when_searching_then_invalid_input():
    search_request("x" * 200)
    with pytest.raises(InvalidInput, match="200"):
        search_request("x" * 201)


@pytest.mark.parametrize("hashtag", ["", "#", "two words", "a-b", "x" * 101])
def test_given_a_malformed_hashtag_when_searching_then_invalid_input(hashtag):
    with pytest.raises(InvalidInput, match="hashtag"):
        search_request(None, hashtag=hashtag)


@pytest.mark.parametrize("author", ["", "  ", "a" * 129])
def test_given_a_malformed_author_when_searching_then_invalid_input(author):
    with pytest.raises(InvalidInput, match="author"):
        search_request(None, author_id=author)


def test_given_words_and_filters_when_building_the_request_then_all_words_must_match_and_tombstones_never_do():
    body = search_request("  Hello World ", hashtag="#Python", author_id="alice", limit=10, cursor="500")
    assert body["query"] == {
        "bool": {
            "must": [{"match": {"text": {"query": "Hello World", "operator": "and"}}}],
            "filter": [{"term": {"hashtags": "python"}}, {"term": {"author_id": "alice"}}],
            "must_not": [{"term": {"deleted": True}}],
        }
    }
    assert body["sort"] == [{"tweet_id": {"order": "desc"}}]
    assert body["search_after"] == [500]
    assert body["size"] == 11  # one more than the page, to know whether another exists


def test_given_only_a_hashtag_when_building_the_request_then_there_is_no_text_clause_and_no_search_after():
    body = search_request(None, hashtag="py")
    assert body["query"]["bool"]["must"] == []
    assert "search_after" not in body


def test_given_one_hit_more_than_the_limit_when_paging_then_the_cursor_is_the_last_returned_id():
    hits = {"hits": {"hits": [{"_id": str(i)} for i in (9, 7, 5)]}}
    assert search_page(hits, limit=2) == SearchPage(tweet_ids=[9, 7], next_cursor="7")
    assert search_page(hits, limit=3) == SearchPage(tweet_ids=[9, 7, 5], next_cursor=None)


# --- bulk actions and failures ----------------------------------------------------------------------------


def test_given_live_and_deleted_tweets_when_building_actions_then_each_state_is_an_externally_versioned_write():
    actions = bulk_actions([_tweet(1), _tweet(2, deleted=True), _tweet(3)], "tweets")
    assert [(a["_op_type"], a["_id"], a["_index"], a["version"], a["version_type"]) for a in actions] == [
        ("index", "1", "tweets", LIVE_VERSION, "external"),
        ("index", "2", "tweets", DELETED_VERSION, "external"),
        ("index", "3", "tweets", LIVE_VERSION, "external"),
    ]
    assert DELETED_VERSION > LIVE_VERSION  # a deletion always wins over the live state, in any order
    assert actions[0]["_source"] == {
        "tweet_id": 1,
        "author_id": "alice",
        "text": "hello #py @bob",
        "hashtags": ["py"],
        "mentions": ["bob"],
        "created_at_ms": 1_700_000_000_000,
        "reply_to_id": None,
        "thread_reply": False,
        "quote_tweet_id": None,
        "has_media": False,
        "deleted": False,
    }
    # The tombstone keeps nothing of what the tweet said.
    assert actions[1]["_source"] == {
        "tweet_id": 2,
        "author_id": "alice",
        "created_at_ms": 1_700_000_000_000,
        "deleted": True,
    }


@pytest.mark.parametrize(
    ("author", "parent_author", "thread_reply"),
    [("alice", "alice", True), ("alice", "bob", False), ("alice", None, False)],  # None: posted before it was kept
)
def test_given_a_reply_when_indexed_then_it_is_a_thread_reply_only_when_its_parent_is_by_its_author(
    author, parent_author, thread_reply
):
    reply = _tweet(5).model_copy(update={"author_id": author, "reply_to_id": 4, "reply_to_author_id": parent_author})

    (action,) = bulk_actions([reply], "tweets")

    assert action["_source"]["thread_reply"] is thread_reply
    assert action["_source"]["reply_to_id"] == 4


def test_given_a_tweet_twice_in_a_batch_when_building_actions_then_one_action_and_deletion_is_final():
    actions = bulk_actions([_tweet(1, text="old"), _tweet(2), _tweet(1, text="new")], "t")
    assert [(a["_id"], a["_source"]["text"]) for a in actions] == [("1", "new"), ("2", "hello #py @bob")]
    actions = bulk_actions([_tweet(1, deleted=True), _tweet(1)], "t")
    assert [(a["_id"], a["version"]) for a in actions] == [("1", DELETED_VERSION)]


def test_given_bulk_errors_when_read_then_failures_are_by_tweet_id_and_a_version_conflict_is_success():
    errors = [
        {"index": {"_id": "1", "status": 429, "error": {"type": "es_rejected_execution_exception", "reason": "full"}}},
        {"index": {"_id": "2", "status": 409, "error": {"type": "version_conflict_engine_exception"}}},
        {"index": {"_id": "3", "status": 500, "error": "boom"}},
    ]
    assert bulk_failures(errors) == {1: "429 es_rejected_execution_exception: full", 3: "500 boom"}


def test_given_many_failures_when_raised_then_the_message_names_the_first_ones():
    error = IndexingFailed({i: "429 busy" for i in range(7)}, total=10)
    assert str(error).startswith("7 of 10 tweet(s) failed to index: 0 (429 busy), 1 (429 busy)")
    assert str(error).endswith("and 2 more")


# --- the indexer's partial batch response ---------------------------------------------------------------


def test_given_failed_tweet_ids_when_mapped_then_exactly_their_records_are_reported(indexer):
    parsed = [("100", _tweet(1)), ("101", _tweet(2)), ("102", _tweet(1)), ("103", _tweet(3))]
    errors = [{"index": {"_id": "1", "status": 429, "error": {"type": "rejected", "reason": "x"}}}]
    assert indexer.batch_item_failures(parsed, bulk_failures(errors)) == {
        "batchItemFailures": [{"itemIdentifier": "100"}, {"itemIdentifier": "102"}]
    }
    assert indexer.batch_item_failures(parsed, set()) == {"batchItemFailures": []}


class _FakeIndex:
    def __init__(self, error: Exception | None = None):
        self.error, self.calls = error, []

    def index_tweets(self, tweets):
        self.calls.append([t.tweet_id for t in tweets])
        if self.error:
            raise self.error


def _event(payloads: list[bytes]) -> dict:
    return {
        "Records": [
            {
                "eventSource": "aws:kinesis",
                "eventID": f"shardId-000000000000:{i}",
                "kinesis": {"sequenceNumber": str(1000 + i), "partitionKey": "p", "data": base64.b64encode(p).decode()},
            }
            for i, p in enumerate(payloads)
        ]
    }


@pytest.fixture
def poison_sink(monkeypatch) -> RecordingPoisonSink:
    sink = RecordingPoisonSink()
    monkeypatch.setattr(Services, "poison", property(lambda _: sink))
    return sink


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (None, []),
        (IndexingFailed({2: "429 busy"}, total=2), ["1002"]),
    ],
)
def test_given_a_batch_with_poison_when_indexed_then_one_bulk_call_and_honest_failures(
    indexer, monkeypatch, lambda_context, error, expected, poison_sink
):
    fake = _FakeIndex(error)
    monkeypatch.setattr(indexer, "tweet_index", lambda: fake)
    event = _event([_tweet(1).model_dump_json().encode(), b"\xffnot json", _tweet(2).model_dump_json().encode()])
    response = indexer.lambda_handler(event, lambda_context)
    assert fake.calls == [[1, 2]]  # one bulk request for the batch; the poison record set aside
    assert response == {"batchItemFailures": [{"itemIdentifier": s} for s in expected]}
    assert [sequence for _, sequence, _ in poison_sink.put_aside] == ["1001"]


def test_given_the_cluster_down_when_a_batch_is_indexed_then_the_invocation_fails_so_the_whole_batch_is_retried(
    indexer, monkeypatch, lambda_context, poison_sink
):
    """Reported item failures would be dropped by the local cloud's poller (and, on AWS, exhaust three retries
    during an outage): failing the invocation keeps the batch until the cluster answers, or its records age out
    into the index failures queue."""
    fake = _FakeIndex(ConnectionError("opensearch went away"))
    monkeypatch.setattr(indexer, "tweet_index", lambda: fake)
    event = _event([_tweet(1).model_dump_json().encode(), _tweet(2).model_dump_json().encode()])

    with pytest.raises(ConnectionError):
        indexer.lambda_handler(event, lambda_context)
    assert fake.calls == [[1, 2]]


def test_given_only_poison_when_indexed_then_no_bulk_call(indexer, monkeypatch, lambda_context, poison_sink):
    fake = _FakeIndex()
    monkeypatch.setattr(indexer, "tweet_index", lambda: fake)
    assert indexer.lambda_handler(_event([b"{}"]), lambda_context) == {"batchItemFailures": []}
    assert fake.calls == []


def test_given_the_public_timeline_when_requested_then_live_non_replies_newest_first_below_the_cursor():
    body = public_request(limit=10, cursor="500", excluded_authors=["mallory", "eve", "eve"])

    query = body["query"]["bool"]
    assert query["must"] == query["filter"] == []  # every tweet: no words, no hashtag, no author
    # Mastodon's public timelines show no replies to others, and keep replies to oneself (threads)
    others = {"filter": [{"exists": {"field": "reply_to_id"}}], "must_not": [{"term": {"thread_reply": True}}]}
    assert {"bool": others} in query["must_not"]
    assert {"term": {"deleted": True}} in query["must_not"]
    assert {"terms": {"author_id": ["eve", "mallory"]}} in query["must_not"]
    assert body["sort"] == [{"tweet_id": {"order": "desc"}}]
    assert (body["size"], body["search_after"]) == (11, [500])


def test_given_only_media_when_the_public_timeline_is_requested_then_only_tweets_with_media_match():
    assert public_request(only_media=True)["query"]["bool"]["filter"] == [{"term": {"has_media": True}}]
    assert "search_after" not in public_request()


@pytest.mark.parametrize(("limit", "cursor"), [(0, None), (101, None), (20, "x"), (20, "-1")])
def test_given_a_bad_limit_or_cursor_when_the_public_timeline_is_requested_then_invalid_input(limit, cursor):
    with pytest.raises(InvalidInput):
        public_request(limit=limit, cursor=cursor)


def test_given_a_tweet_with_media_when_indexed_then_its_document_says_so():
    (action,) = bulk_actions([_tweet(3).model_copy(update={"media_ids": ["m1"]})], "tweets")
    assert action["_source"]["has_media"] is True
