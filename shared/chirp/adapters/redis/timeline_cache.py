"""Home timelines and their companions in Redis. Every method is one round trip (pipelined or a script).

A live home timeline is a sorted set `timeline:{user}` with score = member = entry id (a tweet's or a retweet's),
plus a sentinel member scored +inf so that an empty live timeline still exists. Its retweets are indexed in
`rts:{user}` (members "retweet id:shown tweet id", scored by the retweet id, trimmed and expiring with the
timeline; `celebrts:{author}` for a celebrity's pull set), so that a read below a cursor learns, in the same round
trip, which retweets above its page show the tweets on it. Timelines expire after the inactivity window
and are refreshed on read: fan-out writes only to timelines that exist, so inactive users cost nothing
and are rebuilt from DynamoDB on their next read, exactly as a timeline lost from Redis would be.

Redis Cluster: a reader's keys share the reader's hash tag (`timeline:{u}`, `rts:{u}`, `following:{u}`,
`blocks:{u}`, `mutes:{u}`) and a celebrity's or deferring author's pull sets the author's (`celeb:{a}`,
`celebrts:{a}`, `deferred:{a}`), so every multi-key command, transaction and script covers one slot; a fan-out runs
one script per slot group (all the timelines at once on a single Redis), and reads across slots are pipelined to
the nodes in parallel. The marks (`marks:celebrities`, `marks:deferred-authors`) are one key each. Writes that span
slots (a mark and its pull set) are ordered so that no reader ever finds a mark without its set.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import redis
from redis.exceptions import LockNotOwnedError

from chirp.adapters.redis.client import Batch, LuaScript, is_cluster, slot_groups
from chirp.adapters.redis.scores import page_bounds
from chirp.observability import logger
from chirp.social.model import HIDING, Profile, Relation
from chirp.timelines.model import CachedHydration, HomeSnapshot, PulledSlice, TimelineSlice, page_candidates
from chirp.tweets.model import Tweet

SENTINEL = "live"
# Named anew with the hash-tagged layout: a mark left by the layout before would point at a pull set under an old
# name, and readers would pull nothing from it (a mark missing is restored with its set, see Timelines).
CELEBRITIES = "marks:celebrities"
DEFERRED_AUTHORS = "marks:deferred-authors"  # authors with tweets deferred while fan-out on write was off
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
# expiry (s), the page size, then the key prefixes of pull sets, their retweet indexes, deferred sets (each
# followed by the author's hash tag), cached tweets and cached profiles. Returns the raw slice and pulls (the
# caller cuts them exactly) and the cached tweets and profiles of the page they make: its entries, the tweets its
# retweets show, rival retweets above it, and their authors with the reader's follow flags. Ids are compared as
# decimal strings: as doubles, ids near 2^61 collide. Author ids are read from the cached JSON by pattern (cjson
# would round 64-bit ids); one it cannot read is left to the caller.
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
    local set = celeb_p .. '{' .. author .. '}'
    pulled[#pulled + 1] = redis.call('ZREVRANGEBYSCORE', set, upper, '-inf', 'LIMIT', 0, ARGV[3])
    if cursor ~= '' then
      pulled_above[#pulled_above + 1] = redis.call('ZRANGEBYSCORE', celebrts_p .. '{' .. author .. '}', cursor, '+inf')
    end
  end
end
for _, author in ipairs(deferred) do
  local set = deferred_p .. '{' .. author .. '}'
  pulled[#pulled + 1] = redis.call('ZREVRANGEBYSCORE', set, upper, '-inf', 'LIMIT', 0, ARGV[3])
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


# The reader's share of a home read on Redis Cluster, in its slot: KEYS = the timeline, its retweet index,
# following, blocks, mutes; ARGV = the page's upper score, how many ids to read, the expiry (s). Returns liveness,
# the ids, the hidden authors, the followees, and the indexed retweets from the lowest id read up (those on the
# page, with the tweets they show, and those above it).
_READ_READER = """
local live = redis.call('EXISTS', KEYS[1])
local ids = redis.call('ZREVRANGEBYSCORE', KEYS[1], ARGV[1], '-inf', 'LIMIT', 0, ARGV[2])
local hidden = redis.call('SUNION', KEYS[4], KEYS[5])
local following = redis.call('SMEMBERS', KEYS[3])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
local lowest = ids[#ids]
if lowest == 'live' then lowest = ids[#ids - 1] end
local indexed = {}
if lowest then indexed = redis.call('ZRANGEBYSCORE', KEYS[2], lowest, '+inf') end
return {live, ids, hidden, following, indexed}
"""

# KEYS[1] = an author's deferred set; ARGV = tweet ids. Removes them, answers how many are left.
_UNDEFER = """
for i = 1, #ARGV do redis.call('ZREM', KEYS[1], ARGV[i]) end
return redis.call('ZCARD', KEYS[1])
"""


def _tagged(prefix: str, owner: str) -> str:
    """A key in its owner's hash slot (Redis Cluster hashes only the part in braces)."""
    return f"{prefix}{{{owner}}}"


def timeline_key(user_id: str) -> str:
    return _tagged("timeline:", user_id)


def celebrity_key(author_id: str) -> str:
    return _tagged("celeb:", author_id)


def retweets_key(user_id: str) -> str:
    """The retweet index of a home timeline."""
    return _tagged("rts:", user_id)


def celebrity_retweets_key(author_id: str) -> str:
    """The retweet index of a celebrity's pull set."""
    return _tagged("celebrts:", author_id)


def deferred_key(author_id: str) -> str:
    return _tagged("deferred:", author_id)


def following_key(user_id: str) -> str:
    return _tagged("following:", user_id)


def hidden_key(kind: Relation, user_id: str) -> str:
    """Authors a user blocked (BLOCKS) or muted (MUTES)."""
    return _tagged(f"{kind.lower()}:", user_id)


def relation_key(kind: Relation, user_id: str) -> str:
    return following_key(user_id) if kind is Relation.FOLLOWS else hidden_key(kind, user_id)


def tweet_key(tweet_id: int | str) -> str:
    """A tweet cached for hydration (JSON)."""
    return f"tweet:{tweet_id}"


def profile_key(user_id: str) -> str:
    """A profile cached for hydration (JSON)."""
    return f"profile:{user_id}"


def retweet_members(retweets: Mapping[int, int]) -> dict[str, int]:
    """Index members ("retweet id:shown tweet id") scored by the retweet id."""
    return {f"{r}:{d}": r for r, d in retweets.items()}


def _pairs(members: list[str]) -> dict[int, int]:
    return {int(r): int(d) for r, d in (member.split(":", 1) for member in members)}


def _above(members: list[str], before_id: int) -> dict[int, int]:
    """Index members at or above the cursor (scores are doubles: the range read was inclusive, cut exactly here)."""
    return {r: d for r, d in _pairs(members).items() if r >= before_id}


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


@dataclass
class _Hydrating:
    """The hydration caches' answers gathered over a home read's waves on Redis Cluster."""

    tweets: dict[int, Tweet]
    asked: set[int]
    profiles: dict[str, Profile]
    asked_profiles: set[str]

    def tweets_wanted(self, entry_ids: Iterable[int], index: Mapping[int, int], above: Mapping[int, int]) -> list[int]:
        """Entries, the tweets the retweets among them show (from the retweet indexes), and the retweets above that
        show the same tweets: everything the page needs, known before any tweet is read."""
        entries = list(entry_ids)
        shown = {index.get(e, e) for e in entries}
        wanted = {*entries, *(index[e] for e in entries if e in index), *(r for r, d in above.items() if d in shown)}
        return sorted(wanted - self.asked)

    def authors_wanted(self) -> list[str]:
        return sorted({t.author_id for t in self.tweets.values()} - self.asked_profiles)


class RedisTimelineCache:
    def __init__(self, client: redis.Redis, *, max_items: int, ttl_s: int):
        self.redis, self.max_items, self.ttl_s = client, max_items, ttl_s
        self.cluster = is_cluster(client)
        self.trim_above = max_items + TRIM_SLACK
        self._push = LuaScript(_PUSH)
        self._push_retweet = LuaScript(_PUSH_RETWEET)
        self._add_many = LuaScript(_ADD_MANY)
        self._undefer = LuaScript(_UNDEFER)
        self._read_home = LuaScript(_READ_HOME)
        self._read_reader = LuaScript(_READ_READER)

    def push(self, tweet_id: int, user_ids: list[str], retweet_of: int | None = None) -> int:
        """Adds the entry to each live timeline among user_ids (a retweet also to their retweet indexes): one script
        call for all of them on a single Redis, one per slot on a cluster, in one round trip (wave); returns how many
        were live. A timeline keeps at least max_items ids and at most max_items + TRIM_SLACK."""
        args = [tweet_id, self.max_items, self.trim_above]
        with Batch(self.redis) as batch:
            for group in slot_groups(self.redis, user_ids, timeline_key):
                if retweet_of is None:
                    batch.run(self._push, [timeline_key(u) for u in group], args)
                else:
                    keys = [key for u in group for key in (timeline_key(u), retweets_key(u))]
                    batch.run(self._push_retweet, keys, [*args, retweet_of])
            return sum(int(pushed) for pushed in batch.execute())

    def add_to_each(self, user_ids: list[str], tweet_ids: list[int], retweets: Mapping[int, int] | None = None) -> None:
        """Backfill of many timelines in one round trip (each written only if live)."""
        if not tweet_ids or not user_ids:
            return
        members = list(retweet_members({r: d for r, d in (retweets or {}).items() if r in set(tweet_ids)}))
        args = [self.max_items, len(tweet_ids), *tweet_ids, *members]
        with Batch(self.redis) as batch:
            for user_id in user_ids:
                batch.run(self._add_many, [timeline_key(user_id), retweets_key(user_id)], args)
            batch.execute()

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
            pipe.delete(key)
            pipe.delete(index)
            pipe.zadd(key, {SENTINEL: float("inf"), **{str(t): t for t in newest}})
            pipe.expire(key, self.ttl_s)
            if kept:
                pipe.zadd(index, retweet_members(kept))
                pipe.expire(index, self.ttl_s)
            pipe.execute()

    def _read_reader_slot(self, user_id: str, *, before_id: int | None, count: int):
        upper, extra = page_bounds(before_id)
        keys = [
            timeline_key(user_id),
            retweets_key(user_id),
            following_key(user_id),
            *(hidden_key(kind, user_id) for kind in HIDING),
        ]
        live, ids, hidden, following, indexed = self._read_reader(
            self.redis,
            keys,
            [upper, count + 1 + extra, self.ttl_s],  # +1: the sentinel
        )
        return bool(live), _below(ids, before_id)[:count], frozenset(hidden), sorted(following), _pairs(indexed)

    def _marked(self, following: list[str]) -> tuple[list[str], list[str]]:
        """The followed celebrities and the deferring followees: one round trip."""
        if not following:
            return [], []
        with Batch(self.redis) as batch:
            batch.pipe.smismember(CELEBRITIES, following)
            batch.pipe.smismember(DEFERRED_AUTHORS, following)
            celebrity, deferring = batch.execute()
        return (
            [u for u, yes in zip(following, celebrity, strict=True) if yes],
            [u for u, yes in zip(following, deferring, strict=True) if yes],
        )

    def read(self, user_id: str, *, before_id: int | None, count: int) -> TimelineSlice:
        """The timeline's slice without its pulls or hydration: is it live, its next ids, the followed celebrities
        and deferring followees, hidden authors, and below a cursor the indexed retweets above it. Two round trips
        (the reader's slot, then the marks)."""
        live, ids, hidden, following, indexed = self._read_reader_slot(user_id, before_id=before_id, count=count)
        celebrities, deferred = self._marked(following)
        return TimelineSlice(
            live=live,
            ids=ids,
            celebrities=celebrities,
            hidden_authors=hidden,
            retweets_above={r: d for r, d in indexed.items() if r >= before_id} if before_id else {},
            deferred=deferred,
        )

    def read_home(self, user_id: str, *, before_id: int | None, count: int, merge_celebrities: bool) -> HomeSnapshot:
        """The whole home read: on a single Redis one round trip, one script (see _READ_HOME); on a cluster in
        waves (see _read_home_in_waves)."""
        if self.cluster:
            return self._read_home_in_waves(user_id, before_id=before_id, count=count, merge=merge_celebrities)
        upper, extra = page_bounds(before_id)
        keys = [
            timeline_key(user_id),
            retweets_key(user_id),
            following_key(user_id),
            *(hidden_key(kind, user_id) for kind in HIDING),
            CELEBRITIES,
            DEFERRED_AUTHORS,
        ]
        prefixes = ["celeb:", "celebrts:", "deferred:", tweet_key(""), profile_key("")]
        args = [upper, count + 1 + extra, count + extra, before_id or "", int(merge_celebrities), self.ttl_s, count]
        reply = self._read_home(self.redis, keys, [*args, *prefixes])
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

    def _read_home_in_waves(self, user_id: str, *, before_id: int | None, count: int, merge: bool) -> HomeSnapshot:
        """The home read on Redis Cluster, each wave pipelined to the nodes it needs in parallel:
        1. the reader's slot (one script): liveness, ids, hidden authors, followees, the retweet index from the page
           up;
        2. the marks of the followees (celebrities, deferring), and the cached tweets of the timeline's own page;
        3. with marked followees, their pull sets and pull-set retweet indexes; the cached profiles of the authors
           read so far;
        4. and 5., only when pulled entries make the page: their cached tweets with the pulled authors' profiles,
           then the profiles of the authors those tweets reveal (the originals of pulled retweets, rivals above).
        Without marked followees: three waves."""
        upper, extra = page_bounds(before_id)
        live, ids, hidden, following, index = self._read_reader_slot(user_id, before_id=before_id, count=count)
        above = {r: d for r, d in index.items() if r >= before_id} if before_id else {}
        found = _Hydrating(tweets={}, asked=set(), profiles={}, asked_profiles=set())
        celebrities, deferred = self._marked_with(following, found, found.tweets_wanted(ids, index, above))
        pulled_from = [*(celebrities if merge else []), *deferred]
        pulled, pulled_index = self._pull_with(pulled_from, celebrities if merge else [], found, upper, count + extra)
        pulled_ids = [i for members in pulled for i in _below(members, before_id)[:count]]
        pulled_above = {r: d for r, d in pulled_index.items() if r >= before_id} if before_id else {}
        page = page_candidates([ids, pulled_ids], count)
        more = found.tweets_wanted(page, {**index, **pulled_index}, {**above, **pulled_above})
        if more:
            self._hydrate_wave(found, more, [a for a in pulled_from if a not in found.asked_profiles])
        if authors := found.authors_wanted():
            self._hydrate_wave(found, [], authors)
        return HomeSnapshot(
            timeline=TimelineSlice(
                live=live,
                ids=ids,
                celebrities=celebrities,
                hidden_authors=hidden,
                retweets_above=above,
                deferred=deferred,
            ),
            pulled=PulledSlice(ids=pulled_ids, retweets_above=pulled_above),
            hydration=CachedHydration(
                tweets=found.tweets,
                tweets_looked_up=frozenset(found.asked),
                profiles=found.profiles,
                profiles_looked_up=frozenset(found.asked_profiles),
                followed=frozenset(found.asked_profiles & set(following)),
            ),
        )

    def _marked_with(self, following: list[str], found: _Hydrating, tweet_ids: list[int]) -> tuple[list, list]:
        """Wave 2: the followees' marks and the given cached tweets."""
        with Batch(self.redis) as batch:
            if following:
                batch.pipe.smismember(CELEBRITIES, following)
                batch.pipe.smismember(DEFERRED_AUTHORS, following)
            for tweet_id in tweet_ids:
                batch.pipe.get(tweet_key(tweet_id))
            results = batch.execute() if len(batch.pipe) else []
        marks, values = (results[:2], results[2:]) if following else ([[], []], results)
        found.asked.update(tweet_ids)
        found.tweets.update({t: Tweet.model_validate_json(v) for t, v in zip(tweet_ids, values, strict=True) if v})
        return (
            [u for u, yes in zip(following, marks[0], strict=False) if yes],
            [u for u, yes in zip(following, marks[1], strict=False) if yes],
        )

    def _pull_with(
        self, authors: list[str], indexed: list[str], found: _Hydrating, upper: str, per_author: int
    ) -> tuple[list[list[str]], dict[int, int]]:
        """Wave 3: the authors' pull sets (celebrities' or deferred), the retweet indexes of `indexed` (celebrities)
        from their oldest pulled entry up, and the cached profiles of the authors of the tweets read so far."""
        authors_known = found.authors_wanted()
        if not authors and not authors_known:
            return [], {}
        celebrities = set(indexed)
        with Batch(self.redis) as batch:
            for author in authors:
                pulled_set = celebrity_key(author) if author in celebrities else deferred_key(author)
                batch.pipe.zrevrangebyscore(pulled_set, upper, "-inf", start=0, num=per_author)
            for author in indexed:
                batch.pipe.zrevrangebyscore(celebrity_retweets_key(author), "+inf", "-inf", start=0, num=per_author)
            for author in authors_known:
                batch.pipe.get(profile_key(author))
            results = batch.execute()
        pulled, indexes, profiles = (
            results[: len(authors)],
            results[len(authors) : len(authors) + len(indexed)],
            results[len(authors) + len(indexed) :],
        )
        self._found_profiles(found, authors_known, profiles)
        return pulled, {r: d for members in indexes for r, d in _pairs(members).items()}

    def _hydrate_wave(self, found: _Hydrating, tweet_ids: list[int], authors: list[str]) -> None:
        with Batch(self.redis) as batch:
            for tweet_id in tweet_ids:
                batch.pipe.get(tweet_key(tweet_id))
            for author in authors:
                batch.pipe.get(profile_key(author))
            results = batch.execute()
        found.asked.update(tweet_ids)
        tweets = results[: len(tweet_ids)]
        found.tweets.update({t: Tweet.model_validate_json(v) for t, v in zip(tweet_ids, tweets, strict=True) if v})
        self._found_profiles(found, authors, results[len(tweet_ids) :])

    @staticmethod
    def _found_profiles(found: _Hydrating, authors: list[str], values: list[str | None]) -> None:
        found.asked_profiles.update(authors)
        found.profiles.update({u: Profile.model_validate_json(v) for u, v in zip(authors, values, strict=True) if v})

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
        """The tweet into the author's deferred set, then the author among the deferred authors (two slots: in this
        order, so the author is never listed without the tweet)."""
        self.redis.zadd(deferred_key(author_id), {str(tweet_id): tweet_id})
        self.redis.sadd(DEFERRED_AUTHORS, author_id)

    def deferred_authors(self) -> list[str]:
        return sorted(self.redis.smembers(DEFERRED_AUTHORS))

    def deferred_of(self, author_id: str, count: int) -> list[int]:
        return [int(m) for m in self.redis.zrange(deferred_key(author_id), 0, max(count, 1) - 1)]

    def undefer(self, author_id: str, tweet_ids: list[int]) -> None:
        """The ids out of the author's deferred set; an author left with none leaves the deferred authors, and is
        listed again if a tweet was deferred meanwhile (defer lists the author after adding the tweet, so one of
        the two sees the other's write)."""
        if not tweet_ids or self._undefer(self.redis, [deferred_key(author_id)], tweet_ids) > 0:
            return
        self.redis.srem(DEFERRED_AUTHORS, author_id)
        if self.redis.zcard(deferred_key(author_id)) > 0:
            self.redis.sadd(DEFERRED_AUTHORS, author_id)

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
        """Marks (with the pull set filled first) or unmarks (the mark removed first) a celebrity: the mark and the
        set are in two slots, and a reader must never find the mark without the set."""
        key, index = celebrity_key(author_id), celebrity_retweets_key(author_id)
        if not is_celebrity:
            self.redis.srem(CELEBRITIES, author_id)
        with self.redis.pipeline(transaction=True) as pipe:
            if is_celebrity:
                if recent_ids:
                    pipe.zadd(key, {str(t): t for t in recent_ids})
                if retweets:
                    pipe.zadd(index, retweet_members(retweets))
            else:
                pipe.delete(key)
                pipe.delete(index)
            if len(pipe):
                pipe.execute()
        if is_celebrity:
            self.redis.sadd(CELEBRITIES, author_id)

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
            for user_id in stale_profiles:
                pipe.delete(profile_key(user_id))
            pipe.sismember(CELEBRITIES, followee_id)
            *_, celebrity = pipe.execute()
        return bool(celebrity)

    def relate(self, kind: Relation, user_id: str, target_id: str, add: bool) -> None:
        key = relation_key(kind, user_id)
        (self.redis.sadd if add else self.redis.srem)(key, target_id)

    def rebuild_lock(self, user_id: str, ttl_s: int) -> RebuildLock:
        return RebuildLock(self.redis.lock(_tagged("lock:rebuild:", user_id), timeout=ttl_s, blocking=False))

    # Read-only views for the consistency auditor: nothing here extends an expiry.
    def live_users(self) -> list[str]:
        """Every live timeline's reader (SCAN on every node of a cluster)."""
        prefix = timeline_key("")[:-2]  # "timeline:" (a hash tag follows)
        keys = self.redis.scan_iter(match=f"{prefix}{{*}}", count=1000)
        return sorted(key[len(prefix) + 1 : -1] for key in keys)

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

    # Hydration caches: tweets and profiles as JSON, one MGET per slot group (one MGET on a single Redis).
    def _mget(self, batch: Batch, keys: list[str]) -> list[list[str]]:
        groups = slot_groups(self.redis, keys, str)
        for group in groups:
            batch.pipe.execute_command("MGET", *group)
        return groups

    @staticmethod
    def _values(groups: list[list[str]], results: list[list[str | None]]) -> dict[str, str | None]:
        pairs = (zip(group, values, strict=True) for group, values in zip(groups, results, strict=True))
        return {key: value for pair in pairs for key, value in pair}

    def get_tweets(self, tweet_ids: list[int]) -> dict[int, Tweet]:
        if not tweet_ids:
            return {}
        with Batch(self.redis) as batch:
            groups = self._mget(batch, [tweet_key(t) for t in tweet_ids])
            values = self._values(groups, batch.execute())
        return {t: Tweet.model_validate_json(v) for t in tweet_ids if (v := values[tweet_key(t)])}

    def put_tweets(self, tweets: list[Tweet], ttl_s: int = 86_400) -> None:
        with self.redis.pipeline(transaction=False) as pipe:
            for tweet in tweets:
                pipe.set(tweet_key(tweet.tweet_id), tweet.model_dump_json(), ex=ttl_s)
            pipe.execute()

    def get_profiles(self, user_ids: list[str], followed_by: str | None = None) -> tuple[dict[str, Profile], set[str]]:
        """Cached profiles and, in the same round trip, which of these users `followed_by` follows."""
        if not user_ids:
            return {}, set()
        with Batch(self.redis) as batch:
            groups = self._mget(batch, [profile_key(u) for u in user_ids])
            if followed_by:
                batch.pipe.smismember(following_key(followed_by), user_ids)
            results = batch.execute()
        values = self._values(groups, results[: len(groups)])
        profiles = {u: Profile.model_validate_json(v) for u in user_ids if (v := values[profile_key(u)])}
        followed = {u for u, yes in zip(user_ids, results[-1], strict=True) if yes} if followed_by else set()
        return profiles, followed

    def put_profiles(self, profiles: list[Profile], ttl_s: int = 300) -> None:
        with self.redis.pipeline(transaction=False) as pipe:
            for profile in profiles:
                pipe.set(profile_key(profile.user_id), profile.model_dump_json(), ex=ttl_s)
            pipe.execute()

    def forget_profiles(self, user_ids: Iterable[str]) -> None:
        with self.redis.pipeline(transaction=False) as pipe:
            for user_id in user_ids:
                pipe.delete(profile_key(user_id))
            if len(pipe):
                pipe.execute()
