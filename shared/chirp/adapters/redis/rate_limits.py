"""Rate limit counters in Redis: GCRA in one Lua script on Redis's own clock (TIME), so every Lambda agrees on
time whatever its own clock says, and a check is one round trip (EVALSHA) touching one key.

The key holds the theoretical arrival time (TAT, microseconds since the epoch) of the next request and expires
when the limit is whole again, so an idle client costs nothing. A refused request leaves it unchanged.
"""

from __future__ import annotations

import redis

from chirp.limits.model import Limit, LimitState
from chirp.limits.ports import LimitStoreUnavailable

# KEYS[1] = the counter; ARGV = count (the burst), window in microseconds.
# Returns {allowed, remaining, reset_after_ms, retry_after_ms, now_ms}.
GCRA = """
local count = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local interval = math.max(1, math.floor(window / count))
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local tat = now
local stored = redis.call('GET', KEYS[1])
if stored then tat = math.max(tonumber(stored), now) end
local next_tat = tat + interval
local now_ms = math.floor(now / 1000)
if next_tat - now > window then
  return {0, 0, math.ceil((tat - now) / 1000), math.ceil((next_tat - window - now) / 1000), now_ms}
end
redis.call('SET', KEYS[1], string.format('%.0f', next_tat), 'PX', math.max(1, math.ceil((next_tat - now) / 1000)))
return {1, math.floor((window - (next_tat - now)) / interval), math.ceil((next_tat - now) / 1000), 0, now_ms}
"""


class RedisLimitStore:
    def __init__(self, client: redis.Redis):
        self._gcra = client.register_script(GCRA)

    def hit(self, key: str, limit: Limit) -> LimitState:
        try:
            allowed, remaining, reset_ms, retry_ms, now_ms = self._gcra(
                keys=[key], args=[limit.count, limit.window_s * 1_000_000]
            )
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as error:
            raise LimitStoreUnavailable(f"{type(error).__name__}: {error}") from error
        return LimitState(
            allowed=bool(allowed),
            remaining=int(remaining),
            reset_after_ms=int(reset_ms),
            retry_after_ms=int(retry_ms),
            now_ms=int(now_ms),
        )
