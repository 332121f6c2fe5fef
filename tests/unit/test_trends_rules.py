"""The trend rules (chirp.trends.rules) on in-memory fakes of their ports and a controlled clock."""

from __future__ import annotations

import math

import pytest

from chirp.trends.ports import Peak, TagActivity
from chirp.trends.rules import (
    COOLDOWN_H,
    HALF_LIFE_H,
    HOUR_MS,
    LIST_THRESHOLD,
    SAME_TEXT_ACCOUNTS,
    SUSPECT_WEIGHT,
    Trends,
    burst,
    decayed,
    score,
    text_key,
)
from chirp.tweets.model import Tweet
from tests.conftest import load_bench
from tests.unit.fakes import FakeAccountAges, FakeClock, FakeTagCounter, FakeTagLists, FakeTrendState

MIN_ACCOUNTS = 5
T0 = 1_750_000_000_000 - 1_750_000_000_000 % HOUR_MS  # an hour boundary
MINUTE_MS = 60_000


class Harness:
    def __init__(self, blocked=frozenset(), evergreen=frozenset()):
        self.clock = FakeClock(T0)
        self.ages = FakeAccountAges()
        self.counter = FakeTagCounter()
        self.state = FakeTrendState(self.clock)
        self.trends = Trends(
            self.counter,
            self.state,
            self.ages,
            FakeTagLists(blocked, evergreen),
            min_accounts=MIN_ACCOUNTS,
            ranked_ttl_s=60,
            clock_ms=self.clock,
        )
        self.next_id = 0

    def post(self, author: str, tag: str, text: str | None = None, *, new_account: bool = False) -> None:
        self.next_id += 1
        self.ages.created.setdefault(author, self.clock() - (MINUTE_MS if new_account else 30 * 24 * HOUR_MS))
        text = text or f"#{tag} from {author} {self.next_id}"
        tweet = Tweet(tweet_id=self.next_id, author_id=author, text=text, created_at_ms=self.clock(), hashtags=[tag])
        self.trends.record([tweet])

    def trending(self) -> list[str]:
        return [t.hashtag for t in self.trends.refresh()]


@pytest.fixture
def world() -> Harness:
    return Harness()


# --- score -----------------------------------------------------------------------------------------------------


def test_given_fewer_trusted_accounts_than_the_minimum_when_scored_then_nothing_however_many_suspect_ones():
    assert burst(TagActivity("t", trusted=MIN_ACCOUNTS - 1, suspect=1000, hourly=[0] * 24), MIN_ACCOUNTS)[0] == 0
    value, observed, expected = burst(TagActivity("t", MIN_ACCOUNTS, 4, [0] * 23 + [2]), MIN_ACCOUNTS)
    assert (observed, expected) == (MIN_ACCOUNTS + 4 * SUSPECT_WEIGHT, 2 / 24)
    assert value == pytest.approx((observed - 1) ** 2)


def test_given_no_more_than_expected_when_scored_then_nothing():
    assert score(10, 10) == 0
    assert score(10, 20) == 0


def test_given_more_than_expected_when_scored_then_the_poisson_z_squared():
    assert score(12, 2) == pytest.approx((12 - 2) ** 2 / 2)
    assert score(6, 0) == pytest.approx((6 - 1) ** 2 / 1)  # expected is at least one account


def test_given_a_peak_when_time_passes_then_it_halves_every_half_life_and_is_forgotten_after_the_cooldown():
    peak = Peak(score=64.0, at_ms=T0)
    assert decayed(peak, T0) == 64.0
    assert decayed(peak, T0 + int(HALF_LIFE_H * HOUR_MS)) == pytest.approx(32.0)
    assert decayed(peak, T0 + int(2 * HALF_LIFE_H * HOUR_MS)) == pytest.approx(16.0)
    assert decayed(peak, T0 + int(COOLDOWN_H * HOUR_MS) - 1) > 0
    assert decayed(peak, T0 + int(COOLDOWN_H * HOUR_MS)) == 0.0


def test_given_texts_differing_in_case_and_spacing_when_keyed_then_they_are_the_same_text():
    assert text_key("Buy  NOW #deal") == text_key("buy now #deal") != text_key("buy later #deal")


# --- counting ---------------------------------------------------------------------------------------------------


def test_given_enough_accounts_in_an_hour_when_refreshed_then_the_tag_trends_with_its_counts(world):
    for i in range(MIN_ACCOUNTS):
        world.post(f"a{i}", "quake")
    (trend,) = world.trends.refresh()
    assert (trend.hashtag, trend.accounts_last_hour, trend.expected_per_hour) == ("quake", MIN_ACCOUNTS, 0.0)
    assert trend.score == pytest.approx((MIN_ACCOUNTS - 1) ** 2)


def test_given_one_account_posting_many_times_or_a_replay_when_counted_then_it_is_one_account(world):
    for _ in range(10):
        world.post("a0", "quake")
    for i in range(1, MIN_ACCOUNTS - 1):
        world.post(f"a{i}", "quake")
    assert world.trending() == []  # MIN_ACCOUNTS - 1 distinct accounts


def test_given_new_accounts_when_counted_then_each_weighs_a_fraction(world):
    for i in range(MIN_ACCOUNTS):
        world.post(f"new{i}", "promo", new_account=True)
    for i in range(MIN_ACCOUNTS - 1):
        world.post(f"old{i}", "promo")
    assert world.trending() == []  # new accounts never carry a tag to the minimum
    world.post("last", "promo")
    (trend,) = world.trends.refresh()
    assert trend.accounts_last_hour == pytest.approx(MIN_ACCOUNTS + MIN_ACCOUNTS * SUSPECT_WEIGHT)


def test_given_many_accounts_posting_one_text_when_counted_then_those_after_the_first_few_are_suspect(world):
    for i in range(MIN_ACCOUNTS + 3):
        world.post(f"bot{i}", "deal", text="Buy now! #deal")
    (activity,) = world.counter.activity(["deal"], world.clock(), 24)
    assert activity.trusted == SAME_TEXT_ACCOUNTS - 1
    assert activity.suspect == MIN_ACCOUNTS + 3 - (SAME_TEXT_ACCOUNTS - 1)


def test_given_a_tag_used_as_much_as_usual_when_refreshed_then_it_does_not_trend(world):
    for _hour in range(25):  # the same ten accounts every hour, for a day and an hour
        for i in range(10):
            world.post(f"a{i}", "coffee")
        world.clock.advance(HOUR_MS)
    assert "coffee" not in world.trending()


def test_given_a_blocked_or_evergreen_tag_when_it_bursts_then_it_never_trends():
    world = Harness(blocked={"slur"}, evergreen={"news"})
    for i in range(20):
        for tag in ("slur", "news", "quake"):
            world.post(f"a{i}", tag)
    assert world.trending() == ["quake"]


# --- peaks and the ranking ---------------------------------------------------------------------------------------


def test_given_a_burst_that_stopped_when_hours_pass_then_it_stays_listed_while_its_peak_decays(world):
    for i in range(20):
        world.post(f"a{i}", "quake")
    (first,) = world.trends.refresh()
    world.clock.advance(2 * HOUR_MS)  # nobody uses it any more
    (later,) = world.trends.refresh()
    assert later.score == pytest.approx(first.score * 0.5 ** (2 / HALF_LIFE_H), rel=1e-3)
    assert later.accounts_last_hour == 0
    hours_to_threshold = HALF_LIFE_H * math.log2(first.score / LIST_THRESHOLD)
    world.clock.advance(int((hours_to_threshold - 2 + 0.1) * HOUR_MS))
    assert world.trending() == []
    assert "quake" in world.state.peaks()  # remembered until the cooldown
    world.clock.advance(int(COOLDOWN_H * HOUR_MS))
    world.trending()
    assert "quake" not in world.state.peaks()


def test_given_a_faded_peak_still_remembered_when_another_tag_bursts_then_the_new_one_is_listed(world):
    for i in range(20):
        world.post(f"a{i}", "quake")
    (first,) = world.trends.refresh()
    world.clock.advance(int((HALF_LIFE_H * math.log2(first.score / LIST_THRESHOLD) + 0.1) * HOUR_MS))
    for i in range(20):
        world.post(f"b{i}", "storm")

    assert world.trending() == ["storm"]  # the faded peak, ranked first, is passed over, not the end of the list
    assert "quake" in world.state.peaks()


def test_given_a_ranking_when_read_within_its_ttl_then_it_is_not_computed_again(world):
    for i in range(MIN_ACCOUNTS):
        world.post(f"a{i}", "quake")
    assert [t.hashtag for t in world.trends.top(10)] == ["quake"]
    for i in range(MIN_ACCOUNTS):
        world.post(f"b{i}", "flood")
    assert [t.hashtag for t in world.trends.top(10)] == ["quake"]  # served from the ranking
    world.clock.advance(61_000)
    assert {t.hashtag for t in world.trends.top(10)} == {"quake", "flood"}
    assert len(world.trends.top(1)) == 1


# --- the 48-hour replay -------------------------------------------------------------------------------------


def test_given_48_hours_of_traffic_when_replayed_then_only_the_burst_trends_and_within_five_minutes():
    """The scenario of bench/trends_replay.py (which runs it on the real Redis), here on the fakes."""
    replay = load_bench("trends_replay")
    harness = Harness(evergreen={"news"})
    young: set[str] = set()
    harness.ages = replay.NewAccounts(harness.clock)
    harness.ages.names = young
    harness.trends.ages = harness.ages
    scenario = replay.Scenario(harness.trends, lambda now: setattr(harness.clock, "now_ms", now), young, T0)

    first_seen = scenario.run(harness.trending)

    assert first_seen["coffee"] is None  # steady: never
    assert first_seen["news"] is None  # evergreen: never
    assert first_seen["buynow"] is None  # spam: never
    assert first_seen["quake"] is not None
    assert 0 <= first_seen["quake"] <= 5 * MINUTE_MS
