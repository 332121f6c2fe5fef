"""The tweets index in OpenSearch (written by the indexer consumer, read by the API's search)."""

from __future__ import annotations

from collections.abc import Iterable

from opensearchpy import OpenSearch, helpers
from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
from opensearchpy.exceptions import RequestError, TransportError

from chirp.errors import Unavailable
from chirp.search.query import (
    IndexingFailed,
    SearchPage,
    Sort,
    bulk_actions,
    bulk_failures,
    public_request,
    replies_request,
    search_page,
    search_request,
)
from chirp.search.schema import DYNAMIC_SETTINGS, MAPPINGS, TWEETS_INDEX
from chirp.tweets.model import Tweet


class TweetIndex:
    def __init__(self, client: OpenSearch, index: str = TWEETS_INDEX, *, replicas: int = 0):
        self.client, self.index, self.replicas = client, index, replicas

    def ensure_index(self) -> bool:
        """Creates the index with its mapping if missing; True when this call created it. Safe when several
        processes race: the losers see "resource_already_exists_exception", which is success. (One PUT, no
        existence check first, so the caller needs no es:ESHttpHead.) An existing index is left as it is."""
        body = {
            "settings": {"index": {"number_of_shards": 1, "number_of_replicas": self.replicas, **DYNAMIC_SETTINGS}},
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
            self.client.indices.put_settings(index=self.index, body={"index": DYNAMIC_SETTINGS}, request_timeout=30)
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
        sort: Sort = Sort.LATEST,
        excluded_authors: Iterable[str] = (),
    ) -> SearchPage:
        """Tweet ids matching `query` (chirp.search.query.search_request) and the filters, in `sort`'s order.
        Before the first tweet is indexed (no index yet) the page is empty. Raises InvalidInput for bad
        parameters and Unavailable when OpenSearch does not answer or sheds load."""
        body = search_request(
            query,
            hashtag=hashtag,
            author_id=author_id,
            limit=limit,
            cursor=cursor,
            sort=sort,
            excluded_authors=excluded_authors,
        )
        return search_page(self._search(body), limit, sort)

    def public(
        self, *, limit: int, cursor: str | None, only_media: bool, excluded_authors: Iterable[str] = ()
    ) -> SearchPage:
        """The public timeline's tweet ids (chirp.search.query.public_request), newest first."""
        body = public_request(limit=limit, cursor=cursor, only_media=only_media, excluded_authors=excluded_authors)
        return search_page(self._search(body), limit)

    def replies(self, parent_ids: list[int], limit: int) -> list[int]:
        """Ids of the live replies to any of these tweets, oldest first."""
        if not parent_ids:
            return []
        return [int(hit["_id"]) for hit in self._search(replies_request(parent_ids, limit))["hits"]["hits"]]

    def _search(self, body: dict) -> dict:
        try:
            return self.client.search(index=self.index, body=body, ignore_unavailable=True)
        except OpenSearchConnectionError as error:  # includes timeouts
            raise Unavailable("search is unavailable; retry shortly") from error
        except TransportError as error:
            if error.status_code in (429, 503):
                raise Unavailable("search is busy; retry shortly") from error
            raise
