"""In-memory fakes of the domain's ports, faithful to the real adapters' semantics and doing no I/O.

Each fake mirrors its adapter in `chirp.adapters`: where an adapter's behaviour is subtle (only live
timelines are written, DynamoDB's page limit counts items before the filter, a repeated edge is not
counted twice...), the fake does the same, so that the rules tested against it behave as deployed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from itertools import count

from chirp.adapters.dynamodb.tables import OUTBOX_SHARDS
from chirp.degradation.controller import ControllerState, Signals
from chirp.degradation.levels import Level, Switches
from chirp.degradation.ports import LevelSetting
from chirp.errors import Conflict, InvalidInput
from chirp.ids.snowflake import snowflake_at
from chirp.limits.model import EndpointClass, Limit, LimitState, Subject
from chirp.limits.ports import LimitStoreUnavailable, Overrides
from chirp.limits.service import limit_key
from chirp.notifications.model import Notification
from chirp.notifications.service import Notifications
from chirp.social.model import HIDING, Profile, Relation
from chirp.social.service import SocialService
from chirp.timelines.model import FollowerPage, TimelineSlice
from chirp.timelines.rules import Thresholds, Timelines
from chirp.trends.ports import TagCounts, TagUse
from chirp.tweets.model import Tweet
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
        self.celebrity_tweets: dict[str, set[int]] = {}
        self.deferred: dict[str, set[int]] = {}  # by author: tweets deferred while fan-out on write was off
        self.relations: dict[tuple[Relation, str], set[str]] = defaultdict(set)
        self.tweets: dict[int, Tweet] = {}
        self.profiles: dict[str, Profile] = {}
        self.locks: dict[str, object] = {}
        self.pushes: list[tuple[int, list[str]]] = []  # each push call: one Redis script run
        self.backfills: list[tuple[list[str], list[int]]] = []  # each add_to_each call: one pipeline

    # helpers for tests
    def expire(self, user_id: str) -> None:
        """The timeline's inactivity expiry (or Redis losing it): it is no longer live."""
        self.timelines.pop(user_id, None)

    def ids(self, user_id: str) -> list[int]:
        return sorted(self.timelines.get(user_id, ()), reverse=True)

    def _trim(self, ids: set[int], keep: int) -> set[int]:
        return set(sorted(ids, reverse=True)[:keep])

    # TimelineCache
    def push(self, tweet_id: int, user_ids: list[str]) -> int:
        self.pushes.append((tweet_id, list(user_ids)))
        pushed = 0
        for user_id in user_ids:
            if user_id in self.timelines:
                self.timelines[user_id] = self._trim(self.timelines[user_id] | {tweet_id}, self.max_items)
                pushed += 1
        return pushed

    def add_to_each(self, user_ids: list[str], tweet_ids: list[int]) -> None:
        self.backfills.append((list(user_ids), list(tweet_ids)))
        for user_id in user_ids:
            if user_id in self.timelines and tweet_ids:
                self.timelines[user_id] = self._trim(self.timelines[user_id] | set(tweet_ids), self.max_items)

    def remove(self, user_id: str, tweet_ids: list[int]) -> None:
        if user_id in self.timelines:
            self.timelines[user_id] -= set(tweet_ids)

    def replace(self, user_id: str, tweet_ids: list[int]) -> None:
        self.timelines[user_id] = self._trim(set(tweet_ids), self.max_items)

    def is_live(self, user_id: str) -> bool:
        return user_id in self.timelines

    def read(self, user_id: str, *, before_id: int | None, count: int) -> TimelineSlice:
        ids = [i for i in self.ids(user_id) if before_id is None or i < before_id]
        return TimelineSlice(
            live=user_id in self.timelines,
            ids=ids[: _redis_count(count)],
            celebrities=sorted(self.relations[Relation.FOLLOWS, user_id] & self.celebrities),
            hidden_authors=frozenset().union(*(self.relations[kind, user_id] for kind in HIDING)),
            deferred=sorted(self.relations[Relation.FOLLOWS, user_id] & set(self.deferred)),
        )

    def is_celebrity(self, user_id: str) -> bool:
        return user_id in self.celebrities

    def celebrities_among(self, user_ids: list[str]) -> set[str]:
        return set(user_ids) & self.celebrities

    def set_celebrity(self, author_id: str, is_celebrity: bool, recent_ids: list[int]) -> None:
        if is_celebrity:
            self.celebrities.add(author_id)
            self.celebrity_tweets.setdefault(author_id, set()).update(recent_ids)
        else:
            self.celebrities.discard(author_id)
            self.celebrity_tweets.pop(author_id, None)

    def push_celebrity(self, author_id: str, tweet_id: int, keep: int) -> None:
        self.celebrity_tweets[author_id] = self._trim(self.celebrity_tweets.get(author_id, set()) | {tweet_id}, keep)

    def remove_from_celebrity(self, author_id: str, tweet_id: int) -> None:
        self.celebrity_tweets.get(author_id, set()).discard(tweet_id)

    def celebrity_ids(self, author_ids: list[str], *, before_id: int | None, count: int) -> list[int]:
        pulled = []
        for author in author_ids:
            ids = sorted(self.celebrity_tweets.get(author, ()), reverse=True)
            pulled += [i for i in ids if before_id is None or i < before_id][: _redis_count(count)]
        return pulled

    def defer(self, author_id: str, tweet_id: int) -> None:
        self.deferred.setdefault(author_id, set()).add(tweet_id)

    def deferred_ids(self, author_ids: list[str], *, before_id: int | None, count: int) -> list[int]:
        pulled = []
        for author in author_ids:
            ids = sorted(self.deferred.get(author, ()), reverse=True)
            pulled += [i for i in ids if before_id is None or i < before_id][: _redis_count(count)]
        return pulled

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

    def __init__(self):
        self.tweets: dict[int, Tweet] = {}
        self.pending: set[int] = set()

    def put_pending(self, tweet: Tweet) -> None:
        if tweet.tweet_id in self.tweets:
            raise Conflict(f"tweet {tweet.tweet_id} already exists")
        self.tweets[tweet.tweet_id] = tweet
        self.pending.add(tweet.tweet_id)

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

    def by_author(self, author_id: str, *, limit: int, cursor: str | None = None) -> tuple[list[Tweet], str | None]:
        authored = sorted((t for t in self.tweets.values() if t.author_id == author_id), key=lambda t: -t.tweet_id)
        evaluated, next_cursor = _page(authored, lambda t: t.tweet_id, limit, cursor, newest_first=True)
        return [t for t in evaluated if not t.deleted], next_cursor

    def recent_ids(self, author_id: str, count: int) -> list[int]:
        tweets, _ = self.by_author(author_id, limit=count)
        return [t.tweet_id for t in tweets]


class FakeSocialStore:
    """SocialStore (also the GraphReader and RecipientDirectory ports): unique handles (case-insensitive),
    edges that exist once, follows moving both profiles' counts only when the edge really changed.
    Edges are listed ordered by the other user's id, as DynamoDB's sort keys order them."""

    def __init__(self):
        self.profiles: dict[str, Profile] = {}
        self.handles: dict[str, str] = {}
        self.edges: set[tuple[Relation, str, str]] = set()

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
    notification again overwrites it with itself; read newest first below the cursor's id."""

    def __init__(self):
        self.items: dict[str, dict[int, Notification]] = defaultdict(dict)

    def add(self, notifications: dict[str, Notification]) -> None:
        for user_id, notification in notifications.items():
            self.items[user_id][notification.id] = notification

    def of(self, user_id: str) -> list[Notification]:
        """Every notification of a recipient, newest first."""
        return sorted(self.items.get(user_id, {}).values(), key=lambda n: -n.id)

    def newest(self, user_id: str, *, before_id: int | None, limit: int) -> list[Notification]:
        return [n for n in self.of(user_id) if before_id is None or n.id < before_id][:limit]


class FakeTagCounter:
    """TagCounter: distinct accounts per (day, tag), exactly (Redis counts them with a HyperLogLog), and each
    tag's latest use, never moved backwards."""

    def __init__(self):
        self.accounts: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.last_used: dict[str, int] = {}
        self.kept: tuple[int, str] | None = None
        self.rankings_kept = 0

    def ranking(self) -> tuple[int, str] | None:
        return self.kept

    def keep_ranking(self, computed_at_ms: int, ranking: str) -> None:
        self.kept = (computed_at_ms, ranking)
        self.rankings_kept += 1

    def record(self, uses: list[TagUse]) -> None:
        for use in uses:
            self.accounts[use.day, use.tag].add(use.account_id)
            self.last_used[use.tag] = max(self.last_used.get(use.tag, use.at_ms), use.at_ms)

    def counts(self, today: str, yesterday: str) -> list[TagCounts]:
        tags = sorted(tag for day, tag in self.accounts if day == today)
        return [
            TagCounts(
                tag=tag,
                accounts_today=len(self.accounts[today, tag]),
                accounts_yesterday=len(self.accounts.get((yesterday, tag), ())),
                last_used_ms=self.last_used.get(tag),
            )
            for tag in tags
        ]


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
        self.tweet_store = FakeTweetStore()
        self.social_store = FakeSocialStore()
        self.pages = FakePageSink()
        self.publisher = FakePublisher()
        self.notification_store = FakeNotificationStore()
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
        self.social = SocialService(self.social_store, self.timelines, self.notifications, self.clock)
        self.tweets = TweetService(
            self.tweet_store, self.social_store, self.timelines, self.publisher, self.ids, self.clock
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
