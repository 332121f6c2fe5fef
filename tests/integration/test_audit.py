"""The auditor against real DynamoDB and Redis: clean when consistent, and it catches each kind of drift."""

from __future__ import annotations

import copy

import pytest

from chirp.adapters.redis.timeline_cache import CELEBRITIES, following_key, hidden_key, marked_key, timeline_key
from chirp.social.model import Relation
from chirp.timelines.audit import TimelineAuditor


@pytest.fixture
def auditor(services) -> TimelineAuditor:
    return services.auditor()


@pytest.fixture
def follower_with_a_tweet(services, make_user, monkeypatch):
    """A follower whose live timeline holds one tweet of the author they follow. Tweets are not put on the
    stream: the deployed consumer would deliver them again, asynchronously, undoing a test's corruption."""
    monkeypatch.setattr(services.tweets.publisher, "publish", lambda tweet: None)
    author, follower = make_user(), make_user()
    services.timelines.home(follower, cursor=None, limit=20)
    services.social.follow(follower, author)
    tweet = services.tweets.post(author, "audited")
    services.timelines.fan_out(tweet)
    yield follower, tweet
    # These tests corrupt the cache on purpose: drop it, so the next read rebuilds it from DynamoDB.
    relations = [following_key(follower), *(hidden_key(kind, follower) for kind in (Relation.BLOCKS, Relation.MUTES))]
    services.redis.delete(timeline_key(follower), *relations)


def test_given_a_consistent_timeline_when_audited_then_it_is_clean(auditor, follower_with_a_tweet):
    follower, _ = follower_with_a_tweet
    assert auditor.audit([follower]).clean


def test_given_a_tweet_lost_from_redis_when_audited_then_it_is_reported_missing(
    services, auditor, follower_with_a_tweet
):
    follower, tweet = follower_with_a_tweet
    services.redis.zrem(timeline_key(follower), tweet.tweet_id)
    (finding,) = auditor.audit([follower]).findings
    assert finding.missing == [tweet.tweet_id]
    assert finding.extra == []


def test_given_a_lost_unfollow_when_audited_then_the_still_shown_tweet_is_reported_extra(
    services, auditor, make_user, follower_with_a_tweet
):
    follower, _ = follower_with_a_tweet
    former = make_user()
    stranger_tweet = services.tweets.post(former, "from someone no longer followed")
    # Redis still believes the follow exists (its unfollow update was lost) and holds the tweet.
    services.redis.sadd(following_key(follower), former)
    services.redis.zadd(timeline_key(follower), {str(stranger_tweet.tweet_id): stranger_tweet.tweet_id})
    assert stranger_tweet.tweet_id in [
        e.tweet.tweet_id for e in services.timelines.home(follower, cursor=None, limit=20).items
    ]
    (finding,) = auditor.audit([follower]).findings
    assert finding.extra == [stranger_tweet.tweet_id]
    assert finding.missing == []
    assert "follows" in finding.relation_mismatch


def test_given_an_id_that_is_no_tweet_in_a_timeline_when_audited_then_it_is_not_shown_and_not_a_crash(
    services, auditor, follower_with_a_tweet
):
    # Given an id no tweet has (a test's, or a tweet whose write never landed), which the read drops
    follower, _ = follower_with_a_tweet
    nothing = 2**62 + 12345
    services.redis.zadd(timeline_key(follower), {str(nothing): nothing})
    assert nothing not in [e.entry_id for e in services.timelines.home(follower, cursor=None, limit=20).items]
    assert auditor.audit([follower]).clean


def test_given_a_push_that_raced_an_unfollow_when_read_and_audited_then_it_is_not_shown(
    services, auditor, make_user, follower_with_a_tweet
):
    follower, _ = follower_with_a_tweet
    stranger_tweet = services.tweets.post(make_user(), "pushed after the unfollow")
    services.redis.zadd(timeline_key(follower), {str(stranger_tweet.tweet_id): stranger_tweet.tweet_id})
    assert stranger_tweet.tweet_id not in [
        e.tweet.tweet_id for e in services.timelines.home(follower, cursor=None, limit=20).items
    ]
    assert auditor.audit([follower]).clean


def test_given_deleted_and_muted_tweets_still_cached_when_audited_then_read_filters_make_it_clean(
    services, auditor, make_user, follower_with_a_tweet
):
    follower, tweet = follower_with_a_tweet
    services.tweets.delete(tweet.author_id, tweet.tweet_id)  # home timelines filter it lazily at read
    muted = make_user()
    services.social.follow(follower, muted)
    services.social.mute(follower, muted)
    services.timelines.fan_out(services.tweets.post(muted, "pushed but hidden"))
    assert auditor.audit([follower]).clean


def test_given_redis_forgot_a_mute_when_audited_then_the_mismatch_is_reported(
    services, auditor, make_user, follower_with_a_tweet
):
    follower, _ = follower_with_a_tweet
    muted = make_user()
    services.social.mute(follower, muted)
    services.redis.delete(hidden_key(Relation.MUTES, follower))
    (finding,) = auditor.audit([follower]).findings
    assert muted in finding.relation_mismatch


def test_given_a_celebrity_redis_does_not_know_when_audited_then_the_tier_drift_is_reported(
    services, auditor, make_celebrity
):
    celebrity, followers = make_celebrity()
    reader = followers[0]
    services.timelines.home(reader, cursor=None, limit=20)
    services.redis.srem(CELEBRITIES, celebrity)  # lost, as in a flush

    finding = auditor.audit_user(reader)

    assert finding.relation_mismatch is not None
    assert "celebrities" in finding.relation_mismatch
    services.timelines.restore_celebrity_marks([celebrity])
    assert auditor.audit_user(reader).clean


def test_given_kept_marks_that_drifted_when_audited_then_the_difference_is_reported(services, auditor, make_celebrity):
    # Given a follower whose cluster read kept the marks it found (the waved read, forced on any Redis)
    celebrity, followers = make_celebrity()
    reader = followers[0]
    waved = copy.copy(services.timeline_cache)
    waved.cluster = True
    services.timelines.home(reader, cursor=None, limit=5)  # live
    waved.read_home(reader, before_id=None, count=5, merge_celebrities=True)
    assert auditor.audit([reader]).clean

    services.redis.hset(marked_key(reader), "celebrities", "")  # drifted: the celebrity forgotten

    (finding,) = auditor.audit([reader]).findings
    assert "kept celebrities" in finding.relation_mismatch
    assert celebrity in finding.relation_mismatch
