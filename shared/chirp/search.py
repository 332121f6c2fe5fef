"""Tweet search: the OpenSearch index of tweets (written by the indexer consumer) and its queries.

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

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from opensearchpy import OpenSearch, helpers
from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
from opensearchpy.exceptions import RequestError, TransportError
from pydantic import BaseModel

from chirp.dal.cursor import parse_id_cursor
from chirp.errors import InvalidInput, Unavailable
from chirp.models import Tweet

TWEETS_INDEX = "tweets"
MAX_PAGE = 100
MAX_QUERY_CHARS = 200
MAX_AUTHOR_ID_CHARS = 128
# Hashtags are stored as chirp.text extracts them: lower-cased word characters, without the '#'.
_HASHTAG = re.compile(r"\w{1,100}")

MAPPINGS = {
    "dynamic": "strict",  # a document with an unexpected field is an error, never a silent new mapping
    "properties": {
        "tweet_id": {"type": "long"},
        "author_id": {"type": "keyword"},
        "text": {"type": "text", "analyzer": "standard"},
        "hashtags": {"type": "keyword"},
        "mentions": {"type": "keyword"},
        "created_at_ms": {"type": "date", "format": "epoch_millis"},
        "reply_to_id": {"type": "long"},
        "quote_tweet_id": {"type": "long"},
        "deleted": {"type": "boolean"},
    },
}
# A tweet's states in the order they happen; the number is the document's external version. A deletion's
# is far above any version a document can reach otherwise (a document written without an external version
# counts up from 1 at each write), so a tombstone always wins.
LIVE_VERSION, DELETED_VERSION = 1, 2**62
# What OpenSearch answers when a write carries a version not above the stored one.
VERSION_CONFLICT = 409


def schema_digest() -> str:
    """The sha256 of this module, which holds the schema: the deploy passes the digest of the module it
    ships (infra: DeployTrigger inputs), so the schema function can tell a request for its own schema."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


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
        "quote_tweet_id": tweet.quote_tweet_id,
        "deleted": False,
    }


def bulk_actions(tweets: Iterable[Tweet], index: str) -> list[dict]:
    """One externally versioned write per tweet id, in order of first appearance: the document of a live
    tweet, the tombstone of a deleted one. A tweet seen twice in a batch keeps its latest state, except that
    a deletion is final (the versions make it final across batches too)."""
    latest: dict[int, Tweet] = {}
    for tweet in tweets:
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
) -> dict:
    """Validates the search parameters and builds the request body (one more hit than `limit`, to know
    whether another page exists)."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}")
    before = parse_id_cursor(cursor)
    text = unicodedata.normalize("NFC", query or "").strip()  # tweets are indexed NFC-normalised
    if len(text) > MAX_QUERY_CHARS:
        raise InvalidInput(f"query is {len(text)} characters; at most {MAX_QUERY_CHARS} are allowed")
    filters = []
    if hashtag is not None:
        tag = hashtag.strip().removeprefix("#").lower()
        if not _HASHTAG.fullmatch(tag):
            raise InvalidInput("hashtag must be 1 to 100 word characters, with or without a leading '#'")
        filters.append({"term": {"hashtags": tag}})
    if author_id is not None:
        author = author_id.strip()
        if not author or len(author) > MAX_AUTHOR_ID_CHARS:
            raise InvalidInput(f"author must be a user id of 1 to {MAX_AUTHOR_ID_CHARS} characters")
        filters.append({"term": {"author_id": author}})
    if not text and not filters:
        raise InvalidInput("give a query, a hashtag or an author")
    must = [{"match": {"text": {"query": text, "operator": "and"}}}] if text else []
    tombstones = [{"term": {"deleted": True}}]
    body: dict = {
        "size": limit + 1,
        "sort": [{"tweet_id": {"order": "desc"}}],  # tweet ids are unique and time-ordered: a total order
        "track_total_hits": False,
        "_source": False,
        "query": {"bool": {"must": must, "filter": filters, "must_not": tombstones}},
    }
    if before is not None:
        body["search_after"] = [before]
    return body


def search_page(response: dict, limit: int) -> SearchPage:
    hits = response["hits"]["hits"]
    ids = [int(hit["_id"]) for hit in hits[:limit]]
    return SearchPage(tweet_ids=ids, next_cursor=str(ids[-1]) if len(hits) > limit else None)


class TweetIndex:
    def __init__(self, client: OpenSearch, index: str = TWEETS_INDEX, *, replicas: int = 0):
        self.client, self.index, self.replicas = client, index, replicas

    def ensure_index(self) -> bool:
        """Creates the index with its mapping if missing; True when this call created it. Safe when several
        processes race: the losers see "resource_already_exists_exception", which is success. (One PUT, no
        existence check first, so the caller needs no es:ESHttpHead.) An existing index is left as it is."""
        body = {
            "settings": {"index": {"number_of_shards": 1, "number_of_replicas": self.replicas}},
            "mappings": MAPPINGS,
        }
        try:
            # Creating waits up to 30 s (the server's default) for the primary shard: wait a little longer.
            self.client.indices.create(index=self.index, body=body, request_timeout=40)
        except RequestError as error:
            if error.error == "resource_already_exists_exception":
                return False
            raise
        return True

    def apply_schema(self, *, wait_s: int = 30) -> bool:
        """Run by the first deploy and by each deploy that changes this module, before the API or the indexer
        is updated: creates the index, or brings an existing index's mapping up to MAPPINGS (additive changes
        only: an incompatible one raises, failing the deploy instead of serving a stale mapping), then waits
        until its primary shards are active, so no reader ever meets a half-created index (a search then
        answers 503). True when the index was created. Takes at most about 40 + wait_s + 5 seconds (a create,
        or a refused create and a put_mapping, then the wait)."""
        created = self.ensure_index()
        if not created:
            self.client.indices.put_mapping(index=self.index, body=MAPPINGS, request_timeout=30)
        try:
            # `timeout` is the server-side wait (a keyword would be taken as the client's request timeout).
            self.client.cluster.health(
                index=self.index, wait_for_status="yellow", params={"timeout": f"{wait_s}s"}, request_timeout=wait_s + 5
            )
        except TransportError as error:
            if error.status_code == 408:  # the server's wait ran out
                raise Unavailable(f"index {self.index!r} has no active primary shard after {wait_s} s") from error
            raise
        return created

    def index_tweets(self, tweets: list[Tweet]) -> None:
        """Indexes live tweets and tombstones deleted ones in ONE bulk request. Raises IndexingFailed (naming each
        failed tweet id) when items are rejected, and the transport's error when the request itself fails."""
        actions = bulk_actions(tweets, self.index)
        if not actions:
            return
        _, errors = helpers.bulk(
            self.client,
            actions,
            chunk_size=len(actions),  # one request, whatever the batch size
            max_chunk_bytes=100 * 1024 * 1024,
            raise_on_error=False,
            raise_on_exception=True,
        )
        failed = bulk_failures(errors)
        if failed:
            raise IndexingFailed(failed, total=len(actions))

    def search(
        self,
        query: str | None,
        *,
        hashtag: str | None = None,
        author_id: str | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> SearchPage:
        """Tweet ids matching every word of `query` (and the hashtag / author filters), newest first. Before
        the first tweet is indexed (no index yet) the page is empty. Raises InvalidInput for bad parameters
        and Unavailable when OpenSearch does not answer or sheds load."""
        body = search_request(query, hashtag=hashtag, author_id=author_id, limit=limit, cursor=cursor)
        try:
            response = self.client.search(index=self.index, body=body, ignore_unavailable=True)
        except OpenSearchConnectionError as error:  # includes timeouts
            raise Unavailable("search is unavailable; retry shortly") from error
        except TransportError as error:
            if error.status_code in (429, 503):
                raise Unavailable("search is busy; retry shortly") from error
            raise
        return search_page(response, limit)
