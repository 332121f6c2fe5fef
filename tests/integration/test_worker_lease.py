"""WorkerLease and LeasedSnowflake against a real Redis (DB 15 by default, flushed before and after each test)."""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import redis

from chirp.adapters.redis.worker_lease import LEASE_KEY_PREFIX, WorkerLease
from chirp.ids.snowflake import SLOT_COUNT, LeasedSnowflake, WorkerIdsExhausted, parse
from tests.conftest import read_cloud_env

# The local cloud's redis-server (from `make dev`), on a database of the tests' own.
REDIS_URL = os.environ.get("CHIRP_TEST_REDIS_URL") or read_cloud_env()["CHIRP_REDIS_URL"].rsplit("/", 1)[0] + "/15"


def connect() -> redis.Redis:
    return redis.Redis.from_url(REDIS_URL, decode_responses=True)


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    client = connect()
    try:
        client.ping()
    except redis.ConnectionError as error:
        pytest.fail(f"no Redis at {REDIS_URL} (set CHIRP_TEST_REDIS_URL): {error}", pytrace=False)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def other_process_client(client: redis.Redis) -> Iterator[Callable[[], redis.Redis]]:
    """Makes further clients of the same Redis, as separate Lambda environments would have; closes them after."""
    made: list[redis.Redis] = []

    def make() -> redis.Redis:
        made.append(connect())
        return made[-1]

    yield make
    for other in made:
        other.close()


@pytest.fixture
def round_trips(client: redis.Redis, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of every command `client` sends from now on, one per round trip."""
    sent: list[str] = []
    execute = client.execute_command

    def counting(*args, **options):
        sent.append(args[0])
        return execute(*args, **options)

    monkeypatch.setattr(client, "execute_command", counting)
    return sent


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
    client, start_at_slot
):
    start_at_slot(7)
    first, second = WorkerLease(client), WorkerLease(client)

    assert first.acquire() == 7
    assert second.acquire() == 8


def test_given_many_processes_starting_at_once_when_they_acquire_then_no_two_share_a_slot(client, other_process_client):
    leases = [WorkerLease(other_process_client()) for _ in range(64)]
    barrier = threading.Barrier(len(leases))

    def acquire(lease: WorkerLease) -> None:
        barrier.wait()
        lease.acquire()

    threads = [threading.Thread(target=acquire, args=(lease,)) for lease in leases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    slots = [lease.slot for lease in leases]
    assert None not in slots
    assert len(set(slots)) == 64
    assert len(client.keys(f"{LEASE_KEY_PREFIX}*")) == 64


def test_given_every_slot_leased_when_one_more_is_asked_then_it_is_refused_in_one_round_trip(client, round_trips):
    ttl_ms = 60_000
    slots = [WorkerLease(client, ttl_ms).acquire() for _ in range(SLOT_COUNT)]
    assert sorted(slots) == list(range(SLOT_COUNT))
    assert 0 < client.pttl(f"{LEASE_KEY_PREFIX}{slots[-1]}") <= ttl_ms

    round_trips.clear()
    with pytest.raises(WorkerIdsExhausted, match="all 1024 snowflake worker slots are leased"):
        WorkerLease(client, ttl_ms).acquire()
    assert round_trips == ["EVALSHA"]  # the whole search ran in Redis


def test_given_a_released_slot_when_another_process_acquires_then_it_gets_that_slot(client, start_at_slot):
    start_at_slot(0)
    holder = WorkerLease(client)
    assert holder.acquire() == 0
    assert holder.release() is True
    assert holder.slot is None

    newcomer = WorkerLease(client)
    assert newcomer.acquire() == 0


def test_given_a_held_lease_when_renewed_then_its_ttl_starts_again(client):
    lease = WorkerLease(client, ttl_ms=10_000)
    slot = lease.acquire()
    key = f"{LEASE_KEY_PREFIX}{slot}"
    client.pexpire(key, 100)

    assert lease.renew() is True
    assert client.pttl(key) > 9_000
    assert lease.slot == slot


def test_given_a_lease_whose_key_was_taken_over_when_renewed_or_released_then_it_is_lost_and_left_alone(client):
    lease = WorkerLease(client)
    key = f"{LEASE_KEY_PREFIX}{lease.acquire()}"
    client.set(key, "another-process")

    assert lease.renew() is False
    assert lease.slot is None
    assert lease.release() is False
    assert client.get(key) == "another-process"


def test_given_a_lease_that_expired_when_renewed_then_it_is_lost(client):
    lease = WorkerLease(client, ttl_ms=20)
    lease.acquire()
    time.sleep(0.1)

    assert lease.renew() is False


def test_given_an_id_source_within_half_its_ttl_when_ids_are_issued_then_it_does_not_call_redis(client, round_trips):
    monotonic = FakeMonotonic()
    source = LeasedSnowflake(WorkerLease(client, ttl_ms=60_000), monotonic=monotonic)
    source.next_id()
    slot = source.slot

    round_trips.clear()
    monotonic.now += 29.9
    for _ in range(100):
        source.next_id()
    assert round_trips == []

    monotonic.now += 0.2
    source.next_id()
    assert round_trips == ["EVALSHA"]  # one renewal
    assert source.slot == slot


def test_given_an_id_source_whose_lease_was_lost_when_it_issues_again_then_it_moves_to_a_new_slot(client):
    monotonic = FakeMonotonic()
    source = LeasedSnowflake(WorkerLease(client, ttl_ms=60_000), monotonic=monotonic)
    first_id = source.next_id()
    old_slot = source.slot
    assert old_slot is not None
    assert parse(first_id)[1:3] == divmod(old_slot, 32)
    client.set(f"{LEASE_KEY_PREFIX}{old_slot}", "another-process")

    monotonic.now += 31
    next_id = source.next_id()

    new_slot = source.slot
    assert new_slot is not None
    assert new_slot != old_slot
    assert parse(next_id)[1:3] == (new_slot // 32, new_slot % 32)
    assert client.get(f"{LEASE_KEY_PREFIX}{old_slot}") == "another-process"


def test_given_an_id_source_that_gets_its_expired_slot_back_when_it_issues_in_the_same_ms_then_ids_do_not_repeat(
    client, start_at_slot
):
    start_at_slot(5)
    monotonic = FakeMonotonic()
    source = LeasedSnowflake(WorkerLease(client), clock=lambda: 1_700_000_000_000, monotonic=monotonic)
    first_id = source.next_id()
    client.delete(f"{LEASE_KEY_PREFIX}5")  # as if it had expired

    monotonic.now += 31
    second_id = source.next_id()

    assert source.slot == 5
    assert parse(first_id) == (1_700_000_000_000, 0, 5, 0)
    assert parse(second_id) == (1_700_000_000_000, 0, 5, 1)


def test_given_two_id_sources_sharing_one_redis_when_both_issue_from_threads_then_no_id_collides(
    client, other_process_client
):
    sources = [LeasedSnowflake(WorkerLease(other_process_client())) for _ in range(2)]
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
    assert len(all_ids) == 40_000
    assert len(set(all_ids)) == 40_000
