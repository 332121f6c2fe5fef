"""A tweet, as stored, published on the new-tweets stream and returned by the API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, computed_field

# Ids as strings besides the numbers: Snowflake ids exceed 2**53, which JavaScript's numbers cannot hold
# exactly. Computed, so they are answered and documented but never stored or read back.
MAX_MEDIA = 4  # images attached to one tweet
STRING_IDS = frozenset({"tweet_id_str", "reply_to_id_str", "quote_tweet_id_str", "retweet_of_id_str"})


class Tweet(BaseModel):
    # Frozen: a home read shares one parsed tweet between reads (see chirp.adapters.redis.parsed_entries).
    model_config = ConfigDict(frozen=True)

    tweet_id: int
    author_id: str
    text: str
    created_at_ms: int
    reply_to_id: int | None = None
    # The replied-to tweet's author, kept when the reply is posted: a reply to oneself (a thread) shows where other
    # replies do not (the public timeline), without reading the parent. None on replies posted before it was kept.
    reply_to_author_id: str | None = None
    quote_tweet_id: int | None = None
    hashtags: list[str] = Field(default_factory=list)
    mentions: list[str] = Field(default_factory=list)
    media_ids: list[str] = Field(default_factory=list)  # processed images of its author (chirp.media)
    deleted: bool = False
    # A retweet: an entry of its own (its id orders it in timelines), with no text, that shows this tweet.
    retweet_of_id: int | None = None

    @computed_field
    @property
    def tweet_id_str(self) -> str:
        return str(self.tweet_id)

    @computed_field
    @property
    def reply_to_id_str(self) -> str | None:
        return None if self.reply_to_id is None else str(self.reply_to_id)

    @computed_field
    @property
    def quote_tweet_id_str(self) -> str | None:
        return None if self.quote_tweet_id is None else str(self.quote_tweet_id)

    @computed_field
    @property
    def retweet_of_id_str(self) -> str | None:
        return None if self.retweet_of_id is None else str(self.retweet_of_id)

    @property
    def replies_to_someone_else(self) -> bool:
        """A reply to another's tweet, which public timelines leave out (a reply to oneself, a thread, they show, as
        Mastodon's do). A reply whose parent's author was not kept counts as one."""
        return self.reply_to_id is not None and self.reply_to_author_id != self.author_id
