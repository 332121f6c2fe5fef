"""The home read in waves (Redis Cluster's read path, RedisTimelineCache._read_home_in_waves) against the real Redis,
single or cluster (on a single Redis the waves are forced): three waves when the reader's marks are kept, and the
kept marks never outlive a change of the marks or of the reader's followees."""

from __future__ import annotations

import copy
import random

import pytest

from chirp.adapters.redis import client as redis_client
from chirp.adapters.redis.timeline_cache import (
    MARKS_GENERATION,
    celebrity_key,
    celebrity_retweets_key,
    marked_key,
    retweets_key,
)
from chirp.social.model import Profile, Relation
from chirp.tweets.model import Tweet


@pytest.fixture
def waved(services):
    cache = copy.copy(services.timeline_cache)
    cache.cluster = True  # the cluster's read path, whatever Redis this is
    return cache


@pytest.fixture
def waves(monkeypatch):
    """Counts the waves (Batch runs) of what the test does."""
    counted = {"waves": 0}
    execute = redis_client.Batch.execute

    def counting(self):
        counted["waves"] += 1
        return execute(self)

    monkeypatch.setattr(redis_client.Batch, "execute", counting)
    return counted


@pytest.fixture
def reader_of_a_celebrity(waved, make_user):
    """A reader following a friend (two tweets in the timeline) and a celebrity (one tweet pulled); all cached."""
    reader, friend, star = (make_user() for _ in range(3))
    base = 2**61 + 4096
    friend_tweets = [Tweet(tweet_id=base + i, author_id=friend, text=f"f{i}", created_at_ms=i) for i in (1, 2)]
    star_tweet = Tweet(tweet_id=base + 3, author_id=star, text="star", created_at_ms=3)
    waved.put_tweets([*friend_tweets, star_tweet])
    waved.put_profiles([Profile(user_id=u, handle=u[3:15], display_name=u) for u in (friend, star)])
    waved.set_relations(reader, {Relation.FOLLOWS: [friend, star]})
    waved.replace(reader, [t.tweet_id for t in friend_tweets])
    waved.set_celebrity(star, True, [star_tweet.tweet_id])
    yield reader, friend, star, [star_tweet.tweet_id, *(t.tweet_id for t in reversed(friend_tweets))]
    waved.set_celebrity(star, False, [])


def _read(cache, reader):
    return cache.read_home(reader, before_id=None, count=10, merge_celebrities=True)


def test_given_kept_marks_when_a_reader_of_a_celebrity_reads_then_three_waves_bring_the_whole_page(
    waved, waves, reader_of_a_celebrity
):
    reader, friend, star, page = reader_of_a_celebrity
    first = _read(waved, reader)  # finds the marks and keeps them
    waves["waves"] = 0

    second = _read(waved, reader)

    assert waves["waves"] == 3
    assert second == first
    assert sorted([*second.timeline.ids, *second.pulled.ids], reverse=True) == page
    assert second.timeline.celebrities == [star]
    assert second.hydration.tweets_looked_up >= set(page)
    assert set(second.hydration.profiles) == {friend, star} == second.hydration.followed


def test_given_kept_marks_when_a_followee_stops_being_a_celebrity_then_the_next_read_pulls_nothing(
    waved, reader_of_a_celebrity
):
    reader, _, star, _ = reader_of_a_celebrity
    _read(waved, reader)

    waved.set_celebrity(star, False, [])

    assert _read(waved, reader).timeline.celebrities == []
    assert _read(waved, reader).pulled.ids == []


def test_given_kept_marks_when_the_reader_follows_a_celebrity_then_the_next_read_pulls_it(
    waved, reader_of_a_celebrity, make_user
):
    reader, _, star, _ = reader_of_a_celebrity
    other = make_user()
    waved.set_celebrity(other, True, [2**61 + 9999])
    _read(waved, reader)

    waved.follow(reader, other, [])

    assert _read(waved, reader).timeline.celebrities == sorted([star, other])
    waved.set_celebrity(other, False, [])


def test_given_a_read_that_began_before_the_followees_changed_then_it_cannot_keep_its_marks(
    waved, reader_of_a_celebrity
):
    reader, _, star, _ = reader_of_a_celebrity
    _read(waved, reader)
    version = waved.redis.hget(marked_key(reader), "v")

    waved.relate(Relation.FOLLOWS, reader, star, add=False)  # between the read's first wave and its keeping
    generation = waved.redis.get(MARKS_GENERATION)
    kept = waved._keep_marked(waved.redis, [marked_key(reader)], [version, generation, star, "", 60])

    assert kept == 0
    assert _read(waved, reader).timeline.celebrities == []


def test_given_the_marks_generation_lost_when_read_again_then_it_is_made_anew_past_the_one_before(
    waved, reader_of_a_celebrity
):
    reader, _, star, _ = reader_of_a_celebrity
    _read(waved, reader)
    before = int(waved.redis.get(MARKS_GENERATION))

    waved.redis.delete(MARKS_GENERATION)  # as a flushed node would lose it

    assert _read(waved, reader).timeline.celebrities == [star]
    assert int(waved.redis.get(MARKS_GENERATION)) > before


def test_given_a_celebrity_with_many_retweets_above_the_cursor_when_paged_then_every_rival_above_is_known(
    waved, reader_of_a_celebrity
):
    reader, _, star, page = reader_of_a_celebrity
    shown = page[0]  # the celebrity's tweet, pulled onto the page below the cursor
    cursor = shown + 1
    # Given the celebrity's retweet of it, then 60 newer retweets of other tweets (more than a pull reads): all above
    rivals = {cursor + 4096 * (i + 1): (shown if i == 0 else 2**61 + i) for i in range(61)}
    waved.redis.zadd(celebrity_retweets_key(star), {f"{r}:{d}": r for r, d in rivals.items()})

    snapshot = waved.read_home(reader, before_id=cursor, count=3, merge_celebrities=True)

    assert shown in snapshot.pulled.ids
    assert snapshot.pulled.retweets_above == rivals  # the separate reads' answer: all of them, the oldest too
    assert snapshot.pulled == waved.pull_celebrities([star], before_id=cursor, count=3)
    assert min(rivals) in snapshot.hydration.tweets_looked_up  # the rival of a shown tweet is read


def test_given_nothing_below_the_cursor_in_the_timeline_when_paged_then_its_retweets_above_still_count(
    waved, reader_of_a_celebrity
):
    reader, _, star, page = reader_of_a_celebrity
    # Given an older tweet of the celebrity, pulled onto a page below a cursor the timeline holds nothing below
    shown = min(page) - 2**20
    waved.redis.zadd(celebrity_key(star), {str(shown): shown})
    cursor = min(page) - 2**19
    rival = min(page) + 2**20  # a followee's retweet of it, pushed to the timeline above the cursor
    waved.redis.zadd(retweets_key(reader), {f"{rival}:{shown}": rival})

    snapshot = waved.read_home(reader, before_id=cursor, count=3, merge_celebrities=True)

    assert (snapshot.timeline.ids, snapshot.pulled.ids) == ([], [shown])
    assert snapshot.timeline.retweets_above == {rival: shown}
    assert snapshot.timeline == waved.read(reader, before_id=cursor, count=3)


@pytest.mark.parametrize("seed", range(8))
def test_given_random_timelines_on_a_single_redis_then_the_waves_answer_what_the_script_does(
    services, waved, make_user, seed
):
    script = services.timeline_cache
    if script.cluster:
        pytest.skip("the one-script read runs on a single Redis only")
    # Given a reader following two friends and two celebrities, entries and retweets drawn at random (deferral: below,
    # apart, as the deployed catch-up may push deferred tweets between two reads)
    rng = random.Random(seed)
    reader, *friends = (make_user() for _ in range(3))
    stars = [make_user() for _ in range(2)]
    base = 2**61 + rng.randrange(2**30) * 4096
    ids = [base + 4096 * i for i in range(1, 41)]
    tweets, timeline, retweets = [], [], {}
    pulled: dict[str, list[int]] = {star: [] for star in stars}
    for tweet_id in ids:
        author = rng.choice([*friends, *stars])
        original = rng.choice([i for i in ids if i < tweet_id]) if tweet_id > ids[3] and rng.random() < 0.3 else None
        tweets.append(Tweet(tweet_id=tweet_id, author_id=author, text="r", created_at_ms=1, retweet_of_id=original))
        if original:
            retweets[tweet_id] = original
        (pulled[author] if author in stars else timeline).append(tweet_id)
    script.put_tweets(tweets)
    script.put_profiles([Profile(user_id=u, handle=u[3:15], display_name=u) for u in friends])
    script.set_relations(reader, {Relation.FOLLOWS: [*friends, *stars]})
    script.replace(reader, timeline, {r: d for r, d in retweets.items() if r in timeline})
    for star in stars:
        script.set_celebrity(star, True, pulled[star], {r: d for r, d in retweets.items() if r in pulled[star]})

    for cursor in (None, *rng.sample(ids, 3)):
        one = script.read_home(reader, before_id=cursor, count=5, merge_celebrities=True)
        waves = waved.read_home(reader, before_id=cursor, count=5, merge_celebrities=True)

        assert waves.timeline == one.timeline
        assert sorted(waves.pulled.ids) == sorted(one.pulled.ids)
        assert waves.pulled.retweets_above == one.pulled.retweets_above
        assert waves.hydration.tweets_looked_up >= one.hydration.tweets_looked_up
        assert waves.hydration.profiles_looked_up >= one.hydration.profiles_looked_up
        assert waves.hydration.followed >= one.hydration.followed
    for star in stars:
        script.set_celebrity(star, False, [])


def test_given_a_celebrity_with_deferred_tweets_when_read_in_waves_then_both_sets_are_pulled(
    waved, reader_of_a_celebrity
):
    # Given the celebrity's deferred tweet too (posted while fan-out on write was off)
    reader, _, star, page = reader_of_a_celebrity
    deferred = max(page) + 4096
    waved.defer(star, deferred)
    try:
        snapshot = waved.read_home(reader, before_id=None, count=10, merge_celebrities=True)
    finally:
        waved.undefer(star, [deferred])

    assert snapshot.timeline.deferred == [star]
    assert sorted(snapshot.pulled.ids) == sorted([page[0], deferred])  # its pull set's tweet and its deferred one
