"""The rate limit rules (chirp.limits) against an in-memory GCRA store on a controlled clock; the same scenarios
run against the Lua script on the real Redis in tests/integration/test_rate_limits.py."""

from __future__ import annotations

import pytest

from chirp.limits.classes import FAILURE_MODES, endpoint_class
from chirp.limits.headers import limit_headers, refusal_message, retry_after_s
from chirp.limits.model import EndpointClass, Limit, LimitState, Subject, Verdict, parse_limits
from chirp.limits.service import BREAKER_S, OverrideMirror, RateLimiter, limit_key
from chirp.settings import DEFAULT_RATE_LIMITS
from tests.unit.fakes import FakeClock, FakeLimitStore, FakeOverrides

ALICE, BOB = Subject("user", "alice"), Subject("user", "bob")


class Monotonic:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(clock) -> FakeLimitStore:
    return FakeLimitStore(clock)


def limiter(store, clock=None, **tiers: str) -> RateLimiter:
    table = parse_limits({**DEFAULT_RATE_LIMITS, **tiers})
    return RateLimiter(store, table, clock=clock or Monotonic())


# --- limits as configuration ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "count", "window_s", "written"),
    [("300/3h", 300, 10_800, "300/3h"), ("150/15m", 150, 900, "150/15m"), ("1000/24h", 1000, 86_400, "1000/1d"),
     ("5/s", 5, 1, "5/1s"), (" 30 / 1m ", 30, 60, "30/1m"), ("7/90s", 7, 90, "7/90s")],
)  # fmt: skip
def test_given_a_limit_spec_when_parsed_then_count_and_window_and_it_writes_back(spec, count, window_s, written):
    limit = Limit.parse(spec)

    assert (limit.count, limit.window_s) == (count, window_s)
    assert str(limit) == written
    assert Limit.parse(str(limit)) == limit


@pytest.mark.parametrize("spec", ["300", "300/3w", "/3h", "0/1h", "-1/1h", "3h/300", "300/0h", ""])
def test_given_a_malformed_or_empty_limit_when_parsed_then_it_is_refused(spec):
    with pytest.raises(ValueError, match="limit"):
        Limit.parse(spec)


def test_given_a_tier_for_an_unknown_class_when_parsed_then_it_is_refused_not_ignored():
    with pytest.raises(ValueError, match="tweet"):
        parse_limits({"tweet": "300/3h"})


def test_given_the_aws_defaults_when_read_then_they_are_the_issues_tiers():
    tiers = parse_limits(DEFAULT_RATE_LIMITS)

    assert tiers[EndpointClass.TWEETS] == Limit(300, 3 * 3600)
    assert tiers[EndpointClass.LIKES] == Limit(1000, 86_400)
    assert tiers[EndpointClass.FOLLOWS] == Limit(400, 86_400)
    assert tiers[EndpointClass.HOME] == Limit(150, 900)
    assert tiers[EndpointClass.SEARCH] == Limit(180, 900)
    assert set(tiers) == set(EndpointClass)


def test_given_tiers_missing_a_class_when_a_limiter_is_built_then_it_refuses(store):
    with pytest.raises(ValueError, match="no limit configured"):
        RateLimiter(store, {EndpointClass.TWEETS: Limit(1, 1)})


# --- endpoint classes -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("POST", "/tweets", EndpointClass.TWEETS),
        ("GET", "/tweets/{tweet_id}", EndpointClass.DEFAULT),
        ("DELETE", "/tweets/123", EndpointClass.DEFAULT),
        ("POST", "/tweets/{tweet_id}/like", EndpointClass.LIKES),
        ("DELETE", "/tweets/42/likes", EndpointClass.LIKES),
        ("GET", "/tweets/42/likes", EndpointClass.DEFAULT),
        ("POST", "/users/{user_id}/follow", EndpointClass.FOLLOWS),
        ("DELETE", "/users/u-1/follow", EndpointClass.FOLLOWS),
        ("GET", "/users/{user_id}/follows/{other_id}", EndpointClass.DEFAULT),
        ("GET", "/timelines/home", EndpointClass.HOME),
        ("get", "/search", EndpointClass.SEARCH),
        ("GET", "/trends", EndpointClass.DEFAULT),
        ("POST", "/users/{user_id}/block", EndpointClass.DEFAULT),
        ("GET", "/tweetsx", EndpointClass.DEFAULT),
    ],
)
def test_given_a_route_when_classified_then_its_class(method, path, expected):
    assert endpoint_class(method, path, authenticated=True) is expected


def test_given_no_token_when_classified_then_anonymous_whatever_the_route():
    assert endpoint_class("POST", "/tweets", authenticated=False) is EndpointClass.ANONYMOUS
    assert endpoint_class("GET", "/health", authenticated=False) is EndpointClass.ANONYMOUS


def test_given_every_class_when_asked_its_failure_mode_then_each_says_why():
    assert set(FAILURE_MODES) == set(EndpointClass)
    assert all(mode.reason for mode in FAILURE_MODES.values())
    assert FAILURE_MODES[EndpointClass.TWEETS].fail_open  # posting survives a Redis outage
    assert not FAILURE_MODES[EndpointClass.SEARCH].fail_open
    assert FAILURE_MODES[EndpointClass.ANONYMOUS].fail_open  # /health reports the outage


def test_given_a_subject_when_keyed_then_its_counters_share_one_cluster_hash_slot():
    keys = [limit_key(ALICE, endpoint) for endpoint in EndpointClass]

    assert {key[key.index("{") : key.index("}") + 1] for key in keys} == {"{user:alice}"}
    assert len(set(keys)) == len(keys)


# --- GCRA -----------------------------------------------------------------------------------------------------


def test_given_a_fresh_client_when_it_sends_a_burst_then_exactly_count_pass_and_remaining_counts_down(store):
    limits = limiter(store, tweets="5/1m")

    verdicts = [limits.check(ALICE, EndpointClass.TWEETS) for _ in range(6)]

    assert {(v.endpoint_class, v.limit) for v in verdicts} == {(EndpointClass.TWEETS, Limit(5, 60))}
    assert [v.allowed for v in verdicts] == [True] * 5 + [False]
    assert [v.state.remaining for v in verdicts] == [4, 3, 2, 1, 0, 0]
    assert verdicts[-1].state.retry_after_ms == 12_000  # one request back every 60 s / 5


def test_given_a_refused_client_when_it_waits_retry_after_then_exactly_one_more_passes(store, clock):
    limits = limiter(store, tweets="5/1m")
    for _ in range(5):
        limits.check(ALICE, EndpointClass.TWEETS)
    refused = limits.check(ALICE, EndpointClass.TWEETS)

    clock.advance(refused.state.retry_after_ms - 1)
    assert not limits.check(ALICE, EndpointClass.TWEETS).allowed  # a millisecond early
    clock.advance(1)
    assert limits.check(ALICE, EndpointClass.TWEETS).allowed
    assert not limits.check(ALICE, EndpointClass.TWEETS).allowed


def test_given_refused_requests_when_retried_at_once_then_they_do_not_push_the_retry_time_further(store, clock):
    limits = limiter(store, tweets="2/1m")
    limits.check(ALICE, EndpointClass.TWEETS)
    limits.check(ALICE, EndpointClass.TWEETS)
    first = limits.check(ALICE, EndpointClass.TWEETS)

    for _ in range(10):
        again = limits.check(ALICE, EndpointClass.TWEETS)

    assert again.state.retry_after_ms == first.state.retry_after_ms  # refusals are not counted


def test_given_an_idle_client_when_the_window_passed_then_the_whole_burst_is_back_and_reset_says_when(store, clock):
    limits = limiter(store, tweets="4/1m")
    used = [limits.check(ALICE, EndpointClass.TWEETS) for _ in range(3)]
    assert used[-1].state.reset_after_ms == 45_000  # three intervals of 15 s to be whole again

    clock.advance(45_000)

    assert limits.check(ALICE, EndpointClass.TWEETS).state.remaining == 3


def test_given_two_users_and_two_classes_when_one_is_spent_then_the_others_are_untouched(store):
    limits = limiter(store, tweets="1/1h", home="1/1h")
    limits.check(ALICE, EndpointClass.TWEETS)

    assert not limits.check(ALICE, EndpointClass.TWEETS).allowed
    assert limits.check(BOB, EndpointClass.TWEETS).allowed
    assert limits.check(ALICE, EndpointClass.HOME).allowed


def test_given_an_operator_override_when_mirrored_and_checked_then_it_replaces_the_tier_for_that_user_only(store):
    overrides = FakeOverrides({"alice": {EndpointClass.TWEETS: Limit(100, 60), None: Limit(50, 60)}})
    limits = limiter(store, tweets="1/1h", home="1/1h")

    assert OverrideMirror(overrides, store).run() == 1

    assert limits.check(ALICE, EndpointClass.TWEETS).limit == Limit(100, 60)
    assert limits.check(ALICE, EndpointClass.HOME).limit == Limit(50, 60)  # "*": every other class
    assert limits.check(BOB, EndpointClass.TWEETS).limit == Limit(1, 3600)
    assert limits.check(Subject("ip", "alice"), EndpointClass.ANONYMOUS).limit == Limit.parse("300/5m")
    assert store.hits == 4  # the override is read with the counter: no other call


def test_given_an_override_removed_by_the_operator_when_mirrored_again_then_the_tier_applies_again(store):
    overrides = FakeOverrides({"alice": {None: Limit(50, 60)}})
    limits = limiter(store)
    OverrideMirror(overrides, store).run()

    overrides.by_user.clear()
    assert OverrideMirror(overrides, store).run() == 0

    assert limits.check(ALICE, EndpointClass.HOME).limit == Limit(150, 900)


# --- Redis down: the class's failure mode, and a breaker ---------------------------------------------------------


def test_given_redis_down_when_checked_then_open_classes_pass_and_closed_ones_refuse_without_a_state(store):
    store.down = True
    limits = limiter(store)

    posting, searching = limits.check(ALICE, EndpointClass.TWEETS), limits.check(ALICE, EndpointClass.SEARCH)

    assert (posting.allowed, posting.state) == (True, None)
    assert (searching.allowed, searching.state) == (False, None)
    assert (posting.endpoint_class, posting.limit) == (EndpointClass.TWEETS, Limit(300, 10_800))  # the policy, still
    assert (searching.endpoint_class, searching.limit) == (EndpointClass.SEARCH, Limit(180, 900))


def test_given_redis_down_when_requests_follow_then_redis_is_not_asked_again_until_the_breaker_closes(store):
    store.down = True
    monotonic = Monotonic()
    limits = limiter(store, clock=monotonic)
    limits.check(ALICE, EndpointClass.TWEETS)

    for _ in range(20):
        skipped = limits.check(ALICE, EndpointClass.HOME)
    assert store.hits == 1  # one request paid for the outage
    assert (skipped.endpoint_class, skipped.limit, skipped.state) == (EndpointClass.HOME, Limit(150, 900), None)

    store.down = False
    monotonic.now += BREAKER_S
    assert limits.check(ALICE, EndpointClass.TWEETS).state is not None
    assert store.hits == 2


# --- headers --------------------------------------------------------------------------------------------------


def _verdict(allowed: bool, state: LimitState | None) -> Verdict:
    return Verdict(EndpointClass.TWEETS, Limit(300, 10_800), state, allowed)


def test_given_an_accepted_request_when_answered_then_mastodon_and_ietf_fields_say_the_same_state():
    state = LimitState(allowed=True, remaining=297, reset_after_ms=108_000, retry_after_ms=0, now_ms=1_767_225_600_000)

    headers = limit_headers(_verdict(True, state))

    assert headers == {
        "X-RateLimit-Limit": "300",
        "X-RateLimit-Remaining": "297",
        "X-RateLimit-Reset": "2026-01-01T00:01:48.000Z",
        "RateLimit-Policy": '"tweets";q=300;w=10800',
        "RateLimit": '"tweets";r=297;t=108',
    }


def test_given_a_refused_request_when_answered_then_retry_after_is_whole_seconds_rounded_up():
    state = LimitState(allowed=False, remaining=0, reset_after_ms=10_800_000, retry_after_ms=35_001, now_ms=0)
    verdict = _verdict(False, state)

    assert limit_headers(verdict)["Retry-After"] == "36"
    assert retry_after_s(LimitState(False, 0, 1, 1, 0)) == 1  # never 0: "now" would be refused
    assert limit_headers(_verdict(False, LimitState(False, 0, 100_001, 5, 0)))["RateLimit"].endswith("t=101")
    assert "300 tweets requests per 10800 s" in refusal_message(verdict)


def test_given_an_unknown_state_when_answered_then_only_the_policy_is_said():
    assert (
        limit_headers(_verdict(False, None))
        == limit_headers(_verdict(True, None))
        == {
            "X-RateLimit-Limit": "300",
            "RateLimit-Policy": '"tweets";q=300;w=10800',
        }
    )
