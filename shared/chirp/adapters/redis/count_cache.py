"""Tweets' summed counts cached in Redis (`counts:{tweet}`, a hash of the four counts), and each tweet's heat
(acts in the current and the previous window, `heat:{tweet}:{window}`) with the counter shards it is known to span
(`shards:{tweet}`). Every method is one round trip.

A cache only: DynamoDB's sums are the truth. When Redis cannot be reached, reads miss, writes are dropped and heat
reads as cold (one shard, always valid): a like or a tweet read still works, answered from DynamoDB, and the
engagements consumer puts the sums back once Redis is there again.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import redis

from chirp.adapters.redis.client import REDIS_FAILURES
from chirp.engagement.model import COUNT_FIELDS, Counts
from chirp.observability import logger

COUNTS_TTL_S = 3600
SHARDS_TTL_S = 86_400

# KEYS[1] = a tweet's counts; ARGV = field, delta. Moves a cached count, and only a cached one.
_BUMP = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2])
end
return false
"""


def counts_key(tweet_id: int) -> str:
    return f"counts:{tweet_id}"


def shards_key(tweet_id: int) -> str:
    return f"shards:{tweet_id}"


class RedisCountCache:
    def __init__(self, client: redis.Redis, clock_s: Callable[[], float] = time.time):
        self.redis, self.clock_s = client, clock_s
        self._bump = client.register_script(_BUMP)

    def get(self, tweet_ids: list[int]) -> dict[int, Counts]:
        if not tweet_ids:
            return {}
        try:
            with self.redis.pipeline(transaction=False) as pipe:
                for tweet_id in tweet_ids:
                    pipe.hmget(counts_key(tweet_id), COUNT_FIELDS)
                rows = pipe.execute()
        except REDIS_FAILURES as error:
            _unreachable("read", error)
            return {}
        return {
            tweet_id: Counts(**{field: int(value) for field, value in zip(COUNT_FIELDS, row, strict=True)})
            for tweet_id, row in zip(tweet_ids, rows, strict=True)
            if all(value is not None for value in row)
        }

    def put(self, counts: dict[int, Counts]) -> None:
        if not counts:
            return
        try:
            with self.redis.pipeline(transaction=False) as pipe:
                for tweet_id, value in counts.items():
                    pipe.hset(counts_key(tweet_id), mapping=value.model_dump())
                    pipe.expire(counts_key(tweet_id), COUNTS_TTL_S)
                pipe.execute()
        except REDIS_FAILURES as error:
            _unreachable("write", error)

    def bump(self, tweet_id: int, field: str, delta: int) -> None:
        try:
            self._bump(keys=[counts_key(tweet_id)], args=[field, delta])
        except REDIS_FAILURES as error:
            _unreachable("bump", error)

    def heat(self, tweet_id: int, window_s: int) -> tuple[int, int]:
        """Acts in this window and the one before (so heat does not drop to nothing at a window's start)."""
        window = int(self.clock_s()) // window_s
        key = f"heat:{tweet_id}:{window}"
        try:
            with self.redis.pipeline(transaction=False) as pipe:
                pipe.incr(key)
                pipe.expire(key, 2 * window_s)
                pipe.get(f"heat:{tweet_id}:{window - 1}")
                pipe.get(shards_key(tweet_id))
                heat, _, before, shards = pipe.execute()
        except REDIS_FAILURES as error:
            _unreachable("heat", error)
            return 0, 1
        return int(heat) + int(before or 0), int(shards or 1)

    def remember_shards(self, tweet_id: int, shards: int) -> None:
        try:
            self.redis.set(shards_key(tweet_id), shards, ex=SHARDS_TTL_S)
        except REDIS_FAILURES as error:
            _unreachable("shards", error)

    def forget(self, tweet_ids: list[int]) -> None:
        """Drops cached counts (tests and benchmarks)."""
        if tweet_ids:
            self.redis.delete(*(counts_key(t) for t in tweet_ids))


def _unreachable(what: str, error: Exception) -> None:
    logger.warning("count cache unavailable; DynamoDB answers", extra={"op": what, "error": type(error).__name__})
