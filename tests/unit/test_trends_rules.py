"""The trend rules (chirp.trends.rules) on an in-memory tag counter and a controlled clock."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from chirp.trends import rules
from chirp.trends.ports import TagUse
from chirp.trends.rules import HALF_LIFE_H, MIN_ACCOUNTS, Trends, score, utc_day
from chirp.tweets.model import Tweet
from tests.unit.fakes import FakeClock, FakeTagCounter

HOUR_MS = 3_600_000


def at(text: str) -> int:
    """A UTC time, ISO-written, in ms."""
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


@pytest.fixture
def new_york(monkeypatch):
    """The machine's local time zone is New York's (days are UTC days whatever it is)."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(at("2025-06-15T12:00:00"))


@pytest.fixture
def counter() -> FakeTagCounter:
    return FakeTagCounter()


@pytest.fixture
def trends(counter, clock) -> Trends:
    return Trends(counter, clock)


def tag_by(trends: Trends, tag: str, accounts: int, at_ms: int, prefix: str = "u") -> None:
    """`accounts` distinct accounts use `tag` at `at_ms`."""
    trends.record(
        [
            Tweet(tweet_id=i, author_id=f"{prefix}{i}", text=f"#{tag}", created_at_ms=at_ms, hashtags=[tag])
            for i in range(accounts)
        ]
    )


# --- score ------------------------------------------------------------------------------------------------


def test_given_exactly_the_minimum_of_accounts_when_scored_then_the_tag_trends_and_one_fewer_does_not():
    assert score(MIN_ACCOUNTS, 0, 0) == (MIN_ACCOUNTS - 1) ** 2
    assert score(MIN_ACCOUNTS - 1, 0, 0) == 0.0


def test_given_observed_at_most_expected_when_scored_then_zero_and_one_more_scores():
    assert score(10, 10, 0) == 0.0
    assert score(10, 11, 0) == 0.0
    assert score(11, 10, 0) == pytest.approx(1 / 10)


def test_given_no_accounts_yesterday_when_scored_then_expected_is_one():
    assert score(6, 0, 0) == score(6, 1, 0) == 25.0


def test_given_hours_since_last_use_when_scored_then_the_score_halves_every_half_life():
    assert score(12, 2, 0) == 50.0
    assert score(12, 2, HALF_LIFE_H) == 25.0
    assert score(12, 2, 2 * HALF_LIFE_H) == 12.5
    assert score(12, 2, HALF_LIFE_H / 2) == pytest.approx(50 / 2**0.5)


# --- counting ---------------------------------------------------------------------------------------------


def test_given_a_utc_time_when_its_day_is_taken_then_it_is_the_utc_calendar_day():
    assert utc_day(at("2025-06-15T23:59:59.999")) == "20250615"
    assert utc_day(at("2025-06-16T00:00:00")) == "20250616"


def test_given_a_machine_in_another_time_zone_when_a_day_is_taken_then_it_is_still_the_utc_day(new_york):
    assert utc_day(at("2025-06-16T01:00:00")) == "20250616"  # still the 15th in New York


def test_given_tweets_with_tags_when_recorded_then_each_use_counts_its_account_day_and_time(counter, trends, clock):
    trends.record(
        [
            Tweet(tweet_id=1, author_id="ann", text="#a #b", created_at_ms=clock(), hashtags=["a", "b"]),
            Tweet(tweet_id=2, author_id="bob", text="no tags", created_at_ms=clock()),
        ]
    )
    assert counter.accounts == {("20250615", "a"): {"ann"}, ("20250615", "b"): {"ann"}}
    assert counter.last_used == {"a": clock(), "b": clock()}


def test_given_no_tags_when_recorded_then_the_counter_is_not_called(counter, trends, clock):
    calls: list[list[TagUse]] = []
    counter.record = calls.append
    trends.record([Tweet(tweet_id=1, author_id="ann", text="plain", created_at_ms=clock())])
    assert calls == []


def test_given_a_replayed_tweet_when_recorded_then_its_account_counts_once(trends, clock):
    for _ in range(2):
        tag_by(trends, "chirp", MIN_ACCOUNTS, clock())
    (trend,) = trends.top()
    assert trend.accounts_today == MIN_ACCOUNTS


# --- top --------------------------------------------------------------------------------------------------


def test_given_tags_used_today_when_ranked_then_by_score_then_name_without_those_that_do_not_trend(trends, clock):
    tag_by(trends, "big", 12, clock())
    tag_by(trends, "tie_b", 6, clock())
    tag_by(trends, "tie_a", 6, clock())
    tag_by(trends, "small", MIN_ACCOUNTS - 1, clock())
    tag_by(trends, "steady", 6, clock() - 24 * HOUR_MS)
    tag_by(trends, "steady", 6, clock())

    top = trends.top()

    assert [(t.hashtag, t.score, t.accounts_today, t.accounts_yesterday) for t in top] == [
        ("big", 121.0, 12, 0),
        ("tie_a", 25.0, 6, 0),
        ("tie_b", 25.0, 6, 0),
    ]


def test_given_yesterdays_accounts_when_ranked_then_only_growth_trends(trends, clock):
    tag_by(trends, "grew", 4, clock() - 24 * HOUR_MS, prefix="old")
    tag_by(trends, "grew", 9, clock())
    (trend,) = trends.top()
    assert (trend.hashtag, trend.score, trend.accounts_yesterday) == ("grew", 6.25, 4)


def test_given_a_limit_when_ranked_then_at_most_that_many_and_never_more_than_the_maximum(trends, clock, monkeypatch):
    for accounts, tag in enumerate("abcd", start=6):
        tag_by(trends, tag, accounts, clock())
    assert [t.hashtag for t in trends.top(limit=2)] == ["d", "c"]
    assert len(trends.top()) == 4
    monkeypatch.setattr(rules, "MAX_TRENDS", 3)
    assert len(trends.top(limit=50)) == 3


def test_given_no_limit_when_ranked_then_the_top_ten(trends, clock):
    for i in range(12):
        tag_by(trends, f"tag{i:02}", 6 + i, clock())
    assert [t.hashtag for t in trends.top()] == [f"tag{i:02}" for i in range(11, 1, -1)]


def test_given_a_large_score_when_ranked_then_decay_is_exact_to_the_millisecond(trends, clock):
    tag_by(trends, "now", 1001, clock())
    tag_by(trends, "before", 1001, clock() - 2 * HOUR_MS, prefix="b")
    assert [(t.hashtag, t.score) for t in trends.top()] == [("now", 1_000_000.0), ("before", 500_000.0)]


def test_given_a_tag_last_used_hours_ago_when_ranked_then_its_score_has_decayed(trends, clock):
    tag_by(trends, "fading", 6, clock() - 2 * HOUR_MS)
    tag_by(trends, "fresh", 6, clock())
    assert [(t.hashtag, t.score) for t in trends.top()] == [("fresh", 25.0), ("fading", 12.5)]


def test_given_a_score_with_many_decimals_when_ranked_then_rounded_to_three(trends, clock):
    tag_by(trends, "odd", 6, clock() - HOUR_MS)
    (trend,) = trends.top()
    assert trend.score == round(25 / 2**0.5, 3) == 17.678


def test_given_a_last_use_in_the_future_when_ranked_then_it_does_not_grow(trends, clock, counter):
    tag_by(trends, "skewed", 6, clock() + 2 * HOUR_MS)  # another host's clock ahead, same day
    (trend,) = trends.top()
    assert trend.score == 25.0


def test_given_no_known_last_use_when_ranked_then_it_counts_as_now(counter, trends, clock):
    tag_by(trends, "unknown", 6, clock() - 4 * HOUR_MS)
    counter.last_used.clear()
    assert trends.top()[0].score == 25.0


def test_given_the_day_rolls_over_when_ranked_then_yesterdays_accounts_become_the_expectation(trends, clock):
    clock.now_ms = at("2025-06-15T23:59:00")
    tag_by(trends, "night", 6, clock())
    assert [t.hashtag for t in trends.top()] == ["night"]

    clock.now_ms = at("2025-06-16T00:01:00")
    assert trends.top() == []  # nobody used it yet today

    tag_by(trends, "night", 7, clock(), prefix="early")
    (trend,) = trends.top()
    assert (trend.accounts_today, trend.accounts_yesterday, trend.score) == (7, 6, pytest.approx(1 / 6, abs=1e-3))


def test_given_a_machine_whose_clocks_changed_since_yesterday_when_ranked_then_yesterday_is_the_previous_utc_day(
    new_york, trends, clock
):
    clock.now_ms = at("2025-03-09T23:30:00")  # New York moved its clocks forward today, at 07:00 UTC
    tag_by(trends, "spring", 6, clock())
    (trend,) = trends.top()
    assert (trend.accounts_today, trend.accounts_yesterday) == (6, 0)  # yesterday is the 8th, not today


def test_given_tags_of_two_days_ago_when_ranked_then_they_are_not_yesterday(trends, clock):
    tag_by(trends, "old", 20, clock() - 48 * HOUR_MS, prefix="old")
    tag_by(trends, "old", 6, clock())
    assert trends.top()[0].accounts_yesterday == 0


def test_given_the_default_clock_when_ranked_then_it_is_the_wall_clock(counter):
    assert abs(Trends(counter).clock_ms() - time.time() * 1000) < 5_000
