"""The fan-out consumer and the timeline rules against real DynamoDB and Redis (handler called directly:
the local cloud's Kinesis ignores batchItemFailures, so partial failures are tested here)."""

from __future__ import annotations

import time
import uuid

import pytest

from chirp.adapters.redis.timeline_cache import (
    CELEBRITIES,
    TRIM_SLACK,
    RedisTimelineCache,
    following_key,
    retweets_key,
    timeline_key,
)
from chirp.errors import Forbidden, Unavailable
from chirp.timelines.rules import Tier
from chirp.tweets.model import Tweet
from tests.conftest import FakeLambdaContext, kinesis_event, load_handler

CONTEXT = FakeLambdaContext(function_name="fanout")


@pytest.fixture
def fanout(services):
    return load_handler("fanout")


def _post(services, author: str, text: str = "hello") -> Tweet:
    return services.tweets.post(author, text)


def _timeline(services, user: str) -> list[int]:
    return [entry.tweet.tweet_id for entry in services.timelines.home(user, cursor=None, limit=100).items]


def test_given_a_replayed_batch_when_consumed_twice_then_timelines_are_unchanged(services, make_user, fanout):
    author, follower = make_user(), make_user()
    services.social.follow(follower, author)
    _timeline(services, follower)  # live timeline
    tweet = _post(services, author)
    event = kinesis_event([tweet.model_dump_json().encode()])
    assert fanout.lambda_handler(event, CONTEXT) == {"batchItemFailures": []}
    before = services.redis.zrange(timeline_key(follower), 0, -1, withscores=True)
    assert fanout.lambda_handler(event, CONTEXT) == {"batchItemFailures": []}
    assert services.redis.zrange(timeline_key(follower), 0, -1, withscores=True) == before
    assert _timeline(services, follower).count(tweet.tweet_id) == 1


def test_given_a_poison_record_when_consumed_then_the_good_records_are_delivered(services, make_user, fanout):
    author, follower = make_user(), make_user()
    services.social.follow(follower, author)
    _timeline(services, follower)
    good = _post(services, author)
    event = kinesis_event([b"not json at all", good.model_dump_json().encode()])
    response = fanout.lambda_handler(event, CONTEXT)
    assert response == {"batchItemFailures": []}  # skipped and counted, never retried for ever
    assert good.tweet_id in _timeline(services, follower)


def test_given_a_failing_dependency_when_consumed_then_only_that_record_is_reported(
    services, make_user, fanout, monkeypatch
):
    author = make_user()
    tweets = [_post(services, author, f"t{i}") for i in range(3)]
    real = fanout.services().timelines.fan_out

    def flaky(tweet):
        if tweet.tweet_id == tweets[1].tweet_id:
            raise ConnectionError("redis went away")
        return real(tweet)

    monkeypatch.setattr(fanout.services().timelines, "fan_out", flaky)
    response = fanout.lambda_handler(kinesis_event([t.model_dump_json().encode() for t in tweets]), CONTEXT)
    assert response == {"batchItemFailures": [{"itemIdentifier": "1001"}]}


def test_given_follower_counts_when_crossing_thresholds_then_tiers_change_and_celebrities_are_pulled(
    services, make_user
):
    thresholds = services.timelines.thresholds
    author = make_user()
    followers = [make_user() for _ in range(thresholds.celebrity)]
    for follower in followers[: thresholds.popular - 1]:
        services.social.follow(follower, author)
        _timeline(services, follower)
    assert services.timelines.fan_out(_post(services, author)) is Tier.NORMAL
    for follower in followers[thresholds.popular - 1 : -1]:
        services.social.follow(follower, author)
    assert services.timelines.fan_out(_post(services, author)) is Tier.POPULAR
    services.social.follow(followers[-1], author)  # at the celebrity threshold
    pulled = _post(services, author, "from a celebrity")
    assert services.timelines.fan_out(pulled) is Tier.CELEBRITY
    assert services.redis.zscore(timeline_key(followers[0]), pulled.tweet_id) is None  # not pushed
    assert pulled.tweet_id in _timeline(services, followers[0])  # but pulled at read
    services.social.unfollow(followers[-1], author)  # back below: pushed again, with a backfill
    assert services.redis.zscore(timeline_key(followers[0]), pulled.tweet_id) is not None


def test_given_a_crash_between_store_and_publish_when_the_relay_runs_then_the_tweet_is_delivered(
    services, make_user, monkeypatch
):
    author, follower = make_user(), make_user()
    services.social.follow(follower, author)

    def crash(tweet):
        raise RuntimeError("process died before publishing")

    monkeypatch.setattr(services.tweets.publisher, "publish", crash)
    with pytest.raises(RuntimeError):
        services.tweets.post(author, "stored but not published")
    monkeypatch.undo()
    stored = services.tweets.store.by_author(author, limit=1)[0][0]
    assert stored.tweet_id in set(services.tweets.store.pending_ids())
    published = []
    monkeypatch.setattr(services.tweets.publisher, "publish", lambda tweet: published.append(tweet.tweet_id))
    services.tweets.relay_outbox(grace_ms=0)
    assert stored.tweet_id in published
    assert stored.tweet_id not in set(services.tweets.store.pending_ids())


def test_given_a_flushed_timeline_when_read_then_it_is_rebuilt_from_dynamodb(services, make_user):
    author, follower = make_user(), make_user()
    services.social.follow(follower, author)
    tweet = _post(services, author)
    services.timelines.fan_out(tweet)
    services.redis.delete(timeline_key(follower), following_key(follower))
    assert tweet.tweet_id in _timeline(services, follower)


def test_given_an_inactive_follower_when_fanning_out_then_nothing_is_written_and_the_read_rebuilds(services, make_user):
    author, inactive = make_user(), make_user()
    services.social.follow(inactive, author)
    services.redis.delete(timeline_key(inactive))  # expired after the inactivity window
    tweet = _post(services, author)
    services.timelines.fan_out(tweet)
    assert not services.redis.exists(timeline_key(inactive))  # inactive users cost no writes
    assert tweet.tweet_id in _timeline(services, inactive)  # rebuilt from DynamoDB on return
    assert services.redis.ttl(timeline_key(inactive)) > 0  # and lives for the window again


def test_given_a_rebuild_under_way_when_another_read_comes_then_it_waits_instead_of_rebuilding_again(
    services, make_user, monkeypatch
):
    user = make_user()
    other = services.timeline_cache.rebuild_lock(user, 30)
    assert other.acquire()  # another request holds the rebuild
    monkeypatch.setattr("chirp.timelines.rules.REBUILD_WAIT_S", 0.3)
    with pytest.raises(Unavailable):
        services.timelines.home(user, cursor=None, limit=20)  # answered 503 after waiting, never rebuilt twice
    other.release()
    assert services.timelines.home(user, cursor=None, limit=20).items == []


def test_given_a_rebuild_that_outlived_its_lock_when_it_releases_then_the_next_holder_keeps_the_lock(
    services, make_user
):
    user = make_user()
    overrun = services.timeline_cache.rebuild_lock(user, 1)
    assert overrun.acquire()
    time.sleep(1.1)  # the lock expired while its holder was still rebuilding
    successor = services.timeline_cache.rebuild_lock(user, 30)
    assert successor.acquire()
    overrun.release()  # must not release the successor's lock
    assert not services.timeline_cache.rebuild_lock(user, 30).acquire()
    successor.release()
    assert services.timeline_cache.rebuild_lock(user, 30).acquire()


def test_given_ids_that_share_a_redis_score_when_paging_then_none_is_skipped(services, make_user):
    user = make_user()
    _timeline(services, user)
    base = 2124916698114596864  # doubles near 2^61 step by 256: these eight ids share one score
    ids = [base + i for i in range(8)]
    assert len({float(i) for i in ids}) == 1
    services.timeline_cache.add_to_each([user], ids)
    seen, before = [], None
    while True:
        view = services.timeline_cache.read(user, before_id=before, count=3)
        if not view.ids:
            break
        seen += view.ids
        before = view.ids[-1]
    assert seen == sorted(ids, reverse=True)


def test_given_redis_lost_its_celebrity_marks_when_a_celebrity_posts_then_followers_still_see_it(
    services, make_celebrity
):
    celebrity, followers = make_celebrity()
    reader = followers[0]
    assert services.timeline_cache.is_celebrity(celebrity)
    # Given Redis lost what it held (a flush): the celebrity mark and the reader's timeline and relations.
    services.redis.srem(CELEBRITIES, celebrity)
    services.redis.delete(timeline_key(reader), following_key(reader))
    _timeline(services, reader)  # the reader comes back: rebuilt from DynamoDB

    # When the celebrity posts
    tweet = _post(services, celebrity, "after the flush")
    assert services.timelines.fan_out(tweet) is Tier.CELEBRITY

    # Then the reader sees it (pulled at read), and the mark is back
    assert tweet.tweet_id in _timeline(services, reader)
    assert services.timeline_cache.is_celebrity(celebrity)


def test_given_redis_lost_a_celebrity_mark_when_a_reader_rebuilds_then_the_mark_is_restored_from_dynamodb(
    services, make_celebrity
):
    celebrity, followers = make_celebrity()
    services.redis.srem(CELEBRITIES, celebrity)
    services.redis.delete(timeline_key(followers[0]))

    _timeline(services, followers[0])

    assert services.timeline_cache.is_celebrity(celebrity)


def _aws_calls(monkeypatch) -> list[str]:
    from botocore.client import BaseClient

    calls: list[str] = []
    original = BaseClient._make_api_call

    def counted(self, operation_name, api_params):
        calls.append(f"{self.meta.service_model.service_name}.{operation_name}")
        return original(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", counted)
    return calls


def test_given_a_profile_when_posting_then_one_transaction_and_one_publish_store_count_and_announce_it(
    services, make_user, monkeypatch
):
    author = make_user()
    services.tweets.post(author, "warm-up: the id lease and the connections")
    calls = _aws_calls(monkeypatch)

    tweet = services.tweets.post(author, "two calls")

    assert calls == ["dynamodb.TransactWriteItems", "kinesis.PutRecord"]
    assert services.tweet_store.get(tweet.tweet_id) == tweet
    assert services.social_store.get_profile(author).tweets_count == 2


def test_given_no_profile_when_posting_then_forbidden_and_nothing_is_stored(services, monkeypatch):
    ghost = f"it-ghost-{time.time_ns()}"
    services.tweets.ids.next_id()  # the id lease is taken: not what is counted
    calls = _aws_calls(monkeypatch)
    with pytest.raises(Forbidden, match="create your profile"):
        services.tweets.post(ghost, "nobody")
    assert calls == ["dynamodb.TransactWriteItems"]  # refused by the count's condition: nothing published
    assert services.tweet_store.by_author(ghost, limit=5)[0] == []
    assert services.social_store.get_profile(ghost) is None  # the refused count made no stub profile


def test_given_a_posted_tweet_when_the_fanout_consumer_receives_it_then_it_leaves_the_outbox(
    services, make_user, fanout, monkeypatch
):
    author = make_user()
    monkeypatch.setattr(services.tweets.publisher, "publish", lambda tweet: None)  # only this test delivers it
    tweet = services.tweets.post(author, "confirmed by the consumer")
    assert tweet.tweet_id in set(services.tweet_store.pending_ids())

    event = kinesis_event([tweet.model_dump_json().encode()])
    fanout.lambda_handler(event, CONTEXT)
    fanout.lambda_handler(event, CONTEXT)  # a replay confirms nothing twice, and fails nothing

    assert tweet.tweet_id not in set(services.tweet_store.pending_ids())
    assert services.tweet_store.get(tweet.tweet_id) == tweet


def test_given_two_profiles_when_following_then_three_dynamodb_calls_count_notify_and_backfill(
    services, make_user, monkeypatch
):
    author, follower = make_user(), make_user()
    first, second = _post(services, author, "one"), _post(services, author, "two")
    _timeline(services, follower)  # a live timeline, which the follow backfills
    calls = _aws_calls(monkeypatch)

    assert services.social.follow(follower, author) is True

    # One read (profiles, blocks, the mute), one write (edge, counts, notification), the backfill's id-only query.
    assert calls == ["dynamodb.BatchGetItem", "dynamodb.TransactWriteItems", "dynamodb.Query"]
    assert services.social_store.get_profile(author).followers_count == 1
    assert services.social_store.get_profile(follower).following_count == 1
    (notification,) = services.notifications.store.newest(author, before_id=None, limit=10)
    assert (notification.kind, notification.actor_id) == ("follow", follower)
    assert _timeline(services, follower)[:2] == [second.tweet_id, first.tweet_id]


def test_given_a_lost_timeline_of_many_followees_when_rebuilt_then_each_followees_tweets_come_back(
    services, make_user, monkeypatch
):
    reader = make_user()
    followees = [make_user() for _ in range(12)]
    posted = []
    for followee in followees:
        services.social.follow(reader, followee)
        posted.append(_post(services, followee, f"by {followee}").tweet_id)
    deleted = _post(services, followees[0], "deleted before the rebuild")
    services.tweets.delete(followees[0], deleted.tweet_id)
    services.redis.delete(timeline_key(reader), following_key(reader))
    calls = _aws_calls(monkeypatch)

    timeline = _timeline(services, reader)

    assert sorted(timeline) == sorted(posted)
    # The relations (follows, blocks, mutes), the followees' tiers, then one id-only query per author (the reader's
    # own too), run in parallel; then the page's hydration.
    assert calls.count("dynamodb.Query") == 3 + 1 + len(followees)


def test_given_full_live_timelines_when_pushed_past_the_high_water_mark_then_trimmed_back_to_max_items(services):
    cache = RedisTimelineCache(services.redis, max_items=3, ttl_s=60)  # trims above 3 + TRIM_SLACK ids
    live, idle = f"it-{uuid.uuid4().hex[:12]}", f"it-{uuid.uuid4().hex[:12]}"
    cache.replace(live, [1, 2, 3])
    try:
        # When pushed up to the high-water mark, then nothing is trimmed, and the idle timeline is never created
        pushed = [cache.push(tweet_id, [live, idle]) for tweet_id in range(4, 4 + TRIM_SLACK)]
        assert pushed == [1] * TRIM_SLACK
        assert services.timeline_cache.redis.exists(timeline_key(idle)) == 0
        assert len(cache.read(live, before_id=None, count=100).ids) == 3 + TRIM_SLACK
        # When one more arrives, then the newest 3 are kept (and the sentinel: the timeline stays live)
        newest = 4 + TRIM_SLACK
        assert cache.push(newest, [live]) == 1
        view = cache.read(live, before_id=None, count=100)
        assert (view.live, view.ids) == (True, [newest, newest - 1, newest - 2])
    finally:
        services.redis.delete(timeline_key(live), retweets_key(live))


def test_given_a_retweet_pushed_past_the_high_water_mark_then_its_index_is_trimmed_alike(services):
    cache = RedisTimelineCache(services.redis, max_items=2, ttl_s=60)
    user = f"it-{uuid.uuid4().hex[:12]}"
    cache.replace(user, [1])
    try:
        for retweet_id in range(10, 10 + TRIM_SLACK + 3):
            assert cache.push(retweet_id, [user], retweet_of=1) == 1
        index = services.redis.zrange(retweets_key(user), 0, -1)
        assert len(index) <= 2 + TRIM_SLACK
        assert index[-1] == f"{9 + TRIM_SLACK + 3}:1"
        assert services.redis.pttl(retweets_key(user)) > 0  # expires with its timeline
    finally:
        services.redis.delete(timeline_key(user), retweets_key(user))
