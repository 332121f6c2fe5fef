"""Search respects its caller and reads its query string: blocks and mutes (both ways for blocks) are excluded
in the query itself, `from:handle`, `@handle`, "phrases", #tags and sort=top|latest, on fakes."""

from __future__ import annotations

import pytest

from chirp.errors import InvalidInput
from chirp.search.query import SearchPage, Sort, author_handles, public_request, search_request
from chirp.search.service import TweetSearch
from chirp.social.model import Relation
from tests.unit.fakes import World


class RecordingIndex:
    """TweetSearchIndex: builds each request as the OpenSearch adapter does, keeps it, finds nothing."""

    def __init__(self):
        self.requests: list[dict] = []

    def search(self, query, **criteria) -> SearchPage:
        self.requests.append(search_request(query, **criteria))
        return SearchPage(tweet_ids=[])

    def public(self, **criteria) -> SearchPage:
        self.requests.append(public_request(**criteria))
        return SearchPage(tweet_ids=[])

    def replies(self, parent_ids, limit):
        return []


def _setup() -> tuple[World, RecordingIndex, TweetSearch]:
    world, index = World(), RecordingIndex()
    world.users("ann", "bob", "cat", "dan", "eve")
    return world, index, TweetSearch(index, world.timelines, world.social_store)


def _excluded(request: dict) -> list[str]:
    clauses = [c["terms"]["author_id"] for c in request["query"]["bool"]["must_not"] if "terms" in c]
    return clauses[0] if clauses else []


def _author(request: dict) -> str | None:
    terms = [c["term"]["author_id"] for c in request["query"]["bool"]["filter"] if "author_id" in c.get("term", {})]
    return terms[0] if terms else None


def test_given_blocks_and_mutes_when_searching_then_those_authors_and_who_blocks_the_caller_are_excluded():
    world, index, search = _setup()
    world.social_store.add_edge(Relation.BLOCKS, "ann", "bob", counted=False)
    world.social_store.add_edge(Relation.MUTES, "ann", "cat", counted=False)
    world.social_store.add_edge(Relation.BLOCKS, "dan", "ann", counted=False)  # dan blocks ann

    search.search("hello", hashtag=None, author_id=None, cursor=None, limit=20, viewer_id="ann")

    assert _excluded(index.requests[0]) == ["bob", "cat", "dan"]


def test_given_no_viewer_when_searching_then_nothing_is_excluded():
    _, index, search = _setup()
    search.search("hello", hashtag=None, author_id=None, cursor=None, limit=20)
    assert _excluded(index.requests[0]) == []


@pytest.mark.parametrize(("query", "author"), [("from:bob hi", None), ("hi FROM:@Bob", None), ("hi", "@bob")])
def test_given_an_author_by_handle_when_searching_then_their_id_filters(query, author):
    _, index, search = _setup()
    search.search(query, hashtag=None, author_id=author, cursor=None, limit=20, viewer_id="ann")
    assert _author(index.requests[0]) == "bob"
    assert index.requests[0]["query"]["bool"]["must"] == [{"match": {"text": {"query": "hi", "operator": "and"}}}]


@pytest.mark.parametrize(("query", "author"), [("from:nobody hi", None), ("from:bob from:cat", None), ("x", "@zed")])
def test_given_an_unknown_or_second_author_when_searching_then_the_page_is_empty_without_a_query(query, author):
    _, index, search = _setup()
    page = search.search(query, hashtag=None, author_id=author, cursor=None, limit=20, viewer_id="ann")
    assert page.items == []
    assert index.requests == []


def test_given_bad_input_when_searching_then_it_is_refused_before_the_graph_is_read():
    world, _, search = _setup()
    world.social_store.all_targets = lambda *a: pytest.fail("read the graph for a bad request")
    with pytest.raises(InvalidInput):
        search.search(None, hashtag=None, author_id=None, cursor=None, limit=20, viewer_id="ann")
    with pytest.raises(InvalidInput, match="cursor"):
        search.search("x", hashtag=None, author_id=None, cursor="1.5:2", limit=20, viewer_id="ann")


def test_given_phrases_and_tags_in_the_query_then_phrases_match_as_phrases_and_tags_filter():
    body = search_request('serverless "real time" #AWS #aws from_here')
    assert body["query"]["bool"]["must"] == [
        {"match": {"text": {"query": "serverless from_here", "operator": "and"}}},
        {"match_phrase": {"text": "real time"}},
    ]
    assert body["query"]["bool"]["filter"] == [{"term": {"hashtags": "aws"}}]


def test_given_only_from_terms_then_they_leave_the_text_and_bad_handles_are_refused():
    assert author_handles('from:ann "a b" c') == ('"a b" c', ["ann"])
    with pytest.raises(InvalidInput, match="from:"):
        author_handles("from:not-a-handle")


def test_given_sort_top_then_score_orders_and_the_cursor_is_a_score_and_an_id():
    body = search_request("chirp", sort=Sort.TOP, cursor="1.25:99")
    assert body["sort"] == [{"_score": {"order": "desc"}}, {"tweet_id": {"order": "desc"}}]
    assert body["search_after"] == [1.25, 99]


@pytest.mark.parametrize("cursor", ["99", "nan:1", "inf:1", "1.0:", "1.0:x", "x:1"])
def test_given_a_cursor_not_made_for_top_then_invalid_input(cursor):
    with pytest.raises(InvalidInput, match="cursor"):
        search_request("chirp", sort=Sort.TOP, cursor=cursor)


def test_given_blocks_and_mutes_when_the_public_timeline_is_read_then_those_authors_and_blockers_are_excluded():
    # Given ann blocks bob and mutes cat, and dan blocks ann
    world, index, search = _setup()
    world.social_store.add_edge(Relation.BLOCKS, "ann", "bob", counted=False)
    world.social_store.add_edge(Relation.MUTES, "ann", "cat", counted=False)
    world.social_store.add_edge(Relation.BLOCKS, "dan", "ann", counted=False)

    # When ann reads the public timeline with only media, and someone reads it without a viewer
    search.public_timeline(viewer_id="ann", cursor="77", limit=5, only_media=True)
    search.public_timeline(viewer_id=None, cursor=None, limit=20)

    # Then ann's leaves out all three, below the cursor, media only; the other leaves out nobody
    mine, anyone = index.requests
    assert _excluded(mine) == ["bob", "cat", "dan"]
    assert (mine["search_after"], mine["size"], mine["query"]["bool"]["filter"]) == (
        [77],
        6,
        [{"term": {"has_media": True}}],
    )
    assert _excluded(anyone) == []
    assert anyone["query"]["bool"]["filter"] == []


def test_given_a_bad_cursor_when_the_public_timeline_is_read_then_refused_before_the_graph_is_read():
    world, index, search = _setup()
    world.social_store.all_targets = lambda *_: pytest.fail("read the caller's graph")

    with pytest.raises(InvalidInput):
        search.public_timeline(viewer_id="ann", cursor="not an id", limit=20)
    assert index.requests == []


class CountingDirectory:
    """The fake graph, counting the reads of whom a viewer hides."""

    def __init__(self, graph):
        self.graph, self.reads = graph, 0

    def __getattr__(self, name):
        return getattr(self.graph, name)

    def all_targets(self, kind, user_id):
        self.reads += 1
        return self.graph.all_targets(kind, user_id)


@pytest.mark.parametrize("timeline", ["public", "tag"])
def test_given_one_request_reading_several_pages_when_hidden_once_then_the_graph_is_read_once(timeline):
    world, index = World(), RecordingIndex()
    world.users("ann", "bob")
    world.social_store.add_edge(Relation.BLOCKS, "ann", "bob", counted=False)
    directory = CountingDirectory(world.social_store)
    search = TweetSearch(index, world.timelines, directory)
    hidden = search.hidden_once("ann")

    for cursor in (None, "300", "200"):  # three pages of one request
        if timeline == "public":
            search.public_timeline(viewer_id="ann", cursor=cursor, limit=20, hidden=hidden)
        else:
            search.search(None, hashtag="cats", author_id=None, cursor=cursor, limit=20, viewer_id="ann", hidden=hidden)

    assert directory.reads == 2  # blocks and mutes, once
    assert [_excluded(request) for request in index.requests] == [["bob"]] * 3


def test_given_bad_input_when_hidden_once_then_the_graph_is_not_read():
    world, index = World(), RecordingIndex()
    world.users("ann")
    directory = CountingDirectory(world.social_store)
    search = TweetSearch(index, world.timelines, directory)

    with pytest.raises(InvalidInput):
        search.public_timeline(viewer_id="ann", cursor=None, limit=0, hidden=search.hidden_once("ann"))

    assert directory.reads == 0
