"""Snowflake worker slots leased in DynamoDB (see chirp.ids.snowflake for the guarantees they give).

In DynamoDB, not Redis: a lease must outlive a Redis flush or failover (two processes on one slot would issue
the same ids), and posting must not depend on Redis. One conditional write per slot tried (slots are taken
from a random start, so a cold start almost always takes its first), one per renewal (every half TTL).
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from functools import partial

from chirp.adapters.dynamodb.conditional import updated, written
from chirp.adapters.dynamodb.tables import LeaseItem
from chirp.ids.snowflake import SLOT_COUNT, IdGenerationError, WorkerIdsExhausted

DEFAULT_LEASE_TTL_MS = 60_000


def _wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class DynamoWorkerLease:
    """A lease on one of the SLOT_COUNT (datacenter, worker) slots: the item holds a random token of the current
    holder and the time it expires unless renewed."""

    def __init__(self, ttl_ms: int = DEFAULT_LEASE_TTL_MS, clock: Callable[[], int] = _wall_clock_ms) -> None:
        if ttl_ms <= 0:
            raise ValueError(f"ttl_ms must be positive, got {ttl_ms}")
        self._ttl_ms, self._clock = ttl_ms, clock
        self._slot: int | None = None
        self._token: str | None = None

    @property
    def ttl_ms(self) -> int:
        return self._ttl_ms

    @property
    def slot(self) -> int | None:
        return self._slot

    def acquire(self) -> int:
        if self._slot is not None:
            raise IdGenerationError(f"this lease already holds slot {self._slot}; release it first")
        # A random start spreads concurrent cold starts over the slots instead of all racing for slot 0.
        start = random.randrange(SLOT_COUNT)
        token = uuid.uuid4().hex  # fresh per acquisition: a stale holder can never renew or release this lease
        for offset in range(SLOT_COUNT):
            slot = (start + offset) % SLOT_COUNT
            now = self._clock()
            lease = LeaseItem(slot=slot, token=token, expires_at_ms=now + self._ttl_ms)
            free = LeaseItem.slot.does_not_exist() | (LeaseItem.expires_at_ms < now)
            if written(partial(lease.save, condition=free)):  # else held by a live process
                self._slot, self._token = slot, token
                return slot
        raise WorkerIdsExhausted(
            f"all {SLOT_COUNT} snowflake worker slots are leased; more than {SLOT_COUNT} processes are issuing "
            f"ids at once, or leases of dead processes have not expired yet (TTL {self._ttl_ms} ms)"
        )

    def renew(self) -> bool:
        if self._slot is None:
            return False
        renewed = updated(
            LeaseItem(slot=self._slot),
            [LeaseItem.expires_at_ms.set(self._clock() + self._ttl_ms)],
            LeaseItem.token == self._token,
        )
        if not renewed:
            self._slot = self._token = None  # another process holds the slot now
        return renewed

    def forget(self) -> None:
        self._slot = self._token = None

    def release(self) -> bool:
        """Frees the slot now if still ours; stop issuing ids first."""
        if self._slot is None:
            return False
        released = written(partial(LeaseItem(slot=self._slot).delete, condition=LeaseItem.token == self._token))
        self._slot = self._token = None
        return released
