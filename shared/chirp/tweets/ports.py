"""What the tweet rules need from the outside world: the tweet store (DynamoDB), the new-tweets stream,
and an id source."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol

from chirp.tweets.model import Tweet


class AuthorUnknown(Exception):
    """A tweet's author has no profile."""


class MediaTaken(Exception):
    """A medium the new tweet carries is not its author's to attach any more (another tweet took it meanwhile)."""


class TweetStore(Protocol):
    def create(self, tweet: Tweet) -> None:
        """Stores a new tweet marked as not yet published (its outbox entry), counts it on its author's profile
        and attaches its media to it, atomically and in one call; raises AuthorUnknown when there is no profile and
        MediaTaken when a medium is not the author's unattached one (nothing written either way)."""
        ...

    def mark_published(self, tweet_id: int) -> None:
        """Takes the tweet out of the outbox (idempotent)."""
        ...

    def pending_ids(self) -> Iterator[int]: ...
    def get(self, tweet_id: int) -> Tweet | None: ...
    def batch_get(self, tweet_ids: Iterable[int]) -> dict[int, Tweet]: ...
    def mark_deleted(self, tweet_id: int, author_id: str) -> bool:
        """Soft delete by its author; False when it was already deleted."""
        ...

    def by_author(
        self, author_id: str, *, limit: int, cursor: str | None = None, before_id: int | None = None
    ) -> tuple[list[Tweet], str | None]:
        """One author's live tweets, newest first: after `cursor`, or with ids below `before_id`."""
        ...

    def recent_ids(self, author_id: str, count: int) -> list[int]: ...
    def recent_tweets(self, author_id: str, count: int) -> list[Tweet]: ...


class Publisher(Protocol):
    def publish(self, tweet: Tweet) -> None: ...


class IdSource(Protocol):
    def next_id(self) -> int: ...


class MediaAttachments(Protocol):
    def prepare(self, owner: str, media_ids: list[str]) -> list[str]:
        """The media a new tweet of `owner`'s may carry, once each, or raises the refusal naming the id and why;
        their stored variants stay for good (unattached ones expire), and the tweet's write then claims them."""
        ...
