"""In-memory fakes of the domain's ports, faithful to the real adapters' semantics and doing no I/O.

Each fake mirrors its adapter in `chirp.adapters`: where an adapter's behaviour is subtle (only live
timelines are written, DynamoDB's page limit counts items before the filter, a repeated edge is not
counted twice...), the fake does the same, so that the rules tested against it behave as deployed.
"""

from __future__ import annotations

import json
import random
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import count
from pathlib import Path

import redis

from chirp.adapters.dynamodb.tables import OUTBOX_SHARDS
from chirp.degradation.controller import ControllerState, Signals
from chirp.degradation.levels import Level, Switches
from chirp.degradation.ports import LevelSetting
from chirp.engagement.model import Counts, Edge, EngagementEvent, Kind
from chirp.engagement.rules import Engagements
from chirp.errors import Conflict, InvalidInput
from chirp.ids.snowflake import snowflake_at
from chirp.limits.model import EndpointClass, Limit, LimitState, Subject
from chirp.limits.ports import LimitStoreUnavailable, Overrides
from chirp.limits.service import limit_key
from chirp.markers.model import Marker
from chirp.media.model import MediaRecord, TranscodeResult
from chirp.media.ports import PartsRefused, StoredObject
from chirp.media.service import MediaService
from chirp.notifications.model import Aggregate, Notification
from chirp.notifications.ports import StaleAggregate
from chirp.notifications.service import Notifications
from chirp.realtime.model import PUBLIC_STREAMS, Connection
from chirp.realtime.ports import Gone
from chirp.social.model import HIDING, Profile, Relation
from chirp.social.ports import FollowCheck
from chirp.social.service import SocialService
from chirp.timelines.model import (
    CachedHydration,
    FollowerPage,
    HomeSnapshot,
    PulledSlice,
    TimelinePage,
    TimelineSlice,
    page_candidates,
)
from chirp.timelines.rules import Thresholds, Timelines
from chirp.trends.ports import Peak, TagActivity, TagUse
from chirp.trends.rules import HOUR_MS
from chirp.tweets.model import Tweet
from chirp.tweets.ports import AuthorUnknown, MediaTaken
from chirp.tweets.service import TweetService


def _page[T](
    ordered: list[T], key: Callable[[T], int | str], limit: int, cursor: str | None, *, newest_first: bool = False
) -> tuple[list[T], str | None]:
    """One DynamoDB query page of `ordered` (by `key`: ascending, or descending for newest first): `limit` items
    after the cursor's key, and a cursor (the last evaluated key) whenever the page is full, as DynamoDB
    returns one even when nothing follows. Cursors are opaque to callers; anything else is refused."""
    if cursor:
        if not cursor.startswith("after:"):
            raise InvalidInput("cursor is not one this API returned")
        raw = cursor.removeprefix("after:")
        if newest_first:
            ordered = [item for item in ordered if key(item) < int(raw)]
        else:
            ordered = [item for item in ordered if key(item) > raw]
    page = ordered[:limit]
    return page, f"after:{key(page[-1])}" if len(page) == limit else None


def _redis_count(count: int) -> int:
    """A number of members to read: the adapter does arithmetic on it, so anything but an int fails there."""
    if isinstance(count, bool) or not isinstance(count, int):
        raise TypeError(f"count must be an int, not {count!r}")
    return count


class FakeLock:
    """The Redis token lock: one holder at a time, never waiting; only the holder releases it."""

    def __init__(self, holders: dict[str, object], name: str, ttl_s: int):
        self._holders, self._name, self.ttl_s = holders, name, ttl_s

    def acquire(self) -> bool:
        if self._name in self._holders:
            return False
        self._holders[self._name] = self
        return True

    def release(self) -> None:
        if self._holders.get(self._name) is self:
            del self._holders[self._name]


class FakeTimelineCache:
    """RedisTimelineCache in memory. A timeline exists (is live) only once `replace` wrote it; pushes and
    backfills write live timelines only and trim each to `max_items`, newest kept."""

    def __init__(self, max_items: int = 800):
        self.max_items = max_items
        self.timelines: dict[str, set[int]] = {}
        self.celebrities: set[str] = set()
        self.follow_calls = 0  # follows written (each one round trip)
        self.celebrity_tweets: dict[str, set[int]] = {}
        # The retweet indexes: of each timeline, of each celebrity's pull set ({retweet id: shown tweet id}).
        self.retweet_index: dict[str, dict[int, int]] = defaultdict(dict)
        self.celebrity_retweets: dict[str, dict[int, int]] = defaultdict(dict)
        self.deferred: dict[str, set[int]] = {}  # by author: tweets deferred while fan-out on write was off
        self.relations: dict[tuple[Relation, str], set[str]] = defaultdict(set)
        self.tweets: dict[int, Tweet] = {}
        self.profiles: dict[str, Profile] = {}
        self.locks: dict[str, object] = {}
        self.pushes: list[tuple[int, list[str]]] = []  # each push call: one Redis script run
        self.backfills: list[tuple[list[str], list[int]]] = []  # each add_to_each call: one pipeline
        self.home_reads = 0  # read_home calls: one Redis round trip each
        # Pages Redis would finish itself (everything cached), by reader and cursor: read_home answers them.
        self.finished_pages: dict[tuple[str, int | None], TimelinePage] = {}

    # helpers for tests
    def expire(self, user_id: str) -> None:
        """The timeline's inactivity expiry (or Redis losing it): it is no longer live."""
        self.timelines.pop(user_id, None)

    def ids(self, user_id: str) -> list[int]:
        return sorted(self.timelines.get(user_id, ()), reverse=True)

    def _trim(self, ids: set[int], keep: int) -> set[int]:
        return set(sorted(ids, reverse=True)[:keep])

    def _index(self, index: dict[int, int], retweets: Mapping[int, int], keep: int) -> None:
        index.update(retweets)
        for stale in sorted(index, reverse=True)[keep:]:
            del index[stale]

    # TimelineCache
    def push(self, tweet_id: int, user_ids: list[str], retweet_of: int | None = None) -> int:
        self.pushes.append((tweet_id, list(user_ids)))
        pushed = 0
        for user_id in user_ids:
            if user_id in self.timelines:
                self.timelines[user_id] = self._trim(self.timelines[user_id] | {tweet_id}, self.max_items)
                if retweet_of is not None:
                    self._index(self.retweet_index[user_id], {tweet_id: retweet_of}, self.max_items)
                pushed += 1
        return pushed

    def add_to_each(self, user_ids: list[str], tweet_ids: list[int], retweets: Mapping[int, int] | None = None) -> None:
        self.backfills.append((list(user_ids), list(tweet_ids)))
        for user_id in user_ids:
            if user_id in self.timelines and tweet_ids:
                self.timelines[user_id] = self._trim(self.timelines[user_id] | set(tweet_ids), self.max_items)
                kept = {r: d for r, d in (retweets or {}).items() if r in tweet_ids}
                self._index(self.retweet_index[user_id], kept, self.max_items)

    def remove(self, user_id: str, tweet_ids: list[int]) -> None:
        """As in Redis, the retweet index keeps what leaves the timeline (the read checks every rival)."""
        if user_id in self.timelines:
            self.timelines[user_id] -= set(tweet_ids)

    def replace(self, user_id: str, tweet_ids: list[int], retweets: Mapping[int, int] | None = None) -> None:
        self.timelines[user_id] = self._trim(set(tweet_ids), self.max_items)
        self.retweet_index[user_id] = {r: d for r, d in (retweets or {}).items() if r in self.timelines[user_id]}

    def is_live(self, user_id: str) -> bool:
        return user_id in self.timelines

    def read(self, user_id: str, *, before_id: int | None, count: int) -> TimelineSlice:
        ids = [i for i in self.ids(user_id) if before_id is None or i < before_id]
        index = self.retweet_index.get(user_id, {}) if user_id in self.timelines else {}
        return TimelineSlice(
            live=user_id in self.timelines,
            ids=ids[: _redis_count(count)],
            celebrities=sorted(self.relations[Relation.FOLLOWS, user_id] & self.celebrities),
            hidden_authors=frozenset().union(*(self.relations[kind, user_id] for kind in HIDING)),
            retweets_above={r: d for r, d in index.items() if r >= before_id} if before_id else {},
            deferred=sorted(self.relations[Relation.FOLLOWS, user_id] & set(self.deferred)),
        )

    def is_celebrity(self, user_id: str) -> bool:
        return user_id in self.celebrities

    def celebrities_among(self, user_ids: list[str]) -> set[str]:
        return set(user_ids) & self.celebrities

    def set_celebrity(
        self, author_id: str, is_celebrity: bool, recent_ids: list[int], retweets: Mapping[int, int] | None = None
    ) -> None:
        if is_celebrity:
            self.celebrities.add(author_id)
            self.celebrity_tweets.setdefault(author_id, set()).update(recent_ids)
            self.celebrity_retweets[author_id].update(retweets or {})
        else:
            self.celebrities.discard(author_id)
            self.celebrity_tweets.pop(author_id, None)
            self.celebrity_retweets.pop(author_id, None)

    def push_celebrity(self, author_id: str, tweet_id: int, keep: int, retweet_of: int | None = None) -> None:
        self.celebrity_tweets[author_id] = self._trim(self.celebrity_tweets.get(author_id, set()) | {tweet_id}, keep)
        if retweet_of is not None:
            self._index(self.celebrity_retweets[author_id], {tweet_id: retweet_of}, keep)

    def remove_from_celebrity(self, author_id: str, tweet_id: int) -> None:
        self.celebrity_tweets.get(author_id, set()).discard(tweet_id)

    def pull_celebrities(self, author_ids: list[str], *, before_id: int | None, count: int) -> PulledSlice:
        pulled, above = [], {}
        for author in author_ids:
            ids = sorted(self.celebrity_tweets.get(author, ()), reverse=True)
            pulled += [i for i in ids if before_id is None or i < before_id][: _redis_count(count)]
            if before_id:
                above.update({r: d for r, d in self.celebrity_retweets.get(author, {}).items() if r >= before_id})
        return PulledSlice(ids=pulled, retweets_above=above)

    def defer(self, author_id: str, tweet_id: int) -> None:
        self.deferred.setdefault(author_id, set()).add(tweet_id)

    def deferred_ids(self, author_ids: list[str], *, before_id: int | None, count: int) -> list[int]:
        pulled = []
        for author in author_ids:
            ids = sorted(self.deferred.get(author, ()), reverse=True)
            pulled += [i for i in ids if before_id is None or i < before_id][: _redis_count(count)]
        return pulled

    def read_home(
        self, user_id: str, *, before_id: int | None, count: int, merge_celebrities: bool, finish: bool = False
    ) -> HomeSnapshot | TimelinePage:
        """As the script: the slice, the pulls, and the hydration caches for the page they make; or, asked to
        finish, the page a test put in `finished_pages` for a live reader (the rules themselves run on snapshots)."""
        self.home_reads += 1
        if finish and user_id in self.timelines and (user_id, before_id) in self.finished_pages:
            return self.finished_pages[user_id, before_id]
        view = self.read(user_id, before_id=before_id, count=count)
        celebrities = self.pull_celebrities(
            view.celebrities if merge_celebrities else [], before_id=before_id, count=count
        )
        deferred = self.deferred_ids(view.deferred, before_id=before_id, count=count)
        pulled = PulledSlice(ids=celebrities.ids + deferred, retweets_above=celebrities.retweets_above)
        page = page_candidates([view.ids, pulled.ids], count)
        tweets = self.get_tweets(page)
        shown = {t.retweet_of_id or t.tweet_id for t in tweets.values()}
        above = {**view.retweets_above, **pulled.retweets_above}
        shows = {t.retweet_of_id for t in tweets.values() if t.retweet_of_id is not None}
        second = sorted((shows | {r for r, d in above.items() if d in shown}) - set(page))
        if second:
            tweets.update(self.get_tweets(second))
        authors = sorted({t.author_id for t in tweets.values()})
        profiles, followed = self.get_profiles(authors, followed_by=user_id)
        hydration = CachedHydration(
            tweets=tweets,
            tweets_looked_up=frozenset(page + second),
            profiles=profiles,
            profiles_looked_up=frozenset(authors),
            followed=frozenset(followed),
        )
        return HomeSnapshot(timeline=view, pulled=pulled, hydration=hydration)

    def deferred_authors(self) -> list[str]:
        return sorted(self.deferred)

    def deferred_of(self, author_id: str, count: int) -> list[int]:
        return sorted(self.deferred.get(author_id, ()))[: max(_redis_count(count), 1)]

    def undefer(self, author_id: str, tweet_ids: list[int]) -> None:
        """As the script does: the ids go, and the author too once none is left."""
        if author_id in self.deferred:
            self.deferred[author_id] -= set(tweet_ids)
            if not self.deferred[author_id]:
                del self.deferred[author_id]

    def relate(self, kind: Relation, user_id: str, target_id: str, add: bool) -> None:
        (self.relations[kind, user_id].add if add else self.relations[kind, user_id].discard)(target_id)

    def follow(self, follower_id: str, followee_id: str, stale_profiles: Iterable[str]) -> bool:
        self.follow_calls += 1
        self.relate(Relation.FOLLOWS, follower_id, followee_id, add=True)
        self.forget_profiles(stale_profiles)
        return self.is_celebrity(followee_id)

    def set_relations(self, user_id: str, relations: dict[Relation, list[str]]) -> None:
        for kind, targets in relations.items():
            self.relations[kind, user_id] = set(targets)

    def rebuild_lock(self, user_id: str, ttl_s: int) -> FakeLock:
        return FakeLock(self.locks, f"lock:rebuild:{user_id}", ttl_s)

    def get_tweets(self, tweet_ids: list[int]) -> dict[int, Tweet]:
        return {t: self.tweets[t] for t in tweet_ids if t in self.tweets}

    def put_tweets(self, tweets: list[Tweet]) -> None:
        self.tweets.update((t.tweet_id, t) for t in tweets)

    def get_profiles(self, user_ids: list[str], followed_by: str | None = None) -> tuple[dict[str, Profile], set[str]]:
        profiles = {u: self.profiles[u] for u in user_ids if u in self.profiles}
        followed = set(user_ids) & self.relations[Relation.FOLLOWS, followed_by] if followed_by else set()
        return profiles, followed

    def put_profiles(self, profiles: list[Profile]) -> None:
        self.profiles.update((p.user_id, p) for p in profiles)

    def forget_profiles(self, user_ids: Iterable[str]) -> None:
        for user_id in user_ids:
            self.profiles.pop(user_id, None)


class FakeTweetStore:
    """TweetStore (also the TweetReader and TweetLookup ports). As in DynamoDB, a page's limit counts the
    tweets evaluated before deleted ones are filtered out, so `recent_ids(a, n)` is the live ones among the
    author's latest n."""

    def __init__(self, social: FakeSocialStore, media: FakeMediaStore | None = None):
        self.social = social  # a new tweet is counted on its author's profile, in the same call
        self.media = media  # and its media attached to it
        self.tweets: dict[int, Tweet] = {}
        self.pending: set[int] = set()
        self.creates = 0  # calls of create (each one DynamoDB transaction)

    def create(self, tweet: Tweet) -> None:
        self.creates += 1
        if tweet.tweet_id in self.tweets:
            raise Conflict(f"tweet {tweet.tweet_id} already exists")
        if self.social.get_profile(tweet.author_id) is None:
            raise AuthorUnknown(tweet.author_id)
        if tweet.media_ids:  # claimed in the same transaction: all or nothing
            if (taken := self.media.unclaimable(tweet.media_ids, tweet.author_id)) is not None:
                raise MediaTaken(taken)
            self.media.attach(tweet.media_ids, tweet.tweet_id)
        self.tweets[tweet.tweet_id] = tweet
        self.pending.add(tweet.tweet_id)
        self.social.add_tweets_count(tweet.author_id, +1)

    def put(self, tweet: Tweet) -> Tweet:
        """A published tweet, for arranging tests."""
        self.tweets[tweet.tweet_id] = tweet
        return tweet

    def mark_published(self, tweet_id: int) -> None:
        self.pending.discard(tweet_id)

    def pending_ids(self) -> Iterator[int]:
        """Shard by shard of the sparse outbox index, each in id order (so not in time order overall)."""
        yield from sorted(self.pending, key=lambda t: (t % OUTBOX_SHARDS, t))

    def get(self, tweet_id: int) -> Tweet | None:
        return self.tweets.get(tweet_id)

    def batch_get(self, tweet_ids: Iterable[int]) -> dict[int, Tweet]:
        return {t: self.tweets[t] for t in set(tweet_ids) if t in self.tweets}

    def mark_deleted(self, tweet_id: int, author_id: str) -> bool:
        tweet = self.tweets.get(tweet_id)
        if tweet is None or tweet.author_id != author_id or tweet.deleted:
            return False
        self.tweets[tweet_id] = tweet.model_copy(update={"deleted": True})
        return True

    def by_author(
        self, author_id: str, *, limit: int, cursor: str | None = None, before_id: int | None = None
    ) -> tuple[list[Tweet], str | None]:
        authored = sorted(
            (
                t
                for t in self.tweets.values()
                if t.author_id == author_id and (before_id is None or t.tweet_id < before_id)
            ),
            key=lambda t: -t.tweet_id,
        )
        evaluated, next_cursor = _page(authored, lambda t: t.tweet_id, limit, cursor, newest_first=True)
        return [t for t in evaluated if not t.deleted], next_cursor

    def recent_ids(self, author_id: str, count: int) -> list[int]:
        return [t.tweet_id for t in self.recent_tweets(author_id, count)]

    def recent_tweets(self, author_id: str, count: int) -> list[Tweet]:
        tweets, _ = self.by_author(author_id, limit=count)
        return tweets

    def recent_entries(self, author_ids: list[str], count: int) -> tuple[list[int], dict[int, int]]:
        tweets = [t for author_id in author_ids for t in self.recent_tweets(author_id, count)]
        return [t.tweet_id for t in tweets], {t.tweet_id: t.retweet_of_id for t in tweets if t.retweet_of_id}


class FakeSocialStore:
    """SocialStore (also the GraphReader and RecipientDirectory ports): unique handles (case-insensitive),
    edges that exist once, follows moving both profiles' counts only when the edge really changed.
    Edges are listed ordered by the other user's id, as DynamoDB's sort keys order them."""

    def __init__(self):
        self.profiles: dict[str, Profile] = {}
        self.handles: dict[str, str] = {}
        self.edges: set[tuple[Relation, str, str]] = set()
        self.notification_store: FakeNotificationStore | None = None  # where a follow's notification is written
        self.follow_checks = self.follow_writes = 0  # calls, each one DynamoDB call

    def create_profile(self, profile: Profile) -> None:
        if profile.user_id in self.profiles:
            raise Conflict("this user already has a profile")
        if profile.handle.lower() in self.handles:
            raise Conflict(f"handle @{profile.handle} is taken")
        self.profiles[profile.user_id] = profile
        self.handles[profile.handle.lower()] = profile.user_id

    def get_profile(self, user_id: str) -> Profile | None:
        return self.profiles.get(user_id)

    def get_profiles(self, user_ids: list[str]) -> dict[str, Profile]:
        return {u: self.profiles[u] for u in set(user_ids) if u in self.profiles}

    def user_id_for_handle(self, handle: str) -> str | None:
        return self.handles.get(handle.lower())

    def _count(self, user_id: str, field: str, delta: int) -> None:
        if user_id in self.profiles:
            profile = self.profiles[user_id]
            self.profiles[user_id] = profile.model_copy(update={field: getattr(profile, field) + delta})

    def add_edge(self, kind: Relation, source: str, target: str, *, counted: bool) -> bool:
        if (kind, source, target) in self.edges:
            return False
        self.edges.add((kind, source, target))
        if counted:
            self._count(source, "following_count", +1)
            self._count(target, "followers_count", +1)
        return True

    def follow_check(self, follower_id: str, followee_id: str) -> FollowCheck:
        self.follow_checks += 1
        return FollowCheck(
            follower=self.profiles.get(follower_id),
            followee=self.profiles.get(followee_id),
            follower_blocks=(Relation.BLOCKS, follower_id, followee_id) in self.edges,
            followee_blocks=(Relation.BLOCKS, followee_id, follower_id) in self.edges,
            followee_mutes=(Relation.MUTES, followee_id, follower_id) in self.edges,
        )

    def add_follow(self, follower_id: str, followee_id: str, notification: Notification | None) -> bool:
        """The edge, the counts and the notification (into `notification_store`) at once, as the transaction."""
        self.follow_writes += 1
        if not self.add_edge(Relation.FOLLOWS, follower_id, followee_id, counted=True):
            return False
        if notification is not None:
            self.notification_store.add({followee_id: notification})
        return True

    def remove_edge(self, kind: Relation, source: str, target: str, *, counted: bool) -> bool:
        if (kind, source, target) not in self.edges:
            return False
        self.edges.discard((kind, source, target))
        if counted:
            self._count(source, "following_count", -1)
            self._count(target, "followers_count", -1)
        return True

    def has_edge(self, kind: Relation, source: str, target: str) -> bool:
        return (kind, source, target) in self.edges

    def targets(
        self, kind: Relation, source: str, *, limit: int, cursor: str | None = None
    ) -> tuple[list[str], str | None]:
        ordered = sorted(t for k, s, t in self.edges if k is kind and s == source)
        return _page(ordered, lambda user_id: user_id, limit, cursor)

    def sources(
        self, kind: Relation, target: str, *, limit: int, cursor: str | None = None
    ) -> tuple[list[str], str | None]:
        ordered = sorted(s for k, s, t in self.edges if k is kind and t == target)
        return _page(ordered, lambda user_id: user_id, limit, cursor)

    def all_targets(self, kind: Relation, source: str) -> Iterator[str]:
        cursor = None
        while True:
            ids, cursor = self.targets(kind, source, limit=1000, cursor=cursor)
            yield from ids
            if not cursor:
                return

    def all_sources_pages(self, kind: Relation, target: str, page_size: int) -> Iterator[list[str]]:
        cursor = None
        while True:
            ids, cursor = self.sources(kind, target, limit=page_size, cursor=cursor)
            if ids:
                yield ids
            if not cursor:
                return

    def add_tweets_count(self, user_id: str, delta: int) -> None:
        self._count(user_id, "tweets_count", delta)

    def sources_among(self, kinds: tuple[Relation, ...], sources: list[str], target: str) -> set[str]:
        self.batch_checks = getattr(self, "batch_checks", 0) + 1
        return {source for source in sources for kind in kinds if (kind, source, target) in self.edges}


class FakePageSink:
    """FollowerPageSink: records each send (one call per batch of pages)."""

    def __init__(self):
        self.sends: list[list[FollowerPage]] = []

    def send(self, pages: list[FollowerPage]) -> None:
        self.sends.append(list(pages))


class FakePublisher:
    """Publisher: records what was published; `fail_next` makes the next publish fail (a crash between the
    store and the stream)."""

    def __init__(self):
        self.published: list[Tweet] = []
        self.fail_next = False

    def publish(self, tweet: Tweet) -> None:
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("stream unreachable")
        self.published.append(tweet)


class FakeClock:
    """Milliseconds since the Unix epoch, moved by the test."""

    def __init__(self, now_ms: int = 1_750_000_000_000):
        self.now_ms = now_ms

    def __call__(self) -> int:
        return self.now_ms

    def advance(self, ms: int) -> None:
        self.now_ms += ms


class FakeIds:
    """IdSource: Snowflake-shaped ids at the clock's time, strictly increasing."""

    def __init__(self, clock: Callable[[], int]):
        self.clock, self._sequence = clock, count(1)

    def next_id(self) -> int:
        return snowflake_at(self.clock(), next(self._sequence))


class FakeNotificationStore:
    """NotificationStore as DynamoDB keeps it: one item per (recipient, notification id), so storing the same
    notification again overwrites it with itself; read newest first below the cursor's id. Aggregates: a state per
    (recipient, kind, tweet) with a version; putting or dropping one whose version moved raises StaleAggregate,
    and each update replaces the old notification by the new in one step (the transaction)."""

    def __init__(self):
        self.items: dict[str, dict[int, Notification]] = defaultdict(dict)
        self.aggregates: dict[tuple[str, str, int], Aggregate] = {}
        self.writes = 0  # aggregate transactions that went through
        self.pages_read = 0  # calls of newest (each one DynamoDB query)
        self.race: Callable[[], None] | None = None  # runs once before the next aggregate write (a racing consumer)

    def add(self, notifications: dict[str, Notification]) -> None:
        for user_id, notification in notifications.items():
            self.items[user_id][notification.id] = notification

    def aggregate(self, recipient_id: str, kind: str, tweet_id: int) -> Aggregate | None:
        return self.aggregates.get((recipient_id, kind, tweet_id))

    def _check(self, key: tuple[str, str, int], previous: Aggregate | None) -> None:
        if self.race is not None:
            race, self.race = self.race, None
            race()
        current = self.aggregates.get(key)
        if (current.version if current else None) != (previous.version if previous else None):
            raise StaleAggregate(f"{key} moved on")

    def put_aggregate(self, new: Aggregate, previous: Aggregate | None) -> None:
        key = (new.recipient_id, new.kind, new.tweet_id)
        self._check(key, previous)
        if previous is not None:
            self.items[new.recipient_id].pop(previous.notification_id, None)
        self.items[new.recipient_id][new.notification_id] = new.notification()
        self.aggregates[key] = new
        self.writes += 1

    def drop_aggregate(self, previous: Aggregate) -> None:
        key = (previous.recipient_id, previous.kind, previous.tweet_id)
        self._check(key, previous)
        self.items[previous.recipient_id].pop(previous.notification_id, None)
        del self.aggregates[key]
        self.writes += 1

    def of(self, user_id: str) -> list[Notification]:
        """Every notification of a recipient, newest first."""
        return sorted(self.items.get(user_id, {}).values(), key=lambda n: -n.id)

    def newest(self, user_id: str, *, before_id: int | None, limit: int) -> list[Notification]:
        self.pages_read += 1
        return [n for n in self.of(user_id) if before_id is None or n.id < before_id][:limit]


class FakeTagCounter:
    """TagCounter: distinct accounts per (tag, trusted/suspect, 5-minute bucket) and per (tag, hour), exactly
    (Redis counts them with HyperLogLogs), and per (text, hour)."""

    BUCKET_MS = 5 * 60_000

    def __init__(self):
        self.buckets: dict[tuple[str, bool, int], set[str]] = defaultdict(set)
        self.hours: dict[tuple[str, int], set[str]] = defaultdict(set)
        self.texts: dict[tuple[str, int], set[str]] = defaultdict(set)

    def record(self, uses: list[TagUse]) -> None:
        for use in uses:
            self.buckets[use.tag, use.trusted, use.at_ms // self.BUCKET_MS].add(use.account_id)
            if use.trusted:
                self.hours[use.tag, use.at_ms // HOUR_MS].add(use.account_id)

    def same_text_accounts(self, text_key: str, account_id: str, at_ms: int) -> int:
        accounts = self.texts[text_key, at_ms // HOUR_MS]
        accounts.add(account_id)
        return len(accounts)

    def _window(self, now_ms: int) -> range:
        last = now_ms // self.BUCKET_MS
        return range(last - HOUR_MS // self.BUCKET_MS + 1, last + 1)

    def active_tags(self, now_ms: int) -> list[str]:
        window = self._window(now_ms)
        return sorted({tag for (tag, _, bucket), accounts in self.buckets.items() if bucket in window and accounts})

    def activity(self, tags: list[str], now_ms: int, baseline_hours: int) -> list[TagActivity]:
        window, hour = self._window(now_ms), now_ms // HOUR_MS

        def distinct(tag: str, trusted: bool) -> int:
            return len(set().union(*(self.buckets.get((tag, trusted, b), set()) for b in window)))

        return [
            TagActivity(
                tag=tag,
                trusted=distinct(tag, True),
                suspect=distinct(tag, False),
                hourly=[len(self.hours.get((tag, h), ())) for h in range(hour - baseline_hours, hour)],
            )
            for tag in tags
        ]


class FakeMediaObjects:
    """MediaObjects: a dict of keys; URLs name the key and the operation (nothing is signed)."""

    def __init__(self):
        self.objects: dict[str, bytes] = {}
        self.unattached: set[str] = set()  # keys tagged for the lifecycle rule
        self.started: dict[str, str] = {}  # multipart uploads: upload id -> key
        self.completed: dict[str, str] = {}

    def upload_url(self, key: str, content_type: str, size_bytes: int, ttl_s: int) -> str:
        return f"https://media.test/{key}?put&type={content_type}&size={size_bytes}&ttl={ttl_s}"

    def download_url(self, key: str, ttl_s: int) -> str:
        return f"https://media.test/{key}?ttl={ttl_s}"

    def start_parts(self, key: str, content_type: str) -> str:
        upload_id = f"upload-{len(self.completed) + len(self.started) + 1}"
        self.started[upload_id] = key
        return upload_id

    def part_url(self, key: str, upload_id: str, part_number: int, size_bytes: int, ttl_s: int) -> str:
        return f"https://media.test/{key}?uploadId={upload_id}&partNumber={part_number}&size={size_bytes}&ttl={ttl_s}"

    def complete_parts(self, key: str, upload_id: str, etags: dict[int, str]) -> None:
        """As S3: the upload must exist for this key, and every ETag be the one its part got ("etag-<n>" here)."""
        if self.started.get(upload_id) != key or any(etag != f"etag-{n}" for n, etag in etags.items()):
            raise PartsRefused("InvalidPart: one or more of the specified parts could not be found")
        del self.started[upload_id]
        self.completed[upload_id] = key

    def read(self, key: str, *, max_bytes: int) -> StoredObject | None:
        data = self.objects.get(key)
        if data is None:
            return None
        return StoredObject(size=len(data), data=data if len(data) <= max_bytes else None)

    def write(self, key: str, data: bytes, content_type: str, *, unattached: bool = False) -> None:
        self.objects[key] = data
        self._mark(key, unattached)

    def keep(self, keys: list[str]) -> None:
        self.unattached.difference_update(keys)

    def _mark(self, key: str, unattached: bool) -> None:
        (self.unattached.add if unattached else self.unattached.discard)(key)

    def download(self, key: str, path: Path, *, max_bytes: int) -> int | None:
        data = self.objects.get(key)
        if data is not None and len(data) <= max_bytes:
            path.write_bytes(data)
        return None if data is None else len(data)

    def upload(self, path: Path, key: str, content_type: str, *, unattached: bool = False) -> None:
        self.objects[key] = path.read_bytes()
        self._mark(key, unattached)


class FakeMediaStore:
    """MediaStore: records by id with their expiry; conditions as the DynamoDB adapter states them."""

    def __init__(self):
        self.records: dict[str, MediaRecord] = {}
        self.expires_at: dict[str, int | None] = {}
        self.batch_reads = 0

    def create(self, record: MediaRecord, expires_at_s: int) -> None:
        assert record.media_id not in self.records
        self.records[record.media_id], self.expires_at[record.media_id] = record, expires_at_s

    def get_many(self, media_ids: list[str]) -> dict[str, MediaRecord]:
        self.batch_reads += 1
        return {m: self.records[m] for m in dict.fromkeys(media_ids) if m in self.records}

    def start_try(self, media_id: str) -> int | None:
        record = self.records.get(media_id)
        if record is None:
            return None
        self._update(media_id, lambda r: True, tries=record.tries + 1)
        return record.tries + 1

    def record_result(self, result: TranscodeResult) -> bool:
        return self._update(result.media_id, lambda r: True, result=result, tries=0)

    def set_alt_text(self, media_id: str, owner: str, alt_text: str) -> bool:
        return self._update(media_id, lambda r: r.owner == owner and r.tweet_id is None, alt_text=alt_text)

    def unclaimable(self, media_ids: list[str], owner: str) -> str | None:
        """The first medium a tweet of `owner`'s may not take (the tweet write's condition in DynamoDB)."""
        return next(
            (m for m in media_ids if (r := self.records.get(m)) is None or r.owner != owner or r.tweet_id is not None),
            None,
        )

    def attach(self, media_ids: list[str], tweet_id: int) -> None:
        for media_id in media_ids:
            self._update(media_id, lambda r: True, tweet_id=tweet_id)
            self.expires_at[media_id] = None

    def _update(self, media_id: str, condition: Callable[[MediaRecord], bool], **changes) -> bool:
        record = self.records.get(media_id)
        if record is None or not condition(record):
            return False
        self.records[media_id] = record.model_copy(update=changes)
        return True


class FakeTrendState:
    def __init__(self, clock: FakeClock):
        self.clock = clock
        self._peaks: dict[str, Peak] = {}
        self.kept: tuple[int, str] | None = None  # when the ranking was computed, and it (JSON)
        self.rankings_kept = 0

    def peaks(self) -> dict[str, Peak]:
        return dict(self._peaks)

    def save_peaks(self, peaks: dict[str, Peak], forget: list[str]) -> None:
        self._peaks.update(peaks)
        for tag in forget:
            self._peaks.pop(tag, None)

    def ranking(self) -> tuple[int, str] | None:
        return self.kept

    def keep_ranking(self, computed_at_ms: int, ranking: str) -> None:
        self.kept = (computed_at_ms, ranking)
        self.rankings_kept += 1


class FakeAccountAges:
    def __init__(self, created: dict[str, int] | None = None):
        self.created = created or {}

    def created_at_ms(self, account_ids: list[str]) -> dict[str, int]:
        return {a: self.created[a] for a in account_ids if a in self.created}


class FakeTagLists:
    def __init__(self, blocked: set[str] = frozenset(), evergreen: set[str] = frozenset()):
        self._blocked, self._evergreen = frozenset(blocked), frozenset(evergreen)

    def blocked(self) -> frozenset[str]:
        return self._blocked

    def evergreen(self) -> frozenset[str]:
        return self._evergreen


class FakeEngagementStore:
    """EngagementStore as DynamoDB holds it: an edge per (user, tweet), counter shards summed on read (shard 0 says
    how many), reply/quote markers, and the outbox; each act is all-or-nothing like the transaction, refused
    (False, nothing written) by its edge's condition. The retweet itself lands in the tweet store, as in the
    transaction that spans both tables. `writes` counts the writes of each counter item, `reads` the batch reads
    of edges and of counts."""

    def __init__(self, tweets: FakeTweetStore):
        self.tweets = tweets
        self.reads = 0
        self.edges_: dict[tuple[str, int], Edge] = {}
        self.counters: dict[tuple[int, int], Counts] = {}
        self.shards: dict[int, int] = {}
        self.markers: dict[tuple[int, str], bool] = {}
        self.outbox: dict[tuple[int, str, bool, str, int], EngagementEvent] = {}
        self.writes: dict[tuple[int, int], int] = defaultdict(int)

    @staticmethod
    def _outbox_key(event: EngagementEvent) -> tuple[int, str, bool, str, int]:
        return event.order, event.kind, event.active, event.user_id, event.tweet_id

    def _count(self, tweet_id: int, shard: int, field: str, delta: int) -> None:
        current = self.counters.get((tweet_id, shard), Counts())
        self.counters[tweet_id, shard] = current.model_copy(update={field: getattr(current, field) + delta})
        self.writes[tweet_id, shard] += 1

    def _set(self, key: tuple[str, int], **changes) -> None:
        self.edges_[key] = Edge(**{**(self.edges_[key].__dict__ if key in self.edges_ else {}), **changes})

    def like(self, event: EngagementEvent, shard: int) -> bool:
        edge = self.edges_.get(event.key)
        if edge is not None and edge.liked:
            return False
        self._set(event.key, user_id=event.user_id, tweet_id=event.tweet_id, liked=True, like_order=event.order)
        self._count(event.tweet_id, shard, "like_count", +1)
        self.outbox[self._outbox_key(event)] = event
        return True

    def unlike(self, event: EngagementEvent, shard: int) -> bool:
        edge = self.edges_.get(event.key)
        if edge is None or not edge.liked:
            return False
        self._set(event.key, liked=False, like_order=None)
        self._count(event.tweet_id, shard, "like_count", -1)
        self.outbox[self._outbox_key(event)] = event
        return True

    def retweet(self, event: EngagementEvent, retweet: Tweet, shard: int) -> bool:
        edge = self.edges_.get(event.key)
        if edge is not None and edge.retweeted:
            return False
        if retweet.tweet_id in self.tweets.tweets:
            raise Conflict(f"tweet {retweet.tweet_id} already exists")
        self._set(event.key, user_id=event.user_id, tweet_id=event.tweet_id, retweet_id=retweet.tweet_id)
        self._count(event.tweet_id, shard, "retweet_count", +1)
        self.tweets.put(retweet)
        self.outbox[self._outbox_key(event)] = event
        return True

    def unretweet(self, event: EngagementEvent, shard: int) -> bool:
        edge = self.edges_.get(event.key)
        if edge is None or edge.retweet_id != event.retweet_id:
            return False
        self._set(event.key, retweet_id=None)
        self._count(event.tweet_id, shard, "retweet_count", -1)
        self.tweets.tweets[event.retweet_id] = self.tweets.tweets[event.retweet_id].model_copy(update={"deleted": True})
        self.outbox[self._outbox_key(event)] = event
        return True

    def bookmark(self, user_id: str, tweet_id: int, order: int) -> bool:
        edge = self.edges_.get((user_id, tweet_id))
        if edge is not None and edge.bookmarked:
            return False
        self._set((user_id, tweet_id), user_id=user_id, tweet_id=tweet_id, bookmark_order=order)
        return True

    def unbookmark(self, user_id: str, tweet_id: int) -> bool:
        edge = self.edges_.get((user_id, tweet_id))
        if edge is None or not edge.bookmarked:
            return False
        self._set((user_id, tweet_id), bookmark_order=None)
        return True

    def edges(self, keys: Iterable[tuple[str, int]]) -> dict[tuple[str, int], Edge]:
        self.reads += 1
        return {key: self.edges_[key] for key in keys if key in self.edges_}

    def counts(self, tweet_ids: Iterable[int]) -> dict[int, Counts]:
        self.reads += 1
        sums = {}
        for tweet_id in tweet_ids:
            found = [
                self.counters[tweet_id, s]
                for s in range(self.shards.get(tweet_id, 1))
                if (tweet_id, s) in self.counters
            ]
            if found:
                total = Counts()
                for shard in found:
                    total = total.plus(shard)
                sums[tweet_id] = total
        return sums

    def raise_shards(self, tweet_id: int, shards: int) -> None:
        self.shards[tweet_id] = max(self.shards.get(tweet_id, 1), shards)

    def _engaged(self, kind: Kind, tweet_id: int) -> list[Edge]:
        if kind is Kind.LIKE:
            return sorted(
                (e for e in self.edges_.values() if e.tweet_id == tweet_id and e.liked), key=lambda e: -e.like_order
            )
        return sorted(
            (e for e in self.edges_.values() if e.tweet_id == tweet_id and e.retweeted), key=lambda e: -e.retweet_id
        )

    def engagers(self, kind: Kind, tweet_id: int, *, limit: int, cursor: str | None) -> tuple[list[str], str | None]:
        order = (lambda e: e.like_order) if kind is Kind.LIKE else (lambda e: e.retweet_id)
        page, next_cursor = _page(self._engaged(kind, tweet_id), order, limit, cursor, newest_first=True)
        return [e.user_id for e in page], next_cursor

    def liked_by(self, user_id: str, *, limit: int, cursor: str | None) -> tuple[list[int], str | None]:
        liked = sorted(
            (e for e in self.edges_.values() if e.user_id == user_id and e.liked), key=lambda e: -e.like_order
        )
        page, next_cursor = _page(liked, lambda e: e.like_order, limit, cursor, newest_first=True)
        return [e.tweet_id for e in page], next_cursor

    def bookmarked_by(self, user_id: str, *, limit: int, cursor: str | None) -> tuple[list[int], str | None]:
        marked = sorted(
            (e for e in self.edges_.values() if e.user_id == user_id and e.bookmarked), key=lambda e: -e.bookmark_order
        )
        page, next_cursor = _page(marked, lambda e: e.bookmark_order, limit, cursor, newest_first=True)
        return [e.tweet_id for e in page], next_cursor

    def engager_count(self, kind: Kind, tweet_id: int) -> int:
        return len(self._engaged(kind, tweet_id))

    def count_child(self, child_id: int, field: str, parent_id: int, shard: int, *, add: bool) -> bool:
        key = (child_id, field)  # the marker stays once uncounted: a replayed creation must not count it again
        if add:
            if key in self.markers:
                return False
            self.markers[key] = True
        else:
            if self.markers.get(key) is not True:
                return False
            self.markers[key] = False
        self._count(parent_id, shard, field, +1 if add else -1)
        return True

    def pending_events(self, *, before_order: int) -> Iterator[EngagementEvent]:
        yield from [e for key, e in sorted(self.outbox.items()) if key[0] < before_order]

    def clear_pending(self, event: EngagementEvent) -> None:
        self.outbox.pop(self._outbox_key(event), None)


class FakeMarkerStore:
    """MarkerStore: a marker per (user, timeline); each save sets the position and counts one more version. `gets`
    records each read's timelines (one call each)."""

    def __init__(self):
        self.markers: dict[tuple[str, str], Marker] = {}
        self.gets: list[list[str]] = []

    def get(self, user_id: str, timelines: list[str]) -> dict[str, Marker]:
        self.gets.append(list(timelines))
        return {t: self.markers[user_id, t] for t in timelines if (user_id, t) in self.markers}

    def save(self, user_id: str, timeline: str, last_read_id: int, at_ms: int) -> Marker:
        version = self.markers[user_id, timeline].version + 1 if (user_id, timeline) in self.markers else 1
        marker = Marker(timeline=timeline, last_read_id=last_read_id, version=version, updated_at_ms=at_ms)
        self.markers[user_id, timeline] = marker
        return marker


class FakeCountCache:
    """CountCache: summed counts, bumped only where cached; heat per tweet as the test sets it plus the acts
    counted (one window); the shards known. `down` makes it miss and forget, as the adapter does when Redis cannot
    be reached."""

    def __init__(self):
        self.counts: dict[int, Counts] = {}
        self.heat_of: dict[int, int] = defaultdict(int)
        self.shards: dict[int, int] = {}
        self.down = False
        self.gets: list[list[int]] = []  # each get: one round trip

    def get(self, tweet_ids: list[int]) -> dict[int, Counts]:
        self.gets.append(list(tweet_ids))
        if self.down:
            return {}
        return {t: self.counts[t] for t in tweet_ids if t in self.counts}

    def put(self, counts: dict[int, Counts]) -> None:
        if not self.down:
            self.counts.update(counts)

    def bump(self, tweet_id: int, field: str, delta: int) -> None:
        if not self.down and tweet_id in self.counts:
            current = self.counts[tweet_id]
            self.counts[tweet_id] = current.model_copy(update={field: getattr(current, field) + delta})

    def heat(self, tweet_id: int, window_s: int) -> tuple[int, int]:
        if self.down:
            return 0, 1
        self.heat_of[tweet_id] += 1
        return self.heat_of[tweet_id], self.shards.get(tweet_id, 1)

    def remember_shards(self, tweet_id: int, shards: int) -> None:
        if not self.down:
            self.shards[tweet_id] = shards


class FakeEventPublisher:
    """EventPublisher: records each event; `fail_next` makes the next publish fail (a crash after the write)."""

    def __init__(self):
        self.published: list[EngagementEvent] = []
        self.fail_next = False

    def publish(self, event: EngagementEvent) -> None:
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("stream unreachable")
        self.published.append(event)


class FakeDelivery:
    """What Engagements asks of the timelines, recorded (the World wires the real Timelines instead)."""

    def __init__(self):
        self.delivered: list[Tweet] = []
        self.taken_back: list[Tweet] = []

    def fan_out(self, tweet: Tweet) -> None:
        self.delivered.append(tweet)

    def on_delete(self, tweet: Tweet) -> None:
        self.taken_back.append(tweet)


class FakeLimitStore:
    """LimitStore: the GCRA script in memory, on its own clock (the FakeClock, in ms; the script counts in
    microseconds, as here), reading the caller's mirrored overrides first as the script does. `down` makes it
    unreachable, as a stopped Redis is."""

    def __init__(self, clock: FakeClock):
        self.clock = clock
        self.tats: dict[str, int] = {}
        self.mirrored: dict[str, Overrides] = {}
        self.down = False
        self.hits = 0  # round trips asked for

    def hit(self, subject: Subject, endpoint: EndpointClass, tier: Limit) -> tuple[LimitState, Limit]:
        self.hits += 1
        if self.down:
            raise LimitStoreUnavailable("ConnectionError: Connection refused")
        raised = self.mirrored.get(subject.id, {}) if subject.kind == "user" else {}
        limit = raised.get(endpoint) or raised.get(None) or tier
        key = limit_key(subject, endpoint)
        now = self.clock() * 1000
        window = limit.window_s * 1_000_000
        interval = max(1, window // limit.count)
        tat = max(self.tats.get(key, now), now)
        next_tat = tat + interval
        if next_tat - now > window:
            state = LimitState(False, 0, -(-(tat - now) // 1000), -(-(next_tat - window - now) // 1000), now // 1000)
            return state, limit
        self.tats[key] = next_tat
        remaining = (window - (next_tat - now)) // interval
        return LimitState(True, remaining, -(-(next_tat - now) // 1000), 0, now // 1000), limit

    def mirror_overrides(self, overrides: dict[str, Overrides]) -> int:
        self.mirrored = dict(overrides)
        return len(overrides)


class FakeOverrides:
    """OverrideSource: what operators set, by user."""

    def __init__(self, by_user: dict[str, Overrides] | None = None):
        self.by_user = by_user or {}

    def all_overrides(self) -> dict[str, Overrides]:
        return dict(self.by_user)


class FakeLevelStore:
    """LevelStore: both parameters; `reads`/`writes` count the calls; `fail` makes reading fail (SSM down)."""

    def __init__(self, manual: Level | None = None, auto: ControllerState | None = None):
        self.manual, self.auto = manual, auto or ControllerState()
        self.reads = self.writes = 0
        self.fail = False

    def read(self) -> LevelSetting:
        self.reads += 1
        if self.fail:
            raise ConnectionError("SSM unreachable")
        return LevelSetting(manual=self.manual, auto=self.auto)

    def write_auto(self, state: ControllerState) -> None:
        self.writes += 1
        self.auto = state

    def write_manual(self, level: Level | None) -> None:
        self.manual = level


class FakeMetrics:
    """MetricsSource: the signals a test feeds, one per run (the last one repeats)."""

    def __init__(self, *signals: Signals):
        self.fed = list(signals)
        self.windows: list[int] = []

    def signals(self, window_s: int) -> Signals:
        self.windows.append(window_s)
        return self.fed.pop(0) if len(self.fed) > 1 else self.fed[0]


class World:
    """The rules wired as the composition root wires them, on fakes, with a controlled clock."""

    def __init__(self, thresholds: Thresholds | None = None, *, max_items: int = 800):
        self.clock = FakeClock()
        self.cache = FakeTimelineCache(max_items)
        self.social_store = FakeSocialStore()
        self.tweet_store = FakeTweetStore(self.social_store)
        self.pages = FakePageSink()
        self.publisher = FakePublisher()
        self.notification_store = FakeNotificationStore()
        self.social_store.notification_store = self.notification_store
        self.ids = FakeIds(self.clock)
        self.level = Level.NORMAL  # the degradation level the rules see; tests move it
        self.timelines = Timelines(
            self.cache,
            self.tweet_store,
            self.social_store,
            thresholds or Thresholds(3, 5),
            self.pages,
            Switches(lambda: self.level),
        )
        self.notifications = Notifications(self.notification_store, self.social_store, self.tweet_store)
        self.social = SocialService(self.social_store, self.timelines, self.clock)
        self.media_objects, self.media_store = FakeMediaObjects(), FakeMediaStore()
        self.tweet_store.media = self.media_store
        self.media = MediaService(self.media_objects, self.media_store, clock_ms=self.clock)
        self.tweets = TweetService(
            self.tweet_store, self.social_store, self.timelines, self.publisher, self.ids, self.clock, media=self.media
        )
        self.engagement_store = FakeEngagementStore(self.tweet_store)
        self.count_cache = FakeCountCache()
        self.events = FakeEventPublisher()
        self.engagement = Engagements(
            self.engagement_store,
            self.count_cache,
            self.events,
            self.tweet_store,
            self.social_store,
            self.timelines,
            self.notifications,
            self.ids,
            clock_ms=self.clock,
            rng=random.Random(7),
            media=self.media,
        )

    # arranging
    def users(self, *user_ids: str) -> None:
        for user_id in user_ids:
            self.social_store.create_profile(Profile(user_id=user_id, handle=user_id, display_name=user_id.title()))

    def live(self, *user_ids: str) -> None:
        """Timelines that are in the cache (read recently), empty."""
        for user_id in user_ids:
            self.cache.replace(user_id, [])

    def edge(self, follower_id: str, followee_id: str) -> None:
        """A follow in the store only (the cache does not know of it yet)."""
        self.social_store.add_edge(Relation.FOLLOWS, follower_id, followee_id, counted=True)

    def follow(self, follower_id: str, followee_id: str) -> None:
        """A follow as SocialService makes it: stored, then the timelines told."""
        self.edge(follower_id, followee_id)
        self.timelines.on_follow(follower_id, followee_id)

    def tweet(self, author_id: str, tweet_id: int, text: str = "hello", **fields) -> Tweet:
        """A stored, published tweet."""
        return self.tweet_store.put(
            Tweet(tweet_id=tweet_id, author_id=author_id, text=text, created_at_ms=self.clock(), **fields)
        )

    def home_ids(self, user_id: str, *, limit: int = 100, cursor: str | None = None) -> list[int]:
        return [e.tweet.tweet_id for e in self.timelines.home(user_id, cursor=cursor, limit=limit).items]


class FakeConnectionStore:
    """ConnectionStore: connections by id, with their expiry (DynamoDB's TTL deletes them later)."""

    def __init__(self):
        self.items: dict[str, tuple[Connection, int]] = {}
        self.scans = 0

    def put(self, connection: Connection, expires_at_s: int) -> None:
        self.items[connection.connection_id] = (connection, expires_at_s)

    def get(self, connection_id: str) -> Connection | None:
        item = self.items.get(connection_id)
        return item[0] if item else None

    def delete(self, connection_id: str) -> None:
        self.items.pop(connection_id, None)

    def live(self, now_s: int) -> Iterator[tuple[Connection, int]]:
        self.scans += 1
        return iter([(c, expires) for c, expires in self.items.values() if expires > now_s])


class FakeConnectedIndex:
    """ConnectedIndex: each user's connections, the public streams' and each hashtag's; counts round trips as Redis
    would make them (one per call, one per page)."""

    def __init__(self):
        self.by_user: dict[str, dict[str, Connection]] = defaultdict(dict)
        self.public: dict[str, Connection] = {}
        self.by_hashtag: dict[str, dict[str, Connection]] = defaultdict(dict)
        self.round_trips = 0
        self.built, self.rebuilding = True, False
        self.marker_checks = 0

    def lose_everything(self) -> None:
        """As a Redis flush or failover without the data: the index and its marker gone."""
        self.by_user.clear()
        self.public.clear()
        self.by_hashtag.clear()
        self.built = False

    def needs_rebuild(self) -> bool:
        self.round_trips += 1
        self.marker_checks += 1
        if self.built or self.rebuilding:
            return False
        self.rebuilding = True
        return True

    def rebuilt(self, connections: list[tuple[Connection, int]]) -> None:
        for connection, ttl_s in connections:
            self.add(connection, ttl_s)
        self.built, self.rebuilding = True, False

    def add(self, connection: Connection, ttl_s: int) -> None:
        self.by_user[connection.user_id][connection.connection_id] = connection
        if any(stream in connection.streams for stream in PUBLIC_STREAMS):
            self.public[connection.connection_id] = connection
        for _, hashtag in connection.hashtags:
            self.by_hashtag[hashtag][connection.connection_id] = connection

    def remove(self, connection: Connection) -> None:
        self.by_user[connection.user_id].pop(connection.connection_id, None)
        if not self.by_user[connection.user_id]:
            del self.by_user[connection.user_id]
        self.public.pop(connection.connection_id, None)
        for _, hashtag in connection.hashtags:
            self.by_hashtag[hashtag].pop(connection.connection_id, None)

    def connections_of(self, user_ids: list[str]) -> dict[str, list[Connection]]:
        self.round_trips += 1
        return {u: list(self.by_user[u].values()) for u in user_ids if self.by_user.get(u)}

    def connected_users(self) -> int:
        self.round_trips += 1
        return len(self.by_user)

    def connected_user_pages(self, page_size: int) -> Iterator[list[str]]:
        users = sorted(self.by_user)
        for start in range(0, len(users), page_size):
            self.round_trips += 1
            yield users[start : start + page_size]

    def public_connections(self) -> list[Connection]:
        self.round_trips += 1
        return list(self.public.values())

    def hashtag_connections(self, hashtags: list[str]) -> dict[str, list[Connection]]:
        self.round_trips += 1
        return {h: list(self.by_hashtag[h].values()) for h in hashtags if self.by_hashtag.get(h)}


class FakeGateway:
    """Gateway: records what each connection received; connections in `gone` answer 410, those in `broken` fail
    otherwise, and a post to one in `stuck` waits until `release` is set (a slow client)."""

    def __init__(self):
        self.received: dict[str, list[dict]] = defaultdict(list)
        self.gone: set[str] = set()
        self.broken: set[str] = set()
        self.stuck: set[str] = set()
        self.release = threading.Event()
        self.posts = 0
        self._lock = threading.Lock()

    def post(self, connection_id: str, data: bytes) -> None:
        with self._lock:
            self.posts += 1
        if connection_id in self.stuck:
            self.release.wait(timeout=10)
        if connection_id in self.gone:
            raise Gone(connection_id)
        if connection_id in self.broken:
            raise RuntimeError("connection reset")
        with self._lock:
            self.received[connection_id].append(json.loads(data))


# --- what a failing Redis raises -----------------------------------------------------------------------------
def _cluster_unreachable() -> Exception:
    """What redis-py's RedisCluster raises when no node answers: its own exception, raised from the refusal."""
    refused = redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6481. Connection refused.")
    try:
        raise redis.exceptions.RedisClusterException(f"Redis Cluster cannot be connected: {refused}") from refused
    except redis.exceptions.RedisClusterException as error:
        return error


REDIS_OUTAGES = {
    "single": lambda: redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6480. Connection refused."),
    "cluster-unreachable": _cluster_unreachable,
    "cluster-down": lambda: redis.exceptions.ClusterDownError("CLUSTERDOWN The cluster is down (127.0.0.1:6480)"),
    "slot-not-covered": lambda: redis.exceptions.SlotNotCoveredError("Slot 6480 is not covered by 127.0.0.1:6480"),
}
