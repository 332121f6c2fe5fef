"""The GCRA script on the real Redis: the same scenarios as the unit tests' fake (tests/unit/test_limits_rules.py),
on Redis's own clock, one round trip per check reading the caller's mirrored overrides too, keys that expire once
the limit is whole, overrides mirrored and removed, and an unreachable Redis reported as such."""

from __future__ import annotations

import time
import uuid

import pytest
import redis

from chirp.adapters.redis.rate_limits import RedisLimitStore
from chirp.limits.model import EndpointClass, Limit, Subject, parse_limits
from chirp.limits.ports import LimitStoreUnavailable
from chirp.limits.service import RateLimiter, limit_key
from chirp.settings import DEFAULT_RATE_LIMITS
from tests.conftest import load_bench


@pytest.fixture
def store(services) -> RedisLimitStore:
    return RedisLimitStore(services.redis)


@pytest.fixture
def subject() -> Subject:
    return Subject("user", f"it-{uuid.uuid4().hex[:12]}")


@pytest.fixture
def key(subject) -> str:
    return limit_key(subject, EndpointClass.TWEETS)


def _hit(store, subject, limit: Limit, endpoint=EndpointClass.TWEETS):
    state, _ = store.hit(subject, endpoint, limit)
    return state


@pytest.fixture
def own_mirror(services) -> RedisLimitStore:
    """Mirroring removes the overrides of every mirrored user it is not given: with a set of mirrored users of the
    test's own, not the deployed app's (a cluster has one database only)."""
    store = RedisLimitStore(services.redis, mirrored=f"limit-overrides-it-{uuid.uuid4().hex[:8]}")
    yield store
    store.mirror_overrides({})


def test_given_a_fresh_key_when_a_burst_arrives_then_exactly_count_pass_with_remaining_and_retry_after(store, subject):
    states = [_hit(store, subject, Limit(5, 60)) for _ in range(7)]

    assert [s.allowed for s in states] == [True] * 5 + [False, False]
    assert [s.remaining for s in states[:5]] == [4, 3, 2, 1, 0]
    assert 11_900 <= states[5].retry_after_ms <= 12_000  # one back every 12 s, less the time the burst took
    assert states[6].retry_after_ms <= states[5].retry_after_ms  # refusals are not counted
    assert 59_000 <= states[5].reset_after_ms <= 60_000


def test_given_a_refused_key_when_retry_after_has_passed_on_redis_clock_then_one_more_passes(store, subject):
    for _ in range(4):
        _hit(store, subject, Limit(4, 1))  # one back every 250 ms
    refused = _hit(store, subject, Limit(4, 1))
    assert not refused.allowed

    time.sleep(refused.retry_after_ms / 1000 + 0.02)

    assert _hit(store, subject, Limit(4, 1)).allowed
    assert not _hit(store, subject, Limit(4, 1)).allowed


def test_given_a_limit_when_checked_then_its_time_is_redis_time_and_the_key_expires_once_whole(
    store, subject, key, services
):
    state = _hit(store, subject, Limit(2, 10))
    redis_now_s, redis_now_us = services.redis.time()

    assert abs(state.now_ms - (redis_now_s * 1000 + redis_now_us // 1000)) < 1_000
    assert 0 < services.redis.pttl(key) <= 5_000  # one interval (10 s / 2) used: whole again after it
    assert int(services.redis.get(key)) > redis_now_s * 1_000_000  # the next theoretical arrival, in microseconds


def test_given_many_checks_when_counted_then_each_is_one_round_trip_of_one_script(store, subject):
    _hit(store, subject, Limit(100, 60))  # the script is loaded once per client (SCRIPT LOAD on the first miss)

    # Counted as this process sends them: the servers' own command stats also count the deployed app's scripts
    with load_bench("counting").recorded_requests() as sent:
        for _ in range(20):
            _hit(store, subject, Limit(100, 60))

    assert [[command[0].upper() for command in request] for request in sent] == [[b"EVALSHA"]] * 20


def test_given_mirrored_overrides_when_checked_then_the_script_applies_them_and_removal_restores_the_tier(
    own_mirror, subject
):
    store = own_mirror
    other = Subject("user", f"it-{uuid.uuid4().hex[:12]}")
    raised = {subject.id: {EndpointClass.TWEETS: Limit(2, 3600), None: Limit(1000, 60)}, other.id: {}}
    assert store.mirror_overrides({**raised, **{f"it-keep-{uuid.uuid4().hex[:6]}": {None: Limit(5, 5)}}}) == 3

    states = [store.hit(subject, EndpointClass.TWEETS, Limit(300, 10_800)) for _ in range(3)]
    assert [s.allowed for s, _ in states] == [True, True, False]  # the override, not the tier's 300
    assert {limit for _, limit in states} == {Limit(2, 3600)}
    assert store.hit(subject, EndpointClass.HOME, Limit(150, 900))[1] == Limit(1000, 60)  # "*"
    assert store.hit(other, EndpointClass.HOME, Limit(150, 900))[1] == Limit(150, 900)  # listed, nothing set

    store.mirror_overrides({})  # the operators removed every override
    assert store.hit(subject, EndpointClass.HOME, Limit(150, 900))[1] == Limit(150, 900)
    assert subject.id not in store.redis.smembers(store.mirrored)


def test_given_the_limiter_on_redis_when_two_users_spend_then_their_counters_are_apart(services):
    limiter = RateLimiter(RedisLimitStore(services.redis), parse_limits({**DEFAULT_RATE_LIMITS, "home": "2/1h"}))
    alice, bob = (Subject("user", f"it-{uuid.uuid4().hex[:12]}") for _ in range(2))

    assert [limiter.check(alice, EndpointClass.HOME).allowed for _ in range(3)] == [True, True, False]
    assert limiter.check(bob, EndpointClass.HOME).allowed
    assert limiter.check(alice, EndpointClass.SEARCH).allowed


def test_given_an_unreachable_redis_when_checked_then_the_store_says_unavailable(subject):
    nowhere = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)

    with pytest.raises(LimitStoreUnavailable):
        RedisLimitStore(nowhere).hit(subject, EndpointClass.TWEETS, Limit(1, 1))
