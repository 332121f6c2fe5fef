"""Bringing the search index back to what DynamoDB holds, after what the indexer could not do.

- redrive: a batch the indexer gave up on (its records aged out while the cluster was down) reaches the index
  failures queue as a pointer to its stream records; their tweets are indexed again, as DynamoDB has them now.
- reindex: every tweet of the table, by scan segment and page, e.g. after a mapping change or a lost index.

DynamoDB is the truth: a tweet deleted since is indexed as its tombstone; the external versions keep every write
idempotent, so a redrive or reindex racing the indexer changes nothing it should not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from chirp.tweets.model import Tweet
from chirp.tweets.record import PoisonRecord, parse_record

REINDEX_PAGE = 500


class FailedBatch(BaseModel):
    """The `KinesisBatchInfo` of a Lambda on-failure record: where the batch it gave up on lies in the stream."""

    model_config = ConfigDict(populate_by_name=True)

    shard_id: str = Field(alias="shardId")
    first_sequence: str = Field(alias="startSequenceNumber")
    last_sequence: str = Field(alias="endSequenceNumber")
    stream_arn: str = Field(alias="streamArn")


class StreamReader(Protocol):
    def records_between(self, batch: FailedBatch) -> list[bytes] | None:
        """The data of the batch's records, or None when the stream no longer holds them (past retention)."""
        ...


class TweetSource(Protocol):
    def batch_get(self, tweet_ids: list[int]) -> dict[int, Tweet]: ...
    def scan_page(
        self, *, segment: int, total_segments: int, start_key: dict | None, limit: int
    ) -> tuple[list[Tweet], dict | None]: ...


class IndexWriter(Protocol):
    def index_tweets(self, tweets: list[Tweet]) -> None: ...


class RecordsExpired(Exception):
    """The stream no longer holds a failed batch: only a reindex can restore its tweets."""


class SearchRepair:
    def __init__(self, tweets: TweetSource, index: IndexWriter, stream: StreamReader):
        self.tweets, self.index, self.stream = tweets, index, stream

    def reindex_ids(self, tweet_ids: list[int]) -> int:
        """Indexes these tweets as DynamoDB holds them now; returns how many exist."""
        if not tweet_ids:
            return 0
        truth = self.tweets.batch_get(sorted(set(tweet_ids)))
        if truth:
            self.index.index_tweets(list(truth.values()))
        return len(truth)

    def redrive(self, batch: FailedBatch) -> int:
        data = self.stream.records_between(batch)
        if data is None:
            span = f"{batch.first_sequence}..{batch.last_sequence}"
            raise RecordsExpired(f"shard {batch.shard_id} no longer holds {span}: run a reindex")
        ids = []
        for record in data:
            try:
                ids.append(parse_record(record).tweet_id)
            except PoisonRecord:
                continue  # already set aside by the indexer when it first met it
        return self.reindex_ids(ids)

    def reindex(
        self, *, segment: int, total_segments: int, start_key: dict | None, keep_going: Callable[[], bool]
    ) -> tuple[int, dict | None]:
        """Indexes one scan segment page by page from `start_key` while `keep_going()`; returns how many tweets
        were indexed and where to resume (None once the segment is done)."""
        indexed, key = 0, start_key
        while True:
            page, key = self.tweets.scan_page(
                segment=segment, total_segments=total_segments, start_key=key, limit=REINDEX_PAGE
            )
            if page:
                self.index.index_tweets(page)
                indexed += len(page)
            if key is None or not keep_going():
                return indexed, key
