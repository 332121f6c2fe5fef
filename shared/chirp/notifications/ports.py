"""Where notifications are kept, and what the rules read of the graph and the tweets."""

from __future__ import annotations

from typing import Protocol

from chirp.notifications.model import Notification
from chirp.social.model import Relation
from chirp.tweets.model import Tweet


class NotificationStore(Protocol):
    def add(self, notifications: dict[str, Notification]) -> None:
        """Stores one notification per recipient; storing the same notification again changes nothing."""
        ...

    def newest(self, user_id: str, *, before_id: int | None, limit: int) -> list[Notification]:
        """A recipient's notifications with ids below `before_id`, newest first."""
        ...


class RecipientDirectory(Protocol):
    def user_id_for_handle(self, handle: str) -> str | None: ...
    def has_edge(self, kind: Relation, source: str, target: str) -> bool: ...


class TweetLookup(Protocol):
    def get(self, tweet_id: int) -> Tweet | None: ...
