"""Notifications: a mention, a reply or a new follower.

Each notification has a deterministic id (same event, same id), so a replayed tweet or a repeated follow
stores nothing new. Blocked and muted actors do not notify, and nobody is notified of their own acts.
"""

from __future__ import annotations

import zlib

from chirp.ids.snowflake import snowflake_at
from chirp.notifications.model import Notification, NotificationPage
from chirp.notifications.ports import NotificationStore, RecipientDirectory, TweetLookup
from chirp.paging import check_limit, parse_id_cursor
from chirp.social.model import HIDING
from chirp.tweets.model import Tweet


class Notifications:
    def __init__(self, store: NotificationStore, directory: RecipientDirectory, tweets: TweetLookup):
        self.store, self.directory, self.tweets = store, directory, tweets

    def for_tweet(self, tweet: Tweet) -> int:
        """Raises the notifications a new tweet causes; returns how many were raised."""
        recipients: dict[str, str] = {}
        for handle in tweet.mentions:
            user_id = self.directory.user_id_for_handle(handle)
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
        if notifications:
            self.store.add(notifications)
        return len(notifications)

    def for_follow(self, follower_id: str, followee_id: str, at_ms: int) -> None:
        if self._silenced(followee_id, follower_id):
            return
        # Time-ordered like tweet ids; the follower's hash tells apart follows of one millisecond.
        sort_id = snowflake_at(at_ms, zlib.crc32(follower_id.encode()))
        self.store.add({followee_id: Notification(id=sort_id, kind="follow", actor_id=follower_id, at_ms=at_ms)})

    def page(self, user_id: str, *, cursor: str | None, limit: int) -> NotificationPage:
        check_limit(limit)
        items = self.store.newest(user_id, before_id=parse_id_cursor(cursor), limit=limit)
        next_cursor = str(items[-1].id) if len(items) == limit else None
        return NotificationPage(items=items, next_cursor=next_cursor)

    def _silenced(self, user_id: str, actor_id: str) -> bool:
        return any(self.directory.has_edge(kind, user_id, actor_id) for kind in HIDING)
