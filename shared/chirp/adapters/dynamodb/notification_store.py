"""Notifications in DynamoDB: the durable copy (user data: a lost Redis must not lose them).

Keyed by (recipient, notification id): storing the same notification again overwrites it with itself, so
replays change nothing. Kept RETENTION_DAYS, then DynamoDB's TTL deletes them.
"""

from __future__ import annotations

from chirp.adapters.dynamodb.tables import NotificationItem
from chirp.notifications.model import Notification

RETENTION_DAYS = 90


class DynamoNotificationStore:
    def add(self, notifications: dict[str, Notification]) -> None:
        with NotificationItem.batch_write() as batch:
            for user_id, notification in notifications.items():
                batch.save(
                    NotificationItem(
                        user_id=user_id,
                        notification_id=notification.id,
                        kind=notification.kind,
                        actor_id=notification.actor_id,
                        tweet_id=notification.tweet_id,
                        at_ms=notification.at_ms,
                        expires_at=notification.at_ms // 1000 + RETENTION_DAYS * 86_400,
                    )
                )

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
            )
            for item in items
        ]
