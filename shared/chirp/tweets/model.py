"""A tweet, as stored, published on the new-tweets stream and returned by the API."""

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
    # A retweet: an entry of its own (its id orders it in timelines), with no text, that shows this tweet.
    retweet_of_id: int | None = None
