"""Who is connected, in Redis: a hash per user of their connections (`rt:conns:<user>`, connection id ->
the connection's JSON, expiring with the connection's TTL), a sorted set of connected users scored by when
their newest connection expires (`rt:users`: counted and paged without stale members), and the
connections on the public stream (`rt:public`). DynamoDB's connections table is the truth: a marker says the
index is whole, and its absence has the next push rebuild it from the table (chirp.realtime.service)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import redis

from chirp.realtime.model import Connection, Stream

USERS = "rt:users"
PUBLIC = "rt:public"
# Present while the index is whole (set by its rebuild, never expiring): its absence means Redis lost the index.
# The lock lets one caller rebuild; both keys share a hash slot.
BUILT, REBUILDING = "rt:{index}:built", "rt:{index}:rebuilding"
REBUILD_LOCK_S = 60

# Removes a connection; the user leaves the connected set with their last one.
_REMOVE = """
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
if redis.call('HLEN', KEYS[1]) == 0 then redis.call('ZREM', KEYS[2], ARGV[2]) end
return 1
"""


# The index is whole (1), or this caller takes the rebuild's lock (0 when another holds it).
_NEEDS_REBUILD = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) then return 1 end
return 0
"""


def _user_key(user_id: str) -> str:
    return f"rt:conns:{user_id}"


class RedisConnectedIndex:
    def __init__(self, client: redis.Redis, clock_s=time.time):
        self.redis, self.clock_s = client, clock_s
        self._remove = client.register_script(_REMOVE)
        self._needs_rebuild = client.register_script(_NEEDS_REBUILD)

    def add(self, connection: Connection, ttl_s: int) -> None:
        now = self.clock_s()
        key, value = _user_key(connection.user_id), connection.model_dump_json()
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(key, connection.connection_id, value)
        pipe.expire(key, ttl_s)
        pipe.zadd(USERS, {connection.user_id: now + ttl_s})
        pipe.zremrangebyscore(USERS, "-inf", now)  # users whose connections all expired
        if Stream.PUBLIC_LOCAL in connection.streams:
            pipe.hset(PUBLIC, connection.connection_id, value)
        pipe.execute()

    def remove(self, connection: Connection) -> None:
        keys = [_user_key(connection.user_id), USERS, PUBLIC]
        self._remove(keys=keys, args=[connection.connection_id, connection.user_id])

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
        now, offset = self.clock_s(), 0
        while page := self.redis.zrangebyscore(USERS, now, "+inf", start=offset, num=page_size):
            yield page
            offset += len(page)

    def public_connections(self) -> list[Connection]:
        return [Connection.model_validate_json(value) for value in self.redis.hvals(PUBLIC)]

    def needs_rebuild(self) -> bool:
        return bool(self._needs_rebuild(keys=[BUILT, REBUILDING], args=[REBUILD_LOCK_S]))

    def rebuilt(self, connections: list[tuple[Connection, int]]) -> None:
        for connection, ttl_s in connections:  # one round trip each: a rebuild is rare, and add stays the one writer
            self.add(connection, ttl_s)
        pipe = self.redis.pipeline(transaction=True)
        pipe.set(BUILT, "1")
        pipe.delete(REBUILDING)
        pipe.execute()
