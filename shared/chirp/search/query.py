"""Tweet search rules: what is indexed for a tweet, and the queries (the index itself is an OpenSearch adapter,
chirp.adapters.opensearch.tweet_index).

Indexing is idempotent and order-proof: a tweet's document id is its tweet id, and each write carries
the version of the tweet's state (live, then deleted) as an external version, so OpenSearch keeps the latest
state whatever order records arrive in. A deleted tweet leaves a tombstone (no text) instead of being
removed: a live record replayed after the deletion then meets a version conflict, which is success, where
a removed document would simply come back. Search answers tweet ids only, newest first, paged with
`search_after` on the tweet id; callers hydrate them (FeedManager.hydrate, which also drops tweets deleted
since they were indexed).

The request and response shaping are pure functions (`bulk_actions`, `bulk_failures`, `search_request`), so
they are tested without a server.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from enum import StrEnum

from pydantic import BaseModel

from chirp.errors import InvalidInput, Unavailable
from chirp.paging import check_limit, parse_id_cursor
from chirp.search.schema import DELETED_VERSION, LIVE_VERSION, VERSION_CONFLICT
from chirp.tweets.model import Tweet

MAX_QUERY_CHARS = 200
MAX_AUTHOR_ID_CHARS = 128
# Hashtags are stored as chirp.tweets.text extracts them: lower-cased word characters, without the '#'.
_HASHTAG = re.compile(r"\w{1,100}")
_HANDLE = re.compile(r"\w{1,15}")
# A query's terms: a "quoted phrase", or a run of non-space characters (a word, #tag or from:handle).
_TERM = re.compile(r'"([^"]*)"|(\S+)')
MAX_EXCLUDED_AUTHORS = 10_000  # a caller's blocks and mutes kept out of results (OpenSearch's terms cap is 65,536)


class Sort(StrEnum):
    LATEST = "latest"  # newest first
    TOP = "top"  # most relevant first (BM25 over the text), newest first among equals


def _tag(raw: str) -> str:
    tag = raw.strip().removeprefix("#").lower()
    if not _HASHTAG.fullmatch(tag):
        raise InvalidInput("hashtag must be 1 to 100 word characters, with or without a leading '#'")
    return tag


def author_handles(query: str | None) -> tuple[str, list[str]]:
    """The query without its `from:handle` terms, and those handles (lower-cased, '@' optional): the caller
    resolves them to user ids."""
    rest, handles = [], []
    for match in _TERM.finditer(query or ""):
        word = match.group(2)
        if word is not None and word.lower().startswith("from:"):
            handle = word[5:].removeprefix("@")
            if not _HANDLE.fullmatch(handle):
                raise InvalidInput("from: takes a handle: 1 to 15 letters, digits or underscores")
            handles.append(handle.lower())
        else:
            rest.append(match.group(0))
    return " ".join(rest), handles


class _Terms(BaseModel):
    words: list[str] = []
    phrases: list[str] = []
    hashtags: list[str] = []


def _terms(text: str) -> _Terms:
    terms = _Terms()
    for phrase, word in _TERM.findall(text):
        if phrase.strip():
            terms.phrases.append(phrase.strip())
        elif word.startswith("#") and len(word) > 1:
            terms.hashtags.append(_tag(word))
        elif word:
            terms.words.append(word)
    return terms


class SearchPage(BaseModel):
    tweet_ids: list[int]
    next_cursor: str | None = None


class IndexingFailed(Unavailable):
    """Some documents of a bulk request were rejected; `failed` maps each such tweet id to the reason."""

    def __init__(self, failed: dict[int, str], total: int):
        self.failed = failed
        shown = ", ".join(f"{tweet_id} ({reason})" for tweet_id, reason in list(failed.items())[:5])
        more = f" and {len(failed) - 5} more" if len(failed) > 5 else ""
        super().__init__(f"{len(failed)} of {total} tweet(s) failed to index: {shown}{more}")


def tweet_document(tweet: Tweet) -> dict:
    if tweet.deleted:  # a tombstone: what a deleted tweet said is not kept
        return {
            "tweet_id": tweet.tweet_id,
            "author_id": tweet.author_id,
            "created_at_ms": tweet.created_at_ms,
            "deleted": True,
        }
    return {
        "tweet_id": tweet.tweet_id,
        "author_id": tweet.author_id,
        "text": tweet.text,
        "hashtags": tweet.hashtags,
        "mentions": tweet.mentions,
        "created_at_ms": tweet.created_at_ms,
        "reply_to_id": tweet.reply_to_id,
        # A reply to oneself (a thread), which the public timeline keeps (Tweet.replies_to_someone_else).
        "thread_reply": tweet.reply_to_id is not None and not tweet.replies_to_someone_else,
        "quote_tweet_id": tweet.quote_tweet_id,
        "has_media": bool(tweet.media_ids),
        "deleted": False,
    }


def bulk_actions(tweets: Iterable[Tweet], index: str) -> list[dict]:
    """One externally versioned write per tweet id, in order of first appearance: the document of a live
    tweet, the tombstone of a deleted one. A tweet seen twice in a batch keeps its latest state, except that
    a deletion is final (the versions make it final across batches too). Retweets are not indexed."""
    latest: dict[int, Tweet] = {}
    for tweet in tweets:
        if tweet.retweet_of_id is not None:
            continue  # a retweet has no text of its own: search finds the original
        seen = latest.get(tweet.tweet_id)
        if seen is None or not seen.deleted:
            latest[tweet.tweet_id] = tweet
    return [
        {
            "_op_type": "index",
            "_index": index,
            "_id": str(tweet_id),
            "version": DELETED_VERSION if tweet.deleted else LIVE_VERSION,
            "version_type": "external",
            "_source": tweet_document(tweet),
        }
        for tweet_id, tweet in latest.items()
    ]


def _reason(info: dict) -> str:
    error = info.get("error")
    if isinstance(error, dict):
        error = f"{error.get('type', 'error')}: {error.get('reason', '')}".rstrip(": ")
    return f"{info.get('status', '?')} {error or 'unknown error'}"


def bulk_failures(errors: Iterable[dict]) -> dict[int, str]:
    """The failed items of a bulk response (as `helpers.bulk(..., raise_on_error=False)` lists them), by
    tweet id. A version conflict is success: the index already holds this state of the tweet or a later one."""
    failed: dict[int, str] = {}
    for item in errors:
        ((_, info),) = item.items()
        if info.get("status") == VERSION_CONFLICT:
            continue
        failed[int(info["_id"])] = _reason(info)
    return failed


def search_request(
    query: str | None,
    *,
    hashtag: str | None = None,
    author_id: str | None = None,
    limit: int = 20,
    cursor: str | None = None,
    sort: Sort = Sort.LATEST,
    excluded_authors: Iterable[str] = (),
) -> dict:
    """Validates the search parameters and builds the request body (one more hit than `limit`, to know
    whether another page exists). In `query`, every word must match, a "quoted phrase" must match as a phrase,
    and a #tag filters by hashtag (`from:` handles are resolved by the caller, chirp.search.service). Tweets of
    `excluded_authors` (the caller's blocks and mutes) never match."""
    check_limit(limit)
    after = _parse_cursor(cursor, sort)
    text = unicodedata.normalize("NFC", query or "").strip()  # tweets are indexed NFC-normalised
    if len(text) > MAX_QUERY_CHARS:
        raise InvalidInput(f"query is {len(text)} characters; at most {MAX_QUERY_CHARS} are allowed")
    terms = _terms(text)
    tags = [*terms.hashtags, *([_tag(hashtag)] if hashtag is not None else [])]
    filters: list[dict] = [{"term": {"hashtags": tag}} for tag in dict.fromkeys(tags)]
    if author_id is not None:
        author = author_id.strip()
        if not author or len(author) > MAX_AUTHOR_ID_CHARS:
            raise InvalidInput(f"author must be a user id of 1 to {MAX_AUTHOR_ID_CHARS} characters")
        filters.append({"term": {"author_id": author}})
    must: list[dict] = []
    if terms.words:
        must.append({"match": {"text": {"query": " ".join(terms.words), "operator": "and"}}})
    must.extend({"match_phrase": {"text": phrase}} for phrase in terms.phrases)
    if not must and not filters:
        raise InvalidInput("give a query, a hashtag or an author")
    return _page_request(must, filters, [], excluded_authors, limit, after, sort)


def public_request(
    *, limit: int = 20, cursor: str | None = None, only_media: bool = False, excluded_authors: Iterable[str] = ()
) -> dict:
    """The public timeline's request: every live tweet that is not a reply to someone else (Mastodon's public
    timelines leave those out and keep a reply to oneself, a thread; retweets are not indexed), newest first, below
    the cursor's tweet id; with `only_media`, those carrying media. Tweets of `excluded_authors` (the caller's blocks
    and mutes) never match."""
    check_limit(limit)
    filters = [{"term": {"has_media": True}}] if only_media else []
    replies = [
        {"bool": {"filter": [{"exists": {"field": "reply_to_id"}}], "must_not": [{"term": {"thread_reply": True}}]}}
    ]
    after = _parse_cursor(cursor, Sort.LATEST)
    return _page_request([], filters, replies, excluded_authors, limit, after, Sort.LATEST)


def _page_request(
    must: list[dict],
    filters: list[dict],
    must_not: list[dict],
    excluded_authors: Iterable[str],
    limit: int,
    after: list | None,
    sort: Sort,
) -> dict:
    """A page of live tweet ids (one more hit than `limit`, to know whether another page exists) in `sort`'s
    order, after `after` (the previous page's last sort values)."""
    must_not = [{"term": {"deleted": True}}, *must_not]  # tombstones
    excluded = sorted(set(excluded_authors))[:MAX_EXCLUDED_AUTHORS]
    if excluded:
        must_not.append({"terms": {"author_id": excluded}})
    order = [{"tweet_id": {"order": "desc"}}]  # tweet ids are unique and time-ordered: a total order
    body: dict = {
        "size": limit + 1,
        "sort": [{"_score": {"order": "desc"}}, *order] if sort is Sort.TOP else order,
        "track_total_hits": False,
        "_source": False,
        "query": {"bool": {"must": must, "filter": filters, "must_not": must_not}},
    }
    if after is not None:
        body["search_after"] = after
    return body


def _parse_cursor(cursor: str | None, sort: Sort) -> list | None:
    """`latest` pages after a tweet id; `top` after a (score, tweet id) pair, written `<score>:<tweet id>`."""
    if sort is Sort.LATEST:
        before = parse_id_cursor(cursor)
        return None if before is None else [before]
    if not cursor:
        return None
    score, _, tweet_id = cursor.partition(":")
    try:
        value = float(score)
    except ValueError:
        value = float("nan")
    if value != value or value in (float("inf"), float("-inf")) or not tweet_id:  # nan fails value == value
        raise InvalidInput("cursor must be one returned as next_cursor for this sort")
    return [value, parse_id_cursor(tweet_id)]


MAX_PARENTS = 100  # tweets whose replies one request lists


def _check_parents(parent_ids: list[int]) -> list[int]:
    parents = sorted(set(parent_ids))
    if len(parents) > MAX_PARENTS or any(not 1 <= p < 2**63 for p in parents):
        raise InvalidInput(f"at most {MAX_PARENTS} positive 64-bit tweet ids")
    return parents


def replies_request(parent_ids: list[int], limit: int) -> dict:
    """The live replies to any of these tweets, oldest first (a thread reads in order)."""
    check_limit(limit, maximum=MAX_PARENTS)
    return {
        "size": limit,
        "sort": [{"tweet_id": {"order": "asc"}}],
        "track_total_hits": False,
        "_source": False,
        "query": {
            "bool": {
                "filter": [{"terms": {"reply_to_id": _check_parents(parent_ids)}}],
                "must_not": [{"term": {"deleted": True}}],
            }
        },
    }


def search_page(response: dict, limit: int, sort: Sort = Sort.LATEST) -> SearchPage:
    hits = response["hits"]["hits"]
    ids = [int(hit["_id"]) for hit in hits[:limit]]
    if len(hits) <= limit:
        return SearchPage(tweet_ids=ids)
    last = hits[limit - 1]
    cursor = f"{float(last['sort'][0])!r}:{ids[-1]}" if sort is Sort.TOP else str(ids[-1])
    return SearchPage(tweet_ids=ids, next_cursor=cursor)
