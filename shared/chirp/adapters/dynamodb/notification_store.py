"""Notifications in DynamoDB: the durable copy (user data: a lost Redis must not lose them).

Keyed by (recipient, notification id): storing the same notification again overwrites it with itself, so
replays change nothing. Kept RETENTION_DAYS, then DynamoDB's TTL deletes them.

An aggregated notification (a recipient's likes, or retweets, of one tweet) is one notification item that moves
to the top when someone new engages (its id is the latest act's time), plus a state item that finds it: under
`AGGREGATES#{recipient}` at (tweet id x 4 + kind), holding its current id, actors, count and a version. Each
update is one transaction: the state (conditional on its version), the old notification deleted, the new put.
"""

from __future__ import annotations

from functools import cache

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from chirp.adapters.dynamodb.tables import NotificationItem
from chirp.notifications.model import Aggregate, Notification
from chirp.notifications.ports import StaleAggregate

RETENTION_DAYS = 90
_KIND_CODES = {"like": 1, "retweet": 2}


def aggregates_key(recipient_id: str) -> str:
    return f"AGGREGATES#{recipient_id}"


def aggregate_sort_key(kind: str, tweet_id: int) -> int:
    return tweet_id * 4 + _KIND_CODES[kind]


@cache
def _connection_for(region: str | None, host: str | None) -> Connection:
    return Connection(region=region, host=host)


def _connection() -> Connection:
    return _connection_for(NotificationItem.Meta.region, NotificationItem.Meta.host)


def _expires_at(at_ms: int) -> int:
    return at_ms // 1000 + RETENTION_DAYS * 86_400


def notification_item(user_id: str, notification: Notification) -> NotificationItem:
    """The item of one notification (a follow's is written in the follow's own transaction)."""
    return NotificationItem(
        user_id=user_id,
        notification_id=notification.id,
        kind=notification.kind,
        actor_id=notification.actor_id,
        tweet_id=notification.tweet_id,
        at_ms=notification.at_ms,
        expires_at=_expires_at(notification.at_ms),
        actor_ids=notification.actor_ids or None,
        count=notification.count,
    )


class DynamoNotificationStore:
    def add(self, notifications: dict[str, Notification]) -> None:
        with NotificationItem.batch_write() as batch:
            for user_id, notification in notifications.items():
                batch.save(notification_item(user_id, notification))

    def newest(self, user_id: str, *, before_id: int | None, limit: int) -> list[Notification]:
        condition = NotificationItem.notification_id < before_id if before_id is not None else None
        items = NotificationItem.query(user_id, condition, scan_index_forward=False, limit=limit)
        return [
            Notification(
                id=int(item.notification_id),
                kind=item.kind,
                actor_id=item.actor_id,
                tweet_id=int(item.tweet_id) if item.tweet_id is not None else None,
                at_ms=int(item.at_ms),
                actor_ids=list(item.actor_ids or []),
                count=int(item.count) if item.count is not None else None,
            )
            for item in items
        ]

    def aggregate(self, recipient_id: str, kind: str, tweet_id: int) -> Aggregate | None:
        try:
            item = NotificationItem.get(
                aggregates_key(recipient_id), aggregate_sort_key(kind, tweet_id), consistent_read=True
            )
        except DoesNotExist:
            return None
        return Aggregate(
            recipient_id=recipient_id,
            kind=item.kind,
            tweet_id=int(item.tweet_id),
            notification_id=int(item.current_id),
            actor_ids=list(item.actor_ids or []),
            count=int(item.count or 0),
            at_ms=int(item.at_ms),
            version=int(item.version or 0),
        )

    def put_aggregate(self, new: Aggregate, previous: Aggregate | None) -> None:
        state = NotificationItem(
            user_id=aggregates_key(new.recipient_id),
            notification_id=aggregate_sort_key(new.kind, new.tweet_id),
            kind=new.kind,
            actor_id=new.actor_ids[0],
            tweet_id=new.tweet_id,
            at_ms=new.at_ms,
            expires_at=_expires_at(new.at_ms),
            actor_ids=new.actor_ids,
            count=new.count,
            current_id=new.notification_id,
            version=new.version,
        )
        condition = (
            NotificationItem.user_id.does_not_exist()
            if previous is None
            else NotificationItem.version == previous.version
        )
        try:
            with TransactWrite(connection=_connection()) as transaction:
                transaction.save(state, condition=condition)
                if previous is not None and previous.notification_id != new.notification_id:
                    transaction.delete(NotificationItem(new.recipient_id, previous.notification_id))
                transaction.save(notification_item(new.recipient_id, new.notification()))
        except TransactWriteError as error:
            if _condition_failed(error):
                raise StaleAggregate(str(error)) from error
            raise

    def drop_aggregate(self, previous: Aggregate) -> None:
        key = aggregate_sort_key(previous.kind, previous.tweet_id)
        state = NotificationItem(aggregates_key(previous.recipient_id), key)
        try:
            with TransactWrite(connection=_connection()) as transaction:
                transaction.delete(state, condition=NotificationItem.version == previous.version)
                transaction.delete(NotificationItem(previous.recipient_id, previous.notification_id))
        except TransactWriteError as error:
            if _condition_failed(error):
                raise StaleAggregate(str(error)) from error
            raise


def _condition_failed(error: TransactWriteError) -> bool:
    """Refused by the version condition, or by a concurrent transaction on the same items: read again."""
    reasons = error.cancellation_reasons or []
    return any(
        reason is not None and reason.code in ("ConditionalCheckFailed", "TransactionConflict") for reason in reasons
    )
