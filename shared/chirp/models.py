"""Domain and API models shared by handlers, logic and data access."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Tweet(BaseModel):
    tweet_id: int
    author_id: str
    text: str
    created_at_ms: int
    reply_to_id: int | None = None
    quote_tweet_id: int | None = None
    hashtags: list[str] = Field(default_factory=list)
    mentions: list[str] = Field(default_factory=list)
    deleted: bool = False


class Profile(BaseModel):
    user_id: str
    handle: str
    display_name: str
    followers_count: int = 0
    following_count: int = 0
    tweets_count: int = 0
    created_at_ms: int = 0


class TimelineEntry(BaseModel):
    tweet: Tweet
    author: Profile | None = None


class TimelinePage(BaseModel):
    items: list[TimelineEntry]
    next_cursor: str | None = None


class UserPage(BaseModel):
    user_ids: list[str]
    next_cursor: str | None = None
