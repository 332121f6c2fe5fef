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
from chirp.timelines.model import CachedHydration, HomeSnapshot, PulledSlice, TimelineSlice
from chirp.tweets.model import Tweet

SENTINEL = "live"
CELEBRITIES = "celebrities"
DEFERRED_AUTHORS = "deferred-authors"  # authors with tweets deferred while fan-out on write was off
TRIM_SLACK = 64  # ids a timeline may hold past max_items before a push trims it back

# KEYS = timelines; ARGV = entry id, max items, trim above. Two commands per live timeline at Redis's CPU limit:
# ZCARD is the liveness check (0 for a missing key, at least 1 for a live one: the sentinel), then ZADD; a timeline
# is trimmed back to max items only once it holds more than `trim above` ids, so one push in (trim above - max
# items) pays for a trim instead of every push.
_PUSH = """
local id, keep, above = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local pushed = 0
for _, key in ipairs(KEYS) do
  local held = redis.call('ZCARD', key)
  if held > 0 then
    redis.call('ZADD', key, id, id)
    if held > above then redis.call('ZREMRANGEBYRANK', key, 0, -(keep + 2)) end
    pushed = pushed + 1
  end
end
return pushed
"""

# KEYS = (timeline, its retweet index) pairs; ARGV = retweet id, max items, trim above, id of the tweet it shows.
# As _PUSH, and the retweet indexed next to each live timeline (trimmed alike, expiring with it).
_PUSH_RETWEET = """
local id, keep, above = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local pushed = 0
local member = id .. ':' .. ARGV[4]
for i = 1, #KEYS, 2 do
  local key, index = KEYS[i], KEYS[i + 1]
  local held = redis.call('ZCARD', key)
  if held > 0 then
    redis.call('ZADD', key, id, id)
    if held > above then redis.call('ZREMRANGEBYRANK', key, 0, -(keep + 2)) end
    if redis.call('ZADD', index, id, member) == 1 and redis.call('ZCARD', index) > above then
      redis.call('ZREMRANGEBYRANK', index, 0, -(keep + 1))
    end
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


# The whole home read in one round trip (single Redis only: it reads keys it is not given, the pull sets and the
# hydration caches, which a cluster may hold on other nodes). KEYS: the reader's timeline, its retweet index,
# following, blocks, mutes; the celebrities; the deferred authors. ARGV: the page's upper score, how many to read
# from the timeline and from each pull set, the cursor ('' on the first page), '1' to merge celebrities, the
# expiry (s), the page size, then the key prefixes of pull sets, their retweet indexes, deferred sets, cached
# tweets and cached profiles. Returns the raw slice and pulls (the caller cuts them exactly) and the cached tweets
# and profiles of the page they make: its entries, the tweets its retweets show, rival retweets above it, and
# their authors with the reader's follow flags. Ids are compared as decimal strings: as doubles, ids near 2^61
# collide. Author ids are read from the cached JSON by pattern (cjson would round 64-bit ids); one it cannot read
# is left to the caller.
_READ_HOME = r"""
local function newer(a, b)
  if #a ~= #b then return #a > #b end
  return a > b
end
local upper, cursor, count, ttl = ARGV[1], ARGV[4], tonumber(ARGV[7]), ARGV[6]
local celeb_p, celebrts_p, deferred_p, tweet_p, profile_p = ARGV[8], ARGV[9], ARGV[10], ARGV[11], ARGV[12]
local timeline, index, following = KEYS[1], KEYS[2], KEYS[3]

local live = redis.call('EXISTS', timeline)
local ids = redis.call('ZREVRANGEBYSCORE', timeline, upper, '-inf', 'LIMIT', 0, ARGV[2])
local celebrities = redis.call('SINTER', following, KEYS[6])
local hidden = redis.call('SUNION', KEYS[4], KEYS[5])
local deferred = redis.call('SINTER', following, KEYS[7])
redis.call('EXPIRE', timeline, ttl)
redis.call('EXPIRE', index, ttl)
local above = {}
if cursor ~= '' then above = redis.call('ZRANGEBYSCORE', index, cursor, '+inf') end
local pulled, pulled_above = {}, {}
if ARGV[5] == '1' then
  for _, author in ipairs(celebrities) do
    pulled[#pulled + 1] = redis.call('ZREVRANGEBYSCORE', celeb_p .. author, upper, '-inf', 'LIMIT', 0, ARGV[3])
    if cursor ~= '' then
      pulled_above[#pulled_above + 1] = redis.call('ZRANGEBYSCORE', celebrts_p .. author, cursor, '+inf')
    end
  end
end
for _, author in ipairs(deferred) do
  pulled[#pulled + 1] = redis.call('ZREVRANGEBYSCORE', deferred_p .. author, upper, '-inf', 'LIMIT', 0, ARGV[3])
end

-- The page: each source's newest `count` ids below the cursor, merged, the newest `count` of them.
local merged, seen = {}, {}
local function take(source)
  local taken = 0
  for _, id in ipairs(source) do
    if taken == count then return end
    if id ~= 'live' and (cursor == '' or newer(cursor, id)) then
      taken = taken + 1
      if not seen[id] then seen[id] = true; merged[#merged + 1] = id end
    end
  end
end
take(ids)
for _, source in ipairs(pulled) do take(source) end
table.sort(merged, newer)

-- A command over many arguments, in chunks: Lua's unpack takes a few thousand values at most.
local function each_chunk(command, first, prefix, items, out)
  for start = 1, #items, 1000 do
    local args = {}
    for i = start, math.min(start + 999, #items) do args[#args + 1] = prefix .. items[i] end
    local values = first and redis.call(command, first, unpack(args)) or redis.call(command, unpack(args))
    for _, value in ipairs(values) do out[#out + 1] = value end
  end
  return out
end

local asked, tweets, was_asked = {}, {}, {}
local function fetch(wanted)
  each_chunk('MGET', nil, tweet_p, wanted, tweets)
  for _, id in ipairs(wanted) do
    asked[#asked + 1] = id
    was_asked[id] = true
  end
end
local page = {}
for i = 1, math.min(count, #merged) do page[i] = merged[i] end
fetch(page)

-- Second: the tweets the page's retweets show, and retweets above the page that show the same tweets.
local shown, second, wanted = {}, {}, {}
local function want(id)
  if not was_asked[id] and not wanted[id] then wanted[id] = true; second[#second + 1] = id end
end
for i, value in ipairs(tweets) do
  if value then
    local original = string.match(value, '"retweet_of_id":(%d+)')
    shown[original or asked[i]] = true
    if original then want(original) end
  end
end
local function rivals(members)
  for _, member in ipairs(members) do
    local retweet, original = string.match(member, '^(%d+):(%d+)$')
    if retweet and shown[original] then want(retweet) end
  end
end
rivals(above)
for _, members in ipairs(pulled_above) do rivals(members) end
fetch(second)

local authors, profiles, followed, known = {}, {}, {}, {}
for _, value in ipairs(tweets) do
  if value then
    local author = string.match(value, '"author_id":"([^"]*)"')
    if author and not known[author] and not string.find(author, '\\', 1, true) then
      known[author] = true
      authors[#authors + 1] = author
    end
  end
end
each_chunk('MGET', nil, profile_p, authors, profiles)
each_chunk('SMISMEMBER', following, '', authors, followed)
return {live, ids, celebrities, hidden, deferred, above, pulled, pulled_above, asked, tweets, authors, profiles,
  followed}
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


def tweet_key(tweet_id: int | str) -> str:
    """A tweet cached for hydration (JSON)."""
    return f"tweet:{tweet_id}"


def profile_key(user_id: str) -> str:
    """A profile cached for hydration (JSON)."""
    return f"profile:{user_id}"


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
        self.trim_above = max_items + TRIM_SLACK
        self._push = client.register_script(_PUSH)
        self._push_retweet = client.register_script(_PUSH_RETWEET)
        self._add_many = client.register_script(_ADD_MANY)
        self._undefer = client.register_script(_UNDEFER)
        self._read_home = client.register_script(_READ_HOME)

    def push(self, tweet_id: int, user_ids: list[str], retweet_of: int | None = None) -> int:
        """Adds the entry to each live timeline among user_ids (a retweet also to their retweet indexes), one script
        call for all of them; returns how many were live. A timeline keeps at least max_items ids and at most
        max_items + TRIM_SLACK."""
        if not user_ids:
            return 0
        args = [tweet_id, self.max_items, self.trim_above]
        if retweet_of is None:
            return int(self._push(keys=[timeline_key(u) for u in user_ids], args=args))
        keys = [key for u in user_ids for key in (timeline_key(u), retweets_key(u))]
        return int(self._push_retweet(keys=keys, args=[*args, retweet_of]))

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

    def read_home(self, user_id: str, *, before_id: int | None, count: int, merge_celebrities: bool) -> HomeSnapshot:
        """The whole home read in one round trip: one script (see _READ_HOME)."""
        upper, extra = page_bounds(before_id)
        keys = [
            timeline_key(user_id),
            retweets_key(user_id),
            following_key(user_id),
            *(hidden_key(kind, user_id) for kind in HIDING),
            CELEBRITIES,
            DEFERRED_AUTHORS,
        ]
        prefixes = [celebrity_key(""), celebrity_retweets_key(""), deferred_key(""), tweet_key(""), profile_key("")]
        args = [upper, count + 1 + extra, count + extra, before_id or "", int(merge_celebrities), self.ttl_s, count]
        reply = self._read_home(keys=keys, args=[*args, *prefixes])
        (
            live,
            ids,
            celebrities,
            hidden,
            deferred,
            above,
            pulled,
            pulled_above,
            asked,
            tweets,
            authors,
            profiles,
            followed,
        ) = reply
        timeline = TimelineSlice(
            live=bool(live),
            ids=_below(ids, before_id)[:count],
            celebrities=sorted(celebrities),
            hidden_authors=frozenset(hidden),
            retweets_above=_above(above, before_id) if before_id else {},
            deferred=sorted(deferred),
        )
        pulled_ids = [i for found in pulled for i in _below(found, before_id)[:count]]
        pulled_retweets = {r: d for found in pulled_above for r, d in _above(found, before_id).items()}
        hydration = CachedHydration(
            tweets={int(t): Tweet.model_validate_json(v) for t, v in zip(asked, tweets, strict=True) if v},
            tweets_looked_up=frozenset(int(t) for t in asked),
            profiles={u: Profile.model_validate_json(v) for u, v in zip(authors, profiles, strict=True) if v},
            profiles_looked_up=frozenset(authors),
            followed=frozenset(u for u, yes in zip(authors, followed, strict=True) if yes),
        )
        return HomeSnapshot(
            timeline=timeline, pulled=PulledSlice(ids=pulled_ids, retweets_above=pulled_retweets), hydration=hydration
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
        values = self.redis.mget([tweet_key(t) for t in tweet_ids])
        return {t: Tweet.model_validate_json(v) for t, v in zip(tweet_ids, values, strict=True) if v}

    def put_tweets(self, tweets: list[Tweet], ttl_s: int = 86_400) -> None:
        with self.redis.pipeline(transaction=False) as pipe:
            for tweet in tweets:
                pipe.set(tweet_key(tweet.tweet_id), tweet.model_dump_json(), ex=ttl_s)
            pipe.execute()

    def get_profiles(self, user_ids: list[str], followed_by: str | None = None) -> tuple[dict[str, Profile], set[str]]:
        """Cached profiles and, in the same round trip, which of these users `followed_by` follows."""
        if not user_ids:
            return {}, set()
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.mget([profile_key(u) for u in user_ids])
            if followed_by:
                pipe.smismember(following_key(followed_by), user_ids)
            values, *membership = pipe.execute()
        profiles = {u: Profile.model_validate_json(v) for u, v in zip(user_ids, values, strict=True) if v}
        followed = {u for u, yes in zip(user_ids, membership[0], strict=True) if yes} if membership else set()
        return profiles, followed

    def put_profiles(self, profiles: list[Profile], ttl_s: int = 300) -> None:
        with self.redis.pipeline(transaction=False) as pipe:
            for profile in profiles:
                pipe.set(profile_key(profile.user_id), profile.model_dump_json(), ex=ttl_s)
            pipe.execute()

    def forget_profiles(self, user_ids: Iterable[str]) -> None:
        keys = [profile_key(u) for u in user_ids]
        if keys:
            self.redis.delete(*keys)
