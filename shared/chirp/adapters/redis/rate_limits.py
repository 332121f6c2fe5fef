"""Rate limit counters in Redis: GCRA in one Lua script on Redis's own clock (TIME), so every Lambda agrees on
time whatever its own clock says, and a check is one round trip (EVALSHA) in one hash slot.

A counter key holds the theoretical arrival time (TAT, microseconds since the epoch) of the caller's next request
in one class and expires when the limit is whole again, so an idle client costs nothing; a refused request leaves
it unchanged. The caller's overrides key is a hash (class, or `*` for every class -> "count window_us") that the
script reads first: an operator's raised limit costs no extra round trip. The overrides are mirrored from SSM
(OverrideMirror); the set `limit-overrides` lists the users mirrored, so that a removed override is removed.
"""

from __future__ import annotations

import redis

from chirp.adapters.outages import is_outage
from chirp.adapters.redis.client import REDIS_FAILURES
from chirp.limits.model import EndpointClass, Limit, LimitState, Subject
from chirp.limits.ports import LimitStoreUnavailable, Overrides
from chirp.limits.service import limit_key, overrides_key

MIRRORED = "limit-overrides"  # user ids whose overrides are mirrored (read by the mirror only, never per request)
EVERY_CLASS = "*"

# KEYS[1] = the counter, KEYS[2] = the caller's overrides; ARGV = the tier's count and window (microseconds), the
# class. Returns {allowed, remaining, reset_after_ms, retry_after_ms, now_ms, count, window_us}.
GCRA = """
local count = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local override = redis.call('HMGET', KEYS[2], ARGV[3], '*')
local chosen = override[1] or override[2]
if chosen then
  local c, w = string.match(chosen, '^(%d+) (%d+)$')
  if c then count, window = tonumber(c), tonumber(w) end
end
local interval = math.max(1, math.floor(window / count))
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local tat = now
local stored = redis.call('GET', KEYS[1])
if stored then tat = math.max(tonumber(stored), now) end
local next_tat = tat + interval
local now_ms = math.floor(now / 1000)
if next_tat - now > window then
  return {0, 0, math.ceil((tat - now) / 1000), math.ceil((next_tat - window - now) / 1000), now_ms, count, window}
end
redis.call('SET', KEYS[1], string.format('%.0f', next_tat), 'PX', math.max(1, math.ceil((next_tat - now) / 1000)))
return {1, math.floor((window - (next_tat - now)) / interval), math.ceil((next_tat - now) / 1000), 0, now_ms,
        count, window}
"""


def _field(limit: Limit) -> str:
    return f"{limit.count} {limit.window_s * 1_000_000}"


class RedisLimitStore:
    def __init__(self, client: redis.Redis, mirrored: str = MIRRORED):
        self.redis, self.mirrored = client, mirrored  # `mirrored`: the set of mirrored users (tests use their own)
        self._gcra = client.register_script(GCRA)

    def hit(self, subject: Subject, endpoint: EndpointClass, tier: Limit) -> tuple[LimitState, Limit]:
        try:
            allowed, remaining, reset_ms, retry_ms, now_ms, count, window_us = self._gcra(
                keys=[limit_key(subject, endpoint), overrides_key(subject)],
                args=[tier.count, tier.window_s * 1_000_000, endpoint.value],
            )
        except REDIS_FAILURES as error:
            if not is_outage(error):  # a cluster's included: no node reachable, a master down, slots uncovered
                raise
            raise LimitStoreUnavailable(f"{type(error).__name__}: {error}") from error
        state = LimitState(
            allowed=bool(allowed),
            remaining=int(remaining),
            reset_after_ms=int(reset_ms),
            retry_after_ms=int(retry_ms),
            now_ms=int(now_ms),
        )
        applied = tier if (count, window_us) == (tier.count, tier.window_s * 1_000_000) else None
        return state, applied or Limit(int(count), max(1, int(window_us) // 1_000_000))

    def mirror_overrides(self, overrides: dict[str, Overrides]) -> int:
        """One MULTI per user (its hash replaced whole), then the users no longer listed removed."""
        previous = set(self.redis.smembers(self.mirrored))
        for user_id, limits in overrides.items():
            key = overrides_key(Subject("user", user_id))
            fields = {
                EVERY_CLASS if endpoint is None else endpoint.value: _field(limit) for endpoint, limit in limits.items()
            }
            with self.redis.pipeline(transaction=True) as pipe:
                pipe.delete(key)
                if fields:
                    pipe.hset(key, mapping=fields)
                pipe.execute()
        if overrides:
            self.redis.sadd(self.mirrored, *overrides)
        for user_id in sorted(previous - set(overrides)):
            self.redis.delete(overrides_key(Subject("user", user_id)))
            self.redis.srem(self.mirrored, user_id)
        return len(overrides)
