"""What home timelines hold and return."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, computed_field

from chirp.social.model import Profile
from chirp.tweets.model import Tweet


class TimelineEntry(BaseModel):
    """One entry: `entry_id` is the entry's own id (a tweet's, or a retweet's); `tweet` is what it shows (for a
    retweet, the original) by `author`; `retweeted_by` is who retweeted it. Frozen: a home read shares one parsed
    entry between reads (see chirp.adapters.redis.parsed_entries)."""

    model_config = ConfigDict(frozen=True)

    entry_id: int
    tweet: Tweet
    author: Profile | None = None
    retweeted_by: Profile | None = None

    @computed_field
    @property
    def entry_id_str(self) -> str:
        """The id as a string too: it exceeds 2**53 (JavaScript clients would round the number)."""
        return str(self.entry_id)


class TimelinePage(BaseModel):
    items: list[TimelineEntry]
    next_cursor: str | None = None


class FollowerPage(BaseModel):
    """One page of a popular author's followers to push a tweet to (handed to the fan-out workers)."""

    tweet_id: int
    author_id: str
    follower_ids: list[str]
    retweet_of_id: int | None = None  # the tweet is a retweet of this one


@dataclass(frozen=True)
class TimelineSlice:
    """One read of a cached timeline: whether it is live, its next ids, the followed celebrities, the authors the
    reader hides, the retweet entries above the cursor (below a cursor) with the tweets they show, and the
    followed authors with deferred tweets (fan-out on write off, or not caught up yet)."""

    live: bool
    ids: list[int]
    celebrities: list[str]
    hidden_authors: frozenset[str]
    retweets_above: dict[int, int] = field(default_factory=dict)
    deferred: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PulledSlice:
    """Followed celebrities' entries below the cursor, and (below a cursor) their retweets above it."""

    ids: list[int]
    retweets_above: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class CachedHydration:
    """What the hydration caches answered within a read: the tweets and profiles found, which tweet ids and users
    were looked up (a miss among them is not asked of the cache again), and which of those users the reader
    follows."""

    tweets: dict[int, Tweet] = field(default_factory=dict)
    tweets_looked_up: frozenset[int] = frozenset()
    profiles: dict[str, Profile] = field(default_factory=dict)
    profiles_looked_up: frozenset[str] = frozenset()
    followed: frozenset[str] = frozenset()


@dataclass(frozen=True)
class HomeSnapshot:
    """One read of everything the cache holds for a home page: the reader's timeline slice, the entries pulled
    from followed celebrities (when merged) and followees' deferred tweets, and the hydration caches' answers
    for the page those make."""

    timeline: TimelineSlice
    pulled: PulledSlice
    hydration: CachedHydration


def page_candidates(sources: list[list[int]], count: int) -> list[int]:
    """The newest `count` ids of all sources, once each. Each source gave its newest `count` ids below the
    cursor, so the merge's top `count` is exact."""
    return sorted({i for ids in sources for i in ids}, reverse=True)[:count]
