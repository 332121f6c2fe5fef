"""Snowflake ids: 64-bit, roughly time-ordered, unique without coordinating on each id.

Layout (most significant bit first, the sign bit always 0):

    | 41 bits: ms since TWITTER_EPOCH_MS | 5 bits: datacenter | 5 bits: worker | 12 bits: sequence |

so 1024 (datacenter, worker) pairs, each issuing up to 4096 ids per millisecond, until 2079.

Guarantees:
- One `SnowflakeGenerator` issues strictly increasing ids; it waits for the next millisecond when its
  sequence runs out and refuses (raises `ClockMovedBackwards`) rather than reuse a past millisecond.
- A `SlotLease` (DynamoDB: `chirp.adapters.dynamodb.worker_lease`) gives each live process (Lambda environment)
  its own (datacenter, worker) slot, held with a TTL, so two generators never share a slot while their
  leases are valid.
- `LeasedSnowflake` issues ids only within half a TTL of its last confirmed renewal, so a process whose
  lease has expired (e.g. frozen for longer than the TTL) re-leases before it issues again, and the next
  holder of the old slot starts at least half a TTL later. This holds as long as hosts' clocks agree to within
  half a TTL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

TWITTER_EPOCH_MS = 1288834974657

TIMESTAMP_BITS = 41
DATACENTER_BITS = 5
WORKER_BITS = 5
SEQUENCE_BITS = 12

MAX_DATACENTER_ID = (1 << DATACENTER_BITS) - 1
MAX_WORKER_ID = (1 << WORKER_BITS) - 1
MAX_SEQUENCE = (1 << SEQUENCE_BITS) - 1
MAX_TIMESTAMP = (1 << TIMESTAMP_BITS) - 1

WORKER_SHIFT = SEQUENCE_BITS
DATACENTER_SHIFT = SEQUENCE_BITS + WORKER_BITS
TIMESTAMP_SHIFT = SEQUENCE_BITS + WORKER_BITS + DATACENTER_BITS

SLOT_COUNT = 1 << (DATACENTER_BITS + WORKER_BITS)
WORKERS_PER_DATACENTER = 1 << WORKER_BITS


class IdGenerationError(Exception):
    pass


class ClockMovedBackwards(IdGenerationError):
    pass


class WorkerIdsExhausted(IdGenerationError):
    pass


def _wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


def snowflake_timestamp_ms(snowflake: int) -> int:
    """Unix time in ms at which the id was issued."""
    return parse(snowflake)[0]


def snowflake_at(at_ms: int, discriminator: int) -> int:
    """An id ordered like the ids issued at `at_ms`, its lower bits (worker and sequence) taken from
    `discriminator`: for things that are not issued ids but sort among them (e.g. follow notifications)."""
    return (at_ms - TWITTER_EPOCH_MS) << TIMESTAMP_SHIFT | discriminator & ((1 << TIMESTAMP_SHIFT) - 1)


def parse(snowflake: int) -> tuple[int, int, int, int]:
    """Splits an id into (unix timestamp ms, datacenter id, worker id, sequence)."""
    if not 0 <= snowflake < 1 << 63:
        raise ValueError(f"not a snowflake id: {snowflake}")
    return (
        (snowflake >> TIMESTAMP_SHIFT) + TWITTER_EPOCH_MS,
        (snowflake >> DATACENTER_SHIFT) & MAX_DATACENTER_ID,
        (snowflake >> WORKER_SHIFT) & MAX_WORKER_ID,
        snowflake & MAX_SEQUENCE,
    )


class SnowflakeGenerator:
    """Issues strictly increasing ids for one (datacenter, worker) pair; safe to share between threads."""

    def __init__(self, datacenter_id: int, worker_id: int, clock: Callable[[], int] = _wall_clock_ms) -> None:
        if not 0 <= datacenter_id <= MAX_DATACENTER_ID:
            raise ValueError(f"datacenter_id must be in 0..{MAX_DATACENTER_ID}, got {datacenter_id}")
        if not 0 <= worker_id <= MAX_WORKER_ID:
            raise ValueError(f"worker_id must be in 0..{MAX_WORKER_ID}, got {worker_id}")
        self._datacenter_id = datacenter_id
        self._worker_id = worker_id
        self._clock = clock
        self._lock = threading.Lock()
        self._last_ms = -1
        self._sequence = 0

    @property
    def datacenter_id(self) -> int:
        return self._datacenter_id

    @property
    def worker_id(self) -> int:
        return self._worker_id

    def next_id(self) -> int:
        with self._lock:
            now = self._read_clock()
            sequence = 0
            if now == self._last_ms:
                sequence = (self._sequence + 1) & MAX_SEQUENCE
                if sequence == 0:
                    now = self._wait_for_next_ms()
            # State changes only once an id is certain, so a refusal above leaves nothing half-issued.
            self._last_ms, self._sequence = now, sequence
            return (
                ((now - TWITTER_EPOCH_MS) << TIMESTAMP_SHIFT)
                | (self._datacenter_id << DATACENTER_SHIFT)
                | (self._worker_id << WORKER_SHIFT)
                | sequence
            )

    def _read_clock(self) -> int:
        now = self._clock()
        if now < self._last_ms:
            # Issuing now could repeat an id already issued in that millisecond, or break ordering.
            raise ClockMovedBackwards(f"clock moved back {self._last_ms - now} ms; refusing to issue ids")
        if not 0 <= now - TWITTER_EPOCH_MS <= MAX_TIMESTAMP:
            raise IdGenerationError(f"clock {now} ms is outside the 41-bit range of the snowflake epoch")
        return now

    def _wait_for_next_ms(self) -> int:
        # Spinning is fine: the wait is under a millisecond, and nobody else may issue meanwhile anyway.
        while (now := self._read_clock()) == self._last_ms:
            pass
        return now


class SlotLease(Protocol):
    """A lease on one of the SLOT_COUNT (datacenter, worker) slots, held with a TTL (Redis in production)."""

    @property
    def ttl_ms(self) -> int: ...
    @property
    def slot(self) -> int | None: ...
    def acquire(self) -> int:
        """Takes a free slot and returns it; raises WorkerIdsExhausted when every slot is held."""
        ...

    def renew(self) -> bool:
        """Extends the lease by its TTL; False (and no slot held any more) if it has been lost."""
        ...

    def forget(self) -> None:
        """Drops the slot held, leaving the store alone (a copy of this process may hold the same lease)."""
        ...


class LeasedSnowflake:
    """The id source of one Lambda environment: a SnowflakeGenerator on a slot leased in Redis.

    Leases lazily on the first id, renews once half the TTL has passed since the last renewal, and moves to
    a new slot if the lease turns out to have been lost.
    """

    def __init__(
        self,
        lease: SlotLease,
        clock: Callable[[], int] = _wall_clock_ms,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lease = lease
        self._clock = clock
        self._monotonic = monotonic
        self._renew_after_s = lease.ttl_ms / 2 / 1000
        self._lock = threading.Lock()
        self._generator: SnowflakeGenerator | None = None
        self._renewed_at = 0.0

    @property
    def slot(self) -> int | None:
        return self._lease.slot

    def next_id(self) -> int:
        with self._lock:
            return self._current_generator().next_id()

    def after_restore(self) -> None:
        """For a process restored from a snapshot (Lambda SnapStart): every copy restored from one snapshot holds
        the same slot, so each must lease its own before issuing. The snapshot's lease is left to expire."""
        with self._lock:
            self._lease.forget()
            self._generator = None

    def _current_generator(self) -> SnowflakeGenerator:
        if self._generator is None:
            return self._acquire()
        if self._monotonic() - self._renewed_at > self._renew_after_s:
            # Timed from before the request, so Redis's expiry is never earlier than we assume.
            started = self._monotonic()
            if not self._lease.renew():
                return self._acquire()
            self._renewed_at = started
        return self._generator

    def _acquire(self) -> SnowflakeGenerator:
        started = self._monotonic()
        datacenter_id, worker_id = divmod(self._lease.acquire(), WORKERS_PER_DATACENTER)
        self._renewed_at = started
        old = self._generator
        # Getting our old slot back, keep its generator: a fresh one could repeat this millisecond's ids.
        if old is not None and (old.datacenter_id, old.worker_id) == (datacenter_id, worker_id):
            return old
        self._generator = SnowflakeGenerator(datacenter_id, worker_id, self._clock)
        return self._generator
