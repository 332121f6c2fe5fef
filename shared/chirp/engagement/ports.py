"""What the engagement rules need from the outside world: the engagement store (edges, sharded counters and the
event outbox in DynamoDB), the count cache (Redis), the engagements stream, and what they read of tweets and the
social graph. Adapters implement them in `chirp.adapters`; unit tests use in-memory fakes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol

from chirp.engagement.model import Counts, Edge, EngagementEvent, Kind
from chirp.media.model import MediaView
from chirp.social.model import Profile, Relation
from chirp.tweets.model import Tweet


class EngagementStore(Protocol):
    """The truth. Every write that moves a count is one transaction with what it counts, so a count always equals
    its edges: a like (or retweet) edge with +1 on one counter shard and the event in the outbox."""

    def like(self, event: EngagementEvent, shard: int) -> bool:
        """Records the like; False (nothing written) when the user likes the tweet already."""
        ...

    def unlike(self, event: EngagementEvent, shard: int) -> bool:
        """Removes the like; False (nothing written) when there is none."""
        ...

    def retweet(self, event: EngagementEvent, retweet: Tweet, shard: int) -> bool:
        """Records the retweet edge and stores the retweet itself (a tweet); False when already retweeted."""
        ...

    def unretweet(self, event: EngagementEvent, shard: int) -> bool:
        """Ends the retweet `event.retweet_id` (the edge cleared, the retweet marked deleted); False when the user's
        retweet of the tweet is not that one any more (or none)."""
        ...

    def bookmark(self, user_id: str, tweet_id: int, order: int) -> bool:
        """Records the bookmark (ordered by `order`); False (nothing written) when the user bookmarked it already."""
        ...

    def unbookmark(self, user_id: str, tweet_id: int) -> bool:
        """Removes the bookmark; False (nothing written) when there is none."""
        ...

    def edges(self, keys: Iterable[tuple[str, int]]) -> dict[tuple[str, int], Edge]:
        """The (user, tweet) edges that exist, in one batch."""
        ...

    def counts(self, tweet_ids: Iterable[int]) -> dict[int, Counts]:
        """Each tweet's counts, summed over its shards (tweets never engaged with may be absent)."""
        ...

    def raise_shards(self, tweet_id: int, shards: int) -> None:
        """Makes the tweet's counter span at least `shards` shards (it never shrinks: readers sum them all)."""
        ...

    def engagers(self, kind: Kind, tweet_id: int, *, limit: int, cursor: str | None) -> tuple[list[str], str | None]:
        """Who liked (or retweeted) the tweet, newest first, one page."""
        ...

    def liked_by(self, user_id: str, *, limit: int, cursor: str | None) -> tuple[list[int], str | None]:
        """The tweets a user liked, most recently liked first, one page."""
        ...

    def bookmarked_by(self, user_id: str, *, limit: int, cursor: str | None) -> tuple[list[int], str | None]:
        """The tweets a user bookmarked, most recently bookmarked first, one page."""
        ...

    def engager_count(self, kind: Kind, tweet_id: int) -> int:
        """How many edges of `kind` the tweet has (the auditor's truth for its count)."""
        ...

    def count_child(self, child_id: int, field: str, parent_id: int, shard: int, *, add: bool) -> bool:
        """Counts a reply or quote (`field` reply_count or quote_count) of `parent_id` once (add), or uncounts it
        once it is deleted; False when that was done already (a replayed record)."""
        ...

    def pending_events(self, *, before_order: int) -> Iterator[EngagementEvent]:
        """Events recorded before `before_order` whose publishing was never confirmed (the outbox)."""
        ...

    def clear_pending(self, event: EngagementEvent) -> None: ...


class CountCache(Protocol):
    """Summed counts, cached for reads (Redis), and each tweet's heat. A cache: when it cannot be reached it misses
    and forgets, and DynamoDB answers."""

    def get(self, tweet_ids: list[int]) -> dict[int, Counts]: ...
    def put(self, counts: dict[int, Counts]) -> None: ...
    def bump(self, tweet_id: int, field: str, delta: int) -> None:
        """Moves a cached count (only if it is cached): the writer's own act shows at once."""
        ...

    def heat(self, tweet_id: int, window_s: int) -> tuple[int, int]:
        """Counts one more act on the tweet in the current window; returns the acts of the last one or two windows
        (this one so far and the one before) and how many counter shards the tweet is known to span (1 when
        unknown)."""
        ...

    def remember_shards(self, tweet_id: int, shards: int) -> None: ...


class EventPublisher(Protocol):
    def publish(self, event: EngagementEvent) -> None: ...


class TweetSource(Protocol):
    def get(self, tweet_id: int) -> Tweet | None: ...
    def batch_get(self, tweet_ids: Iterable[int]) -> dict[int, Tweet]: ...


class Graph(Protocol):
    def get_profile(self, user_id: str) -> Profile | None: ...
    def has_edge(self, kind: Relation, source: str, target: str) -> bool: ...


class IdSource(Protocol):
    def next_id(self) -> int: ...


class MediaViews(Protocol):
    def views(self, media_ids: list[str]) -> dict[str, MediaView]:
        """Attached media as tweets show them, by id, in one batch (media not ready are left out)."""
        ...
