"""Trends against the real Redis: distinct accounts per tag and day, idempotent under replays."""

from __future__ import annotations

import time
import uuid

import pytest

from chirp.adapters.redis.tag_counter import RedisTagCounter
from chirp.trends.rules import MIN_ACCOUNTS, Trends
from chirp.tweets.model import Tweet


@pytest.fixture
def trends(services) -> Trends:
    return Trends(RedisTagCounter(services.redis))


def _tweet(author: str, tag: str, at_ms: int) -> Tweet:
    return Tweet(tweet_id=at_ms, author_id=author, text=f"#{tag}", created_at_ms=at_ms, hashtags=[tag])


def test_given_a_tag_used_by_enough_new_accounts_today_when_ranked_then_it_trends(trends):
    tag, now = f"tag{uuid.uuid4().hex[:8]}", int(time.time() * 1000)
    tweets = [_tweet(f"a{i}", tag, now - i) for i in range(MIN_ACCOUNTS + 1)]
    trends.record(tweets)
    (trend,) = [t for t in trends.top(50) if t.hashtag == tag]
    assert trend.accounts_today == MIN_ACCOUNTS + 1
    assert trend.accounts_yesterday == 0


def test_given_a_replayed_batch_when_recorded_again_then_counts_do_not_change(trends):
    tag, now = f"tag{uuid.uuid4().hex[:8]}", int(time.time() * 1000)
    tweets = [_tweet(f"a{i}", tag, now - i) for i in range(MIN_ACCOUNTS)]
    trends.record(tweets)
    first = [t for t in trends.top(50) if t.hashtag == tag]
    trends.record(tweets)
    trends.record(tweets[:1] * 5)  # one account posting many times is still one account
    assert [t for t in trends.top(50) if t.hashtag == tag] == first


def test_given_a_tag_with_too_few_accounts_when_ranked_then_it_does_not_trend(trends):
    tag, now = f"tag{uuid.uuid4().hex[:8]}", int(time.time() * 1000)
    trends.record([_tweet("a1", tag, now), _tweet("a2", tag, now)])
    assert tag not in [t.hashtag for t in trends.top(50)]
