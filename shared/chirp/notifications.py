"""Notifications: a mention, a reply or a new follower, kept per user as a Redis sorted set.

Each notification is a deterministic member (same event, same member) scored by its time, so a
replayed tweet or a repeated follow adds nothing. Blocked and muted actors do not notify.
"""

from __future__ import annotations

import json
import zlib

import redis
from pydantic import BaseModel

from chirp.dal.cursor import parse_id_cursor
from chirp.dal.social_store import SocialStore
from chirp.dal.timeline_cache import page_bounds
from chirp.dal.tweet_store import TweetStore
from chirp.errors import InvalidInput
from chirp.ids import TWITTER_EPOCH_MS
from chirp.models import Tweet

KEEP = 500
MAX_PAGE = 100


class Notification(BaseModel):
    id: int  # orders notifications: the tweet's id, or a Snowflake-shaped id for a follow
    kind: str  # mention | reply | follow
    actor_id: str
    tweet_id: int | None = None
    at_ms: int


class NotificationPage(BaseModel):
    items: list[Notification]
    next_cursor: str | None = None


def _key(user_id: str) -> str:
    return f"notifications:{user_id}"


class Notifications:
    def __init__(self, client: redis.Redis, social: SocialStore, tweets: TweetStore):
        self.redis, self.social, self.tweets = client, social, tweets

    def for_tweet(self, tweet: Tweet) -> int:
        """Raises the notifications a new tweet causes; returns how many were raised."""
        recipients: dict[str, str] = {}
        for handle in tweet.mentions:
            user_id = self.social.user_id_for_handle(handle)
            if user_id:
                recipients[user_id] = "mention"
        if tweet.reply_to_id is not None:
            parent = self.tweets.get(tweet.reply_to_id)
            if parent is not None:
                recipients[parent.author_id] = "reply"  # a reply that also mentions is one notification
        recipients.pop(tweet.author_id, None)
        notifications = {
            user_id: Notification(
                id=tweet.tweet_id,
                kind=kind,
                actor_id=tweet.author_id,
                tweet_id=tweet.tweet_id,
                at_ms=tweet.created_at_ms,
            )
            for user_id, kind in recipients.items()
            if not self._silenced(user_id, tweet.author_id)
        }
        self._store(notifications)
        return len(notifications)

    def for_follow(self, follower_id: str, followee_id: str, at_ms: int) -> None:
        if not self._silenced(followee_id, follower_id):
            # Time-ordered like tweet ids; the follower's hash tells apart follows of one millisecond.
            sort_id = (at_ms - TWITTER_EPOCH_MS) << 22 | zlib.crc32(follower_id.encode()) & 0x3FFFFF
            self._store({followee_id: Notification(id=sort_id, kind="follow", actor_id=follower_id, at_ms=at_ms)})

    def page(self, user_id: str, *, cursor: str | None, limit: int) -> NotificationPage:
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}")
        before = parse_id_cursor(cursor)
        upper, extra = page_bounds(before)
        members = self.redis.zrevrangebyscore(_key(user_id), upper, "-inf", start=0, num=limit + extra)
        found = (Notification.model_validate_json(member) for member in members)
        items = sorted((n for n in found if before is None or n.id < before), key=lambda n: -n.id)[:limit]
        next_cursor = str(items[-1].id) if len(items) == limit else None
        return NotificationPage(items=items, next_cursor=next_cursor)

    def _silenced(self, user_id: str, actor_id: str) -> bool:
        return self.social.has_edge("BLOCKS", user_id, actor_id) or self.social.has_edge("MUTES", user_id, actor_id)

    def _store(self, notifications: dict[str, Notification]) -> None:
        if not notifications:
            return
        with self.redis.pipeline(transaction=False) as pipe:
            for user_id, notification in notifications.items():
                member = json.dumps(notification.model_dump(), sort_keys=True, separators=(",", ":"))
                pipe.zadd(_key(user_id), {member: notification.id})
                pipe.zremrangebyrank(_key(user_id), 0, -(KEEP + 1))
            pipe.execute()
