"""Trends against the real Redis (counting, windows, peaks) and SSM (the operators' lists)."""

from __future__ import annotations

import json
import uuid

import pytest

from chirp.adapters.aws import aws_client
from chirp.adapters.redis.tag_counter import RedisTagCounter, RedisTrendState
from chirp.adapters.ssm.tag_lists import SsmTagLists
from chirp.trends.rules import HOUR_MS, Trends
from chirp.tweets.model import Tweet
from tests.unit.fakes import FakeAccountAges, FakeClock, FakeTagLists

MIN_ACCOUNTS = 5


def _trends(services, clock, lists=None) -> Trends:
    return Trends(
        RedisTagCounter(services.redis),
        RedisTrendState(services.redis),
        FakeAccountAges(),  # unknown authors are old: their tweets count fully
        lists or FakeTagLists(),
        min_accounts=MIN_ACCOUNTS,
        ranked_ttl_s=1,
        new_account_ms=0,
        clock_ms=clock,
    )


def _uses(tag: str, accounts: int, at_ms: int, prefix: str | None = None) -> list[Tweet]:
    prefix = prefix or uuid.uuid4().hex[:6]
    return [
        Tweet(tweet_id=i + 1, author_id=f"{prefix}{i}", text=f"#{tag} {i}", created_at_ms=at_ms, hashtags=[tag])
        for i in range(accounts)
    ]


def test_given_a_tag_used_by_enough_accounts_within_the_hour_when_ranked_then_it_trends_once_per_account(services):
    clock = FakeClock()
    trends, tag = _trends(services, clock), f"burst{uuid.uuid4().hex[:8]}"
    tweets = _uses(tag, MIN_ACCOUNTS + 1, clock())
    trends.record(tweets)
    trends.record(tweets)  # a replayed batch
    trends.record(tweets[:1] * 5)  # one account posting many times

    (trend,) = [t for t in trends.refresh() if t.hashtag == tag]

    assert trend.accounts_last_hour == MIN_ACCOUNTS + 1
    assert trend.expected_per_hour == 0


def test_given_a_tag_as_busy_as_its_baseline_when_ranked_then_it_does_not_trend(services):
    clock = FakeClock(1_750_000_000_000 - 1_750_000_000_000 % HOUR_MS)
    trends, tag = _trends(services, clock), f"steady{uuid.uuid4().hex[:8]}"
    prefix = uuid.uuid4().hex[:6]
    for _ in range(25):  # the same accounts every hour, a day long
        trends.record(_uses(tag, 8, clock(), prefix))
        clock.advance(HOUR_MS)
    trends.record(_uses(tag, 8, clock(), prefix))
    assert tag not in [t.hashtag for t in trends.refresh()]


def test_given_the_operators_lists_in_ssm_when_a_listed_tag_bursts_then_it_does_not_trend(services, cloud_settings):
    ssm = aws_client("ssm", cloud_settings)
    blocked, evergreen, free = (f"{kind}{uuid.uuid4().hex[:8]}" for kind in ("blocked", "evergreen", "free"))
    name = f"/chirp-test/trend-lists/{uuid.uuid4().hex[:8]}"
    ssm.put_parameter(
        Name=name, Type="String", Value=json.dumps({"blocked": [blocked], "evergreen": [f"#{evergreen}"]})
    )
    try:
        clock = FakeClock()
        trends = _trends(services, clock, SsmTagLists(ssm, name))
        for tag in (blocked, evergreen, free):
            trends.record(_uses(tag, MIN_ACCOUNTS + 2, clock()))
        trending = {t.hashtag for t in trends.refresh()}
        assert free in trending
        assert not {blocked, evergreen} & trending
    finally:
        ssm.delete_parameter(Name=name)


def test_given_no_lists_parameter_when_read_then_nothing_is_hidden(services, cloud_settings):
    lists = SsmTagLists(aws_client("ssm", cloud_settings), f"/chirp-test/missing/{uuid.uuid4().hex}")
    assert lists.blocked() == frozenset()
    assert lists.evergreen() == frozenset()


@pytest.mark.parametrize("minutes_later", [0, 61])
def test_given_a_burst_when_the_hour_rolls_on_then_it_leaves_the_window_but_its_peak_keeps_it_listed(
    services, minutes_later
):
    clock = FakeClock()
    trends, tag = _trends(services, clock), f"roll{uuid.uuid4().hex[:8]}"
    trends.record(_uses(tag, MIN_ACCOUNTS + 3, clock()))
    first = {t.hashtag: t for t in trends.refresh()}[tag]
    clock.advance(minutes_later * 60_000)
    later = {t.hashtag: t for t in trends.refresh()}[tag]
    assert later.accounts_last_hour == (first.accounts_last_hour if minutes_later < 60 else 0)
    assert later.score <= first.score
