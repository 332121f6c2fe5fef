"""Home timelines and their companions in Redis. Every method is one round trip (pipelined or a script).

A live home timeline is a sorted set `timeline:{user}` with score = member = entry id (a tweet's or a retweet's),
plus a sentinel member scored +inf so that an empty live timeline still exists. Its retweets are indexed in
`rts:{user}` (members "retweet id:shown tweet id", scored by the retweet id, trimmed and expiring with the
timeline; `celebrts:{author}` for a celebrity's pull set), so that a read below a cursor learns, in the same round
trip, which retweets above its page show the tweets on it. Timelines expire after the inactivity window
and are refreshed on read: fan-out writes only to timelines that exist, so inactive users cost nothing
and are rebuilt from DynamoDB on their next read, exactly as a timeline lost from Redis would be.
The scripts touch several keys: valid on a single Redis (ElastiCache with cluster mode disabled).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import redis
from redis.exceptions import LockNotOwnedError

from chirp.adapters.redis.scores import page_bounds
from chirp.observability import logger
from chirp.social.model import HIDING, Profile, Relation
from chirp.timelines.model import PulledSlice, TimelineSlice
from chirp.tweets.model import Tweet

SENTINEL = "live"
CELEBRITIES = "celebrities"
DEFERRED_AUTHORS = "deferred-authors"  # authors with tweets deferred while fan-out on write was off

# KEYS = timelines; ARGV = tweet id, max items. Adds to live timelines only, trims each.
_PUSH = """
local pushed = 0
for _, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then
    redis.call('ZADD', key, ARGV[1], ARGV[1])
    redis.call('ZREMRANGEBYRANK', key, 0, -(tonumber(ARGV[2]) + 2))
    pushed = pushed + 1
  end
end
return pushed
"""

# KEYS = (timeline, its retweet index) pairs; ARGV = retweet id, max items, id of the tweet it shows. As _PUSH,
# and the retweet indexed next to each live timeline (trimmed alike, expiring with it).
_PUSH_RETWEET = """
local pushed = 0
local member = ARGV[1] .. ':' .. ARGV[3]
for i = 1, #KEYS, 2 do
  local key, index = KEYS[i], KEYS[i + 1]
  if redis.call('EXISTS', key) == 1 then
    redis.call('ZADD', key, ARGV[1], ARGV[1])
    redis.call('ZREMRANGEBYRANK', key, 0, -(tonumber(ARGV[2]) + 2))
    redis.call('ZADD', index, ARGV[1], member)
    redis.call('ZREMRANGEBYRANK', index, 0, -(tonumber(ARGV[2]) + 1))
    local ttl = redis.call('PTTL', key)
    if ttl > 0 then redis.call('PEXPIRE', index, ttl) end
    pushed = pushed + 1
  end
end
return pushed
"""

# KEYS[1] = one timeline, KEYS[2] = its retweet index; ARGV = max items, n, n entry ids, then retweet members
# ("retweet id:shown id"). Adds to the timeline only if it is live.
_ADD_MANY = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local n = tonumber(ARGV[2])
for i = 3, 2 + n do redis.call('ZADD', KEYS[1], ARGV[i], ARGV[i]) end
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(tonumber(ARGV[1]) + 2))
if #ARGV > 2 + n then
  for i = 3 + n, #ARGV do
    redis.call('ZADD', KEYS[2], string.match(ARGV[i], '^(%d+):'), ARGV[i])
  end
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(tonumber(ARGV[1]) + 1))
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
end
return 1
"""


def timeline_key(user_id: str) -> str:
    return f"timeline:{user_id}"


def celebrity_key(author_id: str) -> str:
    return f"celeb:{author_id}"


def retweets_key(user_id: str) -> str:
    """The retweet index of a home timeline."""
    return f"rts:{user_id}"


def celebrity_retweets_key(author_id: str) -> str:
    """The retweet index of a celebrity's pull set."""
    return f"celebrts:{author_id}"


def retweet_members(retweets: Mapping[int, int]) -> dict[str, int]:
    """Index members ("retweet id:shown tweet id") scored by the retweet id."""
    return {f"{r}:{d}": r for r, d in retweets.items()}


def _above(members: list[str], before_id: int) -> dict[int, int]:
    """Index members at or above the cursor (scores are doubles: the range read was inclusive, cut exactly here)."""
    pairs = (member.split(":", 1) for member in members)
    return {int(r): int(d) for r, d in pairs if int(r) >= before_id}


# KEYS[1] = an author's deferred set, KEYS[2] = the deferred authors; ARGV[1] = the author, then tweet ids.
# Removes the ids and, if none is left, the author: atomic, so a tweet deferred meanwhile keeps its author listed.
_UNDEFER = """
for i = 2, #ARGV do redis.call('ZREM', KEYS[1], ARGV[i]) end
if redis.call('ZCARD', KEYS[1]) == 0 then redis.call('SREM', KEYS[2], ARGV[1]) end
return 1
"""


def deferred_key(author_id: str) -> str:
    return f"deferred:{author_id}"


def following_key(user_id: str) -> str:
    return f"following:{user_id}"


def hidden_key(kind: Relation, user_id: str) -> str:
    """Authors a user blocked (BLOCKS) or muted (MUTES)."""
    return f"{kind.lower()}:{user_id}"


def relation_key(kind: Relation, user_id: str) -> str:
    return following_key(user_id) if kind is Relation.FOLLOWS else hidden_key(kind, user_id)


def _below(members: list[str], before_id: int | None) -> list[int]:
    ids = [int(m) for m in members if m != SENTINEL]
    return sorted((i for i in ids if before_id is None or i < before_id), reverse=True)


@dataclass(frozen=True)
class CachedTimeline:
    """Everything Redis holds about one reader, read without touching it (for the auditor)."""

    ids: list[int]
    following: set[str]
    hidden: set[str]
    celebrities: set[str]
    pulled: list[int]
    indexed_retweets: dict[int, int]  # the timeline's and the followed celebrities' retweet indexes


class RebuildLock:
    """redis-py's token lock, never waiting: only the holder's token releases it, so a rebuild that overran
    the lock's expiry cannot release the lock of the rebuild that took over."""

    def __init__(self, lock: redis.lock.Lock):
        self._lock = lock

    def acquire(self) -> bool:
        return bool(self._lock.acquire(blocking=False))

    def release(self) -> None:
        try:
            self._lock.release()
        except LockNotOwnedError:
            logger.warning("rebuild outlived its lock", extra={"lock": self._lock.name})


class RedisTimelineCache:
    def __init__(self, client: redis.Redis, *, max_items: int, ttl_s: int):
        self.redis, self.max_items, self.ttl_s = client, max_items, ttl_s
        self._push = client.register_script(_PUSH)
        self._push_retweet = client.register_script(_PUSH_RETWEET)
        self._add_many = client.register_script(_ADD_MANY)
        self._undefer = client.register_script(_UNDEFER)

    def push(self, tweet_id: int, user_ids: list[str], retweet_of: int | None = None) -> int:
        """Adds the entry to each live timeline among user_ids (a retweet also to their retweet indexes); returns
        how many were live."""
        if not user_ids:
            return 0
        if retweet_of is None:
            return int(self._push(keys=[timeline_key(u) for u in user_ids], args=[tweet_id, self.max_items]))
        keys = [key for u in user_ids for key in (timeline_key(u), retweets_key(u))]
        return int(self._push_retweet(keys=keys, args=[tweet_id, self.max_items, retweet_of]))

    def add_to_each(self, user_ids: list[str], tweet_ids: list[int], retweets: Mapping[int, int] | None = None) -> None:
        """Backfill of many timelines in one round trip (each written only if live)."""
        if not tweet_ids or not user_ids:
            return
        members = list(retweet_members({r: d for r, d in (retweets or {}).items() if r in set(tweet_ids)}))
        args = [self.max_items, len(tweet_ids), *tweet_ids, *members]
        with self.redis.pipeline(transaction=False) as pipe:
            for user_id in user_ids:
                self._add_many(keys=[timeline_key(user_id), retweets_key(user_id)], args=args, client=pipe)
            pipe.execute()

    def is_live(self, user_id: str) -> bool:
        return bool(self.redis.exists(timeline_key(user_id)))

    def is_celebrity(self, user_id: str) -> bool:
        return bool(self.redis.sismember(CELEBRITIES, user_id))

    def remove(self, user_id: str, tweet_ids: list[int]) -> None:
        if tweet_ids:
            self.redis.zrem(timeline_key(user_id), *tweet_ids)

    def replace(self, user_id: str, tweet_ids: list[int], retweets: Mapping[int, int] | None = None) -> None:
        """Writes a rebuilt timeline and its retweet index atomically, live (sentinel) and with a fresh expiry."""
        key, index = timeline_key(user_id), retweets_key(user_id)
        newest = sorted(set(tweet_ids), reverse=True)[: self.max_items]
        kept = {r: d for r, d in (retweets or {}).items() if r in set(newest)}
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(key, index)
            pipe.zadd(key, {SENTINEL: float("inf"), **{str(t): t for t in newest}})
            pipe.expire(key, self.ttl_s)
            if kept:
                pipe.zadd(index, retweet_members(kept))
                pipe.expire(index, self.ttl_s)
            pipe.execute()

    def read(self, user_id: str, *, before_id: int | None, count: int) -> TimelineSlice:
        """One round trip: is the timeline live, its next ids, the followed celebrities, hidden authors, and below
        a cursor the indexed retweets above it."""
        key, index = timeline_key(user_id), retweets_key(user_id)
        upper, extra = page_bounds(before_id)
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.exists(key)
            pipe.zrevrangebyscore(key, upper, "-inf", start=0, num=count + 1 + extra)  # +1: the sentinel
            pipe.sinter(following_key(user_id), CELEBRITIES)
            pipe.sunion(*(hidden_key(kind, user_id) for kind in HIDING))
            pipe.sinter(following_key(user_id), DEFERRED_AUTHORS)
            pipe.expire(key, self.ttl_s)
            pipe.expire(index, self.ttl_s)
            if before_id:
                pipe.zrangebyscore(index, before_id, "+inf")
            live, ids, celebrities, hidden, deferred, _, _, *above = pipe.execute()
        return TimelineSlice(
            live=bool(live),
            ids=_below(ids, before_id)[:count],
            celebrities=sorted(celebrities),
            hidden_authors=frozenset(hidden),
            retweets_above=_above(above[0], before_id) if above else {},
            deferred=sorted(deferred),
        )

    def deferred_ids(self, author_ids: list[str], *, before_id: int | None, count: int) -> list[int]:
        """The deferred tweets of these authors, pulled like celebrities' in one round trip."""
        if not author_ids:
            return []
        upper, extra = page_bounds(before_id)
        with self.redis.pipeline(transaction=False) as pipe:
            for author in author_ids:
                pipe.zrevrangebyscore(deferred_key(author), upper, "-inf", start=0, num=count + extra)
            results = pipe.execute()
        return [i for found in results for i in _below(found, before_id)[:count]]

    def pull_celebrities(self, author_ids: list[str], *, before_id: int | None, count: int) -> PulledSlice:
        """The recent entries of every followed celebrity in one round trip, whatever their number, and below a
        cursor their retweets above it."""
        if not author_ids:
            return PulledSlice(ids=[])
        upper, extra = page_bounds(before_id)
        with self.redis.pipeline(transaction=False) as pipe:
            for author in author_ids:
                pipe.zrevrangebyscore(celebrity_key(author), upper, "-inf", start=0, num=count + extra)
                if before_id:
                    pipe.zrangebyscore(celebrity_retweets_key(author), before_id, "+inf")
            results = pipe.execute()
        step = 2 if before_id else 1
        ids = [i for found in results[::step] for i in _below(found, before_id)[:count]]
        above = {r: d for found in results[1::step] for r, d in _above(found, before_id).items()} if before_id else {}
        return PulledSlice(ids=ids, retweets_above=above)

    def defer(self, author_id: str, tweet_id: int) -> None:
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.zadd(deferred_key(author_id), {str(tweet_id): tweet_id})
            pipe.sadd(DEFERRED_AUTHORS, author_id)
            pipe.execute()

    def deferred_authors(self) -> list[str]:
        return sorted(self.redis.smembers(DEFERRED_AUTHORS))

    def deferred_of(self, author_id: str, count: int) -> list[int]:
        return [int(m) for m in self.redis.zrange(deferred_key(author_id), 0, max(count, 1) - 1)]

    def undefer(self, author_id: str, tweet_ids: list[int]) -> None:
        if tweet_ids:
            self._undefer(keys=[deferred_key(author_id), DEFERRED_AUTHORS], args=[author_id, *tweet_ids])

    def push_celebrity(self, author_id: str, tweet_id: int, keep: int, retweet_of: int | None = None) -> None:
        key, index = celebrity_key(author_id), celebrity_retweets_key(author_id)
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.zadd(key, {str(tweet_id): tweet_id})
            pipe.zremrangebyrank(key, 0, -(keep + 1))
            if retweet_of is not None:
                pipe.zadd(index, retweet_members({tweet_id: retweet_of}))
                pipe.zremrangebyrank(index, 0, -(keep + 1))
            pipe.execute()

    def set_celebrity(
        self, author_id: str, is_celebrity: bool, recent_ids: list[int], retweets: Mapping[int, int] | None = None
    ) -> None:
        with self.redis.pipeline(transaction=True) as pipe:
            if is_celebrity:
                pipe.sadd(CELEBRITIES, author_id)
                if recent_ids:
                    pipe.zadd(celebrity_key(author_id), {str(t): t for t in recent_ids})
                if retweets:
                    pipe.zadd(celebrity_retweets_key(author_id), retweet_members(retweets))
            else:
                pipe.srem(CELEBRITIES, author_id)
                pipe.delete(celebrity_key(author_id), celebrity_retweets_key(author_id))
            pipe.execute()

    def celebrities_among(self, user_ids: list[str]) -> set[str]:
        """One round trip, however many users."""
        if not user_ids:
            return set()
        return {u for u, yes in zip(user_ids, self.redis.smismember(CELEBRITIES, user_ids), strict=True) if yes}

    def remove_from_celebrity(self, author_id: str, tweet_id: int) -> None:
        self.redis.zrem(celebrity_key(author_id), tweet_id)

    def set_relations(self, user_id: str, relations: dict[Relation, list[str]]) -> None:
        """Rewrites a user's relation sets (FOLLOWS, BLOCKS, MUTES -> target ids) from the source of truth."""
        with self.redis.pipeline(transaction=True) as pipe:
            for kind, targets in relations.items():
                key = relation_key(kind, user_id)
                pipe.delete(key)
                if targets:
                    pipe.sadd(key, *targets)
            pipe.execute()

    def follow(self, follower_id: str, followee_id: str, stale_profiles: Iterable[str]) -> bool:
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.sadd(relation_key(Relation.FOLLOWS, follower_id), followee_id)
            pipe.delete(*[f"profile:{u}" for u in stale_profiles])
            pipe.sismember(CELEBRITIES, followee_id)
            *_, celebrity = pipe.execute()
        return bool(celebrity)

    def relate(self, kind: Relation, user_id: str, target_id: str, add: bool) -> None:
        key = relation_key(kind, user_id)
        (self.redis.sadd if add else self.redis.srem)(key, target_id)

    def rebuild_lock(self, user_id: str, ttl_s: int) -> RebuildLock:
        return RebuildLock(self.redis.lock(f"lock:rebuild:{user_id}", timeout=ttl_s, blocking=False))

    # Read-only views for the consistency auditor: nothing here extends an expiry.
    def live_users(self) -> list[str]:
        prefix = timeline_key("")
        return sorted(key.removeprefix(prefix) for key in self.redis.scan_iter(match=f"{prefix}*", count=1000))

    def inspect(self, user_id: str, followees: set[str]) -> CachedTimeline:
        """The reader's cached timeline and relations, and what the read path would pull for `followees`: their
        celebrities' recent tweets and their deferred tweets (at level 0: from level 2 on, reads skip the
        celebrity merge)."""
        ids = [int(m) for m in self.redis.zrange(timeline_key(user_id), 0, -1) if m != SENTINEL]
        following = self.redis.smembers(following_key(user_id))
        celebrities = self.celebrities_among(sorted(followees))
        pulled = [int(m) for c in sorted(celebrities) for m in self.redis.zrange(celebrity_key(c), 0, -1)]
        deferring = self.redis.smismember(DEFERRED_AUTHORS, sorted(followees)) if followees else []
        deferred = [a for a, yes in zip(sorted(followees), deferring, strict=True) if yes]
        pulled += [int(m) for a in deferred for m in self.redis.zrange(deferred_key(a), 0, -1)]
        hidden = self.redis.sunion(*(hidden_key(kind, user_id) for kind in HIDING))
        indexes = [retweets_key(user_id), *(celebrity_retweets_key(c) for c in sorted(celebrities))]
        indexed = {r: d for index in indexes for r, d in _above(self.redis.zrange(index, 0, -1), 0).items()}
        return CachedTimeline(
            ids=ids,
            following=following,
            hidden=hidden,
            celebrities=celebrities,
            pulled=pulled,
            indexed_retweets=indexed,
        )

    # Hydration caches: tweets and profiles as JSON, fetched with one MGET each.
    def get_tweets(self, tweet_ids: list[int]) -> dict[int, Tweet]:
        if not tweet_ids:
            return {}
        values = self.redis.mget([f"tweet:{t}" for t in tweet_ids])
        return {t: Tweet.model_validate_json(v) for t, v in zip(tweet_ids, values, strict=True) if v}

    def put_tweets(self, tweets: list[Tweet], ttl_s: int = 86_400) -> None:
        with self.redis.pipeline(transaction=False) as pipe:
            for tweet in tweets:
                pipe.set(f"tweet:{tweet.tweet_id}", tweet.model_dump_json(), ex=ttl_s)
            pipe.execute()

    def get_profiles(self, user_ids: list[str], followed_by: str | None = None) -> tuple[dict[str, Profile], set[str]]:
        """Cached profiles and, in the same round trip, which of these users `followed_by` follows."""
        if not user_ids:
            return {}, set()
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.mget([f"profile:{u}" for u in user_ids])
            if followed_by:
                pipe.smismember(following_key(followed_by), user_ids)
            values, *membership = pipe.execute()
        profiles = {u: Profile.model_validate_json(v) for u, v in zip(user_ids, values, strict=True) if v}
        followed = {u for u, yes in zip(user_ids, membership[0], strict=True) if yes} if membership else set()
        return profiles, followed

    def put_profiles(self, profiles: list[Profile], ttl_s: int = 300) -> None:
        with self.redis.pipeline(transaction=False) as pipe:
            for profile in profiles:
                pipe.set(f"profile:{profile.user_id}", profile.model_dump_json(), ex=ttl_s)
            pipe.execute()

    def forget_profiles(self, user_ids: Iterable[str]) -> None:
        keys = [f"profile:{u}" for u in user_ids]
        if keys:
            self.redis.delete(*keys)
