"""A notification and a page of them."""

from __future__ import annotations

from pydantic import BaseModel, Field, computed_field

AGGREGATED = ("like", "retweet")  # kinds kept as one notification per (tweet, kind) that updates


class Notification(BaseModel):
    id: int  # orders notifications: the tweet's id, or a Snowflake-shaped id of the latest act (follows, likes...)
    kind: str  # mention | reply | quote | follow | like | retweet
    actor_id: str  # who acted (for likes and retweets: the latest of them)
    tweet_id: int | None = None
    at_ms: int
    # Likes and retweets: one notification per tweet that updates: the latest actors (newest first) and how many
    # engaged in all ("A, B and 47,382 others liked your tweet" is actor_ids [A, B] and count 47,384).
    actor_ids: list[str] = Field(default_factory=list)
    count: int | None = None

    # The ids as strings too: they exceed 2**53 (JavaScript clients would round the numbers).
    @computed_field
    @property
    def id_str(self) -> str:
        return str(self.id)

    @computed_field
    @property
    def tweet_id_str(self) -> str | None:
        return None if self.tweet_id is None else str(self.tweet_id)


class NotificationPage(BaseModel):
    items: list[Notification]
    next_cursor: str | None = None


class Aggregate(BaseModel):
    """The state of one aggregated notification (a recipient's likes or retweets of one tweet): where it shows
    now (`notification_id`, moved to the top when someone new engages), and a version for optimistic updates."""

    recipient_id: str
    kind: str
    tweet_id: int
    notification_id: int
    actor_ids: list[str]
    count: int
    at_ms: int
    version: int = 0

    def notification(self) -> Notification:
        return Notification(
            id=self.notification_id,
            kind=self.kind,
            actor_id=self.actor_ids[0],
            tweet_id=self.tweet_id,
            at_ms=self.at_ms,
            actor_ids=self.actor_ids,
            count=self.count,
        )
