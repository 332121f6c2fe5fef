"""Tweet search against the local cloud's real OpenSearch, each run in its own index (deleted after)."""

from __future__ import annotations

import uuid

import pytest
from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError

from chirp.adapters.opensearch.client import opensearch_client
from chirp.adapters.opensearch.tweet_index import TweetIndex
from chirp.errors import Unavailable
from chirp.search.query import IndexingFailed, Sort
from chirp.settings import Settings
from chirp.tweets.model import Tweet
from tests.conftest import FakeLambdaContext, kinesis_event, load_handler, read_cloud_env

CONTEXT = FakeLambdaContext(function_name="indexer")
AUTHORS = ("alice", "bob")


@pytest.fixture(scope="module")
def client():
    return opensearch_client(Settings.from_env(read_cloud_env()))


@pytest.fixture
def index(client):
    tweets = TweetIndex(client, f"tweets-test-{uuid.uuid4().hex[:12]}")
    assert tweets.ensure_index() is True
    yield tweets
    client.indices.delete(index=tweets.index, ignore_unavailable=True)


def _tweet(tweet_id: int, text: str, author: str = "alice", *, deleted: bool = False) -> Tweet:
    words = text.split()
    return Tweet(
        tweet_id=tweet_id,
        author_id=author,
        text=text,
        created_at_ms=1_700_000_000_000 + tweet_id,
        hashtags=[w[1:].lower() for w in words if w.startswith("#")],
        mentions=[w[1:].lower() for w in words if w.startswith("@")],
        deleted=deleted,
    )


def _count(index: TweetIndex) -> int:
    index.client.indices.refresh(index=index.index)
    return index.client.count(index=index.index)["count"]


def _all_pages(index: TweetIndex, query: str | None, limit: int, **filters) -> list[list[int]]:
    pages, cursor = [], None
    while True:
        page = index.search(query, limit=limit, cursor=cursor, **filters)
        pages.append(page.tweet_ids)
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


def test_given_a_created_index_when_ensured_again_then_it_is_left_alone(index):
    assert index.ensure_index() is False  # what a racing creator sees: success
    mapping = index.client.indices.get_mapping(index=index.index)[index.index]["mappings"]
    assert mapping["properties"]["tweet_id"] == {"type": "long"}
    assert mapping["properties"]["created_at_ms"] == {"type": "date", "format": "epoch_millis"}


def test_given_indexed_tweets_when_searched_then_words_hashtags_and_authors_match_newest_first(index):
    index.index_tweets(
        [
            _tweet(1, "Serverless search with #OpenSearch", "alice"),
            _tweet(2, "lunch was great #food", "bob"),
            _tweet(3, "more serverless SEARCH tips #opensearch", "bob"),
            _tweet(4, "serverless only", "alice"),
        ]
    )
    index.client.indices.refresh(index=index.index)
    assert index.search("serverless search").tweet_ids == [3, 1]  # every word, any case, newest first
    assert index.search("search", author_id="alice").tweet_ids == [1]
    assert index.search(None, hashtag="#OpenSearch").tweet_ids == [3, 1]
    assert index.search(None, author_id="bob").tweet_ids == [3, 2]
    assert index.search(None, hashtag="food", author_id="alice").tweet_ids == []
    assert index.search("nothing matches this").tweet_ids == []


def test_given_many_matches_when_paging_then_there_are_no_gaps_or_repeats(index):
    ids = list(range(1_000, 1_047))
    index.index_tweets([_tweet(i, f"paging test {i}", AUTHORS[i % 2]) for i in ids])
    index.client.indices.refresh(index=index.index)
    pages = _all_pages(index, "paging", limit=10)
    assert [len(p) for p in pages] == [10, 10, 10, 10, 7]
    assert [i for page in pages for i in page] == sorted(ids, reverse=True)
    alices = sorted((i for i in ids if AUTHORS[i % 2] == "alice"), reverse=True)  # 24 tweets
    exact = _all_pages(index, None, limit=12, author_id="alice")  # an exact multiple: no empty last page
    assert exact == [alices[:12], alices[12:]]


def test_given_a_replayed_batch_when_indexed_again_then_the_count_is_unchanged(index):
    tweets = [_tweet(i, f"replay {i}") for i in range(10, 15)]
    index.index_tweets(tweets)
    assert _count(index) == 5
    index.index_tweets(tweets)
    assert _count(index) == 5


def test_given_a_deleted_tweet_when_indexed_then_it_is_no_longer_found_and_its_text_is_gone(index):
    index.index_tweets([_tweet(20, "keep me"), _tweet(21, "delete me #gone")])
    index.index_tweets([_tweet(21, "delete me #gone", deleted=True), _tweet(99, "never indexed", deleted=True)])
    index.client.indices.refresh(index=index.index)
    assert index.search("me").tweet_ids == [20]
    assert index.search(None, hashtag="gone").tweet_ids == []
    assert index.search(None, author_id="alice").tweet_ids == [20]  # tombstones match no filter either
    assert "text" not in index.client.get(index=index.index, id="21")["_source"]


def test_given_a_deletion_already_indexed_when_the_older_live_record_is_replayed_then_the_tweet_stays_deleted(index):
    """At-least-once delivery may hand the indexer the live record again after the deletion (a retried
    batch, a bisected one): the external versions keep the later state."""
    index.index_tweets([_tweet(60, "here then gone")])
    index.index_tweets([_tweet(60, "here then gone", deleted=True)])

    index.index_tweets([_tweet(60, "here then gone")])  # the replay: a version conflict, which is success

    index.client.indices.refresh(index=index.index)
    assert index.search("gone").tweet_ids == []
    assert index.client.get(index=index.index, id="60")["_source"]["deleted"] is True


def test_given_a_document_rewritten_without_external_versions_when_deleted_then_the_tombstone_wins(index):
    """A document written before versioning (or by hand) counts its version up at each write; the
    deletion's version is above any it can have reached, so the tombstone is never taken for a stale write."""
    document = {"tweet_id": 70, "author_id": "alice", "text": "old style", "created_at_ms": 1, "deleted": False}
    for _ in range(3):
        index.client.index(index=index.index, id="70", body=document)

    index.index_tweets([_tweet(70, "old style", deleted=True)])

    assert index.client.get(index=index.index, id="70")["_source"]["deleted"] is True


def test_given_a_rejected_document_when_indexed_then_the_error_names_the_tweet(index, monkeypatch):
    good = _tweet(30, "fine")
    bad = _tweet(31, "rejected")
    from chirp.search import query as search_module

    real = search_module.tweet_document
    monkeypatch.setattr(
        search_module, "tweet_document", lambda t: real(t) | ({"surprise": 1} if t.tweet_id == 31 else {})
    )
    with pytest.raises(IndexingFailed, match=r"1 of 2 tweet\(s\) failed to index: 31 \(400 strict_dynamic") as info:
        index.index_tweets([good, bad])
    assert set(info.value.failed) == {31}
    assert _count(index) == 1


def test_given_a_batch_with_a_poison_record_when_the_indexer_runs_then_the_good_tweets_are_searchable(
    index, monkeypatch
):
    indexer = load_handler("indexer")
    monkeypatch.setattr(indexer, "tweet_index", lambda: index)  # never the real "tweets" index
    tweets = [_tweet(40, "from the stream #kinesis"), _tweet(41, "also from the stream", "bob")]
    event = kinesis_event(
        [tweets[0].model_dump_json().encode(), b"not json at all", tweets[1].model_dump_json().encode()]
    )
    assert indexer.lambda_handler(event, CONTEXT) == {"batchItemFailures": []}
    assert indexer.lambda_handler(event, CONTEXT) == {"batchItemFailures": []}  # replayed
    assert _count(index) == 2
    assert index.search("stream").tweet_ids == [41, 40]
    assert index.search(None, hashtag="kinesis").tweet_ids == [40]


def test_given_an_unreachable_opensearch_when_the_indexer_runs_then_the_invocation_fails_and_the_batch_stays(
    monkeypatch,
):
    indexer = load_handler("indexer")
    dead = opensearch_client(Settings(OPENSEARCH_ENDPOINT="127.0.0.1:9"))  # nothing listens on port 9
    monkeypatch.setattr(indexer, "tweet_index", lambda: TweetIndex(dead, "never-created"))
    event = kinesis_event([_tweet(50, "a").model_dump_json().encode(), _tweet(51, "b").model_dump_json().encode()])
    with pytest.raises(OpenSearchConnectionError):  # the whole batch is retried, never acknowledged
        indexer.lambda_handler(event, CONTEXT)


def test_given_no_index_yet_when_searched_then_the_page_is_empty(client):
    missing = TweetIndex(client, f"tweets-missing-{uuid.uuid4().hex[:12]}")
    assert missing.search("anything", cursor="5").tweet_ids == []
    assert not client.indices.exists(index=missing.index)  # searching never creates it


def test_given_an_unreachable_opensearch_when_searched_then_unavailable():
    dead = TweetIndex(opensearch_client(Settings(OPENSEARCH_ENDPOINT="127.0.0.1:9")), "x")
    with pytest.raises(Unavailable):
        dead.search("anything")


def test_given_phrases_tags_and_excluded_authors_when_searched_then_each_narrows_the_hits(index):
    index.index_tweets(
        [
            _tweet(11, "the quick brown fox #animals", "alice"),
            _tweet(12, "brown quick the fox", "bob"),
            _tweet(13, "a quick brown fox jumps #animals", "carol"),
        ]
    )
    index.client.indices.refresh(index=index.index)
    assert index.search('"quick brown fox"').tweet_ids == [13, 11]  # the words in that order
    assert index.search("quick #animals").tweet_ids == [13, 11]  # a #tag in the query filters by hashtag
    assert index.search('"quick brown" #animals', excluded_authors=["carol"]).tweet_ids == [11]
    assert index.search("fox", excluded_authors=["alice", "bob"]).tweet_ids == [13]


def test_given_sort_top_when_searched_then_the_most_relevant_come_first_and_pages_hold_together(index):
    index.index_tweets(
        [
            _tweet(21, "chirp chirp chirp birds", "alice"),  # oldest, most about chirp
            _tweet(22, "one chirp among many other words in a long tweet about nothing much", "bob"),
            _tweet(23, "chirp and birds", "alice"),
        ]
    )
    index.client.indices.refresh(index=index.index)
    assert index.search("chirp", sort=Sort.LATEST).tweet_ids == [23, 22, 21]
    top = index.search("chirp", sort=Sort.TOP).tweet_ids
    assert top[0] == 21
    assert top[-1] == 22
    assert _all_pages(index, "chirp", 1, sort=Sort.TOP) == [[21], [23], [22]]  # (score, id) cursors


def test_given_tweets_replies_and_media_when_the_public_timeline_is_read_then_originals_and_threads_page_newest_first(
    index,
):
    # Given tweets by three authors, replies to others, a reply of alice to herself (a thread), one whose parent's
    # author was not kept, a deleted tweet and one tweet with media
    reply = _tweet(24, "me too", "bob").model_copy(update={"reply_to_id": 21, "reply_to_author_id": "alice"})
    thread = _tweet(27, "and more", "alice").model_copy(update={"reply_to_id": 21, "reply_to_author_id": "alice"})
    unknown_parent = _tweet(28, "old reply", "alice").model_copy(update={"reply_to_id": 21})
    with_media = _tweet(25, "look", "carol").model_copy(update={"media_ids": ["m1"]})
    first, second, gone = _tweet(21, "first", "alice"), _tweet(22, "second", "bob"), _tweet(23, "x", deleted=True)
    index.index_tweets([first, second, gone, reply, with_media, _tweet(26, "third", "alice"), thread, unknown_parent])
    index.client.indices.refresh(index=index.index)

    # When read a page of two at a time, then every live original and the thread, newest first, no gap or repeat
    pages, cursor = [], None
    while not pages or cursor:
        page = index.public(limit=2, cursor=cursor, only_media=False)
        pages.append(page.tweet_ids)
        cursor = page.next_cursor
    assert [t for p in pages for t in p] == [27, 26, 25, 22, 21]
    # Only media: the one with media; an excluded author's tweets never
    assert index.public(limit=20, cursor=None, only_media=True).tweet_ids == [25]
    assert index.public(limit=20, cursor=None, only_media=False, excluded_authors=["alice"]).tweet_ids == [25, 22]
