from __future__ import annotations

import itertools
import threading
from collections import deque

import pytest

from chirp.ids.snowflake import (
    MAX_SEQUENCE,
    TWITTER_EPOCH_MS,
    ClockMovedBackwards,
    IdGenerationError,
    SnowflakeGenerator,
    parse,
    snowflake_timestamp_ms,
)

T0 = 1_700_000_000_000  # some ms in 2023


class FakeClock:
    """A ms clock that stands still unless moved; `upcoming` readings, if any, are returned first."""

    def __init__(self, now: int = T0) -> None:
        self.now = now
        self.upcoming: deque[int] = deque()
        self.polls = 0

    def __call__(self) -> int:
        self.polls += 1
        return self.upcoming.popleft() if self.upcoming else self.now


def test_given_a_clock_moving_forward_when_ids_are_issued_then_they_strictly_increase():
    clock = FakeClock()
    generator = SnowflakeGenerator(1, 2, clock)
    ids = []
    for step in range(5_000):
        if step % 7 == 0:
            clock.now += step % 3  # sometimes the same ms, sometimes later
        ids.append(generator.next_id())
    assert all(earlier < later for earlier, later in itertools.pairwise(ids))


def test_given_known_fields_when_an_id_is_issued_then_parse_returns_them():
    generator = SnowflakeGenerator(datacenter_id=3, worker_id=7, clock=FakeClock(TWITTER_EPOCH_MS + 1000))
    first, second = generator.next_id(), generator.next_id()
    assert first == (1000 << 22) | (3 << 17) | (7 << 12)
    assert parse(first) == (TWITTER_EPOCH_MS + 1000, 3, 7, 0)
    assert parse(second) == (TWITTER_EPOCH_MS + 1000, 3, 7, 1)
    assert snowflake_timestamp_ms(second) == TWITTER_EPOCH_MS + 1000


def test_given_the_largest_datacenter_and_worker_when_an_id_is_issued_then_the_fields_do_not_overlap():
    clock = FakeClock()
    generator = SnowflakeGenerator(31, 31, clock)
    assert parse(generator.next_id()) == (T0, 31, 31, 0)


def test_given_4096_ids_in_one_ms_when_one_more_is_asked_then_the_generator_waits_for_the_next_ms():
    clock = FakeClock()
    generator = SnowflakeGenerator(0, 0, clock)
    ids = [generator.next_id() for _ in range(MAX_SEQUENCE + 1)]
    assert [parse(i)[3] for i in ids] == list(range(4096))
    assert {snowflake_timestamp_ms(i) for i in ids} == {T0}

    clock.upcoming.extend([T0] * 4)  # the clock stays in this ms for four more polls, then moves on
    clock.now = T0 + 1
    next_one = generator.next_id()

    assert not clock.upcoming  # it kept polling until the clock moved on
    assert parse(next_one) == (T0 + 1, 0, 0, 0)
    assert next_one > ids[-1]


def test_given_the_clock_moved_backwards_when_an_id_is_asked_then_it_refuses_and_issues_nothing():
    clock = FakeClock()
    generator = SnowflakeGenerator(0, 0, clock)
    last = generator.next_id()

    clock.now -= 5
    with pytest.raises(ClockMovedBackwards, match="5 ms"):
        generator.next_id()
    with pytest.raises(IdGenerationError):
        generator.next_id()

    clock.now += 5
    assert generator.next_id() == last + 1  # nothing was issued meanwhile: the sequence carries on


def test_given_the_clock_moves_backwards_while_waiting_for_the_next_ms_when_polled_then_it_refuses():
    clock = FakeClock()
    generator = SnowflakeGenerator(0, 0, clock)
    issued = {generator.next_id() for _ in range(MAX_SEQUENCE + 1)}

    clock.upcoming.extend([T0, T0])  # still full: waits for the next ms, but the clock then goes back
    clock.now = T0 - 1
    with pytest.raises(ClockMovedBackwards):
        generator.next_id()

    clock.upcoming.append(T0)  # T0 is still full after the refusal: it must wait again, not reuse T0
    clock.now = T0 + 1
    after = generator.next_id()
    assert parse(after) == (T0 + 1, 0, 0, 0)
    assert after not in issued


def test_given_a_clock_before_the_epoch_when_an_id_is_asked_then_it_refuses():
    generator = SnowflakeGenerator(0, 0, FakeClock(TWITTER_EPOCH_MS - 1))
    with pytest.raises(IdGenerationError, match="41-bit"):
        generator.next_id()


@pytest.mark.parametrize(("datacenter_id", "worker_id"), [(-1, 0), (32, 0), (0, -1), (0, 32)])
def test_given_an_out_of_range_datacenter_or_worker_when_constructed_then_it_is_refused(datacenter_id, worker_id):
    with pytest.raises(ValueError, match=r"must be in 0\.\.31"):
        SnowflakeGenerator(datacenter_id, worker_id)


@pytest.mark.parametrize("value", [-1, 1 << 63])
def test_given_a_number_outside_63_bits_when_parsed_then_it_is_refused(value):
    with pytest.raises(ValueError, match="not a snowflake id"):
        parse(value)


def test_given_one_generator_shared_by_threads_when_ids_are_issued_then_none_repeats():
    generator = SnowflakeGenerator(5, 9)  # the real clock
    per_thread: list[list[int]] = [[] for _ in range(4)]

    def issue(into: list[int]) -> None:
        into.extend(generator.next_id() for _ in range(10_000))

    threads = [threading.Thread(target=issue, args=(ids,)) for ids in per_thread]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    all_ids = [i for ids in per_thread for i in ids]
    assert len(set(all_ids)) == 40_000
    assert all(sorted(ids) == ids for ids in per_thread)  # each thread sees them in issue order
