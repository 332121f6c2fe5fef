"""SnapStart: every environment restored from one snapshot starts with the snapshot's memory, its Snowflake
slot included. After the restore hook, each copy issues ids from a slot of its own."""

from __future__ import annotations

import copy
import threading

from chirp.ids.snowflake import SLOT_COUNT, LeasedSnowflake, WorkerIdsExhausted, parse


class SharedLeaseStore:
    """The slots' leases as DynamoDB holds them: shared by every process (and every restored copy)."""

    def __init__(self):
        self.holders: dict[int, object] = {}


class InMemorySlotLease:
    def __init__(self, store: SharedLeaseStore, ttl_ms: int = 60_000):
        self.store, self._ttl_ms, self._slot, self._token = store, ttl_ms, None, None

    @property
    def ttl_ms(self) -> int:
        return self._ttl_ms

    @property
    def slot(self) -> int | None:
        return self._slot

    def acquire(self) -> int:
        token = object()
        for slot in range(SLOT_COUNT):
            if slot not in self.store.holders:
                self.store.holders[slot] = token
                self._slot, self._token = slot, token
                return slot
        raise WorkerIdsExhausted("all taken")

    def renew(self) -> bool:
        return self._slot is not None and self.store.holders.get(self._slot) is self._token

    def forget(self) -> None:
        self._slot = self._token = None


def _restore(snapshot: LeasedSnowflake, store: SharedLeaseStore) -> LeasedSnowflake:
    """A copy of the snapshot's memory; the lease store is outside it (DynamoDB), so shared. (Locks cannot be
    copied by deepcopy: a restored process gets them as they were, unheld.)"""
    locks = [snapshot._lock, snapshot._generator._lock]
    return copy.deepcopy(snapshot, memo={id(store): store, **{id(lock): threading.Lock() for lock in locks}})


def test_given_one_snapshot_restored_twice_when_both_issue_after_the_hook_then_their_workers_and_ids_differ():
    store = SharedLeaseStore()
    snapshot = LeasedSnowflake(InMemorySlotLease(store), clock=lambda: 1_700_000_000_000)
    snapshot.next_id()  # initialised before the snapshot: it holds a slot

    first, second = _restore(snapshot, store), _restore(snapshot, store)
    for restored in (first, second):
        restored.after_restore()
    ids = [first.next_id(), second.next_id()]

    assert first.slot != second.slot
    assert snapshot.slot not in (first.slot, second.slot)  # the snapshot's slot is left to expire
    assert parse(ids[0])[1:3] != parse(ids[1])[1:3]
    assert ids[0] != ids[1]


def test_given_one_snapshot_restored_twice_without_the_hook_then_both_would_issue_the_same_ids():
    """Why the hook exists: the same slot, the same clock, the same sequence."""
    store = SharedLeaseStore()
    snapshot = LeasedSnowflake(InMemorySlotLease(store), clock=lambda: 1_700_000_000_000)
    snapshot.next_id()

    first, second = _restore(snapshot, store), _restore(snapshot, store)

    assert first.next_id() == second.next_id()
