"""A notification and a page of them."""

from __future__ import annotations

from pydantic import BaseModel


class Notification(BaseModel):
    id: int  # orders notifications: the tweet's id, or a Snowflake-shaped id for a follow
    kind: str  # mention | reply | follow
    actor_id: str
    tweet_id: int | None = None
    at_ms: int


class NotificationPage(BaseModel):
    items: list[Notification]
    next_cursor: str | None = None
