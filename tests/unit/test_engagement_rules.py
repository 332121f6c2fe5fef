"""The engagement rules (chirp.engagement.rules) on in-memory fakes: likes and retweets that exist once, counts
that equal their edges on sharded counters chosen by heat, the outbox, views of tweets with counts and flags,
and the consumers (engagements stream, reply and quote counter)."""

from __future__ import annotations

import pytest

from chirp.engagement import rules
from chirp.engagement.model import Counts, EngagementEvent, Kind
from chirp.engagement.rules import HEAT_WINDOW_S, OUTBOX_GRACE_MS, Engagements, act_order, shards_for
from chirp.errors import Forbidden, InvalidInput, NotFound
from chirp.ids.snowflake import snowflake_timestamp_ms
from chirp.notifications.model import NotificationPage
from chirp.social.model import Relation
from chirp.timelines.model import TimelineEntry, TimelinePage
from chirp.timelines.rules import Thresholds
from tests.unit.fakes import FakeDelivery, World


@pytest.fixture
def world() -> World:
    world = World(Thresholds(popular=3, celebrity=5))
    world.users("ann", "bob", "cat", "dan")
    return world


def counts(world: World, tweet_id: int) -> Counts:
    return world.engagement.counts([tweet_id])[tweet_id]


def truth(world: World, tweet_id: int) -> Counts:
    return world.engagement_store.counts([tweet_id]).get(tweet_id, Counts())


# --- likes ---------------------------------------------------------------------------------------------------


def test_given_a_tweet_when_liked_then_one_edge_one_count_and_one_event_published_and_cleared(world):
    tweet = world.tweet("ann", 100)

    state = world.engagement.like("bob", 100)

    assert (state.user_id, state.tweet_id, state.kind, state.active, state.retweet_id) == (
        "bob",
        100,
        Kind.LIKE,
        True,
        None,
    )
    assert truth(world, 100) == Counts(like_count=1)
    assert world.engagement_store.engager_count(Kind.LIKE, 100) == 1
    (event,) = world.events.published
    assert (event.kind, event.user_id, event.tweet_id, event.author_id, event.active) == (
        Kind.LIKE,
        "bob",
        100,
        tweet.author_id,
        True,
    )
    assert event.at_ms == world.clock()
    assert event.order == act_order(world.clock(), "bob")
    assert snowflake_timestamp_ms(event.order) == world.clock()
    assert world.engagement_store.outbox == {}  # published, so cleared


def test_given_a_like_when_liked_again_then_it_is_still_one_like_and_nothing_is_published(world):
    world.tweet("ann", 100)
    world.engagement.like("bob", 100)

    again = world.engagement.like("bob", 100)

    assert again.active
    assert truth(world, 100).like_count == 1
    assert len(world.events.published) == 1


def test_given_likes_by_several_users_when_counted_then_the_count_is_the_number_of_likers(world):
    world.tweet("ann", 100)
    for user in ("bob", "cat", "dan", "ann"):  # liking your own tweet counts too
        world.engagement.like(user, 100)
    assert counts(world, 100).like_count == 4
    assert world.engagement_store.engager_count(Kind.LIKE, 100) == 4


def test_given_no_like_when_unliked_then_nothing_changes_and_the_answer_says_not_liked(world):
    world.tweet("ann", 100)

    state = world.engagement.unlike("bob", 100)

    assert (state.kind, state.active) == (Kind.LIKE, False)
    assert truth(world, 100) == Counts()
    assert world.events.published == []


def test_given_a_like_when_unliked_twice_then_the_count_drops_once_and_one_event_says_so(world):
    world.tweet("ann", 100)
    world.engagement.like("bob", 100)

    world.engagement.unlike("bob", 100)
    world.engagement.unlike("bob", 100)

    assert truth(world, 100).like_count == 0
    assert [e.active for e in world.events.published] == [True, False]
    assert world.engagement_store.engager_count(Kind.LIKE, 100) == 0


def test_given_a_deleted_or_unknown_tweet_when_liked_then_not_found(world):
    world.tweet("ann", 100, deleted=True)
    with pytest.raises(NotFound, match=r"^tweet 100 not found$"):
        world.engagement.like("bob", 100)
    with pytest.raises(NotFound, match=r"^tweet 999 not found$"):
        world.engagement.like("bob", 999)
    assert world.events.published == []


def test_given_a_like_of_a_tweet_deleted_since_when_unliked_then_it_is_undone(world):
    world.tweet("ann", 100)
    world.engagement.like("bob", 100)
    world.tweet_store.mark_deleted(100, "ann")

    assert not world.engagement.unlike("bob", 100).active
    assert truth(world, 100).like_count == 0
    with pytest.raises(NotFound):
        world.engagement.unlike("bob", 999)


@pytest.mark.parametrize(
    ("blocker", "blocked", "message"),
    [("ann", "bob", "^this user blocks you$"), ("bob", "ann", "^you block this user: unblock them first$")],
)
def test_given_a_block_either_way_when_liking_or_retweeting_then_forbidden(world, blocker, blocked, message):
    world.tweet("ann", 100)
    world.social_store.add_edge(Relation.BLOCKS, blocker, blocked, counted=False)

    for act in (world.engagement.like, world.engagement.retweet):
        with pytest.raises(Forbidden, match=message):
            act("bob", 100)
    assert truth(world, 100) == Counts()


def test_given_a_user_who_mutes_the_author_when_liking_then_the_like_counts(world):
    world.tweet("ann", 100)
    world.social_store.add_edge(Relation.MUTES, "bob", "ann", counted=False)
    world.engagement.like("bob", 100)
    assert truth(world, 100).like_count == 1


def test_given_no_profile_when_liking_then_forbidden(world):
    world.tweet("ann", 100)
    with pytest.raises(Forbidden, match=r"^create your profile \(POST /users\) first$"):
        world.engagement.like("ghost", 100)


def test_given_a_retweet_when_liked_then_the_original_is_liked(world):
    world.tweet("ann", 100)
    retweet_id = world.engagement.retweet("bob", 100).retweet_id

    state = world.engagement.like("cat", retweet_id)

    assert state.tweet_id == 100
    assert truth(world, 100).like_count == 1
    assert truth(world, retweet_id) == Counts()


# --- retweets ------------------------------------------------------------------------------------------------


def test_given_a_tweet_when_retweeted_then_a_retweet_tweet_an_edge_a_count_and_an_event(world):
    world.tweet("ann", 100)

    state = world.engagement.retweet("bob", 100)

    assert state.active
    assert state.kind is Kind.RETWEET
    retweet = world.tweet_store.get(state.retweet_id)
    assert (retweet.author_id, retweet.retweet_of_id, retweet.text, retweet.deleted) == ("bob", 100, "", False)
    assert retweet.created_at_ms == world.clock()
    assert truth(world, 100).retweet_count == 1
    (event,) = world.events.published
    assert (event.kind, event.retweet_id, event.order, event.author_id) == (
        Kind.RETWEET,
        state.retweet_id,
        state.retweet_id,
        "ann",
    )


def test_given_a_retweet_when_retweeted_again_then_the_same_retweet_answers_and_nothing_is_written(world):
    world.tweet("ann", 100)
    first = world.engagement.retweet("bob", 100)
    tweets = dict(world.tweet_store.tweets)

    again = world.engagement.retweet("bob", 100)

    assert again == first
    assert world.tweet_store.tweets == tweets
    assert truth(world, 100).retweet_count == 1
    assert len(world.events.published) == 1


def test_given_a_retweet_when_it_is_retweeted_then_the_original_is(world):
    world.tweet("ann", 100)
    retweet_id = world.engagement.retweet("bob", 100).retweet_id

    state = world.engagement.retweet("cat", retweet_id)

    assert state.tweet_id == 100
    assert world.tweet_store.get(state.retweet_id).retweet_of_id == 100
    assert truth(world, 100).retweet_count == 2


def test_given_a_retweet_whose_original_is_gone_when_retweeted_then_not_found(world):
    world.tweet("ann", 100)
    retweet_id = world.engagement.retweet("bob", 100).retweet_id
    world.tweet_store.mark_deleted(100, "ann")
    with pytest.raises(NotFound):
        world.engagement.retweet("cat", retweet_id)


def test_given_a_retweet_when_undone_then_it_is_deleted_counted_down_and_leaves_the_own_timeline_at_once(world):
    world.tweet("ann", 100)
    world.live("bob")
    retweet_id = world.engagement.retweet("bob", 100).retweet_id
    world.timelines.fan_out(world.tweet_store.get(retweet_id))
    assert world.cache.ids("bob") == [retweet_id]

    state = world.engagement.unretweet("bob", 100)

    assert (state.active, state.retweet_id) == (False, None)
    assert world.tweet_store.get(retweet_id).deleted
    assert truth(world, 100).retweet_count == 0
    assert world.cache.ids("bob") == []
    assert world.cache.tweets[retweet_id].deleted  # readers elsewhere drop it at once
    undone = world.events.published[-1]
    assert (undone.kind, undone.active, undone.retweet_id) == (Kind.RETWEET, False, retweet_id)


def test_given_no_retweet_when_undone_then_nothing_changes(world):
    world.tweet("ann", 100)
    assert not world.engagement.unretweet("bob", 100).active
    assert world.events.published == []


def test_given_an_undone_retweet_when_retweeted_again_then_a_new_retweet_is_made(world):
    world.tweet("ann", 100)
    first = world.engagement.retweet("bob", 100).retweet_id
    world.engagement.unretweet("bob", 100)

    second = world.engagement.retweet("bob", 100).retweet_id

    assert second != first
    assert truth(world, 100).retweet_count == 1
    assert world.engagement_store.engager_count(Kind.RETWEET, 100) == 1


def test_given_a_retweet_tweet_when_deleted_as_a_tweet_then_it_is_refused_naming_the_way_to_undo_it(world):
    world.tweet("ann", 100)
    retweet_id = world.engagement.retweet("bob", 100).retweet_id
    with pytest.raises(InvalidInput, match="DELETE /tweets/100/retweet"):
        world.tweets.delete("bob", retweet_id)


def test_given_a_reply_or_quote_of_a_retweet_when_posted_then_it_refers_to_the_original(world):
    world.tweet("ann", 100)
    retweet_id = world.engagement.retweet("bob", 100).retweet_id
    reply = world.tweets.post("cat", "hi", reply_to_id=retweet_id, quote_tweet_id=retweet_id)
    assert (reply.reply_to_id, reply.quote_tweet_id) == (100, 100)


# --- bookmarks -----------------------------------------------------------------------------------------------


def test_given_a_tweet_when_bookmarked_then_the_edge_says_so_and_nothing_is_counted_published_or_notified(world):
    world.tweet("ann", 100)

    state = world.engagement.bookmark("bob", 100)

    assert (state.user_id, state.tweet_id, state.bookmarked) == ("bob", 100, True)
    assert world.engagement_store.edges_[("bob", 100)].bookmarked
    assert truth(world, 100) == Counts()
    assert world.events.published == []
    assert world.engagement_store.outbox == {}


def test_given_a_bookmark_when_bookmarked_again_then_it_keeps_its_first_place(world):
    for tweet_id in (100, 101):
        world.tweet("ann", tweet_id)
    world.engagement.bookmark("bob", 100)
    world.clock.advance(1)
    world.engagement.bookmark("bob", 101)
    world.clock.advance(1)

    again = world.engagement.bookmark("bob", 100)

    assert again.bookmarked
    assert [t.tweet_id for t in world.engagement.bookmarked_tweets("bob", cursor=None, limit=10)[0]] == [101, 100]


def test_given_a_bookmark_when_removed_twice_then_it_is_gone_and_the_answer_is_the_same(world):
    world.tweet("ann", 100)
    world.engagement.bookmark("bob", 100)

    first = world.engagement.unbookmark("bob", 100)
    second = world.engagement.unbookmark("bob", 100)

    assert first == second
    assert (first.tweet_id, first.bookmarked) == (100, False)
    assert not world.engagement_store.edges_[("bob", 100)].bookmarked
    assert world.engagement.bookmarked_tweets("bob", cursor=None, limit=10) == ([], None)


def test_given_a_retweet_when_bookmarked_then_the_original_is_and_its_view_says_so(world):
    original = world.tweet("ann", 100)
    world.engagement.retweet("cat", 100)
    retweet_id = world.engagement_store.edges_[("cat", 100)].retweet_id

    state = world.engagement.bookmark("bob", retweet_id)

    assert state.tweet_id == 100
    views = world.engagement.decorate([original], "bob")
    assert (views[100].bookmarked, views[100].liked) == (True, False)
    assert not world.engagement.decorate([original], "cat")[100].bookmarked
    assert world.engagement.unbookmark("bob", retweet_id).tweet_id == 100
    assert not world.engagement.decorate([original], "bob")[100].bookmarked


def test_given_a_block_or_no_profile_or_no_tweet_when_bookmarking_then_refused_as_a_like_is(world):
    world.tweet("ann", 100)
    world.social_store.add_edge(Relation.BLOCKS, "ann", "bob", counted=True)
    with pytest.raises(Forbidden, match="this user blocks you"):
        world.engagement.bookmark("bob", 100)
    with pytest.raises(Forbidden, match="create your profile"):
        world.engagement.bookmark("ghost", 100)
    with pytest.raises(NotFound, match=r"^tweet 999 not found$"):
        world.engagement.bookmark("cat", 999)
    assert world.engagement.bookmarked_tweets("bob", cursor=None, limit=10) == ([], None)


def test_given_bookmarks_when_paged_then_newest_first_without_deleted_tweets_and_as_their_owner_sees_them(world):
    for tweet_id in (100, 101, 102, 103):
        world.tweet("ann", tweet_id)
        world.engagement.bookmark("bob", tweet_id)
        world.clock.advance(1)
    world.engagement.bookmark("cat", 100)
    world.engagement.like("bob", 102)
    world.tweet_store.mark_deleted(101, "ann")

    first = world.engagement.bookmarks_of("bob", cursor=None, limit=2)
    second = world.engagement.bookmarks_of("bob", cursor=first.next_cursor, limit=2)

    assert [(p.tweet_id, p.bookmarked, p.liked) for p in first.items] == [(103, True, False), (102, True, True)]
    # A page is read, then its deleted tweets are left out: the second holds one of its two, and a cursor.
    assert [p.tweet_id for p in second.items] == [100]
    last = world.engagement.bookmarks_of("bob", cursor=second.next_cursor, limit=2)
    assert (last.items, last.next_cursor) == ([], None)
    assert world.engagement.unbookmark("bob", 101).bookmarked is False  # a deleted tweet's bookmark can go
    with pytest.raises(InvalidInput):
        world.engagement.bookmarks_of("bob", cursor=None, limit=0)


# --- the outbox ----------------------------------------------------------------------------------------------


def test_given_a_publish_that_failed_when_the_relay_runs_after_the_grace_then_the_event_is_published_once(world):
    world.tweet("ann", 100)
    world.events.fail_next = True
    with pytest.raises(ConnectionError):
        world.engagement.like("bob", 100)
    assert truth(world, 100).like_count == 1  # durable: the transaction went through
    assert len(world.engagement_store.outbox) == 1

    assert world.engagement.relay_outbox() == 0  # younger than the grace: maybe being published right now
    world.clock.advance(OUTBOX_GRACE_MS + 1)
    assert world.engagement.relay_outbox() == 1
    assert world.engagement.relay_outbox() == 0

    (event,) = world.events.published
    assert (event.user_id, event.tweet_id, event.active) == ("bob", 100, True)
    assert world.engagement_store.outbox == {}


def test_given_a_retried_like_after_a_failed_publish_when_liked_again_then_the_outbox_still_holds_it(world):
    world.tweet("ann", 100)
    world.events.fail_next = True
    with pytest.raises(ConnectionError):
        world.engagement.like("bob", 100)
    world.engagement.like("bob", 100)  # the client's retry: already liked
    assert truth(world, 100).like_count == 1
    assert len(world.engagement_store.outbox) == 1


# --- hot tweets: sharded counters ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("heat", "shards"),
    [(0, 1), (1, 1), (49, 1), (50, 4), (199, 4), (200, 16), (999, 16), (1_000, 64), (10**9, 64)],
)
def test_given_a_heat_when_sharded_then_each_threshold_takes_effect_at_its_value(heat, shards):
    assert shards_for(heat) == shards


@pytest.mark.parametrize(("heat", "cap", "shards"), [(10**6, 1, 1), (10**6, 8, 8), (60, 8, 4), (10, 8, 1)])
def test_given_a_cap_when_sharded_then_never_more_shards_than_it(heat, cap, shards):
    assert shards_for(heat, cap) == shards


def test_given_a_cold_tweet_when_liked_then_its_counter_is_one_item(world):
    world.tweet("ann", 100)
    for user in ("bob", "cat", "dan"):
        world.engagement.like(user, 100)
    assert set(world.engagement_store.writes) == {(100, 0)}
    assert 100 not in world.engagement_store.shards


def test_given_a_hot_tweet_when_many_like_it_then_likes_spread_over_shards_and_the_sum_equals_the_likers(world):
    world.tweet("ann", 100)
    likers = [f"fan{i}" for i in range(400)]
    world.users(*likers)
    world.count_cache.heat_of[100] = 999  # hundreds of acts in this window already

    for liker in likers:
        world.engagement.like(liker, 100)

    assert world.engagement_store.shards[100] == 64
    assert world.count_cache.shards[100] == 64
    shards_written = {shard for tweet, shard in world.engagement_store.writes if tweet == 100}
    assert len(shards_written) > 40  # random over 64
    assert max(world.engagement_store.writes.values()) < 40  # no item takes more than a tenth of 400
    assert truth(world, 100).like_count == 400 == world.engagement_store.engager_count(Kind.LIKE, 100)


def test_given_a_warming_tweet_when_its_heat_crosses_a_threshold_then_the_store_learns_the_shards_first(world):
    world.tweet("ann", 100)
    world.count_cache.heat_of[100] = 48
    world.engagement.like("bob", 100)  # heat 49: one shard
    assert 100 not in world.engagement_store.shards
    world.engagement.like("cat", 100)  # heat 50: four
    assert world.engagement_store.shards[100] == 4
    assert world.count_cache.shards[100] == 4
    assert truth(world, 100).like_count == 2


def test_given_an_unsharded_service_when_a_hot_tweet_is_liked_then_one_item_takes_every_write(world):
    unsharded = Engagements(
        world.engagement_store,
        world.count_cache,
        world.events,
        world.tweet_store,
        world.social_store,
        world.timelines,
        world.notifications,
        world.ids,
        max_shards=1,
        clock_ms=world.clock,
    )
    world.tweet("ann", 100)
    world.count_cache.heat_of[100] = 10_000
    for user in ("bob", "cat", "dan"):
        unsharded.like(user, 100)
    assert dict(world.engagement_store.writes) == {(100, 0): 3}
    assert 100 not in world.engagement_store.shards  # never told to span more
    assert truth(world, 100).like_count == 3


def test_given_a_cache_that_is_down_when_liking_then_shard_zero_takes_it_and_reads_come_from_dynamodb(world):
    world.tweet("ann", 100)
    world.count_cache.heat_of[100] = 10_000
    world.count_cache.down = True

    world.engagement.like("bob", 100)

    assert set(world.engagement_store.writes) == {(100, 0)}
    assert counts(world, 100).like_count == 1


def test_given_unlikes_on_other_shards_when_summed_then_the_count_is_exact(world):
    world.tweet("ann", 100)
    world.users(*(f"fan{i}" for i in range(50)))
    world.count_cache.heat_of[100] = 2_000
    for i in range(50):
        world.engagement.like(f"fan{i}", 100)
    for i in range(0, 50, 2):
        world.engagement.unlike(f"fan{i}", 100)
    assert truth(world, 100).like_count == 25 == world.engagement_store.engager_count(Kind.LIKE, 100)


def test_given_the_heat_window_when_asked_then_it_is_the_rules_window(world, monkeypatch):
    seen = []
    monkeypatch.setattr(world.count_cache, "heat", lambda tweet_id, window_s: seen.append(window_s) or (0, 1))
    world.tweet("ann", 100)
    world.engagement.like("bob", 100)
    assert seen == [HEAT_WINDOW_S]


# --- counts and views ----------------------------------------------------------------------------------------


def test_given_cached_counts_when_read_then_the_store_is_not_asked(world, monkeypatch):
    world.count_cache.counts[100] = Counts(like_count=7)
    monkeypatch.setattr(world.engagement_store, "counts", lambda ids: pytest.fail("read the store"))
    assert counts(world, 100) == Counts(like_count=7)


def test_given_uncached_counts_when_read_then_summed_from_the_store_in_one_batch_and_cached(world, monkeypatch):
    world.tweet("ann", 100)
    world.tweet("ann", 101)
    world.engagement.like("bob", 100)
    world.count_cache.counts.clear()
    batches = []
    original = world.engagement_store.counts
    monkeypatch.setattr(world.engagement_store, "counts", lambda ids: batches.append(list(ids)) or original(ids))

    found = world.engagement.counts([100, 101, 100])

    assert found == {100: Counts(like_count=1), 101: Counts()}
    assert batches == [[100, 101]]
    assert world.count_cache.counts == found  # zeros cached too: no store read next time
    assert world.count_cache.gets[-1] == [100, 101]


def test_given_a_cached_count_when_liked_then_the_cache_moves_at_once(world):
    world.tweet("ann", 100)
    assert counts(world, 100).like_count == 0  # cached
    world.engagement.like("bob", 100)
    assert world.count_cache.counts[100].like_count == 1
    world.engagement.retweet("bob", 100)
    world.engagement.unlike("bob", 100)
    assert world.count_cache.counts[100] == Counts(retweet_count=1)


def test_given_an_uncached_count_when_liked_then_it_is_not_cached_half_known(world):
    world.tweet("ann", 100)
    world.engagement.like("bob", 100)
    assert 100 not in world.count_cache.counts


def test_given_tweets_when_decorated_for_a_viewer_then_counts_and_their_own_flags(world):
    a, b = world.tweet("ann", 100), world.tweet("ann", 101)
    world.engagement.like("bob", 100)
    world.engagement.like("cat", 101)
    world.engagement.retweet("bob", 101)

    views = world.engagement.decorate([a, b], "bob")

    assert (views[100].like_count, views[100].liked, views[100].retweeted) == (1, True, False)
    assert (views[101].like_count, views[101].retweet_count, views[101].liked, views[101].retweeted) == (
        1,
        1,
        False,
        True,
    )
    assert views[100].text == a.text
    assert views[101].tweet_id == 101
    anonymous = world.engagement.decorate([a], None)
    assert (anonymous[100].like_count, anonymous[100].liked) == (1, False)
    assert world.engagement.decorate([], "bob") == {}


def test_given_a_tweet_just_written_when_shown_to_its_author_then_nothing_counted_and_no_engagement_read(world):
    # Given a tweet as POST /tweets has just written it (so nothing can have been done to it yet)
    tweet = world.tweets.post("ann", "fresh")

    view = world.engagement.post(tweet, "ann", just_written=True)

    assert (view.tweet_id, view.text, view.like_count, view.retweet_count, view.liked) == (
        tweet.tweet_id,
        "fresh",
        0,
        0,
        False,
    )
    assert world.engagement_store.reads == 0  # neither its counts nor the author's edges
    assert tweet.tweet_id not in world.count_cache.counts


def test_given_a_tweet_an_idempotency_key_replays_when_shown_then_its_counts_are_read_as_they_are_now(world):
    # Given an earlier request's tweet, liked since (a retry with its Idempotency-Key gets it back)
    tweet = world.tweets.post("ann", "earlier")
    world.engagement.like("bob", tweet.tweet_id)
    world.engagement.like("ann", tweet.tweet_id)

    view = world.engagement.post(tweet, "ann")

    assert (view.like_count, view.liked) == (2, True)


def test_given_a_user_timeline_with_retweets_when_viewed_then_a_retweet_carries_its_counted_original(world):
    world.tweet("ann", 100)
    world.tweet("cat", 200)
    retweet_id = world.engagement.retweet("ann", 200).retweet_id
    world.engagement.like("bob", 200)
    tweets, _ = world.tweet_store.by_author("ann", limit=10)

    posts = world.engagement.posts(tweets, "bob")

    assert [p.tweet_id for p in posts] == [retweet_id, 100]
    assert posts[0].retweet_of_id == 200
    assert (posts[0].retweeted_tweet.tweet_id, posts[0].retweeted_tweet.like_count) == (200, 1)
    assert posts[0].retweeted_tweet.liked is True
    assert (posts[0].like_count, posts[1].retweeted_tweet) == (0, None)


def test_given_a_retweet_of_a_deleted_tweet_when_viewed_then_it_vanishes_with_the_original(world):
    world.tweet("cat", 200)
    retweet_id = world.engagement.retweet("ann", 200).retweet_id
    world.tweet_store.mark_deleted(200, "cat")

    assert world.engagement.posts([world.tweet_store.get(retweet_id)], "bob") == []
    with pytest.raises(NotFound):
        world.engagement.post(world.tweet_store.get(retweet_id), "bob")


def test_given_a_page_of_entries_when_viewed_then_each_tweet_is_counted_and_the_entry_kept(world):
    tweet = world.tweet("ann", 100)
    world.engagement.like("bob", 100)
    page = TimelinePage(items=[TimelineEntry(entry_id=555, tweet=tweet)], next_cursor="555")

    view = world.engagement.timeline(page, "bob")

    (entry,) = view.items
    assert (entry.entry_id, entry.tweet.tweet_id, entry.tweet.like_count, entry.tweet.liked) == (555, 100, 1, True)
    assert view.next_cursor == "555"


def test_given_notifications_when_viewed_then_each_carries_its_tweet_counted_or_none(world):
    from chirp.notifications.model import Notification

    world.tweet("bob", 100)
    world.tweet("bob", 101, deleted=True)
    world.engagement.like("ann", 100)
    items = [
        Notification(id=3, kind="mention", actor_id="bob", tweet_id=100, at_ms=1),
        Notification(id=2, kind="mention", actor_id="bob", tweet_id=101, at_ms=1),
        Notification(id=1, kind="follow", actor_id="bob", at_ms=1),
    ]

    view = world.engagement.notifications_view(NotificationPage(items=items, next_cursor="1"), "ann")

    assert [(n.id, n.tweet.like_count if n.tweet else None) for n in view.items] == [(3, 1), (2, None), (1, None)]
    assert view.items[0].tweet.liked
    assert view.next_cursor == "1"


# --- who engaged ---------------------------------------------------------------------------------------------


def test_given_likers_when_listed_then_newest_first_paged_and_the_tweet_must_exist(world):
    world.tweet("ann", 100)
    for user in ("bob", "cat", "dan"):
        world.engagement.like(user, 100)
        world.clock.advance(1)

    first = world.engagement.engagers(Kind.LIKE, 100, cursor=None, limit=2)
    second = world.engagement.engagers(Kind.LIKE, 100, cursor=first.next_cursor, limit=2)

    assert (first.user_ids, second.user_ids, second.next_cursor) == (["dan", "cat"], ["bob"], None)
    with pytest.raises(NotFound):
        world.engagement.engagers(Kind.LIKE, 999, cursor=None, limit=2)
    with pytest.raises(InvalidInput):
        world.engagement.engagers(Kind.LIKE, 100, cursor=None, limit=0)


def test_given_retweeters_when_listed_then_newest_first(world):
    world.tweet("ann", 100)
    for user in ("bob", "cat"):
        world.engagement.retweet(user, 100)
        world.clock.advance(1)
    assert world.engagement.engagers(Kind.RETWEET, 100, cursor=None, limit=10).user_ids == ["cat", "bob"]


def test_given_a_users_likes_when_listed_then_most_recently_liked_first_without_deleted_tweets(world):
    for tweet_id in (100, 101, 102):
        world.tweet("ann", tweet_id)
    for tweet_id in (101, 100, 102):  # liked in this order
        world.engagement.like("bob", tweet_id)
        world.clock.advance(1)
    world.tweet_store.mark_deleted(102, "ann")

    page = world.engagement.likes_of("bob", viewer_id="cat", cursor=None, limit=10)

    assert [p.tweet_id for p in page.items] == [100, 101]
    assert all(p.like_count == 1 and not p.liked for p in page.items)
    with pytest.raises(NotFound):
        world.engagement.likes_of("ghost", viewer_id="cat", cursor=None, limit=10)
    with pytest.raises(InvalidInput):
        world.engagement.likes_of("bob", viewer_id="cat", cursor=None, limit=101)


# --- the engagements consumer --------------------------------------------------------------------------------


def _consume(world: World) -> None:
    """The consumer's grouping: each tweet's events of the published stream, applied together."""
    groups: dict[int, list[EngagementEvent]] = {}
    for event in world.events.published:
        groups.setdefault(event.tweet_id, []).append(event)
    for events in groups.values():
        world.engagement.apply(events)


def test_given_likes_when_consumed_then_the_cached_count_is_the_truth_and_the_author_has_one_notification(world):
    world.tweet("ann", 100)
    world.engagement.like("bob", 100)
    world.clock.advance(5)
    world.engagement.like("cat", 100)
    world.count_cache.counts[100] = Counts(like_count=99)  # drifted (a bump raced a refresh)

    _consume(world)

    assert world.count_cache.counts[100] == Counts(like_count=2)
    (notification,) = world.notification_store.of("ann")
    assert (notification.kind, notification.tweet_id, notification.actor_ids, notification.count) == (
        "like",
        100,
        ["cat", "bob"],
        2,
    )
    assert notification.actor_id == "cat"
    assert notification.at_ms == world.clock()


def test_given_consumed_likes_when_replayed_then_nothing_is_written_again(world):
    world.tweet("ann", 100)
    world.engagement.like("bob", 100)
    _consume(world)
    writes = world.notification_store.writes

    _consume(world)
    _consume(world)

    assert world.notification_store.writes == writes
    assert len(world.notification_store.of("ann")) == 1


def test_given_a_like_undone_before_it_was_consumed_when_consumed_then_nobody_is_notified(world):
    world.tweet("ann", 100)
    world.engagement.like("bob", 100)
    world.engagement.unlike("bob", 100)
    _consume(world)
    assert world.notification_store.of("ann") == []
    assert world.count_cache.counts[100] == Counts()


def test_given_the_authors_own_like_when_consumed_then_it_neither_notifies_nor_counts_among_others(world):
    world.tweet("ann", 100)
    world.engagement.like("ann", 100)
    world.engagement.like("bob", 100)
    _consume(world)
    (notification,) = world.notification_store.of("ann")
    assert (notification.actor_ids, notification.count) == (["bob"], 1)


def test_given_a_retweet_when_consumed_then_it_is_delivered_and_the_author_notified(world):
    delivery = FakeDelivery()
    world.engagement.timelines = delivery
    world.tweet("ann", 100)
    retweet_id = world.engagement.retweet("bob", 100).retweet_id

    _consume(world)

    (delivered,) = delivery.delivered
    assert (delivered.tweet_id, delivered.author_id, delivered.retweet_of_id, delivered.deleted) == (
        retweet_id,
        "bob",
        100,
        False,
    )
    assert delivery.taken_back == []
    (notification,) = world.notification_store.of("ann")
    assert (notification.kind, notification.actor_ids, notification.count) == ("retweet", ["bob"], 1)


def test_given_a_retweet_undone_when_consumed_then_it_is_taken_back_not_delivered(world):
    delivery = FakeDelivery()
    world.engagement.timelines = delivery
    world.tweet("ann", 100)
    retweet_id = world.engagement.retweet("bob", 100).retweet_id
    world.engagement.unretweet("bob", 100)
    delivery.taken_back.clear()  # the API's own

    _consume(world)

    assert delivery.delivered == []
    assert [(t.tweet_id, t.deleted) for t in delivery.taken_back] == [(retweet_id, True), (retweet_id, True)]
    assert world.notification_store.of("ann") == []


def test_given_a_retweet_replaced_by_a_newer_one_when_the_old_event_is_consumed_then_only_the_new_is_delivered(
    world,
):
    delivery = FakeDelivery()
    world.engagement.timelines = delivery
    world.tweet("ann", 100)
    old = world.engagement.retweet("bob", 100).retweet_id
    world.engagement.unretweet("bob", 100)
    new = world.engagement.retweet("bob", 100).retweet_id

    _consume(world)

    assert [t.tweet_id for t in delivery.delivered] == [new]
    assert {t.tweet_id for t in delivery.taken_back} == {old}


# --- the reply and quote counter -----------------------------------------------------------------------------


def test_given_a_reply_and_a_quote_when_counted_then_each_moves_its_own_count_once(world):
    world.tweet("ann", 100)
    reply = world.tweet("bob", 101, reply_to_id=100)
    quote = world.tweet("cat", 102, quote_tweet_id=100)

    assert world.engagement.count_posted(reply) == [100]
    assert world.engagement.count_posted(quote) == [100]
    assert world.engagement.count_posted(reply) == []  # a replayed record

    assert truth(world, 100) == Counts(reply_count=1, quote_count=1)
    assert world.count_cache.counts[100] == Counts(reply_count=1, quote_count=1)


def test_given_a_counted_reply_when_deleted_then_it_is_uncounted_once_and_a_replayed_creation_does_not_recount(
    world,
):
    world.tweet("ann", 100)
    reply = world.tweet("bob", 101, reply_to_id=100)
    world.engagement.count_posted(reply)
    deleted = reply.model_copy(update={"deleted": True})

    assert world.engagement.count_posted(deleted) == [100]
    assert world.engagement.count_posted(deleted) == []
    assert world.engagement.count_posted(reply) == []

    assert truth(world, 100).reply_count == 0


def test_given_a_plain_tweet_when_counted_then_nothing_moves(world):
    assert world.engagement.count_posted(world.tweet("ann", 100)) == []
    assert world.engagement_store.writes == {}


def test_given_a_reply_that_quotes_when_counted_then_both_counts_move(world):
    world.tweet("ann", 100)
    world.tweet("ann", 99)
    both = world.tweet("bob", 101, reply_to_id=100, quote_tweet_id=99)
    assert world.engagement.count_posted(both) == [100, 99]
    assert (truth(world, 100).reply_count, truth(world, 99).quote_count) == (1, 1)


def test_given_a_module_when_imported_then_its_constants_are_the_documented_ones():
    assert (rules.MAX_SHARDS, rules.HEAT_WINDOW_S, rules.OUTBOX_GRACE_MS) == (64, 10, 10_000)


# --- more edges of the rules ----------------------------------------------------------------------------------


def test_given_a_concurrent_retweet_that_won_when_retweeting_then_its_retweet_answers(world, monkeypatch):
    world.tweet("ann", 100)
    store = world.engagement_store
    original = store.retweet

    def racing(event, retweet, shard):
        winner = world.tweet("bob", 777, text="", retweet_of_id=100)  # another request of bob's got there first
        store._set(("bob", 100), user_id="bob", tweet_id=100, retweet_id=winner.tweet_id)
        return original(event, retweet, shard)

    monkeypatch.setattr(store, "retweet", racing)

    state = world.engagement.retweet("bob", 100)

    assert (state.active, state.retweet_id) == (True, 777)
    assert world.events.published == []  # the winner announces its own


def test_given_a_retweet_of_a_tweet_deleted_since_when_undone_then_it_is(world):
    world.tweet("ann", 100)
    retweet_id = world.engagement.retweet("bob", 100).retweet_id
    world.tweet_store.mark_deleted(100, "ann")

    assert not world.engagement.unretweet("bob", 100).active
    assert world.tweet_store.get(retweet_id).deleted
    assert truth(world, 100).retweet_count == 0


def test_given_several_pending_events_when_relayed_then_each_is_counted(world):
    world.tweet("ann", 100)
    for user in ("bob", "cat"):
        world.events.fail_next = True
        with pytest.raises(ConnectionError):
            world.engagement.like(user, 100)
    world.clock.advance(OUTBOX_GRACE_MS + 1)
    assert world.engagement.relay_outbox() == 2
    assert sorted(e.user_id for e in world.events.published) == ["bob", "cat"]


def test_given_a_deleted_tweet_when_its_engagers_are_listed_then_not_found(world):
    world.tweet("ann", 100)
    world.engagement.like("bob", 100)
    world.tweet_store.mark_deleted(100, "ann")
    with pytest.raises(NotFound, match=r"^tweet 100 not found$"):
        world.engagement.engagers(Kind.LIKE, 100, cursor=None, limit=10)


def test_given_many_likes_when_a_users_likes_are_paged_then_each_page_is_the_viewers_view(world):
    for tweet_id in (100, 101, 102):
        world.tweet("ann", tweet_id)
        world.engagement.like("bob", tweet_id)
        world.clock.advance(1)
    world.engagement.like("cat", 101)

    first = world.engagement.likes_of("bob", viewer_id="cat", cursor=None, limit=2)
    second = world.engagement.likes_of("bob", viewer_id="cat", cursor=first.next_cursor, limit=2)

    assert [(p.tweet_id, p.liked) for p in first.items] == [(102, False), (101, True)]
    assert first.next_cursor is not None
    assert ([p.tweet_id for p in second.items], second.next_cursor) == ([100], None)
    with pytest.raises(NotFound, match=r"^user ghost not found$"):
        world.engagement.likes_of("ghost", viewer_id="cat", cursor=None, limit=2)


def test_given_one_tweet_when_read_alone_then_it_is_the_viewers_counted_view(world):
    tweet = world.tweet("ann", 100)
    world.engagement.like("bob", 100)
    view = world.engagement.post(tweet, "bob")
    assert (view.tweet_id, view.like_count, view.liked, view.retweeted_tweet) == (100, 1, True, None)


def test_given_a_retweet_entry_when_viewed_then_its_author_and_retweeter_are_kept(world):
    from chirp.social.model import Profile

    tweet = world.tweet("ann", 100)
    ann, bob = (
        Profile(user_id="ann", handle="ann", display_name="Ann"),
        Profile(user_id="bob", handle="bob", display_name="Bob"),
    )
    page = TimelinePage(items=[TimelineEntry(entry_id=555, tweet=tweet, author=ann, retweeted_by=bob)])

    (entry,) = world.engagement.timeline(page, "cat").items

    assert (entry.author, entry.retweeted_by) == (ann, bob)


def test_given_a_named_liker_who_unlikes_when_consumed_then_the_notification_is_gone(world):
    world.tweet("ann", 100)
    world.engagement.like("bob", 100)
    _consume(world)
    assert len(world.notification_store.of("ann")) == 1
    world.events.published.clear()

    world.engagement.unlike("bob", 100)
    _consume(world)

    assert world.notification_store.of("ann") == []


def test_given_a_like_when_applied_then_the_authors_notification_is_returned_to_push_and_an_unlike_returns_none(
    world,
):
    world.tweet("ann", 100)
    world.engagement.like("bob", 100)
    (event,) = world.events.published

    applied = world.engagement.apply([event])

    ((recipient, notification),) = applied.notifications
    assert recipient == "ann"
    assert (notification.kind, notification.actor_ids) == ("like", ["bob"])
    assert notification == world.notification_store.of("ann")[0]
    # A replayed batch returns it again, unchanged (clients tell events apart by id).
    assert world.engagement.apply([event]).notifications == [(recipient, notification)]

    world.engagement.unlike("bob", 100)
    assert world.engagement.apply([world.events.published[-1]]).notifications == []


def test_given_an_event_whose_edge_is_missing_when_consumed_then_nobody_is_named(world):
    world.tweet("ann", 100)
    ghost = EngagementEvent(kind=Kind.LIKE, user_id="bob", tweet_id=100, author_id="ann", active=True, at_ms=1, order=1)
    world.engagement.apply([ghost])
    assert world.notification_store.of("ann") == []


def test_given_more_likers_than_named_when_consumed_then_the_count_is_every_liker(world):
    world.tweet("ann", 100)
    likers = [f"fan{i}" for i in range(5)]
    world.users(*likers)
    for liker in likers:
        world.engagement.like(liker, 100)
    _consume(world)
    (notification,) = world.notification_store.of("ann")
    assert (len(notification.actor_ids), notification.count) == (3, 5)


def test_given_two_replies_when_counted_then_each_counts(world):
    world.tweet("ann", 100)
    for child in (101, 102):
        world.engagement.count_posted(world.tweet("bob", child, reply_to_id=100))
    assert truth(world, 100).reply_count == 2
