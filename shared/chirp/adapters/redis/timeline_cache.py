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
from dataclasses import dataclass, field

import redis
from redis.exceptions import LockNotOwnedError, RedisClusterException, ResponseError

from chirp.adapters.redis.client import Batch, LuaScript, is_cluster, node_groups, slot_groups
from chirp.adapters.redis.parsed_entries import ParsedEntries
from chirp.adapters.redis.scores import page_bounds
from chirp.observability import logger
from chirp.social.model import HIDING, Profile, Relation
from chirp.timelines.model import (
    CachedHydration,
    HomeSnapshot,
    PulledSlice,
    TimelinePage,
    TimelineSlice,
    page_candidates,
)
from chirp.tweets.model import STRING_IDS, Tweet

SENTINEL = "live"
# Named anew with the hash-tagged layout: a mark left by the layout before would point at a pull set under an old
# name, and readers would pull nothing from it (a mark missing is restored with its set, see Timelines).
# The marks share one slot: a mark and the generation it moves change in one script.
CELEBRITIES = "{marks}:celebrities"
DEFERRED_AUTHORS = "{marks}:deferred-authors"  # authors with tweets deferred while fan-out on write was off
MARKS_GENERATION = "{marks}:generation"
FINISHED_PAGE = "page"  # the home read script's answer is the finished page (else the snapshot)
TRIM_SLACK = 64  # ids a timeline may hold past max_items before a push trims it back

# ARGV = entry id, max items, trim above, then the timelines; KEYS[1] = the first of them. Two commands per live
# timeline at Redis's CPU limit:
# ZCARD is the liveness check (0 for a missing key, at least 1 for a live one: the sentinel), then ZADD; a timeline
# is trimmed back to max items only once it holds more than `trim above` ids, so one push in (trim above - max
# items) pays for a trim instead of every push. The timelines come as arguments, flagged to be of several slots
# (Redis 7+; a cluster checks the declared keys for one slot, and lets the script reach any key its node serves):
# on a cluster one call per node, not one per slot. KEYS[1] routes the call.
_PUSH = """#!lua flags=allow-cross-slot-keys
local id, keep, above = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local pushed = 0
for i = 4, #ARGV do
  local key = ARGV[i]
  local held = redis.call('ZCARD', key)
  if held > 0 then
    redis.call('ZADD', key, id, id)
    if held > above then redis.call('ZREMRANGEBYRANK', key, 0, -(keep + 2)) end
    pushed = pushed + 1
  end
end
return pushed
"""

# ARGV = retweet id, max items, trim above, id of the tweet it shows, then (timeline, its retweet index) pairs;
# KEYS[1] = the first timeline. As _PUSH, and the retweet indexed next to each live timeline (trimmed alike,
# expiring with it).
_PUSH_RETWEET = """#!lua flags=allow-cross-slot-keys
local id, keep, above = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local pushed = 0
local member = id .. ':' .. ARGV[4]
for i = 5, #ARGV, 2 do
  local key, index = ARGV[i], ARGV[i + 1]
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
# followed by the author's hash tag), cached tweets and cached profiles, and the reader's id to finish the page
# for ('' for the snapshot only). Returns the finished page when asked and everything it needs was cached: 'page',
# the next cursor ('' for none), then each entry's JSON (a TimelineEntry's, made of the cached tweet and profiles),
# which the Python side builds once per process (ParsedEntries) and runs no rule. Otherwise the raw slice and pulls
# (the caller cuts them exactly) and the cached tweets and profiles of the page they make: its entries, the tweets
# its retweets show, rival retweets above it, and their authors with the reader's follow flags. Ids are compared as
# decimal strings: as doubles, ids near 2^61 collide. Author ids are read from the cached JSON by plain search
# (cjson would round 64-bit ids); one it cannot read is left to the caller.
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

-- What the read needs of a cached tweet, by plain search (a Lua pattern that does not match costs a try at every
-- byte; cjson would round 64-bit ids): its author, the tweet it shows if a retweet, whether deleted. Each key is
-- found at its first place: the text comes after the author, and a quote inside a string is escaped.
local function facts(value)
  local at = string.find(value, '"author_id":"', 1, true)
  local author = at and string.match(value, '^[^"]*', at + 13)
  at = string.find(value, '"retweet_of_id":', 1, true)
  local original = at and string.match(value, '^%d+', at + 16)
  return {json = value, author = author, original = original, deleted = string.find(value, '"deleted":true', 1, true)}
end
local asked, cached, was_asked = {}, {}, {}  -- cached: id -> facts, for the tweets found
local function fetch(wanted)
  local values = each_chunk('MGET', nil, tweet_p, wanted, {})
  for i, id in ipairs(wanted) do
    asked[#asked + 1] = id
    was_asked[id] = true
    if values[i] then cached[id] = facts(values[i]) end
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
for _, id in ipairs(page) do
  local tweet = cached[id]
  if tweet then
    shown[tweet.original or id] = true
    if tweet.original then want(tweet.original) end
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

local tweets, authors, profiles, followed, known = {}, {}, {}, {}, {}
for i, id in ipairs(asked) do
  local tweet = cached[id]
  tweets[i] = tweet and tweet.json or false
  local author = tweet and tweet.author
  if author and not known[author] and not string.find(author, '\\', 1, true) then
    known[author] = true
    authors[#authors + 1] = author
  end
end
each_chunk('MGET', nil, profile_p, authors, profiles)
each_chunk('SMISMEMBER', following, '', authors, followed)

-- The page finished here, as Timelines.hydrate would (tests/integration/test_home_read.py holds the two equal), when
-- the timeline is live and everything it needs was cached; else nil, and the rules finish it from the snapshot.
local function finish(viewer)
  local profile_of, follows, hiding = {}, {}, {}
  for i, author in ipairs(authors) do
    profile_of[author] = profiles[i]
    follows[author] = followed[i] == 1
  end
  for _, author in ipairs(hidden) do hiding[author] = true end
  local entries, on_page, shown_by_entries = {}, {}, {}
  for _, id in ipairs(page) do
    local entry = cached[id]
    if not entry then return nil end
    on_page[id] = true
    if not entry.deleted then
      entries[#entries + 1] = id
      shown_by_entries[entry.original or id] = true
    end
  end
  local competing = {}
  for _, id in ipairs(entries) do competing[#competing + 1] = id end
  local function add_rivals(members)
    for _, member in ipairs(members) do
      local retweet, original = string.match(member, '^(%d+):(%d+)$')
      if retweet and not newer(cursor, retweet) and shown_by_entries[original] and not on_page[retweet] then
        if not cached[retweet] then return false end
        on_page[retweet] = true  -- once, though both an index and a pull set list it
        competing[#competing + 1] = retweet
      end
    end
    return true
  end
  if cursor ~= '' then
    if not add_rivals(above) then return nil end
    for _, members in ipairs(pulled_above) do
      if not add_rivals(members) then return nil end
    end
  end
  -- What each competing entry shows, and whether the reader may see it: nil when something is not cached.
  local shows, visible = {}, {}
  for _, id in ipairs(competing) do
    local entry, original = cached[id], cached[id]
    if entry.original then original = cached[entry.original] end
    if not original or follows[entry.author] == nil then return nil end
    shows[id] = entry.original or id
    visible[id] = not entry.deleted and not original.deleted and not hiding[entry.author]
      and not hiding[original.author] and (entry.author == viewer or follows[entry.author])
  end
  local newest = {}
  for _, id in ipairs(competing) do
    local shown = shows[id]
    if visible[id] and (not newest[shown] or newer(id, newest[shown])) then newest[shown] = id end
  end
  local next_cursor = ''
  if #page == count then next_cursor = page[count] end
  local finished = {'page', next_cursor}
  for _, id in ipairs(entries) do
    if visible[id] and newest[shows[id]] == id then
      local entry, original = cached[id], cached[shows[id]]
      local author, retweeter = profile_of[original.author], 'null'
      if entry.original then retweeter = profile_of[entry.author] end
      if not author or not retweeter then return nil end
      finished[#finished + 1] = '{"entry_id":' .. id .. ',"tweet":' .. original.json .. ',"author":' .. author
        .. ',"retweeted_by":' .. retweeter .. '}'
    end
  end
  return finished
end
if ARGV[13] ~= '' and live == 1 then
  local finished = finish(ARGV[13])
  if finished then return finished end
end
return {live, ids, celebrities, hidden, deferred, above, pulled, pulled_above, asked, tweets, authors, profiles,
  followed}
"""


# The reader's share of a home read on Redis Cluster, in its slot: KEYS = the timeline, its retweet index,
# following, blocks, mutes, the marks kept for the reader; ARGV = the page's upper score, how many ids to read, the
# expiry (s), the cursor ('' on the first page). Returns liveness, the ids, the hidden authors, the followees, the
# indexed retweets from the lowest id read (or the cursor) up: those on the page, with the tweets they show, and
# those above it; and the marks kept (the followees' version they were read for, the marks' generation, the
# followed celebrities, the deferring followees).
_READ_READER = """
local live = redis.call('EXISTS', KEYS[1])
local ids = redis.call('ZREVRANGEBYSCORE', KEYS[1], ARGV[1], '-inf', 'LIMIT', 0, ARGV[2])
local hidden = redis.call('SUNION', KEYS[4], KEYS[5])
local following = redis.call('SMEMBERS', KEYS[3])
for i = 1, 2 do redis.call('EXPIRE', KEYS[i], ARGV[3]) end
local lowest = ids[#ids]
if lowest == 'live' then lowest = ids[#ids - 1] end
if not lowest and ARGV[4] ~= '' then lowest = ARGV[4] end  -- nothing below the cursor: what is above it
local indexed = {}
if lowest then indexed = redis.call('ZRANGEBYSCORE', KEYS[2], lowest, '+inf') end
local kept = redis.call('HMGET', KEYS[6], 'v', 'generation', 'celebrities', 'deferred')
return {live, ids, hidden, following, indexed, kept}
"""

# The marks' generation (KEYS[1]): changed with every mark (see _MARK), made from Redis's clock where missing (a
# flushed node), so that marks kept for a reader before a flush never match the marks after it.
_GENERATION = """
local generation = redis.call('GET', KEYS[1])
if generation then return generation end
local time = redis.call('TIME')
generation = string.format('%.0f', tonumber(time[1]) * 1000000 + tonumber(time[2]))
redis.call('SET', KEYS[1], generation)
return generation
"""

# KEYS[1] = a mark set, KEYS[2] = the marks' generation; ARGV = '1' to mark or '0' to unmark, the author. A change
# moves the generation forward (past Redis's clock and past the generation before), which voids every reader's
# kept marks.
_MARK = """
local changed = redis.call(ARGV[1] == '1' and 'SADD' or 'SREM', KEYS[1], ARGV[2])
if changed == 1 then
  local time = redis.call('TIME')
  local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
  local before = tonumber(redis.call('GET', KEYS[2]) or '0')
  if now <= before then now = before + 1 end
  redis.call('SET', KEYS[2], string.format('%.0f', now))
end
return changed
"""

# KEYS[1] = the marks kept for a reader; ARGV = the followees' version they were read for, the marks' generation,
# the followed celebrities and deferring followees (comma-separated), the expiry (s). Kept only if the followees
# did not change since they were read.
_KEEP_MARKED = """
if (redis.call('HGET', KEYS[1], 'v') or '0') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'generation', ARGV[2], 'celebrities', ARGV[3], 'deferred', ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""

# KEYS[1] = an author's deferred set; ARGV = tweet ids. Removes them, answers how many are left.
_UNDEFER = """
for i = 1, #ARGV do redis.call('ZREM', KEYS[1], ARGV[i]) end
return redis.call('ZCARD', KEYS[1])
"""


# The switch to the hash-tagged layout (for Redis Cluster): the layout before's keys, left behind, and this layout's
# timelines, pull sets and marks, which functions of the layout before may have missed writes to while both ran.
# Dropping them all is what a Redis flush does to timelines: each is rebuilt from DynamoDB on its next read.
LAYOUT_BEFORE = (
    *(
        f"{name}:[^{{]*"
        for name in ("timeline", "rts", "following", "blocks", "mutes", "celeb", "celebrts", "deferred")
    ),
    "lock:rebuild:[^{]*",
    "celebrities",
    "deferred-authors",
)
REBUILT_AFTER_SWITCH = ("timeline:{*", "rts:{*", "marked:{*", "celeb:{*", "celebrts:{*", "{marks}:*")


def switch_layout(client: redis.Redis) -> dict[str, int]:
    """Deletes the keys of LAYOUT_BEFORE and REBUILT_AFTER_SWITCH on every node (SCAN); answers how many per
    pattern. Run once every function runs this layout (after the deploy)."""
    deleted = {}
    for pattern in (*LAYOUT_BEFORE, *REBUILT_AFTER_SWITCH):
        keys = list(client.scan_iter(match=pattern, count=1000))
        for start in range(0, len(keys), 1000):
            client.unlink(*keys[start : start + 1000])
        deleted[pattern] = len(keys)
    return deleted


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


def marked_key(user_id: str) -> str:
    """A reader's followed celebrities and deferring followees as its last home read found them (Redis Cluster)."""
    return _tagged("marked:", user_id)


def _split(joined: str | None) -> list[str]:
    return joined.split(",") if joined else []


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
    deferring: set[str] = field(default_factory=set)  # the followees with deferred tweets
    # The marks a cluster read would use instead of reading them (its last read's, while still in force): the
    # followed celebrities and the deferring followees; None when there are none in force.
    kept_marks: tuple[set[str], set[str]] | None = None


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
class _WavedRead:
    """What a home read on Redis Cluster knows after each wave, and what it can ask in the next."""

    following: list[str]
    before_id: int | None
    count: int
    ids: list[int]  # the timeline's, below the cursor
    index: dict[int, int]  # the timeline's retweets from its page up
    above: dict[int, int]  # of those, the ones above the cursor
    celebrities: list[str] | None = None  # the followed celebrities (None: not known yet)
    deferred: list[str] | None = None  # the deferring followees
    pulled_celebrities: list[str] = field(default_factory=list)  # the celebrities merged in
    pulled_from: list[str] = field(default_factory=list)  # whose pull sets are read: those, then the deferring
    fresh_marks: bool = False  # the marks were read anew: keep them for the next read
    pulled_ids: list[int] | None = None  # each pull set's newest below the cursor (None: not read yet)
    pulled_by: dict[int, str] = field(default_factory=dict)  # pulled entry -> its author (the set's owner)
    pulled_index: dict[int, int] = field(default_factory=dict)  # the merged celebrities' retweets
    tweets: dict[int, Tweet] = field(default_factory=dict)
    asked: set[int] = field(default_factory=set)
    profiles: dict[str, Profile] = field(default_factory=dict)
    asked_profiles: set[str] = field(default_factory=set)

    def marked(self, celebrities: list[str], deferred: list[str], merge: bool) -> None:
        self.celebrities, self.deferred = celebrities, deferred
        self.pulled_celebrities = celebrities if merge else []
        self.pulled_from = [*self.pulled_celebrities, *deferred]
        if not self.pulled_from:
            self.pulled_ids = []

    def found_marks(self, celebrity: list[int], deferring: list[int], merge: bool) -> None:
        followees = self.following
        self.marked(
            [u for u, yes in zip(followees, celebrity, strict=True) if yes],
            [u for u, yes in zip(followees, deferring, strict=True) if yes],
            merge,
        )
        self.fresh_marks = True

    def found_pulls(self, results: list[list[str]]) -> None:
        sets = zip(self.pulled_from, results[: len(self.pulled_from)], strict=True)  # an author may have two
        cut = [(author, _below(members, self.before_id)[: self.count]) for author, members in sets]
        self.pulled_ids = [i for _, ids in cut for i in ids]
        self.pulled_by = {i: author for author, ids in cut for i in ids}
        self.pulled_index = {r: d for members in results[len(self.pulled_from) :] for r, d in _pairs(members).items()}

    def pulled_above(self) -> dict[int, int]:
        return {r: d for r, d in self.pulled_index.items() if r >= self.before_id} if self.before_id else {}

    def page(self) -> list[int]:
        """The page's entries once the pulls are read; before, the timeline's own (most of the page, usually)."""
        return self.ids if self.pulled_ids is None else page_candidates([self.ids, self.pulled_ids], self.count)

    def tweets_wanted(self) -> list[int]:
        """The page's entries, the tweets its retweets show (from the retweet indexes), and the retweets above that
        show the same tweets: all known before any tweet is read."""
        entries, index, above = self.page(), {**self.index, **self.pulled_index}, {**self.above, **self.pulled_above()}
        shown = {index.get(e, e) for e in entries}
        wanted = {*entries, *(index[e] for e in entries if e in index), *(r for r, d in above.items() if d in shown)}
        return sorted(wanted - self.asked)

    def found_tweets(self, tweet_ids: list[int], values: list[str | None]) -> None:
        self.asked.update(tweet_ids)
        self.tweets.update({t: Tweet.model_validate_json(v) for t, v in zip(tweet_ids, values, strict=True) if v})

    def authors_wanted(self) -> list[str]:
        """The authors of the tweets read, and of the pulled entries on the page (each its pull set's owner)."""
        pulled = {self.pulled_by[e] for e in self.page() if e in self.pulled_by}
        return sorted(({t.author_id for t in self.tweets.values()} | pulled) - self.asked_profiles)

    def found_profiles(self, authors: list[str], values: list[str | None]) -> None:
        self.asked_profiles.update(authors)
        self.profiles.update({u: Profile.model_validate_json(v) for u, v in zip(authors, values, strict=True) if v})


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
        self.parsed_entries = ParsedEntries()
        self._read_reader = LuaScript(_READ_READER)
        self._generation = LuaScript(_GENERATION)
        self._mark = LuaScript(_MARK)
        self._keep_marked = LuaScript(_KEEP_MARKED)

    def push(self, tweet_id: int, user_ids: list[str], retweet_of: int | None = None) -> int:
        """Adds the entry to each live timeline among user_ids (a retweet also to their retweet indexes): one script
        call for all of them on a single Redis, one per node on a cluster, in one round trip (wave); returns how many
        were live. A timeline keeps at least max_items ids and at most max_items + TRIM_SLACK."""
        try:
            return self._push_in(node_groups(self.redis, user_ids, timeline_key), tweet_id, retweet_of)
        except (ResponseError, RedisClusterException):
            if not self.cluster:  # one node: no slot can have moved, going again would only fail again
                raise
            # Slots moving between nodes (resharding, failover): one call per slot, which redis-py routes and
            # redirects. Pushing again is harmless: a timeline holds an id once.
            return self._push_in(slot_groups(self.redis, user_ids, timeline_key), tweet_id, retweet_of)

    def _push_in(self, groups: list[list[str]], tweet_id: int, retweet_of: int | None) -> int:
        args = [tweet_id, self.max_items, self.trim_above]
        with Batch(self.redis) as batch:
            for group in groups:
                if retweet_of is None:
                    keys = [timeline_key(u) for u in group]
                    batch.run(self._push, keys[:1], [*args, *keys])
                else:
                    keys = [key for u in group for key in (timeline_key(u), retweets_key(u))]
                    batch.run(self._push_retweet, keys[:1], [*args, retweet_of, *keys])
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

    @staticmethod
    def _reader_keys(user_id: str) -> list[str]:
        """The reader's keys a home read reads, all in the reader's slot."""
        relations = [following_key(user_id), *(hidden_key(kind, user_id) for kind in HIDING)]
        return [timeline_key(user_id), retweets_key(user_id), *relations, marked_key(user_id)]

    def _read_reader_slot(self, user_id: str, *, before_id: int | None, count: int):
        upper, extra = page_bounds(before_id)
        args = [upper, count + 1 + extra, self.ttl_s, before_id or ""]  # +1: the sentinel
        live, ids, hidden, following, indexed, _ = self._read_reader(self.redis, self._reader_keys(user_id), args)
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

    def read_home(
        self, user_id: str, *, before_id: int | None, count: int, merge_celebrities: bool, finish: bool = False
    ) -> HomeSnapshot | TimelinePage:
        """The whole home read: on a single Redis one round trip, one script (see _READ_HOME), which with `finish`
        answers the finished page when everything it needs was cached (its entries built once per process, see
        ParsedEntries); on a cluster in waves (see _read_home_in_waves), always the snapshot."""
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
        reply = self._read_home(self.redis, keys, [*args, *prefixes, user_id if finish else ""])
        if reply[0] == FINISHED_PAGE:
            return self.parsed_entries.page(reply[1], reply[2:])
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
        """The home read on Redis Cluster, in waves: each sends, pipelined to the nodes in parallel, everything the
        waves before made known.
        1. the reader's slot (one script): liveness, ids, hidden authors, followees, the retweet index from the page
           up, the marks of the followees as the last read found them; the marks' generation (their slot);
        2. the followees' pull sets (or, when the marks moved since, the marks: one wave more), the cached tweets of
           the timeline's own newest entries with what their retweets show and rivals above, the pulled authors'
           profiles;
        3. the cached tweets of the pulled entries on the page; the profiles of the authors read so far;
        4. only for authors the third wave revealed (a pulled retweet's original, a rival above): their profiles.
        """
        upper, extra = page_bounds(before_id)
        with Batch(self.redis) as batch:
            args = [upper, count + 1 + extra, self.ttl_s, before_id or ""]  # +1: the sentinel
            batch.run(self._read_reader, self._reader_keys(user_id), args)
            batch.run(self._generation, [MARKS_GENERATION])
            (live, ids, hidden, following, indexed, kept), generation = batch.execute()
        ids, index = _below(ids, before_id)[:count], _pairs(indexed)
        above = {r: d for r, d in index.items() if r >= before_id} if before_id else {}
        read = _WavedRead(
            following=sorted(following), before_id=before_id, count=count, ids=ids, index=index, above=above
        )
        version, kept_generation, kept_celebrities, kept_deferred = kept
        if kept_generation == str(generation):
            read.marked(_split(kept_celebrities), _split(kept_deferred), merge)
        while self._next_wave(read, user_id, version, generation, upper, count + extra, merge):
            pass
        return HomeSnapshot(
            timeline=TimelineSlice(
                live=bool(live),
                ids=ids,
                celebrities=read.celebrities or [],
                hidden_authors=frozenset(hidden),
                retweets_above=above,
                deferred=read.deferred or [],
            ),
            pulled=PulledSlice(ids=read.pulled_ids or [], retweets_above=read.pulled_above()),
            hydration=CachedHydration(
                tweets=read.tweets,
                tweets_looked_up=frozenset(read.asked),
                profiles=read.profiles,
                profiles_looked_up=frozenset(read.asked_profiles),
                followed=frozenset(read.asked_profiles & set(read.following)),
            ),
        )

    def _next_wave(self, read: _WavedRead, user_id: str, version, generation, upper: str, per_author: int, merge):
        """Sends one wave of what `read` can ask now; False when there is nothing left to ask."""
        replies: list = []  # (how many results, what takes them)
        with Batch(self.redis) as batch:
            if read.celebrities is None and read.following:
                batch.pipe.smismember(CELEBRITIES, read.following)
                batch.pipe.smismember(DEFERRED_AUTHORS, read.following)
                replies.append((2, lambda marks: read.found_marks(*marks, merge)))
            elif read.celebrities is None:
                read.marked([], [], merge)
            if read.fresh_marks:  # kept for the reader's next read, unless the followees changed meanwhile
                keep = [version or 0, generation, ",".join(read.celebrities), ",".join(read.deferred), self.ttl_s]
                batch.run(self._keep_marked, [marked_key(user_id)], keep)
                replies.append((1, lambda _: None))
                read.fresh_marks = False
            if read.pulled_ids is None and read.celebrities is not None:
                pulled_sets = [*map(celebrity_key, read.pulled_celebrities), *map(deferred_key, read.deferred)]
                for pulled_set in pulled_sets:  # in the order of read.pulled_from
                    batch.pipe.zrevrangebyscore(pulled_set, upper, "-inf", start=0, num=per_author)
                for author in read.pulled_celebrities:  # their retweets among the pulled entries, and above the page
                    index = celebrity_retweets_key(author)
                    batch.pipe.zrevrangebyscore(index, upper, "-inf", start=0, num=per_author)
                    if read.before_id:
                        batch.pipe.zrangebyscore(index, read.before_id, "+inf")
                indexes = len(read.pulled_celebrities) * (2 if read.before_id else 1)
                replies.append((len(read.pulled_from) + indexes, read.found_pulls))
            if tweet_ids := read.tweets_wanted():
                for tweet_id in tweet_ids:
                    batch.pipe.get(tweet_key(tweet_id))
                replies.append((len(tweet_ids), lambda values, t=tweet_ids: read.found_tweets(t, values)))
            if authors := read.authors_wanted():
                for author in authors:
                    batch.pipe.get(profile_key(author))
                replies.append((len(authors), lambda values, a=authors: read.found_profiles(a, values)))
            if not replies:
                return False
            results = batch.execute()
        for taken, take in replies:
            take(results[:taken])
            results = results[taken:]
        return True

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
        self._marking(DEFERRED_AUTHORS, author_id, True)

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
        self._marking(DEFERRED_AUTHORS, author_id, False)
        if self.redis.zcard(deferred_key(author_id)) > 0:
            self._marking(DEFERRED_AUTHORS, author_id, True)

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
            self._marking(CELEBRITIES, author_id, False)
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
            self._marking(CELEBRITIES, author_id, True)

    def _marking(self, marks: str, author_id: str, marked: bool) -> None:
        """A mark set and the marks' generation, in one script (their slot)."""
        self._mark(self.redis, [marks, MARKS_GENERATION], [int(marked), author_id])

    def _followees_changed(self, pipe, user_id: str) -> None:
        """Voids the marks kept for the reader (same slot as the followees: one pipeline or transaction with the
        change): a read that began before cannot keep what it found either, its version being older."""
        key = marked_key(user_id)
        pipe.hincrby(key, "v", 1)
        pipe.hdel(key, "generation")
        pipe.expire(key, self.ttl_s)

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
            self._followees_changed(pipe, user_id)
            pipe.execute()

    def follow(self, follower_id: str, followee_id: str, stale_profiles: Iterable[str]) -> bool:
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.sadd(relation_key(Relation.FOLLOWS, follower_id), followee_id)
            self._followees_changed(pipe, follower_id)
            for user_id in stale_profiles:
                pipe.delete(profile_key(user_id))
            pipe.sismember(CELEBRITIES, followee_id)
            *_, celebrity = pipe.execute()
        return bool(celebrity)

    def relate(self, kind: Relation, user_id: str, target_id: str, add: bool) -> None:
        with self.redis.pipeline(transaction=False) as pipe:
            (pipe.sadd if add else pipe.srem)(relation_key(kind, user_id), target_id)
            if kind is Relation.FOLLOWS:
                self._followees_changed(pipe, user_id)
            pipe.execute()

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
        generation, kept_celebrities, kept_deferred = self.redis.hmget(
            marked_key(user_id), ["generation", "celebrities", "deferred"]
        )
        in_force = generation is not None and generation == self.redis.get(MARKS_GENERATION)
        return CachedTimeline(
            ids=ids,
            following=following,
            hidden=hidden,
            celebrities=celebrities,
            pulled=pulled,
            indexed_retweets=indexed,
            deferring=set(deferred),
            kept_marks=(set(_split(kept_celebrities)), set(_split(kept_deferred))) if in_force else None,
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
                # Without the computed string ids and the fields at their defaults: every read parses what it
                # stores (a home page 20 times over), and computes or defaults them again.
                value = tweet.model_dump_json(exclude=STRING_IDS, exclude_defaults=True)
                pipe.set(tweet_key(tweet.tweet_id), value, ex=ttl_s)
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
                pipe.set(profile_key(profile.user_id), profile.model_dump_json(exclude_defaults=True), ex=ttl_s)
            pipe.execute()

    def forget_profiles(self, user_ids: Iterable[str]) -> None:
        with self.redis.pipeline(transaction=False) as pipe:
            for user_id in user_ids:
                pipe.delete(profile_key(user_id))
            if len(pipe):
                pipe.execute()
