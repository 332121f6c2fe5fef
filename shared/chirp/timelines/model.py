"""What home timelines hold and return."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel

from chirp.social.model import Profile
from chirp.tweets.model import Tweet


class TimelineEntry(BaseModel):
    tweet: Tweet
    author: Profile | None = None


class TimelinePage(BaseModel):
    items: list[TimelineEntry]
    next_cursor: str | None = None


class FollowerPage(BaseModel):
    """One page of a popular author's followers to push a tweet to (handed to the fan-out workers)."""

    tweet_id: int
    author_id: str
    follower_ids: list[str]


@dataclass(frozen=True)
class TimelineSlice:
    """One read of a cached timeline: whether it is live, its next ids, the followed celebrities, the authors the
    reader hides, and the followed authors with deferred tweets (fan-out on write off, or not caught up yet)."""

    live: bool
    ids: list[int]
    celebrities: list[str]
    hidden_authors: frozenset[str]
    deferred: list[str] = field(default_factory=list)
