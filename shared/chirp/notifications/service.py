"""Notifications: a mention, a reply, a quote, a new follower, and likes and retweets of one's tweets.

Each notification of a tweet or a follow has a deterministic id (same event, same id), so a replayed tweet or a
repeated follow stores nothing new. Likes and retweets are aggregated: one notification per (tweet, kind) that
updates ("A, B and 47,382 others liked your tweet"), moved to the top when someone new engages, never one row
per like. Blocked and muted actors do not notify, and nobody is notified of their own acts.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

from chirp.ids.snowflake import snowflake_at
from chirp.notifications.model import Aggregate, Notification, NotificationPage
from chirp.notifications.ports import NotificationStore, RecipientDirectory, StaleAggregate, TweetLookup
from chirp.paging import check_limit, parse_id_cursor
from chirp.social.model import HIDING
from chirp.tweets.model import Tweet

MAX_ACTORS = 3  # actors named by an aggregated notification, newest first
MAX_UNREAD = 1000  # the most unread notifications counted (a badge says "1000+" beyond); Mastodon's cap too
_UNREAD_PAGE = 100
AGGREGATE_ATTEMPTS = 8  # optimistic updates racing another consumer of the same aggregate


def follow_notification(follower_id: str, at_ms: int) -> Notification:
    """The followee's notification of a new follower, stored with the follow itself (chirp.social.service)."""
    # Time-ordered like tweet ids; the follower's hash tells apart follows of one millisecond.
    sort_id = snowflake_at(at_ms, zlib.crc32(follower_id.encode()))
    return Notification(id=sort_id, kind="follow", actor_id=follower_id, at_ms=at_ms)


class Notifications:
    def __init__(self, store: NotificationStore, directory: RecipientDirectory, tweets: TweetLookup):
        self.store, self.directory, self.tweets = store, directory, tweets

    def for_tweet(self, tweet: Tweet) -> int:
        """Raises the notifications a new tweet causes; returns how many were raised."""
        return len(self.raise_for_tweet(tweet))

    def raise_for_tweet(self, tweet: Tweet) -> dict[str, Notification]:
        """Raises the notifications a new tweet causes; returns them by recipient (pushed to those connected). One
        per recipient: a reply outranks a quote, which outranks a mention."""
        recipients: dict[str, str] = {}
        for handle in tweet.mentions:
            user_id = self.directory.user_id_for_handle(handle)
            if user_id:
                recipients[user_id] = "mention"
        for kind, referenced in (("quote", tweet.quote_tweet_id), ("reply", tweet.reply_to_id)):
            if referenced is not None:
                target = self.tweets.get(referenced)
                if target is not None:
                    recipients[target.author_id] = kind
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
        return notifications

    def for_engagements(
        self,
        recipient_id: str,
        kind: str,
        tweet_id: int,
        *,
        engaged: list[tuple[str, int]],
        undone: list[str],
        total: int,
    ) -> Aggregate | None:
        """Updates the recipient's aggregated notification of `kind` for their tweet: `engaged` are (actor, at_ms)
        whose like or retweet stands now, `undone` actors whose engagement ended, `total` how many engage with the
        tweet in this kind now, the recipient excluded. Newly engaged actors move it to the top; a replay changes
        nothing; with nobody left to name, it is deleted. Returns the aggregate as stored (None: none)."""
        undone_set = set(undone)
        for _ in range(AGGREGATE_ATTEMPTS):
            current = self.store.aggregate(recipient_id, kind, tweet_id)
            try:
                return self._update(current, recipient_id, kind, tweet_id, engaged, undone_set, total)
            except StaleAggregate:
                continue
        raise StaleAggregate(f"the {kind} notification of tweet {tweet_id} kept changing; retry")

    def _update(
        self,
        current: Aggregate | None,
        recipient_id: str,
        kind: str,
        tweet_id: int,
        engaged: list[tuple[str, int]],
        undone: set[str],
        total: int,
    ) -> Aggregate | None:
        shown = [a for a in (current.actor_ids if current else []) if a not in undone]
        newcomers: list[tuple[str, int]] = []  # newest first, at most as many as can be named
        for actor, at_ms in sorted(engaged, key=lambda e: e[1], reverse=True):
            if len(newcomers) == MAX_ACTORS:
                break
            if actor == recipient_id or actor in undone or any(actor == a for a, _ in newcomers):
                continue
            if current is not None and actor in current.actor_ids and at_ms <= current.at_ms:
                continue  # already named for this act: a replay
            if not self._silenced(recipient_id, actor):
                newcomers.append((actor, at_ms))
        actors = list(dict.fromkeys([a for a, _ in newcomers] + shown))[:MAX_ACTORS]
        count = max(total, len(actors))
        if not actors:
            if current is not None:
                self.store.drop_aggregate(current)
            return None
        latest = max((at for _, at in newcomers), default=None)
        moved = latest is not None and (current is None or latest > current.at_ms)  # an older act seen late: no
        at_ms = latest if moved else current.at_ms
        notification_id = (
            snowflake_at(at_ms, zlib.crc32(f"{kind}:{tweet_id}".encode())) if moved else current.notification_id
        )
        new = Aggregate(
            recipient_id=recipient_id,
            kind=kind,
            tweet_id=tweet_id,
            notification_id=notification_id,
            actor_ids=actors,
            count=count,
            at_ms=at_ms,
            version=(current.version + 1) if current else 0,
        )
        if current is not None and new.model_copy(update={"version": current.version}) == current:
            return current  # nothing changed: a replay
        self.store.put_aggregate(new, current)
        return new

    def page(self, user_id: str, *, cursor: str | None, limit: int) -> NotificationPage:
        check_limit(limit)
        items = self.store.newest(user_id, before_id=parse_id_cursor(cursor), limit=limit)
        next_cursor = str(items[-1].id) if len(items) == limit else None
        return NotificationPage(items=items, next_cursor=next_cursor)

    def unread_count(
        self, user_id: str, *, read_up_to: int | None, limit: int, counted: Callable[[Notification], bool]
    ) -> int:
        """How many of the user's notifications newer than `read_up_to` (all, without it) are `counted`, up to
        `limit`: read newest first, a page at a time, until the position read up to, the limit or the cap."""
        check_limit(limit, MAX_UNREAD)
        count, before_id = 0, None
        for _ in range(MAX_UNREAD // _UNREAD_PAGE):  # at most the cap's worth is read, whatever is counted
            items = self.store.newest(user_id, before_id=before_id, limit=_UNREAD_PAGE)
            unread = [n for n in items if read_up_to is None or n.id > read_up_to]
            count += sum(1 for n in unread if counted(n))
            if count >= limit or len(unread) < _UNREAD_PAGE:
                break  # enough; or past what was read, or the oldest
            before_id = items[-1].id
        return min(count, limit)

    def _silenced(self, user_id: str, actor_id: str) -> bool:
        return any(self.directory.has_edge(kind, user_id, actor_id) for kind in HIDING)
