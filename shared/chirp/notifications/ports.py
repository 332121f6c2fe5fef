"""Where notifications are kept, and what the rules read of the graph and the tweets."""

from __future__ import annotations

from typing import Protocol

from chirp.notifications.model import Aggregate, Notification
from chirp.social.model import Relation
from chirp.tweets.model import Tweet


class StaleAggregate(Exception):
    """An aggregated notification changed since it was read (another consumer updated it): read it again."""


class NotificationStore(Protocol):
    def add(self, notifications: dict[str, Notification]) -> None:
        """Stores one notification per recipient; storing the same notification again changes nothing."""
        ...

    def newest(self, user_id: str, *, before_id: int | None, limit: int) -> list[Notification]:
        """A recipient's notifications with ids below `before_id`, newest first."""
        ...

    def aggregate(self, recipient_id: str, kind: str, tweet_id: int) -> Aggregate | None:
        """The aggregated notification of a recipient's tweet for one kind (likes, retweets), if any."""
        ...

    def put_aggregate(self, new: Aggregate, previous: Aggregate | None) -> None:
        """Replaces `previous` (None: there was none) with `new`, moving the notification to `new`'s id, at once.
        Raises StaleAggregate when the aggregate is no longer `previous`."""
        ...

    def drop_aggregate(self, previous: Aggregate) -> None:
        """Deletes the aggregate and its notification; StaleAggregate when it is no longer `previous`."""
        ...


class RecipientDirectory(Protocol):
    def user_id_for_handle(self, handle: str) -> str | None: ...
    def has_edge(self, kind: Relation, source: str, target: str) -> bool: ...


class TweetLookup(Protocol):
    def get(self, tweet_id: int) -> Tweet | None: ...
