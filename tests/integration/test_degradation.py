"""Degradation against the real Redis and DynamoDB: tweets deferred at level 3 and pulled by readers, pushed by
the fan-out consumer's catch-up (scheduled, or after a batch) once the level drops, with the auditor clean; the
trends ranking kept in Redis."""

from __future__ import annotations

import copy
import time

import pytest

from chirp.adapters.redis.timeline_cache import DEFERRED_AUTHORS, deferred_key, timeline_key
from chirp.degradation.levels import Level, Switches
from chirp.tweets.model import Tweet
from tests.conftest import FakeLambdaContext, kinesis_event, load_handler

CONTEXT = FakeLambdaContext(function_name="fanout")


@pytest.fixture
def level():
    return [Level.NORMAL]


@pytest.fixture
def timelines(services, level):
    """The deployed wiring with the level under the test's control."""
    controlled = copy.copy(services.timelines)
    controlled.switches = Switches(lambda: level[0])
    return controlled


def _stored(services, author: str, text: str) -> Tweet:
    """A tweet in DynamoDB that is never published: only this test's calls can deliver it (the deployed consumers
    never see it)."""
    tweet = Tweet(
        tweet_id=services.tweets.ids.next_id(), author_id=author, text=text, created_at_ms=int(time.time() * 1000)
    )
    services.tweet_store.create(tweet)
    services.tweet_store.mark_published(tweet.tweet_id)
    return tweet


def _ids(timelines, user: str) -> list[int]:
    return [e.tweet.tweet_id for e in timelines.home(user, cursor=None, limit=100).items]


def test_given_level_3_when_tweets_are_fanned_out_then_redis_keeps_them_deferred_and_readers_pull_them(
    services, timelines, level, make_user
):
    author, reader = make_user(), make_user()
    services.social.follow(reader, author)
    _ids(timelines, reader)
    level[0] = Level.CRITICAL
    tweets = [_stored(services, author, f"deferred {i}") for i in range(3)]

    for tweet in tweets:
        assert timelines.fan_out(tweet) is None

    assert services.redis.sismember(DEFERRED_AUTHORS, author)
    assert services.redis.zcard(deferred_key(author)) == 3
    assert services.timeline_cache.read(reader, before_id=None, count=10).deferred == [author]
    assert _ids(timelines, reader) == sorted((t.tweet_id for t in tweets), reverse=True)
    assert services.redis.zcard(timeline_key(reader)) == 1  # the sentinel only: nothing was pushed
    assert timelines.catch_up() == 0

    level[0] = Level.NORMAL
    assert timelines.catch_up() == 3
    assert not services.redis.exists(deferred_key(author))
    assert not services.redis.sismember(DEFERRED_AUTHORS, author)
    assert services.redis.zcard(timeline_key(reader)) == 4
    assert services.auditor().audit([reader]).clean


def test_given_a_tweet_deferred_meanwhile_when_an_author_is_caught_up_then_the_author_stays_listed(services, make_user):
    author = make_user()
    cache = services.timeline_cache
    cache.defer(author, 1)
    cache.defer(author, 2)

    cache.undefer(author, [1])  # a catch-up that read only tweet 1

    assert cache.deferred_authors().count(author) == 1
    cache.undefer(author, [2])
    assert author not in cache.deferred_authors()


def test_given_deferred_tweets_when_the_schedule_runs_the_fanout_consumer_then_it_catches_up(
    services, make_user, monkeypatch
):
    fanout = load_handler("fanout")
    author, reader = make_user(), make_user()
    services.social.follow(reader, author)
    _ids(services.timelines, reader)
    tweet = _stored(services, author, "deferred, then scheduled")
    services.timeline_cache.defer(author, tweet.tweet_id)  # as the consumer did at level 3
    monkeypatch.setattr(fanout.services(), "level", lambda: Level.NORMAL, raising=False)

    assert fanout.lambda_handler({"source": "aws.events", "detail-type": "Scheduled Event"}, CONTEXT)["caught_up"] >= 1

    assert services.redis.zscore(timeline_key(reader), tweet.tweet_id) is not None


def test_given_a_stream_batch_at_level_0_when_consumed_then_earlier_deferred_tweets_are_pushed_after_it(
    services, make_user, monkeypatch
):
    fanout = load_handler("fanout")
    monkeypatch.setattr(fanout.services(), "level", lambda: Level.NORMAL, raising=False)
    author, reader = make_user(), make_user()
    services.social.follow(reader, author)
    _ids(services.timelines, reader)
    earlier, now = _stored(services, author, "deferred"), _stored(services, author, "now")
    services.timeline_cache.defer(author, earlier.tweet_id)

    assert fanout.lambda_handler(kinesis_event([now.model_dump_json().encode()]), CONTEXT) == {"batchItemFailures": []}

    assert services.redis.zscore(timeline_key(reader), earlier.tweet_id) is not None
    assert services.redis.zscore(timeline_key(reader), now.tweet_id) is not None


def test_given_trends_when_ranked_then_redis_keeps_the_ranking_for_the_refresh_period(services):
    from chirp.adapters.redis.tag_counter import RedisTagCounter, RedisTrendState
    from chirp.trends.rules import Trends
    from tests.unit.fakes import FakeAccountAges, FakeTagLists

    clock = [1_800_000_000_000]
    state = RedisTrendState(services.redis)
    trends = Trends(
        RedisTagCounter(services.redis),
        state,
        FakeAccountAges(),
        FakeTagLists(),
        min_accounts=5,
        ranked_ttl_s=60,
        clock_ms=lambda: clock[0],
    )
    services.redis.delete("trend:ranking")

    first = trends.top(50)
    kept_at, _ = state.ranking()

    assert kept_at == clock[0]
    clock[0] += 30_000
    assert trends.top(50) == first
    assert state.ranking()[0] == kept_at  # not recomputed within the period
