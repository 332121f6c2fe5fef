"""The home read (RedisTimelineCache.read_home: one Lua script on a single Redis, waves on Redis Cluster) against
the real Redis: it answers what the separate reads answer, and finds the hydration caches' tweets and profiles for
the page they make."""

from __future__ import annotations

import random

import pytest

from chirp.adapters.redis.timeline_cache import retweets_key
from chirp.social.model import Profile, Relation
from chirp.timelines.model import HomeSnapshot, TimelinePage
from chirp.tweets.model import Tweet


@pytest.fixture
def home(services, make_user):
    """A reader following a friend, a celebrity and a deferring author, blocking one user; ids near 2^61
    (beyond a double's exact integers: the script compares them as strings); the friend's retweet of the
    celebrity's tweet; every tweet and two profiles cached."""
    cache = services.timeline_cache
    reader, friend, star, deferring, blocked = (make_user() for _ in range(5))
    base = 2**61 + random.randrange(2**40) * 1024
    t = {n: base + n * 4096 for n in range(1, 8)}
    tweets = [
        Tweet(tweet_id=t[1], author_id=friend, text="one", created_at_ms=1),
        Tweet(tweet_id=t[2], author_id=friend, text='quotes "author_id":"evil" and "retweet_of_id":1', created_at_ms=2),
        Tweet(tweet_id=t[3], author_id=star, text="star", created_at_ms=3),
        Tweet(tweet_id=t[4], author_id=friend, text="", created_at_ms=4, retweet_of_id=t[3]),
        Tweet(tweet_id=t[5], author_id=star, text="star again", created_at_ms=5),
        Tweet(tweet_id=t[6], author_id=deferring, text="deferred", created_at_ms=6),
    ]
    cache.put_tweets(tweets)
    cache.put_profiles([Profile(user_id=u, handle=u[3:15], display_name=u) for u in (friend, star)])
    cache.set_relations(reader, {Relation.FOLLOWS: [friend, star, deferring], Relation.BLOCKS: [blocked]})
    cache.replace(reader, [t[1], t[2], t[4]], {t[4]: t[3]})
    cache.set_celebrity(star, True, [t[3], t[5]], {t[4]: t[3]})
    cache.defer(deferring, t[6])
    yield cache, reader, t, {"friend": friend, "star": star, "deferring": deferring, "blocked": blocked}
    cache.set_celebrity(star, False, [])
    cache.undefer(deferring, [t[6]])


@pytest.mark.parametrize("cursor", [None, 3, 5])
def test_given_every_source_when_read_home_then_it_answers_what_the_separate_reads_do(home, cursor):
    cache, reader, t, users = home
    before = t[cursor] if cursor else None

    snapshot = cache.read_home(reader, before_id=before, count=3, merge_celebrities=True)

    view = cache.read(reader, before_id=before, count=3)
    celebrities = cache.pull_celebrities(view.celebrities, before_id=before, count=3)
    assert snapshot.timeline == view
    assert snapshot.pulled.ids == celebrities.ids + cache.deferred_ids(view.deferred, before_id=before, count=3)
    assert snapshot.pulled.retweets_above == celebrities.retweets_above
    assert view.hidden_authors == {users["blocked"]}


def test_given_a_first_page_when_read_home_then_its_tweets_originals_and_authors_come_with_it(home):
    cache, reader, t, users = home

    snapshot = cache.read_home(reader, before_id=None, count=4, merge_celebrities=True)

    cached = snapshot.hydration
    page = {t[6], t[5], t[4], t[3]}  # the deferred, the celebrity's, the friend's retweet, the one it shows
    # On a cluster the timeline's own newest tweets are read before the pulls decide the page (one wave less).
    speculative = set(snapshot.timeline.ids) if cache.cluster else set()
    assert page <= cached.tweets_looked_up <= page | speculative
    assert cached.tweets[t[4]].retweet_of_id == t[3]
    assert set(cached.profiles_looked_up) == {users["friend"], users["star"], users["deferring"]}
    assert set(cached.profiles) == {users["friend"], users["star"]}  # the deferring author's is not cached
    assert cached.followed == {users["friend"], users["star"], users["deferring"]}


def test_given_a_page_below_a_retweet_when_read_home_then_the_rival_retweet_above_is_fetched_too(home):
    cache, reader, t, users = home

    snapshot = cache.read_home(reader, before_id=t[4], count=2, merge_celebrities=True)

    assert snapshot.timeline.ids == [t[2], t[1]]
    assert snapshot.pulled.ids == [t[3]]
    assert snapshot.timeline.retweets_above == {t[4]: t[3]}
    # the page shows t3 (pulled); the retweet above it shows t3 too, so the read needs it to pick the newest
    assert t[4] in snapshot.hydration.tweets
    assert snapshot.hydration.tweets[t[2]].author_id == users["friend"]  # the quoted text did not fool the script


def test_given_celebrity_merge_off_when_read_home_then_only_deferred_tweets_are_pulled(home):
    cache, reader, t, _ = home
    snapshot = cache.read_home(reader, before_id=None, count=10, merge_celebrities=False)
    assert snapshot.pulled.ids == [t[6]]


def test_given_a_reader_redis_does_not_hold_when_read_home_then_not_live_and_nothing_found(services, make_user):
    snapshot = services.timeline_cache.read_home(make_user(), before_id=None, count=20, merge_celebrities=True)
    assert (snapshot.timeline.live, snapshot.timeline.ids, snapshot.pulled.ids) == (False, [], [])
    assert snapshot.hydration.tweets_looked_up == frozenset()


def test_given_more_rival_retweets_than_lua_unpacks_when_read_home_then_all_are_looked_up(home):
    cache, reader, t, _ = home
    # Given 9,000 retweets above the cursor (Lua unpacks fewer than 8,000 values), all showing the friend's tweet
    # t1 on the page below it
    rivals = {t[7] + 8 * i: t[1] for i in range(1, 9_001)}
    cache.redis.zadd(retweets_key(reader), {f"{r}:{d}": r for r, d in rivals.items()})

    snapshot = cache.read_home(reader, before_id=t[2], count=5, merge_celebrities=True)

    assert snapshot.timeline.ids == [t[1]]
    assert snapshot.hydration.tweets_looked_up == {t[1], *rivals}  # MGETs in chunks of 1,000


def _random_home(cache, make_user, rng: random.Random):
    """A reader following three friends, two celebrities and a user they mute, with everything cached: entries and
    retweets drawn at random from them, a stranger (a push that raced an unfollow), a blocked user and the reader;
    some deleted, some retweeting tweets of hidden or deleted ones."""
    reader, stranger, blocked, muted, *friends = (make_user() for _ in range(7))
    stars = [make_user() for _ in range(2)]
    authors = [reader, stranger, blocked, muted, *friends, *stars]
    base = 2**61 + rng.randrange(2**30) * 4096
    ids = [base + 4096 * i for i in range(1, 61)]
    tweets, timeline, retweets = [], [], {}
    pulled: dict[str, list[int]] = {star: [] for star in stars}
    for tweet_id in ids:
        author = rng.choice(authors)
        original = rng.choice([i for i in ids if i < tweet_id]) if tweet_id > ids[3] and rng.random() < 0.4 else None
        deleted = rng.random() < 0.1
        tweet = Tweet(tweet_id=tweet_id, author_id=author, text="r", created_at_ms=1, retweet_of_id=original)
        tweets.append(tweet.model_copy(update={"deleted": deleted}))
        if original:
            retweets[tweet_id] = original
        (pulled[author] if author in stars else timeline).append(tweet_id)
    cache.put_tweets(tweets)
    cache.put_profiles([Profile(user_id=u, handle=u[3:15], display_name=u) for u in authors])
    cache.set_relations(
        reader, {Relation.FOLLOWS: [*friends, *stars, muted], Relation.BLOCKS: [blocked], Relation.MUTES: [muted]}
    )
    cache.replace(reader, timeline, {r: d for r, d in retweets.items() if r in timeline})
    for star in stars:
        cache.set_celebrity(star, True, pulled[star], {r: d for r, d in retweets.items() if r in pulled[star]})
    return reader, stars, ids


@pytest.fixture
def finishing(services):
    """The timeline cache, where its script finishes pages: a single Redis (a cluster's read goes in waves)."""
    if services.timeline_cache.cluster:
        pytest.skip("the script finishes pages on a single Redis only")
    return services.timeline_cache


@pytest.mark.parametrize("seed", range(12))
def test_given_everything_cached_when_the_script_finishes_the_page_then_it_is_what_the_rules_make(
    services, finishing, make_user, seed
):
    cache = finishing
    rng = random.Random(seed)
    reader, stars, ids = _random_home(cache, make_user, rng)
    try:
        for cursor in (None, *rng.sample(ids, 4)):
            # When the script finishes the page, and when the rules make it from the same read's snapshot
            finished = cache.read_home(reader, before_id=cursor, count=5, merge_celebrities=True, finish=True)
            snapshot = cache.read_home(reader, before_id=cursor, count=5, merge_celebrities=True)

            # Then both pages are the same: entries, what they show, authors, retweeters, the next cursor
            assert isinstance(finished, TimelinePage)
            assert finished == services.timelines.page_from(snapshot, reader, 5)
    finally:
        for star in stars:
            cache.set_celebrity(star, False, [])


def test_given_a_rival_retweet_just_below_the_cursor_when_the_script_finishes_then_it_is_not_above_the_page(
    services, finishing, make_user
):
    # Given a cursor and a retweet one below it (both the same double as scores: the index's range read returns it),
    # indexed but no longer in the timeline, showing the one tweet on the page below
    cache = finishing
    reader, friend = make_user(), make_user()
    cursor = 2**61 + 1024 * random.randrange(2**20)
    tweet = Tweet(tweet_id=cursor - 4096, author_id=friend, text="t", created_at_ms=1)
    rival = Tweet(tweet_id=cursor - 1, author_id=friend, text="", created_at_ms=2, retweet_of_id=tweet.tweet_id)
    cache.put_tweets([tweet, rival])
    cache.put_profiles([Profile(user_id=friend, handle=friend[3:15], display_name=friend)])
    cache.set_relations(reader, {Relation.FOLLOWS: [friend]})
    cache.replace(reader, [tweet.tweet_id])
    cache.redis.zadd(retweets_key(reader), {f"{rival.tweet_id}:{tweet.tweet_id}": rival.tweet_id})

    finished = cache.read_home(reader, before_id=cursor, count=5, merge_celebrities=True, finish=True)

    # Then the tweet shows on this page: the retweet is below the cursor, not a rival above it
    assert [(e.entry_id, e.tweet.tweet_id) for e in finished.items] == [(tweet.tweet_id, tweet.tweet_id)]
    snapshot = cache.read_home(reader, before_id=cursor, count=5, merge_celebrities=True)
    assert finished == services.timelines.page_from(snapshot, reader, 5)


def test_given_a_tweet_the_cache_lost_when_asked_to_finish_then_the_script_answers_the_snapshot(home):
    cache, reader, t, _ = home
    cache.redis.unlink(f"tweet:{t[2]}")

    answer = cache.read_home(reader, before_id=t[3], count=2, merge_celebrities=True, finish=True)

    assert isinstance(answer, HomeSnapshot)  # the rules load the miss from DynamoDB
    assert t[2] in answer.hydration.tweets_looked_up
    assert t[2] not in answer.hydration.tweets


def test_given_a_retweet_whose_original_the_cache_lost_when_asked_to_finish_then_the_script_answers_the_snapshot(home):
    cache, reader, t, users = home
    cache.put_profiles([Profile(user_id=users["deferring"], handle="d", display_name="d")])
    cache.redis.unlink(f"tweet:{t[3]}")

    # the page below t5 is the friend's retweet t4 alone, which shows t3
    answer = cache.read_home(reader, before_id=t[5], count=1, merge_celebrities=True, finish=True)

    assert isinstance(answer, HomeSnapshot)  # the rules load t3 from DynamoDB
    assert t[3] in answer.hydration.tweets_looked_up
    assert t[3] not in answer.hydration.tweets


def test_given_a_profile_the_cache_lacks_when_asked_to_finish_then_the_script_answers_the_snapshot(home):
    cache, reader, t, _ = home

    # the page shows the deferred tweet, by the author whose profile is not cached
    answer = cache.read_home(reader, before_id=None, count=1, merge_celebrities=True, finish=True)

    assert isinstance(answer, HomeSnapshot)
    assert max(answer.pulled.ids) == t[6]


def test_given_every_profile_cached_when_asked_to_finish_then_the_page_comes_finished(home, finishing):
    cache, reader, t, users = home
    cache.put_profiles([Profile(user_id=users["deferring"], handle="d", display_name="d")])

    answer = cache.read_home(reader, before_id=None, count=3, merge_celebrities=True, finish=True)

    # t6 (deferred), t5 (the celebrity's), then t4 (the friend's retweet of t3, newer than t3 itself)
    assert isinstance(answer, TimelinePage)
    assert [(e.entry_id, e.tweet.tweet_id) for e in answer.items] == [(t[6], t[6]), (t[5], t[5]), (t[4], t[3])]
    assert answer.items[2].retweeted_by.user_id == users["friend"]
    assert answer.next_cursor == str(t[4])


def test_given_a_tweet_cached_when_read_back_then_it_is_equal_and_its_string_ids_and_defaults_come_again(services):
    cache = services.timeline_cache
    tweet = Tweet(
        tweet_id=2**62 + 3, author_id="it-x", text="t", created_at_ms=1, reply_to_id=2**62 + 1, retweet_of_id=2**62 + 2
    )
    cache.put_tweets([tweet])
    try:
        stored = cache.redis.get(f"tweet:{tweet.tweet_id}")

        assert "_str" not in stored  # not stored: computed at every read
        assert "hashtags" not in stored  # nor what is at its default
        assert cache.get_tweets([tweet.tweet_id]) == {tweet.tweet_id: tweet}
        assert cache.get_tweets([tweet.tweet_id])[tweet.tweet_id].reply_to_id_str == str(2**62 + 1)
    finally:
        cache.redis.unlink(f"tweet:{tweet.tweet_id}")


def test_given_a_finished_page_read_again_then_its_entries_are_built_once_and_an_edit_is_read_at_once(home, finishing):
    cache, reader, t, users = home
    # Given: the page below t3 (t2 and t1, by the friend) finished by the script, read once
    first = cache.read_home(reader, before_id=t[3], count=2, merge_celebrities=True, finish=True)
    assert isinstance(first, TimelinePage)

    # When it is read again
    again = cache.read_home(reader, before_id=t[3], count=2, merge_celebrities=True, finish=True)

    # Then its entries are the ones built for the first read, not built again
    assert all(a is b for a, b in zip(again.items, first.items, strict=True))

    # When the friend's profile and the tweet t1 change in the cache (a new name; an edit)
    friend = users["friend"]
    cache.put_profiles([Profile(user_id=friend, handle=friend[3:15], display_name="renamed")])
    cache.put_tweets([Tweet(tweet_id=t[1], author_id=friend, text="edited", created_at_ms=1)])
    edited = cache.read_home(reader, before_id=t[3], count=2, merge_celebrities=True, finish=True)

    # Then the next read shows the change: the new JSON is a new entry, never the one built before
    assert [(e.tweet.text, e.author.display_name) for e in edited.items] == [
        ('quotes "author_id":"evil" and "retweet_of_id":1', "renamed"),
        ("edited", "renamed"),
    ]
