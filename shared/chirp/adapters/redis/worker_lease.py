"""Snowflake worker slots leased in Redis (see chirp.ids.snowflake for the guarantees they give)."""

from __future__ import annotations

import random
import uuid

import redis

from chirp.ids.snowflake import SLOT_COUNT, IdGenerationError, WorkerIdsExhausted

LEASE_KEY_PREFIX = "chirp:snowflake:lease:"
DEFAULT_LEASE_TTL_MS = 60_000


# Tries every slot from a start offset and takes the first free one, all in one round trip; returns it or -1.
# Key names are built here rather than passed in KEYS (sending 1024 names costs more than the search): fine on
# one Redis primary, as Chirp's (non-cluster) replication group is, but not on Redis Cluster.
# ARGV: key prefix, token, ttl ms, start slot, slot count.
_ACQUIRE = """
local count = tonumber(ARGV[5])
for i = 0, count - 1 do
  local slot = (tonumber(ARGV[4]) + i) % count
  if redis.call('SET', ARGV[1] .. slot, ARGV[2], 'NX', 'PX', ARGV[3]) then
    return slot
  end
end
return -1
"""

# Only the holder's token may extend or delete the key: after expiry another process may own the slot.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def _lease_key(slot: int) -> str:
    return f"{LEASE_KEY_PREFIX}{slot}"


class WorkerLease:
    """A lease on one of the 1024 (datacenter, worker) slots, kept in Redis as `chirp:snowflake:lease:{slot}`.

    The key holds a random token of the current holder and expires after `ttl_ms` unless renewed.
    """

    def __init__(self, client: redis.Redis, ttl_ms: int = DEFAULT_LEASE_TTL_MS) -> None:
        if ttl_ms <= 0:
            raise ValueError(f"ttl_ms must be positive, got {ttl_ms}")
        self._ttl_ms = ttl_ms
        self._acquire_script = client.register_script(_ACQUIRE)
        self._renew_script = client.register_script(_RENEW)
        self._release_script = client.register_script(_RELEASE)
        self._slot: int | None = None
        self._token: str | None = None

    @property
    def ttl_ms(self) -> int:
        return self._ttl_ms

    @property
    def slot(self) -> int | None:
        """The slot held since the last acquire(), or None if none is (known to be) held."""
        return self._slot

    def acquire(self) -> int:
        """Takes a free slot and returns it; raises WorkerIdsExhausted when all 1024 are held."""
        if self._slot is not None:
            raise IdGenerationError(f"this lease already holds slot {self._slot}; release it first")
        # A random start spreads concurrent cold starts over the slots instead of all racing for slot 0.
        start = random.randrange(SLOT_COUNT)
        # A fresh token per acquisition, so a stale holder can never renew or release the new lease.
        token = uuid.uuid4().hex
        slot = int(self._acquire_script(args=[LEASE_KEY_PREFIX, token, self._ttl_ms, start, SLOT_COUNT]))
        if slot < 0:
            raise WorkerIdsExhausted(
                f"all {SLOT_COUNT} snowflake worker slots are leased; more than {SLOT_COUNT} processes "
                f"are issuing ids at once, or leases of dead processes have not expired yet (TTL {self._ttl_ms} ms)"
            )
        self._slot, self._token = slot, token
        return slot

    def renew(self) -> bool:
        """Extends the lease by the TTL; False (and no slot held any more) if it has been lost."""
        if self._slot is None:
            return False
        if int(self._renew_script(keys=[_lease_key(self._slot)], args=[self._token, self._ttl_ms])) == 1:
            return True
        self._slot = self._token = None
        return False

    def release(self) -> bool:
        """Frees the slot now if still ours; True if it was.

        The next holder may start issuing at once, so stop issuing ids first; letting the lease expire is
        safer when another host's clock may lag this one's.
        """
        if self._slot is None:
            return False
        released = int(self._release_script(keys=[_lease_key(self._slot)], args=[self._token])) == 1
        self._slot = self._token = None
        return released
