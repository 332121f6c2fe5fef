"""Who is connected, in Redis: a hash per user of their connections (`rt:conns:<user>`, connection id ->
the connection's JSON, expiring with the connection's TTL), a sorted set of connected users scored by when
their newest connection expires (`rt:users`: counted and paged without stale members), and the
connections on a public stream (`rt:public`), and of those following a hashtag, a hash per hashtag
(`rt:tag:<hashtag>`). DynamoDB's connections table is the truth: a marker says the
index is whole, and its absence has the next push rebuild it from the table (chirp.realtime.service).

The three are in different hash slots (Redis Cluster): nothing spans them atomically, so removing a user's last
connection looks again after taking the user out of the connected set, and puts back one that connected meanwhile."""

from __future__ import annotations

import time
from collections.abc import Iterator

import redis

from chirp.adapters.redis.client import LuaScript
from chirp.realtime.model import PUBLIC_STREAMS, Connection

USERS = "rt:users"
PUBLIC = "rt:public"
# Present while the index is whole (set by its rebuild, never expiring): its absence means Redis lost the index.
# The lock lets one caller rebuild; both keys share a hash slot.
BUILT, REBUILDING = "rt:{index}:built", "rt:{index}:rebuilding"
REBUILD_LOCK_S = 60

# KEYS[1] = a user's connections; ARGV[1] = one of them. Removes it, answers how many are left and for how long
# (ms) the newest lives.
_REMOVE = """
redis.call('HDEL', KEYS[1], ARGV[1])
return {redis.call('HLEN', KEYS[1]), redis.call('PTTL', KEYS[1])}
"""


# KEYS[1] = the marker, KEYS[2] = the lock: 0 when the index is whole or another caller holds the lock, 1 when
# this caller took it.
_NEEDS_REBUILD = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) then return 1 end
return 0
"""


def _user_key(user_id: str) -> str:
    return f"rt:conns:{user_id}"


def _hashtag_key(hashtag: str) -> str:
    return f"rt:tag:{hashtag}"


class RedisConnectedIndex:
    def __init__(self, client: redis.Redis, clock_s=time.time):
        self.redis, self.clock_s = client, clock_s
        self._remove = LuaScript(_REMOVE)
        self._needs_rebuild = LuaScript(_NEEDS_REBUILD)

    def add(self, connection: Connection, ttl_s: int) -> None:
        now = self.clock_s()
        key, value = _user_key(connection.user_id), connection.model_dump_json()
        pipe = self.redis.pipeline(transaction=False)
        pipe.hset(key, connection.connection_id, value)
        pipe.expire(key, ttl_s)
        pipe.zadd(USERS, {connection.user_id: now + ttl_s})
        pipe.zremrangebyscore(USERS, "-inf", now)  # users whose connections all expired
        if any(stream in connection.streams for stream in PUBLIC_STREAMS):
            pipe.hset(PUBLIC, connection.connection_id, value)
        for hashtag in {hashtag for _, hashtag in connection.hashtags}:
            pipe.hset(_hashtag_key(hashtag), connection.connection_id, value)
        pipe.execute()

    def remove(self, connection: Connection) -> None:
        """The connection out of the index; the user out of the connected set with their last one (and back in if
        they connected again meanwhile)."""
        key = _user_key(connection.user_id)
        left, _ = self._remove(self.redis, [key], [connection.connection_id])
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.hdel(PUBLIC, connection.connection_id)
            for hashtag in {hashtag for _, hashtag in connection.hashtags}:
                pipe.hdel(_hashtag_key(hashtag), connection.connection_id)
            pipe.execute()
        if left:
            return
        self.redis.zrem(USERS, connection.user_id)
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.hlen(key)
            pipe.pttl(key)
            left, ttl_ms = pipe.execute()
        if left and ttl_ms > 0:
            self.redis.zadd(USERS, {connection.user_id: self.clock_s() + ttl_ms / 1000})

    def connections_of(self, user_ids: list[str]) -> dict[str, list[Connection]]:
        pipe = self.redis.pipeline(transaction=False)
        for user_id in user_ids:
            pipe.hvals(_user_key(user_id))
        return {
            user_id: [Connection.model_validate_json(value) for value in values]
            for user_id, values in zip(user_ids, pipe.execute(), strict=True)
            if values
        }

    def connected_users(self) -> int:
        return self.redis.zcount(USERS, self.clock_s(), "+inf")

    def connected_user_pages(self, page_size: int) -> Iterator[list[str]]:
        """The connected users, walked with ZSCAN's cursor rather than an offset: a page costs its own size however
        far the walk is, and users leaving meanwhile (the set's head, removed as they expire) shift nobody past the
        walk. ZSCAN returns every user connected throughout the walk, some maybe twice: those are yielded once."""
        now, cursor, walked = self.clock_s(), 0, set()
        while True:
            cursor, scored = self.redis.zscan(USERS, cursor, count=page_size)
            page = [user for user, expires_s in scored if expires_s >= now and user not in walked]
            walked.update(page)
            if page:
                yield page
            if not cursor:
                return

    def public_connections(self) -> list[Connection]:
        return [Connection.model_validate_json(value) for value in self.redis.hvals(PUBLIC)]

    def hashtag_connections(self, hashtags: list[str]) -> dict[str, list[Connection]]:
        with self.redis.pipeline(transaction=False) as pipe:
            for hashtag in hashtags:
                pipe.hvals(_hashtag_key(hashtag))
            found = pipe.execute()
        return {
            hashtag: [Connection.model_validate_json(value) for value in values]
            for hashtag, values in zip(hashtags, found, strict=True)
            if values
        }

    def needs_rebuild(self) -> bool:
        return bool(self._needs_rebuild(self.redis, [BUILT, REBUILDING], [REBUILD_LOCK_S]))

    def rebuilt(self, connections: list[tuple[Connection, int]]) -> None:
        for connection, ttl_s in connections:  # one round trip each: a rebuild is rare, and add stays the one writer
            self.add(connection, ttl_s)
        with self.redis.pipeline(transaction=False) as pipe:  # one slot: the marker, then the lock released
            pipe.set(BUILT, "1")
            pipe.delete(REBUILDING)
            pipe.execute()
