"""DynamoWorkerLease and LeasedSnowflake against the local cloud's real DynamoDB, in a lease table of the
tests' own (created and deleted here), so taking every slot never starves the deployed functions."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Iterator

import pytest

from chirp.adapters.dynamodb.tables import LeaseItem
from chirp.adapters.dynamodb.worker_lease import DynamoWorkerLease
from chirp.ids.snowflake import SLOT_COUNT, LeasedSnowflake, WorkerIdsExhausted, parse


@pytest.fixture
def leases(cloud_settings) -> Iterator[type[LeaseItem]]:
    """LeaseItem pointed at a fresh table for the test."""
    original = LeaseItem.Meta.table_name
    LeaseItem.Meta.table_name = f"chirp-test-leases-{uuid.uuid4().hex[:8]}"
    LeaseItem._connection = None
    LeaseItem.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    yield LeaseItem
    LeaseItem.delete_table()
    LeaseItem.Meta.table_name = original
    LeaseItem._connection = None


@pytest.fixture
def start_at_slot(monkeypatch: pytest.MonkeyPatch):
    """Makes every acquire() start its search at the given slot instead of a random one."""

    def start_at(slot: int) -> None:
        monkeypatch.setattr(random, "randrange", lambda _stop: slot)

    return start_at


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_given_two_leases_starting_at_the_same_slot_when_acquired_then_the_second_takes_the_next_free_one(
    leases, start_at_slot
):
    start_at_slot(7)
    first, second = DynamoWorkerLease(), DynamoWorkerLease()

    assert first.acquire() == 7
    assert second.acquire() == 8


def test_given_many_processes_starting_at_once_when_they_acquire_then_no_two_share_a_slot(leases):
    processes = [DynamoWorkerLease() for _ in range(32)]
    barrier = threading.Barrier(len(processes))

    def acquire(lease: DynamoWorkerLease) -> None:
        barrier.wait()
        lease.acquire()

    threads = [threading.Thread(target=acquire, args=(lease,)) for lease in processes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    slots = [lease.slot for lease in processes]
    assert None not in slots
    assert len(set(slots)) == 32
    assert leases.count() == 32


def test_given_every_slot_leased_when_one_more_is_asked_then_it_is_refused(leases, monkeypatch):
    starts = iter(range(SLOT_COUNT + 1))  # each process starts at a free slot, as random starts mostly do
    monkeypatch.setattr(random, "randrange", lambda _stop: next(starts) % SLOT_COUNT)
    slots = [DynamoWorkerLease().acquire() for _ in range(SLOT_COUNT)]
    assert sorted(slots) == list(range(SLOT_COUNT))

    with pytest.raises(WorkerIdsExhausted, match="all 1024 snowflake worker slots are leased"):
        DynamoWorkerLease().acquire()


def test_given_an_expired_lease_when_another_process_acquires_then_it_takes_the_slot_over(leases, start_at_slot):
    start_at_slot(3)
    now = [1_000_000]
    stale = DynamoWorkerLease(ttl_ms=1000, clock=lambda: now[0])
    assert stale.acquire() == 3
    now[0] += 1001  # the holder stopped renewing

    newcomer = DynamoWorkerLease(clock=lambda: now[0])
    assert newcomer.acquire() == 3
    assert stale.renew() is False  # the stale holder learns it lost the slot
    assert stale.slot is None
    assert stale.release() is False
    assert leases.get(3).token == newcomer._token


def test_given_a_released_slot_when_another_process_acquires_then_it_gets_that_slot(leases, start_at_slot):
    start_at_slot(0)
    holder = DynamoWorkerLease()
    assert holder.acquire() == 0
    assert holder.release() is True
    assert holder.slot is None

    assert DynamoWorkerLease().acquire() == 0


def test_given_a_held_lease_when_renewed_then_its_expiry_moves_on(leases):
    now = [5_000_000]
    lease = DynamoWorkerLease(ttl_ms=10_000, clock=lambda: now[0])
    slot = lease.acquire()
    now[0] += 6_000

    assert lease.renew() is True
    assert leases.get(slot).expires_at_ms == 5_016_000
    assert lease.slot == slot


def test_given_an_id_source_within_half_its_ttl_when_ids_are_issued_then_it_does_not_call_dynamodb(leases, monkeypatch):
    monotonic = FakeMonotonic()
    lease = DynamoWorkerLease(ttl_ms=60_000)
    source = LeasedSnowflake(lease, monotonic=monotonic)
    source.next_id()
    slot = source.slot
    renewals = []
    renew = lease.renew
    monkeypatch.setattr(lease, "renew", lambda: renewals.append(1) or renew())

    monotonic.now += 29.9
    for _ in range(100):
        source.next_id()
    assert renewals == []

    monotonic.now += 0.2
    source.next_id()
    assert renewals == [1]  # one renewal, one write
    assert source.slot == slot


def test_given_an_id_source_whose_lease_was_taken_when_it_issues_again_then_it_moves_to_a_new_slot(leases):
    monotonic = FakeMonotonic()
    source = LeasedSnowflake(DynamoWorkerLease(ttl_ms=60_000), monotonic=monotonic)
    first_id = source.next_id()
    old_slot = source.slot
    assert parse(first_id)[1:3] == divmod(old_slot, 32)
    LeaseItem(slot=old_slot, token="another-process", expires_at_ms=time.time_ns() // 10**6 + 60_000).save()

    monotonic.now += 31
    next_id = source.next_id()

    assert source.slot not in (None, old_slot)
    assert parse(next_id)[1:3] == divmod(source.slot, 32)
    assert leases.get(old_slot).token == "another-process"


def test_given_two_id_sources_when_both_issue_from_threads_then_no_id_collides(leases):
    sources = [LeasedSnowflake(DynamoWorkerLease()) for _ in range(2)]
    batches: list[list[int]] = []

    def issue(source: LeasedSnowflake, into: list[int]) -> None:
        into.extend(source.next_id() for _ in range(10_000))

    threads = []
    for source in sources:
        for _ in range(2):  # two threads per source: 20k ids from each source
            batches.append([])
            threads.append(threading.Thread(target=issue, args=(source, batches[-1])))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sources[0].slot != sources[1].slot
    all_ids = [i for batch in batches for i in batch]
    assert len(set(all_ids)) == len(all_ids) == 40_000
