"""Notifications per recipient as a Redis sorted set of JSON members scored by id, newest KEEP kept.

A notification serialises to the same member every time, so storing it again changes nothing."""

from __future__ import annotations

import json

import redis

from chirp.adapters.redis.scores import page_bounds
from chirp.notifications.model import Notification

KEEP = 500


def notifications_key(user_id: str) -> str:
    return f"notifications:{user_id}"


class RedisNotificationStore:
    def __init__(self, client: redis.Redis):
        self.redis = client

    def add(self, notifications: dict[str, Notification]) -> None:
        with self.redis.pipeline(transaction=False) as pipe:
            for user_id, notification in notifications.items():
                member = json.dumps(notification.model_dump(), sort_keys=True, separators=(",", ":"))
                pipe.zadd(notifications_key(user_id), {member: notification.id})
                pipe.zremrangebyrank(notifications_key(user_id), 0, -(KEEP + 1))
            pipe.execute()

    def newest(self, user_id: str, *, before_id: int | None, limit: int) -> list[Notification]:
        upper, extra = page_bounds(before_id)
        members = self.redis.zrevrangebyscore(notifications_key(user_id), upper, "-inf", start=0, num=limit + extra)
        found = (Notification.model_validate_json(member) for member in members)
        return sorted((n for n in found if before_id is None or n.id < before_id), key=lambda n: -n.id)[:limit]
