"""Every rule about likes, retweets and the counts on tweets, in one place.

- A like or retweet is an edge (user, tweet) that exists once: liking twice is one like, undoing what is not
  there changes nothing. The edge, +1 (or -1) on one shard of the tweet's counter and the event (in the outbox)
  are written in one DynamoDB transaction, so a count always equals its edges, whatever is retried or replayed.
- A hot tweet's counter is sharded: N items summed on read, N chosen by heat (acts on the tweet in the current
  window), so a viral tweet's likes spread over many items (DynamoDB serves ~1,000 writes/s per item, and
  concurrent transactions on one item conflict). N only grows; readers sum every shard.
- A retweet is a tweet of its own (an entry in timelines, with the retweet's id, showing the original), delivered
  by the engagements stream's consumer through the same hybrid fan-out as tweets. Undoing it deletes that tweet:
  it leaves timelines lazily, as a deleted tweet does. A retweet of a retweet retweets the original.
- Events reach the engagements stream through an outbox (published at once, re-published by the relay when that
  failed). Consumers act on the edges' current state, read again, so replays and reorders change nothing.
"""

from __future__ import annotations

import random
import time
import zlib
from collections.abc import Callable
from typing import Protocol

from chirp.engagement.model import (
    Applied,
    BookmarkState,
    Counts,
    Edge,
    EngagementEvent,
    EngagementState,
    EntryPage,
    EntryView,
    Kind,
    NotificationView,
    NotificationViewPage,
    PostPage,
    PostView,
    TweetView,
)
from chirp.engagement.ports import (
    CountCache,
    EngagementStore,
    EventPublisher,
    Graph,
    IdSource,
    MediaViews,
    TweetSource,
)
from chirp.errors import Forbidden, NotFound
from chirp.ids.snowflake import snowflake_at
from chirp.notifications.model import NotificationPage
from chirp.notifications.service import Notifications
from chirp.paging import check_limit
from chirp.social.model import Relation, UserPage
from chirp.timelines.model import TimelinePage
from chirp.tweets.model import Tweet

MAX_SHARDS = 64
HEAT_WINDOW_S = 10
# Counter shards by heat (acts on one tweet in the current and the previous HEAT_WINDOW_S), hottest first: a tweet
# liked a few times a second stays on one item; one liked hundreds of times a second spreads over MAX_SHARDS.
SHARDS_BY_HEAT = ((1_000, 64), (200, 16), (50, 4))
OUTBOX_GRACE_MS = 10_000  # younger events are probably being published right now
COUNTED = {Kind.LIKE: "like_count", Kind.RETWEET: "retweet_count"}


def shards_for(heat: int, max_shards: int = MAX_SHARDS) -> int:
    """The counter shards a tweet needs at this heat, at most `max_shards`."""
    for at_least, shards in SHARDS_BY_HEAT:
        if heat >= at_least:
            return min(shards, max_shards)
    return 1


def act_order(at_ms: int, user_id: str) -> int:
    """Orders acts newest first among Snowflake ids; the user's hash tells apart acts of one millisecond."""
    return snowflake_at(at_ms, zlib.crc32(user_id.encode()))


class Delivery(Protocol):
    """The timeline rules a retweet goes through (chirp.timelines.rules.Timelines)."""

    def fan_out(self, tweet: Tweet) -> object: ...
    def on_delete(self, tweet: Tweet) -> None: ...


class Engagements:
    def __init__(
        self,
        store: EngagementStore,
        cache: CountCache,
        publisher: EventPublisher,
        tweets: TweetSource,
        graph: Graph,
        timelines: Delivery,
        notifications: Notifications,
        ids: IdSource,
        *,
        max_shards: int = MAX_SHARDS,
        clock_ms: Callable[[], int] = lambda: int(time.time() * 1000),
        rng: random.Random | None = None,
        media: MediaViews | None = None,
    ):
        self.store, self.cache, self.publisher, self.media = store, cache, publisher, media
        self.tweets, self.graph, self.timelines, self.ids = tweets, graph, timelines, ids
        self.notifications = notifications
        self.max_shards, self.clock_ms, self.rng = max_shards, clock_ms, rng or random.Random()

    # --- acts ---------------------------------------------------------------------------------------------
    def like(self, user_id: str, tweet_id: int) -> EngagementState:
        tweet = self._engageable(user_id, tweet_id)
        event = self._event(Kind.LIKE, user_id, tweet, active=True)
        if self.store.like(event, self._shard(tweet.tweet_id)):
            self._announce(event)
        return EngagementState(user_id=user_id, tweet_id=tweet.tweet_id, kind=Kind.LIKE, active=True)

    def unlike(self, user_id: str, tweet_id: int) -> EngagementState:
        tweet = self._original(tweet_id, deleted_ok=True)
        event = self._event(Kind.LIKE, user_id, tweet, active=False)
        if self.store.unlike(event, self._shard(tweet.tweet_id)):
            self._announce(event)
        return EngagementState(user_id=user_id, tweet_id=tweet.tweet_id, kind=Kind.LIKE, active=False)

    def retweet(self, user_id: str, tweet_id: int) -> EngagementState:
        tweet = self._engageable(user_id, tweet_id)
        edge = self._edge(user_id, tweet.tweet_id)
        if edge is None or not edge.retweeted:
            retweet_id = self.ids.next_id()
            event = self._event(Kind.RETWEET, user_id, tweet, active=True, order=retweet_id, retweet_id=retweet_id)
            retweet = Tweet(
                tweet_id=retweet_id, author_id=user_id, text="", created_at_ms=event.at_ms, retweet_of_id=tweet.tweet_id
            )
            if self.store.retweet(event, retweet, self._shard(tweet.tweet_id)):
                self._announce(event)
                return self._retweeted(user_id, tweet.tweet_id, retweet_id)
            edge = self._edge(user_id, tweet.tweet_id)  # a concurrent retweet won: it is the one
        return self._retweeted(user_id, tweet.tweet_id, edge.retweet_id if edge else None)

    def unretweet(self, user_id: str, tweet_id: int) -> EngagementState:
        """Ends the caller's retweet: its entry leaves their own timeline at once (as a deleted tweet does), the
        other timelines drop it when they read it, and the consumer finishes the job even if Redis fails here."""
        tweet = self._original(tweet_id, deleted_ok=True)
        edge = self._edge(user_id, tweet.tweet_id)
        state = EngagementState(user_id=user_id, tweet_id=tweet.tweet_id, kind=Kind.RETWEET, active=False)
        if edge is None or edge.retweet_id is None:
            return state
        event = self._event(Kind.RETWEET, user_id, tweet, active=False, retweet_id=edge.retweet_id)
        if self.store.unretweet(event, self._shard(tweet.tweet_id)):
            self._announce(event)
            self.timelines.on_delete(self._retweet_of(event, deleted=True))
        return state

    def bookmark(self, user_id: str, tweet_id: int) -> BookmarkState:
        """Bookmarks the tweet (a retweet's original) where a like may be made. The caller's alone: no event, no
        count, nobody told. Bookmarking again keeps the first bookmark's place."""
        tweet = self._engageable(user_id, tweet_id)
        self.store.bookmark(user_id, tweet.tweet_id, act_order(self.clock_ms(), user_id))
        return BookmarkState(user_id=user_id, tweet_id=tweet.tweet_id, bookmarked=True)

    def unbookmark(self, user_id: str, tweet_id: int) -> BookmarkState:
        """Removes the bookmark, of a deleted tweet too; removing none answers the same."""
        tweet = self._original(tweet_id, deleted_ok=True)
        self.store.unbookmark(user_id, tweet.tweet_id)
        return BookmarkState(user_id=user_id, tweet_id=tweet.tweet_id, bookmarked=False)

    def _retweeted(self, user_id: str, tweet_id: int, retweet_id: int | None) -> EngagementState:
        return EngagementState(
            user_id=user_id, tweet_id=tweet_id, kind=Kind.RETWEET, active=retweet_id is not None, retweet_id=retweet_id
        )

    def _engageable(self, user_id: str, tweet_id: int) -> Tweet:
        """The tweet a like or retweet of `tweet_id` engages (a retweet's original), if the user may."""
        if self.graph.get_profile(user_id) is None:
            raise Forbidden("create your profile (POST /users) first")
        tweet = self._original(tweet_id, deleted_ok=False)
        if tweet.author_id != user_id:
            if self.graph.has_edge(Relation.BLOCKS, tweet.author_id, user_id):
                raise Forbidden("this user blocks you")
            if self.graph.has_edge(Relation.BLOCKS, user_id, tweet.author_id):
                raise Forbidden("you block this user: unblock them first")
        return tweet

    def _original(self, tweet_id: int, *, deleted_ok: bool) -> Tweet:
        """The tweet itself, or the original a retweet shows. Undoing works on a deleted tweet too."""
        tweet = self.tweets.get(tweet_id)
        if tweet is not None and tweet.retweet_of_id is not None:
            tweet = self.tweets.get(tweet.retweet_of_id)
        if tweet is None or (tweet.deleted and not deleted_ok):
            raise NotFound(f"tweet {tweet_id} not found")
        return tweet

    def _edge(self, user_id: str, tweet_id: int) -> Edge | None:
        return self.store.edges([(user_id, tweet_id)]).get((user_id, tweet_id))

    def _event(
        self, kind: Kind, user_id: str, tweet: Tweet, *, active: bool, order: int | None = None, retweet_id=None
    ) -> EngagementEvent:
        at_ms = self.clock_ms()
        return EngagementEvent(
            kind=kind,
            user_id=user_id,
            tweet_id=tweet.tweet_id,
            author_id=tweet.author_id,
            active=active,
            at_ms=at_ms,
            order=order if order is not None else act_order(at_ms, user_id),
            retweet_id=retweet_id,
        )

    def _shard(self, tweet_id: int) -> int:
        """The counter shard this act writes: one of the shards the tweet's heat calls for, at random."""
        heat, known = self.cache.heat(tweet_id, HEAT_WINDOW_S)
        wanted = shards_for(heat, self.max_shards)
        if wanted > known:
            self.store.raise_shards(tweet_id, wanted)  # first: a reader must never miss a shard written to
            self.cache.remember_shards(tweet_id, wanted)
            known = wanted
        return self.rng.randrange(max(1, min(known, self.max_shards)))

    def _announce(self, event: EngagementEvent) -> None:
        """After the transaction: the cached count moves (the caller sees their act), then the event is published
        and its outbox entry cleared. The cache moves first: the consumer's refresh, which follows the event,
        then overwrites it with DynamoDB's sum."""
        self.cache.bump(event.tweet_id, COUNTED[event.kind], 1 if event.active else -1)
        self.publisher.publish(event)
        self.store.clear_pending(event)

    def relay_outbox(self, grace_ms: int = OUTBOX_GRACE_MS) -> int:
        """Publishes every event whose publishing is still unconfirmed after the grace period (consumers are
        idempotent: an event published twice changes nothing)."""
        relayed = 0
        for event in self.store.pending_events(before_order=snowflake_at(self.clock_ms() - grace_ms, 0)):
            self.publisher.publish(event)
            self.store.clear_pending(event)
            relayed += 1
        return relayed

    # --- lists ---------------------------------------------------------------------------------------------
    def engagers(self, kind: Kind, tweet_id: int, *, cursor: str | None, limit: int) -> UserPage:
        """Who liked (retweeted) the tweet, newest first."""
        check_limit(limit)
        tweet = self._original(tweet_id, deleted_ok=False)
        user_ids, next_cursor = self.store.engagers(kind, tweet.tweet_id, limit=limit, cursor=cursor)
        return UserPage(user_ids=user_ids, next_cursor=next_cursor)

    def likes_of(self, user_id: str, *, viewer_id: str, cursor: str | None, limit: int) -> PostPage:
        """What a user liked, most recently liked first (tweets deleted since are left out), as the viewer sees it."""
        liked, next_cursor = self.liked_tweets(user_id, cursor=cursor, limit=limit)
        return PostPage(items=self.posts(liked, viewer_id), next_cursor=next_cursor)

    def liked_tweets(self, user_id: str, *, cursor: str | None, limit: int) -> tuple[list[Tweet], str | None]:
        """The tweets a user liked, most recently liked first (tweets deleted since are left out), and the cursor of
        the next page (None on the last)."""
        check_limit(limit)
        if self.graph.get_profile(user_id) is None:
            raise NotFound(f"user {user_id} not found")
        tweet_ids, next_cursor = self.store.liked_by(user_id, limit=limit, cursor=cursor)
        return self._live(tweet_ids), next_cursor

    def bookmarks_of(self, user_id: str, *, cursor: str | None, limit: int) -> PostPage:
        """The user's own bookmarks, most recently bookmarked first (tweets deleted since are left out), as they see
        them."""
        bookmarked, next_cursor = self.bookmarked_tweets(user_id, cursor=cursor, limit=limit)
        return PostPage(items=self.posts(bookmarked, user_id), next_cursor=next_cursor)

    def bookmarked_tweets(self, user_id: str, *, cursor: str | None, limit: int) -> tuple[list[Tweet], str | None]:
        """The tweets a user bookmarked, most recently bookmarked first (tweets deleted since are left out), and the
        cursor of the next page (None on the last)."""
        check_limit(limit)
        tweet_ids, next_cursor = self.store.bookmarked_by(user_id, limit=limit, cursor=cursor)
        return self._live(tweet_ids), next_cursor

    def _live(self, tweet_ids: list[int]) -> list[Tweet]:
        """These tweets, in this order, less those deleted or gone (no ids: no call, in the store too)."""
        found = self.tweets.batch_get(tweet_ids)
        return [found[t] for t in tweet_ids if t in found and not found[t].deleted]

    # --- counts and views ----------------------------------------------------------------------------------
    def counts(self, tweet_ids: list[int]) -> dict[int, Counts]:
        """Counts from the cache; misses summed from DynamoDB in one batch, then cached."""
        ids = list(dict.fromkeys(tweet_ids))
        found = self.cache.get(ids) if ids else {}
        missing = [t for t in ids if t not in found]
        if missing:
            found.update(self.refresh_counts(missing))
        return found

    def refresh_counts(self, tweet_ids: list[int]) -> dict[int, Counts]:
        """DynamoDB's sums, written to the cache as they are (absolute: replays and races settle on the truth)."""
        loaded = self.store.counts(tweet_ids)
        counts = {t: loaded.get(t, Counts()) for t in tweet_ids}
        self.cache.put(counts)
        return counts

    def decorate(
        self, tweets: list[Tweet], viewer_id: str | None, *, just_written: bool = False
    ) -> dict[int, TweetView]:
        """Counts, the viewer's flags and attached media for every tweet, in one batch each, whatever their number.
        `just_written`: tweets the caller's request wrote, which nothing can have counted or been done to yet, so
        only their media are read."""
        ids = list(dict.fromkeys(t.tweet_id for t in tweets))
        if not ids:
            return {}
        counts = {} if just_written else self.counts(ids)
        edges = self.store.edges([(viewer_id, t) for t in ids]) if viewer_id and not just_written else {}
        media_ids = [m for t in tweets for m in t.media_ids]
        media = self.media.views(media_ids) if self.media is not None and media_ids else {}
        views = {}
        for tweet in tweets:
            edge = edges.get((viewer_id, tweet.tweet_id)) if viewer_id else None
            views[tweet.tweet_id] = TweetView(
                **tweet.model_dump(),
                **counts.get(tweet.tweet_id, Counts()).model_dump(),
                liked=bool(edge and edge.liked),
                retweeted=bool(edge and edge.retweeted),
                bookmarked=bool(edge and edge.bookmarked),
                media=[media[m] for m in tweet.media_ids if m in media],
            )
        return views

    def posts(self, tweets: list[Tweet], viewer_id: str | None, *, just_written: bool = False) -> list[PostView]:
        """Tweets as a user timeline (or a single read) returns them: a retweet carries its original, and vanishes
        with it. `just_written`: as decorate's."""
        wanted = {t.retweet_of_id for t in tweets if t.retweet_of_id is not None}
        originals = self.tweets.batch_get(sorted(wanted)) if wanted else {}
        kept, shown = [], []
        for tweet in tweets:
            if tweet.retweet_of_id is None:
                kept.append(tweet)
                shown.append(tweet)
                continue
            original = originals.get(tweet.retweet_of_id)
            if original is not None and not original.deleted:
                kept.append(tweet)
                shown.append(original)
        views = self.decorate(shown, viewer_id, just_written=just_written)
        return [
            PostView(**views[t.tweet_id].model_dump())
            if t.retweet_of_id is None
            else PostView(**t.model_dump(), retweeted_tweet=views[t.retweet_of_id])
            for t in kept
        ]

    def post(self, tweet: Tweet, viewer_id: str | None, *, just_written: bool = False) -> PostView:
        """One tweet, read alone: a retweet whose original is gone is gone too. `just_written`: as decorate's."""
        views = self.posts([tweet], viewer_id, just_written=just_written)
        if not views:
            raise NotFound(f"tweet {tweet.tweet_id} not found")
        return views[0]

    def timeline(self, page: TimelinePage, viewer_id: str | None) -> EntryPage:
        views = self.decorate([entry.tweet for entry in page.items], viewer_id)
        items = [
            EntryView(
                entry_id=entry.entry_id,
                tweet=views[entry.tweet.tweet_id],
                author=entry.author,
                retweeted_by=entry.retweeted_by,
            )
            for entry in page.items
        ]
        return EntryPage(items=items, next_cursor=page.next_cursor)

    def notifications_view(self, page: NotificationPage, viewer_id: str) -> NotificationViewPage:
        ids = sorted({n.tweet_id for n in page.items if n.tweet_id is not None})
        found = self.tweets.batch_get(ids) if ids else {}
        live = [t for t in found.values() if not t.deleted and t.retweet_of_id is None]
        views = self.decorate(live, viewer_id)
        items = [
            NotificationView(**n.model_dump(), tweet=views.get(n.tweet_id) if n.tweet_id is not None else None)
            for n in page.items
        ]
        return NotificationViewPage(items=items, next_cursor=page.next_cursor)

    # --- the consumers ------------------------------------------------------------------------------------
    def apply(self, events: list[EngagementEvent]) -> Applied:
        """The engagements stream's consumer, for the events of one tweet (it groups each batch by tweet): the
        cached counts are set to DynamoDB's sums, each retweet is delivered (or taken back) as its edge stands now,
        and the author's aggregated notifications are updated. Idempotent: everything is read from the truth.
        Returns what to push to connected clients: the retweet entries delivered and taken back, and each
        notification whose newest act is one of these events."""
        tweet_id, author_id = events[0].tweet_id, events[0].author_id
        users = list(dict.fromkeys(e.user_id for e in events))
        edges = self.store.edges([(u, tweet_id) for u in users] + [(author_id, tweet_id)])
        counts = self.refresh_counts([tweet_id])[tweet_id]
        retweets = []
        for event in events:
            if event.kind is Kind.RETWEET and event.retweet_id is not None:
                edge = edges.get(event.key)
                if edge is not None and edge.retweet_id == event.retweet_id:
                    retweets.append(self._retweet_of(event, deleted=False))
                    self.timelines.fan_out(retweets[-1])
                else:
                    retweets.append(self._retweet_of(event, deleted=True))
                    self.timelines.on_delete(retweets[-1])
        own = edges.get((author_id, tweet_id))
        notified = []
        for kind in Kind:
            of_kind = [e for e in events if e.kind is kind]
            if not of_kind:
                continue
            engaged, undone = [], []
            for user in dict.fromkeys(e.user_id for e in of_kind):
                latest = max((e for e in of_kind if e.user_id == user), key=lambda e: e.at_ms)
                if _stands(edges.get((user, tweet_id)), kind):
                    engaged.append((user, latest.at_ms))
                else:
                    undone.append(user)
            total = getattr(counts, COUNTED[kind]) - int(_stands(own, kind))
            aggregate = self.notifications.for_engagements(
                author_id, kind.value, tweet_id, engaged=engaged, undone=undone, total=total
            )
            if aggregate is not None and (aggregate.actor_ids[0], aggregate.at_ms) in engaged:
                notified.append((author_id, aggregate.notification()))
        return Applied(retweets=retweets, notifications=notified)

    def count_posted(self, tweet: Tweet) -> list[int]:
        """The new-tweets stream's counter: a reply or quote counts once on its parent, and no more once deleted
        (a marker per child, in the same transaction as the count). Returns the parents whose counts moved."""
        moved = []
        for field, parent_id in (("reply_count", tweet.reply_to_id), ("quote_count", tweet.quote_tweet_id)):
            if parent_id is None:
                continue
            if self.store.count_child(tweet.tweet_id, field, parent_id, self._shard(parent_id), add=not tweet.deleted):
                moved.append(parent_id)
        if moved:
            self.refresh_counts(moved)
        return moved

    @staticmethod
    def _retweet_of(event: EngagementEvent, *, deleted: bool) -> Tweet:
        return Tweet(
            tweet_id=event.retweet_id,
            author_id=event.user_id,
            text="",
            created_at_ms=event.at_ms,
            retweet_of_id=event.tweet_id,
            deleted=deleted,
        )


def _stands(edge: Edge | None, kind: Kind) -> bool:
    if edge is None:
        return False
    return edge.liked if kind is Kind.LIKE else edge.retweeted
