"""SnapStart: every environment restored from one snapshot starts with the snapshot's memory, its Snowflake
slot included. After the restore hook, each copy issues ids from a slot of its own."""

from __future__ import annotations

import copy
import sys
import threading
import types

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


def _snapstart_runtime(monkeypatch, register: str) -> list:
    """AWS's Snapshot Restore for Python library, as its runtime ships it: what `register` is given, in order."""
    registered: list = []
    runtime_library = types.ModuleType("snapshot_restore_py")
    setattr(runtime_library, register, registered.append)
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", runtime_library)
    return registered


def test_given_the_snapstart_runtime_when_a_restore_hook_is_registered_then_its_library_runs_it(monkeypatch):
    """AWS's python3.12 runtime ships Snapshot Restore for Python as `snapshot_restore_py`: a hook registered under
    any other name never runs, and every restored copy would issue the snapshot's ids."""
    from chirp.runtime.snapstart import on_restore

    registered = _snapstart_runtime(monkeypatch, "register_after_restore")

    def hook() -> None:
        return None

    assert on_restore(hook) is True
    assert registered == [hook]


def test_given_no_snapstart_runtime_when_a_restore_hook_is_registered_then_nothing_is(monkeypatch):
    from chirp.runtime.snapstart import on_restore

    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # an import of it raises ImportError
    assert on_restore(lambda: None) is False


def test_given_the_snapstart_runtime_when_work_is_registered_before_the_snapshot_then_its_library_runs_it(
    monkeypatch,
):
    from chirp.runtime.snapstart import before_snapshot

    registered = _snapstart_runtime(monkeypatch, "register_before_snapshot")

    def warm() -> None:
        return None

    assert before_snapshot(warm) is True
    assert registered == [warm]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)
    assert before_snapshot(warm) is False  # no snapshots (the local cloud, tests): the first request does the work
