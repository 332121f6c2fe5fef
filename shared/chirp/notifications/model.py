"""A notification and a page of them."""

from __future__ import annotations

from pydantic import BaseModel, computed_field


class Notification(BaseModel):
    id: int  # orders notifications: the tweet's id, or a Snowflake-shaped id for a follow
    kind: str  # mention | reply | follow
    actor_id: str
    tweet_id: int | None = None
    at_ms: int

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
