"""The home timeline rules (chirp.timelines.rules) on in-memory fakes: tiers and their thresholds, hybrid
fan-out, follows, blocks and mutes, tier migration, reads, hydration and rebuilds."""

from __future__ import annotations

import time

import pytest

from chirp.errors import InvalidInput, Unavailable
from chirp.social.model import Profile, Relation
from chirp.timelines import rules
from chirp.timelines.model import FollowerPage, TimelineEntry, TimelinePage
from chirp.timelines.rules import Thresholds, Tier
from chirp.tweets.model import Tweet
from tests.unit.fakes import World

THRESHOLDS = Thresholds(popular=3, celebrity=5)


@pytest.fixture
def world() -> World:
    return World(THRESHOLDS)


def with_followers(world: World, author: str, count: int, *, live: bool = True, prefix: str = "f") -> list[str]:
    """An author followed by `count` users (stored follows; their timelines live when `live`)."""
    followers = [f"{prefix}{i}" for i in range(1, count + 1)]
    world.users(author, *followers)
    for follower in followers:
        world.edge(follower, author)
    if live:
        world.live(*followers)
    return followers


# --- tiers -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("followers", "tier"),
    [
        (0, Tier.NORMAL),
        (2, Tier.NORMAL),
        (3, Tier.POPULAR),  # exactly the popular threshold
        (4, Tier.POPULAR),
        (5, Tier.CELEBRITY),  # exactly the celebrity threshold
        (1_000_000, Tier.CELEBRITY),
    ],
)
def test_given_a_follower_count_when_tiered_then_each_threshold_is_reached_at_its_value(followers, tier):
    assert THRESHOLDS.tier(followers) is tier


# --- fan-out ---------------------------------------------------------------------------------------------


def test_given_a_normal_author_when_fanned_out_then_only_live_timelines_get_the_tweet(world):
    world.users("author", "reader", "idle")
    world.edge("reader", "author")
    world.edge("idle", "author")
    world.live("author", "reader")
    tweet = world.tweet("author", 10)

    assert world.timelines.fan_out(tweet) is Tier.NORMAL

    assert world.cache.ids("author") == [10]  # authors see their own tweets
    assert world.cache.ids("reader") == [10]
    assert not world.cache.is_live("idle")  # an inactive user's timeline is not written, it is rebuilt on read
    assert world.pages.sends == []
    assert world.cache.celebrity_tweets == {}


def test_given_many_followers_when_a_normal_author_fans_out_then_one_push_per_page_of_followers(world, monkeypatch):
    monkeypatch.setattr(rules, "FOLLOWER_PAGE", 2)
    world = World(Thresholds(popular=100, celebrity=200))
    with_followers(world, "author", 5)

    assert world.timelines.fan_out(world.tweet("author", 10)) is Tier.NORMAL

    assert world.cache.pushes == [(10, ["author"]), (10, ["f1", "f2"]), (10, ["f3", "f4"]), (10, ["f5"])]
    assert all(world.cache.ids(f) == [10] for f in ("f1", "f2", "f3", "f4", "f5"))


def test_given_an_author_without_profile_when_fanned_out_then_it_counts_as_no_followers():
    world = World(Thresholds(popular=1, celebrity=2))
    world.users("reader")
    world.edge("reader", "ghost")  # no profile, so no follower count
    world.live("reader")

    assert world.timelines.fan_out(world.tweet("ghost", 10)) is Tier.NORMAL
    assert world.cache.ids("reader") == [10]


def test_given_a_fanned_out_tweet_when_fanned_out_again_then_nothing_changes(world):
    with_followers(world, "author", 2)
    tweet = world.tweet("author", 10)
    world.timelines.fan_out(tweet)
    world.timelines.fan_out(tweet)
    assert world.cache.ids("f1") == [10]


def test_given_ten_thousand_followers_when_a_normal_author_fans_out_then_two_push_calls_of_five_thousand():
    world = World(Thresholds(popular=20_000, celebrity=50_000))
    followers = with_followers(world, "author", 10_000)

    assert world.timelines.fan_out(world.tweet("author", 10)) is Tier.NORMAL

    assert [len(users) for _, users in world.cache.pushes] == [1, 5_000, 5_000]  # the author, then each page
    assert world.cache.ids(followers[-1]) == [10]


def test_given_a_popular_author_when_fanned_out_then_follower_pages_go_to_the_workers_in_batches(world, monkeypatch):
    monkeypatch.setattr(rules, "FOLLOWER_PAGE", 4)  # DynamoDB pages of four, split into worker pages of two
    monkeypatch.setattr(rules, "WORKER_PAGE", 2)
    monkeypatch.setattr(rules, "PAGES_PER_SEND", 2)
    world = World(Thresholds(popular=3, celebrity=100))
    with_followers(world, "author", 5)
    world.live("author")

    assert world.timelines.fan_out(world.tweet("author", 10)) is Tier.POPULAR

    def page(*followers):
        return FollowerPage(tweet_id=10, author_id="author", follower_ids=list(followers))

    assert world.pages.sends == [[page("f1", "f2"), page("f3", "f4")], [page("f5")]]
    assert world.cache.ids("author") == [10]
    assert world.cache.ids("f1") == []  # the workers push, not the fan-out
    # When the workers push the pages, then every live follower has it.
    pushed = [world.timelines.push_page(p.tweet_id, p.follower_ids) for send in world.pages.sends for p in send]
    assert pushed == [2, 2, 1]
    assert all(world.cache.ids(f) == [10] for f in ("f1", "f2", "f3", "f4", "f5"))


def test_given_live_and_idle_followers_when_a_page_is_pushed_then_it_counts_the_live_ones(world):
    world.live("f1")
    assert world.timelines.push_page(10, ["f1", "f2"]) == 1
    assert not world.cache.is_live("f2")


def test_given_a_celebrity_when_fanned_out_then_nobody_is_pushed_and_the_tweet_waits_to_be_pulled(world):
    followers = with_followers(world, "star", THRESHOLDS.celebrity)
    world.live("star")

    assert world.timelines.fan_out(world.tweet("star", 10)) is Tier.CELEBRITY

    assert world.cache.ids("star") == [10]
    assert all(world.cache.ids(f) == [] for f in followers)
    assert world.cache.celebrity_tweets["star"] == {10}
    assert world.pages.sends == []


def test_given_a_celebrity_when_fanned_out_then_only_its_latest_tweets_are_kept_for_pulling(world, monkeypatch):
    monkeypatch.setattr(rules, "CELEBRITY_RECENT", 2)
    with_followers(world, "star", THRESHOLDS.celebrity)
    for tweet_id in (10, 11, 12):
        world.timelines.fan_out(world.tweet("star", tweet_id))
    assert world.cache.celebrity_tweets["star"] == {11, 12}


def test_given_a_celebrity_whose_mark_redis_lost_when_posting_then_the_mark_and_recent_tweets_are_restored(
    world, monkeypatch
):
    monkeypatch.setattr(rules, "CELEBRITY_RECENT", 2)
    with_followers(world, "star", THRESHOLDS.celebrity)
    assert world.timelines.refresh_tier("star")
    for tweet_id in (1, 2, 3):
        world.tweet("star", tweet_id)
    world.cache.set_celebrity("star", False, [])  # Redis flushed

    assert world.timelines.fan_out(world.tweet("star", 4)) is Tier.CELEBRITY

    assert world.cache.is_celebrity("star")
    assert world.cache.celebrity_tweets["star"] == {3, 4}
    world.cache.relate(Relation.FOLLOWS, "f1", "star", add=True)
    assert world.home_ids("f1") == [4, 3]


def test_given_a_followed_celebrity_when_the_home_is_read_then_its_tweets_are_pulled_and_merged(world):
    with_followers(world, "star", THRESHOLDS.celebrity - 1)
    world.users("reader", "friend")
    world.live("reader")
    world.follow("reader", "friend")
    world.follow("reader", "star")  # the fifth follower makes a celebrity
    for tweet_id, author in ((1, "friend"), (2, "star"), (3, "friend"), (4, "star")):
        world.timelines.fan_out(world.tweet(author, tweet_id))

    assert world.cache.ids("reader") == [3, 1]  # celebrities are never pushed
    assert world.home_ids("reader") == [4, 3, 2, 1]


# --- follow, unfollow -------------------------------------------------------------------------------------


def test_given_a_live_reader_when_following_then_the_followees_latest_tweets_are_backfilled(world, monkeypatch):
    monkeypatch.setattr(rules, "FOLLOW_BACKFILL", 2)
    world.users("reader", "author")
    world.live("reader")
    for tweet_id in (1, 2, 3):
        world.tweet("author", tweet_id)

    world.follow("reader", "author")

    assert world.cache.ids("reader") == [3, 2]
    assert world.cache.relations[Relation.FOLLOWS, "reader"] == {"author"}


def test_given_an_idle_reader_when_following_then_no_timeline_is_written(world):
    world.users("reader", "author")
    world.tweet("author", 1)
    world.follow("reader", "author")
    assert not world.cache.is_live("reader")
    assert world.home_ids("reader") == [1]  # rebuilt on read


def test_given_a_celebrity_when_followed_then_nothing_is_backfilled_but_reads_pull_its_tweets(world):
    with_followers(world, "star", THRESHOLDS.celebrity)
    world.timelines.refresh_tier("star")
    world.users("reader")
    world.live("reader")
    world.tweet("star", 1)
    world.timelines.fan_out(world.tweet("star", 2))

    world.follow("reader", "star")

    assert world.cache.ids("reader") == []
    assert world.home_ids("reader") == [2]


def test_given_a_followed_author_when_unfollowed_then_only_their_tweets_leave_the_timeline(world):
    world.users("reader", "author", "friend")
    world.live("reader")
    world.follow("reader", "author")
    world.follow("reader", "friend")
    for tweet_id, author in ((1, "author"), (2, "friend"), (3, "author")):
        world.timelines.fan_out(world.tweet(author, tweet_id))

    world.social_store.remove_edge(Relation.FOLLOWS, "reader", "author", counted=True)
    world.timelines.on_unfollow("reader", "author")

    assert world.cache.ids("reader") == [2]
    assert world.cache.relations[Relation.FOLLOWS, "reader"] == {"friend"}
    assert world.home_ids("reader") == [2]


# --- tier migration ---------------------------------------------------------------------------------------


def test_given_an_author_reaching_the_celebrity_threshold_when_followed_then_it_becomes_pulled(world, monkeypatch):
    monkeypatch.setattr(rules, "CELEBRITY_RECENT", 2)
    followers = with_followers(world, "star", THRESHOLDS.celebrity - 1)
    for tweet_id in (1, 2, 3):
        world.timelines.fan_out(world.tweet("star", tweet_id))
    assert not world.cache.is_celebrity("star")
    world.users("newcomer")

    world.follow("newcomer", "star")

    assert world.cache.is_celebrity("star")
    assert world.cache.celebrity_tweets["star"] == {2, 3}
    world.timelines.fan_out(world.tweet("star", 4))
    assert all(4 not in world.cache.ids(f) for f in followers)  # no longer pushed


def test_given_a_celebrity_falling_below_the_threshold_when_unfollowed_then_followers_get_its_tweets_pushed(
    world, monkeypatch
):
    monkeypatch.setattr(rules, "FOLLOWER_PAGE", 2)
    followers = with_followers(world, "star", THRESHOLDS.celebrity)
    assert world.timelines.refresh_tier("star") is True
    for tweet_id in (1, 2):
        world.timelines.fan_out(world.tweet("star", tweet_id))
    assert world.cache.ids("f1") == []

    world.social_store.remove_edge(Relation.FOLLOWS, "f5", "star", counted=True)
    world.timelines.on_unfollow("f5", "star")

    assert not world.cache.is_celebrity("star")
    assert "star" not in world.cache.celebrity_tweets
    assert all(world.cache.ids(f) == [2, 1] for f in followers[:4])  # every page of followers
    assert world.cache.backfills[-2:] == [(["f1", "f2"], [2, 1]), (["f3", "f4"], [2, 1])]
    assert world.cache.ids("f5") == []
    assert world.timelines.fan_out(world.tweet("star", 3)) is Tier.POPULAR  # pushed again, through the workers
    assert [p.follower_ids for send in world.pages.sends for p in send] == [["f1", "f2"], ["f3", "f4"]]


def test_given_an_unchanged_tier_when_refreshed_then_it_is_reported_and_nothing_moves(world):
    with_followers(world, "star", THRESHOLDS.celebrity)
    with_followers(world, "plain", 1, prefix="p")
    world.tweet("star", 1)
    assert world.timelines.refresh_tier("star") is True
    world.cache.celebrity_tweets["star"].clear()

    assert world.timelines.refresh_tier("star") is True
    assert world.cache.celebrity_tweets["star"] == set()  # not reloaded
    assert world.timelines.refresh_tier("plain") is False
    assert world.timelines.refresh_tier("nobody") is False
    assert world.cache.celebrities == {"star"}


# --- blocks and mutes -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [Relation.BLOCKS, Relation.MUTES])
def test_given_a_hidden_author_when_hidden_then_their_tweets_leave_at_once_and_later_ones_are_not_shown(world, kind):
    world.users("reader", "author", "friend")
    world.live("reader")
    world.follow("reader", "author")
    world.follow("reader", "friend")
    world.timelines.fan_out(world.tweet("author", 1))
    world.timelines.fan_out(world.tweet("friend", 2))

    world.timelines.on_hide(kind, "reader", "author", hidden=True)

    assert world.cache.ids("reader") == [2]
    assert world.cache.relations[kind, "reader"] == {"author"}
    world.timelines.fan_out(world.tweet("author", 3))  # still followed (a mute): pushed, but filtered at read
    assert world.home_ids("reader") == [2]


@pytest.mark.parametrize("kind", [Relation.BLOCKS, Relation.MUTES])
def test_given_a_hidden_followed_author_when_unhidden_then_their_tweets_come_back(world, kind, monkeypatch):
    monkeypatch.setattr(rules, "FOLLOW_BACKFILL", 2)
    world.users("reader", "author")
    world.live("reader")
    world.follow("reader", "author")
    for tweet_id in (1, 2, 3):
        world.timelines.fan_out(world.tweet("author", tweet_id))
    world.timelines.on_hide(kind, "reader", "author", hidden=True)
    assert world.home_ids("reader") == []

    world.timelines.on_hide(kind, "reader", "author", hidden=False)

    assert world.cache.relations[kind, "reader"] == set()
    assert world.cache.ids("reader") == [3, 2]
    assert world.home_ids("reader") == [3, 2]


def test_given_an_unfollowed_author_when_unhidden_then_nothing_comes_back(world):
    world.users("reader", "author")
    world.live("reader")
    world.tweet("author", 1)
    world.timelines.on_hide(Relation.MUTES, "reader", "author", hidden=True)
    world.timelines.on_hide(Relation.MUTES, "reader", "author", hidden=False)
    assert world.cache.ids("reader") == []


def test_given_a_followed_celebrity_when_unhidden_then_it_is_pulled_again_not_pushed(world):
    with_followers(world, "star", THRESHOLDS.celebrity - 1)
    world.users("reader")
    world.live("reader")
    world.follow("reader", "star")
    world.timelines.fan_out(world.tweet("star", 1))
    world.timelines.on_hide(Relation.MUTES, "reader", "star", hidden=True)
    assert world.home_ids("reader") == []

    world.timelines.on_hide(Relation.MUTES, "reader", "star", hidden=False)

    assert world.cache.ids("reader") == []
    assert world.home_ids("reader") == [1]


# --- deletes and profiles ---------------------------------------------------------------------------------


def test_given_a_deleted_tweet_when_deleted_then_it_leaves_the_author_and_pull_set_and_readers_filter_it(world):
    with_followers(world, "star", THRESHOLDS.celebrity - 1)
    world.users("reader")
    world.live("star", "reader", "f1")
    world.follow("reader", "star")  # a celebrity now
    world.follow("f1", "reader")
    first, second = world.tweet("star", 1), world.tweet("star", 2)
    mine = world.tweet("reader", 3)
    for tweet in (first, second, mine):
        world.timelines.fan_out(tweet)
    world.home_ids("f1")  # cached for hydration

    world.tweet_store.mark_deleted(2, "star")
    world.timelines.on_delete(second)
    world.tweet_store.mark_deleted(3, "reader")
    world.timelines.on_delete(mine)

    assert world.cache.ids("star") == [1]
    assert world.cache.celebrity_tweets["star"] == {1}
    assert world.cache.tweets[3].deleted
    assert world.cache.ids("f1") == [3]  # other timelines keep the id...
    assert world.home_ids("f1") == []  # ...and filter it at read
    assert world.home_ids("reader") == [1]


def test_given_cached_profiles_when_their_counts_change_then_they_are_forgotten(world):
    world.cache.put_profiles([Profile(user_id=u, handle=u, display_name=u) for u in ("a", "b", "c")])
    world.timelines.on_profiles_changed("a", "b")
    assert set(world.cache.profiles) == {"c"}


# --- reading the home timeline ----------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [0, 101, -1])
def test_given_a_limit_out_of_range_when_reading_then_it_is_refused(world, limit):
    with pytest.raises(InvalidInput, match="limit"):
        world.timelines.home("reader", cursor=None, limit=limit)


@pytest.mark.parametrize("cursor", ["abc", "-1", "99999999999999999999"])
def test_given_a_cursor_this_api_never_returned_when_reading_then_it_is_refused(world, cursor):
    with pytest.raises(InvalidInput, match="cursor"):
        world.timelines.home("reader", cursor=cursor, limit=10)


def test_given_more_tweets_than_the_limit_when_paging_then_newest_first_with_a_cursor_until_the_end(world):
    world.users("reader")
    world.live("reader")
    for tweet_id in (1, 2, 3, 4, 5):
        world.timelines.fan_out(world.tweet("reader", tweet_id))

    first = world.timelines.home("reader", cursor=None, limit=2)
    second = world.timelines.home("reader", cursor=first.next_cursor, limit=2)
    third = world.timelines.home("reader", cursor=second.next_cursor, limit=2)

    assert [[e.tweet.tweet_id for e in p.items] for p in (first, second, third)] == [[5, 4], [3, 2], [1]]
    assert (first.next_cursor, second.next_cursor, third.next_cursor) == ("4", "2", None)
    assert first.items[0].author.handle == "reader"


def test_given_exactly_a_page_left_when_paging_then_a_cursor_leads_to_an_empty_last_page(world):
    world.users("reader")
    world.live("reader")
    for tweet_id in (1, 2):
        world.timelines.fan_out(world.tweet("reader", tweet_id))

    page = world.timelines.home("reader", cursor=None, limit=2)
    assert page.next_cursor == "1"
    last = world.timelines.home("reader", cursor=page.next_cursor, limit=2)
    assert (last.items, last.next_cursor) == ([], None)
    assert world.timelines.home("reader", cursor="", limit=2).next_cursor == "1"  # an empty cursor is the first page


def test_given_pushed_and_pulled_tweets_when_paging_then_pages_merge_both_exactly(world):
    with_followers(world, "star", THRESHOLDS.celebrity - 1)
    world.users("reader", "friend")
    world.live("reader")
    world.follow("reader", "friend")
    world.follow("reader", "star")
    for tweet_id in (1, 3, 5, 7):
        world.timelines.fan_out(world.tweet("friend", tweet_id))
    for tweet_id in (2, 4, 6):
        world.timelines.fan_out(world.tweet("star", tweet_id))

    first = world.timelines.home("reader", cursor=None, limit=3)
    assert ([e.tweet.tweet_id for e in first.items], first.next_cursor) == ([7, 6, 5], "5")
    second = world.timelines.home("reader", cursor=first.next_cursor, limit=3)
    assert ([e.tweet.tweet_id for e in second.items], second.next_cursor) == ([4, 3, 2], "2")
    page = world.timelines.home("reader", cursor="2", limit=3)
    assert ([e.tweet.tweet_id for e in page.items], page.next_cursor) == ([1], None)


def test_given_a_hidden_author_in_a_page_when_reading_then_it_is_dropped_but_the_cursor_still_moves_on(world):
    world.users("reader", "friend", "noisy")
    world.live("reader")
    world.follow("reader", "friend")
    world.follow("reader", "noisy")
    world.timelines.fan_out(world.tweet("friend", 1))
    world.timelines.fan_out(world.tweet("noisy", 2))
    world.cache.relate(Relation.MUTES, "reader", "noisy", add=True)

    page = world.timelines.home("reader", cursor=None, limit=2)

    assert [e.tweet.tweet_id for e in page.items] == [1]
    assert page.next_cursor == "1"


def test_given_the_largest_limit_when_reading_then_it_is_accepted(world):
    world.users("reader")
    assert world.timelines.home("reader", cursor=None, limit=100).items == []


# --- hydration --------------------------------------------------------------------------------------------


def test_given_cached_and_uncached_tweets_when_hydrated_then_misses_are_loaded_once_and_deleted_ones_dropped(world):
    world.users("author")
    world.tweet("author", 1, text="stored")
    world.cache.put_tweets([world.tweet_store.get(1).model_copy(update={"text": "cached"})])
    world.tweet("author", 2)
    world.tweet("author", 3, deleted=True)

    entries = world.timelines.hydrate([1, 2, 3, 4])

    assert [(e.tweet.tweet_id, e.tweet.text) for e in entries] == [(1, "cached"), (2, "hello")]
    assert set(world.cache.tweets) == {1, 2, 3}  # the misses found are cached, deleted ones too
    assert entries[0].author.user_id == "author"
    assert set(world.cache.profiles) == {"author"}  # the profile loaded is cached


def _no_look_ups_after_the_home_snapshot(world: World, monkeypatch) -> None:
    """From the next read_home's answer on, any other cache or store look-up fails the test."""

    def refused(*args, **kwargs):
        raise AssertionError("looked up again after the home read's snapshot")

    read_home = world.cache.read_home

    def snapshot_then_refuse(*args, **kwargs):
        answer = read_home(*args, **kwargs)
        for target, name in (
            (world.cache, "get_tweets"),
            (world.cache, "get_profiles"),
            (world.tweet_store, "batch_get"),
            (world.social_store, "get_profiles"),
        ):
            monkeypatch.setattr(target, name, refused)
        return answer

    monkeypatch.setattr(world.cache, "read_home", snapshot_then_refuse)


def test_given_a_warm_home_with_retweets_and_a_celebrity_when_read_then_the_snapshot_is_the_only_look_up(
    world, monkeypatch
):
    world.users("reader", "ann", "bob", "star")
    world.live("reader", "bob")
    world.follow("reader", "bob")
    world.tweet("ann", 10)
    retweet(world, "bob", 10, 20)
    world.timelines.fan_out(world.tweet("bob", 30))
    world.cache.set_celebrity("star", True, [world.tweet("star", 25).tweet_id])
    world.follow("reader", "star")
    world.home_ids("reader")  # warms the tweet and profile caches
    reads = world.cache.home_reads
    _no_look_ups_after_the_home_snapshot(world, monkeypatch)

    page = world.timelines.home("reader", cursor=None, limit=20)

    assert [(e.entry_id, e.tweet.tweet_id, e.author.user_id) for e in page.items] == [
        (30, 30, "bob"),
        (25, 25, "star"),
        (20, 10, "ann"),
    ]
    assert world.cache.home_reads == reads + 1


def test_given_a_page_the_cache_finished_when_read_then_it_is_served_as_is_with_no_other_look_up(world, monkeypatch):
    world.users("reader", "ann")
    world.live("reader")
    finished = TimelinePage(
        items=[TimelineEntry(entry_id=7, tweet=Tweet(tweet_id=7, author_id="ann", text="t", created_at_ms=7))],
        next_cursor="7",
    )
    world.cache.finished_pages["reader", 9] = finished
    reads = world.cache.home_reads
    _no_look_ups_after_the_home_snapshot(world, monkeypatch)

    page = world.timelines.home("reader", cursor="9", limit=1)

    assert page == finished
    assert world.cache.home_reads == reads + 1


def test_given_an_expired_timeline_when_read_then_it_is_rebuilt_before_the_cache_may_finish_a_page(world):
    # Given a page the cache would finish, but the reader's timeline expired: the cache finishes pages of live
    # timelines only, so the read must rebuild first and then take what the cache answers
    world.users("reader")
    world.cache.finished_pages["reader", None] = TimelinePage(items=[], next_cursor=None)

    page = world.timelines.home("reader", cursor=None, limit=20)

    assert world.cache.is_live("reader")
    assert page == world.cache.finished_pages["reader", None]
    assert world.cache.home_reads == 2


def test_given_a_tweet_the_snapshot_missed_when_read_then_only_dynamodb_is_asked_for_it(world, monkeypatch):
    world.users("reader", "author")
    world.live("reader")
    world.tweet("author", 10)
    world.follow("reader", "author")  # backfills 10
    world.home_ids("reader")
    world.tweet("author", 11)
    world.timelines.push_page(11, ["reader"])  # pushed, not in the tweet cache yet
    asked_cache: list[list[int]] = []
    monkeypatch.setattr(world.cache, "get_tweets", lambda ids: asked_cache.append(ids) or {})

    assert world.home_ids("reader") == [11, 10]
    assert asked_cache == [[11, 10]]  # once, by the snapshot; the miss then went to DynamoDB alone
    assert 11 in world.cache.tweets


def test_given_a_cached_profile_when_hydrated_then_it_is_used(world):
    world.users("author")
    world.tweet("author", 1)
    world.cache.put_profiles([Profile(user_id="author", handle="author", display_name="Cached")])
    (entry,) = world.timelines.hydrate([1])
    assert entry.author.display_name == "Cached"


def test_given_an_author_without_profile_when_hydrated_then_the_entry_has_no_author(world):
    world.tweet("ghost", 1)
    (entry,) = world.timelines.hydrate([1])
    assert entry.author is None


def test_given_a_viewer_when_hydrated_then_tweets_of_authors_they_no_longer_follow_are_dropped(world):
    world.users("reader", "kept", "left")
    world.follow("reader", "kept")
    for tweet_id, author in ((1, "reader"), (2, "kept"), (3, "left")):
        world.tweet(author, tweet_id)

    assert [e.tweet.tweet_id for e in world.timelines.hydrate([3, 2, 1], viewer_id="reader")] == [2, 1]
    assert [e.tweet.tweet_id for e in world.timelines.hydrate([3, 2, 1])] == [3, 2, 1]  # no viewer, no filter


def test_given_a_push_racing_an_unfollow_when_reading_then_the_stale_tweet_is_not_shown(world):
    world.users("reader", "author")
    world.live("reader")
    world.follow("reader", "author")
    world.social_store.remove_edge(Relation.FOLLOWS, "reader", "author", counted=True)
    world.timelines.on_unfollow("reader", "author")
    world.timelines.push_page(world.tweet("author", 1).tweet_id, ["reader"])  # a worker's late push

    assert world.cache.ids("reader") == [1]
    assert world.home_ids("reader") == []


# --- rebuilds ---------------------------------------------------------------------------------------------


def test_given_an_expired_timeline_when_read_then_it_is_rebuilt_from_own_and_followed_non_celebrities(
    world, monkeypatch
):
    monkeypatch.setattr(rules, "FOLLOW_BACKFILL", 2)
    with_followers(world, "star", THRESHOLDS.celebrity - 1)
    world.users("reader", "friend", "muted")
    world.follow("reader", "friend")
    world.follow("reader", "star")
    world.follow("reader", "muted")
    world.social_store.add_edge(Relation.MUTES, "reader", "muted", counted=False)
    world.social_store.add_edge(Relation.BLOCKS, "reader", "f1", counted=False)
    for tweet_id, author in ((1, "reader"), (2, "reader"), (3, "reader"), (4, "friend"), (5, "friend")):
        world.tweet(author, tweet_id)
    world.tweet("friend", 6)
    world.tweet("muted", 7)
    world.timelines.fan_out(world.tweet("star", 8))
    world.cache.relations.clear()  # lost with the timeline

    assert world.home_ids("reader") == [8, 6, 5, 3, 2]

    assert world.cache.ids("reader") == [7, 6, 5, 3, 2]  # the celebrity is pulled; the muted filtered at read
    assert world.cache.relations[Relation.FOLLOWS, "reader"] == {"friend", "star", "muted"}
    assert world.cache.relations[Relation.MUTES, "reader"] == {"muted"}
    assert world.cache.relations[Relation.BLOCKS, "reader"] == {"f1"}
    assert world.cache.locks == {}  # released


def test_given_a_rebuild_when_run_then_it_holds_the_lock_for_the_rebuild_time(world):
    seen = []
    lock_for = world.cache.rebuild_lock

    def spy(user_id, ttl_s):
        lock = lock_for(user_id, ttl_s)
        seen.append((user_id, lock.ttl_s))
        return lock

    world.cache.rebuild_lock = spy
    world.timelines.rebuild("reader")
    assert seen == [("reader", rules.REBUILD_LOCK_S)]
    assert world.cache.is_live("reader")


def test_given_another_rebuild_that_never_ends_when_read_then_unavailable_after_the_wait(world, monkeypatch):
    monkeypatch.setattr(rules, "REBUILD_WAIT_S", 0.2)
    world.users("reader")
    world.tweet("reader", 1)
    assert world.cache.rebuild_lock("reader", 30).acquire()  # another reader's rebuild

    started = time.monotonic()
    with pytest.raises(Unavailable, match=r"^your home timeline is being rebuilt; retry in a few seconds$"):
        world.timelines.home("reader", cursor=None, limit=10)
    waited = time.monotonic() - started

    assert 0.2 <= waited < 0.6
    assert not world.cache.is_live("reader")


def test_given_another_rebuild_that_completes_when_waiting_then_its_timeline_is_used(world, monkeypatch):
    monkeypatch.setattr(rules, "REBUILD_WAIT_S", 5.0)
    world.users("reader")
    world.tweet("reader", 1)
    assert world.cache.rebuild_lock("reader", 30).acquire()
    world.live("reader")  # the other rebuild has just written it

    started = time.monotonic()
    world.timelines.rebuild("reader")

    assert time.monotonic() - started < 0.5
    assert world.cache.ids("reader") == []  # not rebuilt a second time
    assert world.cache.relations[Relation.FOLLOWS, "reader"] == set()


def test_given_an_expired_timeline_when_read_from_a_cursor_then_the_rebuilt_timeline_is_read_from_it(world):
    world.users("reader")
    world.live("reader")
    for tweet_id in (1, 2, 3, 4):
        world.timelines.fan_out(world.tweet("reader", tweet_id))
    world.cache.expire("reader")  # a week without a visit

    page = world.timelines.home("reader", cursor="3", limit=10)

    assert [e.tweet.tweet_id for e in page.items] == [2, 1]
    assert world.cache.ids("reader") == [4, 3, 2, 1]


def test_given_celebrity_marks_lost_with_redis_when_rebuilding_then_they_are_restored_from_follower_counts(
    world, monkeypatch
):
    monkeypatch.setattr(rules, "CELEBRITY_RECENT", 2)
    with_followers(world, "star", THRESHOLDS.celebrity - 1)
    world.users("reader", "friend")
    world.edge("reader", "star")  # the fifth follower: a celebrity by DynamoDB's count
    world.edge("reader", "friend")
    for tweet_id, author in ((1, "star"), (2, "star"), (3, "star"), (4, "friend")):
        world.tweet(author, tweet_id)
    assert not world.cache.is_celebrity("star")

    assert world.home_ids("reader") == [4, 3, 2]

    assert world.cache.is_celebrity("star")
    assert world.cache.celebrity_tweets["star"] == {2, 3}
    assert world.cache.ids("reader") == [4]  # the celebrity is pulled, not copied in
    assert "friend" not in world.cache.celebrities


def test_given_authors_when_celebrity_marks_are_restored_then_only_missing_marks_are_written(world):
    with_followers(world, "star", THRESHOLDS.celebrity)
    with_followers(world, "marked", THRESHOLDS.celebrity, prefix="m")
    with_followers(world, "plain", 1, prefix="p")
    world.tweet("star", 1)
    world.tweet("marked", 2)
    world.cache.set_celebrity("marked", True, [])

    assert world.timelines.restore_celebrity_marks(["star", "marked", "plain", "ghost"]) == {"star", "marked"}

    assert world.cache.celebrities == {"star", "marked"}
    assert world.cache.celebrity_tweets == {"star": {1}, "marked": set()}  # an existing mark is left alone
    assert world.timelines.restore_celebrity_marks([]) == set()


# --- retweets ----------------------------------------------------------------------------------------------------


def retweet(world: World, user_id: str, tweet_id: int, retweet_id: int):
    """A stored retweet (as the engagement rules store it), fanned out (as their consumer does)."""
    rt = world.tweet(user_id, retweet_id, text="", retweet_of_id=tweet_id)
    world.timelines.fan_out(rt)
    return rt


def entries(world: World, user_id: str, **params) -> list[tuple[int, int, str | None]]:
    """Every page of the home timeline: (entry id, id of the tweet shown, who retweeted it)."""
    seen, cursor = [], None
    while True:
        page = world.timelines.home(user_id, cursor=cursor, limit=params.get("limit", 100))
        seen += [(e.entry_id, e.tweet.tweet_id, e.retweeted_by.user_id if e.retweeted_by else None) for e in page.items]
        cursor = page.next_cursor
        if not cursor:
            return seen


def test_given_a_retweet_by_a_followee_when_read_then_it_shows_the_original_and_who_retweeted_it(world):
    world.users("ann", "bob", "reader")
    world.live("reader")
    world.follow("reader", "bob")
    world.tweet("ann", 10)

    world.live("bob")
    retweet(world, "bob", 10, 20)

    assert world.cache.ids("reader") == [20]
    assert world.cache.retweet_index["reader"] == {20: 10}
    assert world.cache.retweet_index["bob"] == {20: 10}  # the retweeter's own timeline indexes it too
    (entry,) = world.timelines.home("reader", cursor=None, limit=20).items
    assert (entry.entry_id, entry.tweet.tweet_id, entry.author.user_id, entry.retweeted_by.user_id) == (
        20,
        10,
        "ann",
        "bob",
    )


def test_given_a_tweet_retweeted_by_several_followees_and_its_author_followed_when_read_then_it_shows_once(world):
    world.users("ann", "bob", "cat", "reader")
    world.live("reader")
    for followee in ("ann", "bob", "cat"):
        world.follow("reader", followee)
    world.timelines.fan_out(world.tweet("ann", 10))
    retweet(world, "bob", 10, 20)
    retweet(world, "cat", 10, 30)

    assert entries(world, "reader") == [(30, 10, "cat")]  # the newest entry that shows it


def test_given_the_newest_retweet_undone_when_read_then_the_next_entry_shows_the_tweet(world):
    world.users("ann", "bob", "cat", "reader")
    world.live("reader")
    for followee in ("ann", "bob", "cat"):
        world.follow("reader", followee)
    world.timelines.fan_out(world.tweet("ann", 10))
    retweet(world, "bob", 10, 20)
    newest = retweet(world, "cat", 10, 30)

    world.tweet_store.mark_deleted(30, "cat")
    world.timelines.on_delete(newest.model_copy(update={"deleted": True}))
    assert entries(world, "reader") == [(20, 10, "bob")]

    world.tweet_store.mark_deleted(20, "bob")
    world.cache.tweets.pop(20)  # as the tweet cache would expire it
    assert entries(world, "reader") == [(10, 10, None)]


def test_given_a_retweet_above_the_original_when_paged_then_the_original_never_shows_on_a_later_page(world):
    world.users("ann", "bob", "reader")
    world.live("reader")
    world.follow("reader", "ann")
    world.follow("reader", "bob")
    for tweet_id in (10, 11, 12, 13):
        world.timelines.fan_out(world.tweet("ann", tweet_id))
    retweet(world, "bob", 10, 20)

    assert entries(world, "reader", limit=2) == [(20, 10, "bob"), (13, 13, None), (12, 12, None), (11, 11, None)]


def test_given_the_retweet_above_undone_when_paged_then_the_original_shows_on_its_own_page(world):
    world.users("ann", "bob", "reader")
    world.live("reader")
    world.follow("reader", "ann")
    world.follow("reader", "bob")
    for tweet_id in (10, 11, 12, 13):
        world.timelines.fan_out(world.tweet("ann", tweet_id))
    retweet(world, "bob", 10, 20)
    world.tweet_store.mark_deleted(20, "bob")  # undone; other timelines drop it when they read it
    world.cache.tweets.pop(20, None)

    assert [e[0] for e in entries(world, "reader", limit=2)] == [13, 12, 11, 10]


def test_given_a_retweet_by_someone_no_longer_followed_when_paged_then_the_original_shows_again(world):
    world.users("ann", "bob", "reader")
    world.live("reader")
    world.follow("reader", "ann")
    world.follow("reader", "bob")
    for tweet_id in (10, 11, 12):
        world.timelines.fan_out(world.tweet("ann", tweet_id))
    retweet(world, "bob", 10, 20)
    world.social.unfollow("reader", "bob")

    assert [e[:2] for e in entries(world, "reader", limit=2)] == [(12, 12), (11, 11), (10, 10)]


def test_given_a_retweet_of_a_deleted_tweet_when_read_then_it_vanishes_with_the_original(world):
    world.users("ann", "bob", "reader")
    world.live("reader")
    world.follow("reader", "bob")
    world.tweet("ann", 10)
    retweet(world, "bob", 10, 20)

    world.tweet_store.mark_deleted(10, "ann")

    assert entries(world, "reader") == []


@pytest.mark.parametrize("kind", [Relation.MUTES, Relation.BLOCKS])
def test_given_a_retweet_of_a_hidden_authors_tweet_when_read_then_it_is_not_shown(world, kind):
    world.users("ann", "bob", "reader")
    world.live("reader")
    world.follow("reader", "bob")
    world.tweet("ann", 10)
    retweet(world, "bob", 10, 20)
    world.timelines.fan_out(world.tweet("bob", 21))

    world.social_store.add_edge(kind, "reader", "ann", counted=False)
    world.timelines.on_hide(kind, "reader", "ann", hidden=True)

    assert entries(world, "reader") == [(21, 21, None)]


def test_given_a_popular_retweeter_when_fanned_out_then_its_pages_carry_what_the_retweet_shows(world):
    followers = with_followers(world, "bob", THRESHOLDS.popular)
    world.users("ann")
    world.tweet("ann", 10)

    rt = world.tweet("bob", 20, text="", retweet_of_id=10)
    assert world.timelines.fan_out(rt) is Tier.POPULAR

    (send,) = world.pages.sends
    assert send == [FollowerPage(tweet_id=20, author_id="bob", follower_ids=followers, retweet_of_id=10)]
    for page in send:
        world.timelines.push_page(page.tweet_id, page.follower_ids, page.retweet_of_id)
    assert all(world.cache.retweet_index[f] == {20: 10} for f in followers[1:])  # still following
    world.cache.relate(Relation.FOLLOWS, followers[0], "bob", add=True)  # the follows were stored only
    assert entries(world, followers[0]) == [(20, 10, "bob")]


def test_given_a_celebrity_retweet_above_when_paged_then_the_tweet_shows_once(world):
    with_followers(world, "star", THRESHOLDS.celebrity - 1)
    world.users("ann", "reader")
    world.live("reader")
    world.follow("reader", "ann")
    world.follow("reader", "star")  # a celebrity now
    for tweet_id in (10, 11, 12):
        world.timelines.fan_out(world.tweet("ann", tweet_id))

    retweet(world, "star", 10, 20)

    assert world.cache.celebrity_retweets["star"] == {20: 10}
    assert world.cache.ids("reader") == [12, 11, 10]  # pulled, never pushed
    assert entries(world, "reader", limit=2) == [(20, 10, "star"), (12, 12, None), (11, 11, None)]


def test_given_a_lost_timeline_with_retweets_when_rebuilt_then_its_retweet_index_is_rebuilt_too(world):
    world.users("ann", "bob", "reader")
    world.follow("reader", "ann")
    world.follow("reader", "bob")
    for tweet_id in (10, 11, 12):
        world.tweet("ann", tweet_id)
    world.tweet("bob", 20, text="", retweet_of_id=10)

    assert entries(world, "reader", limit=2) == [(20, 10, "bob"), (12, 12, None), (11, 11, None)]
    assert world.cache.retweet_index["reader"] == {20: 10}


def test_given_a_follow_of_a_retweeter_when_backfilled_then_its_retweets_are_indexed(world):
    world.users("ann", "bob", "reader")
    world.live("reader")
    world.tweet("ann", 10)
    world.tweet("bob", 20, text="", retweet_of_id=10)

    world.follow("reader", "bob")

    assert world.cache.ids("reader") == [20]
    assert world.cache.retweet_index["reader"] == {20: 10}


def test_given_retweets_when_searched_without_a_viewer_then_each_shows_its_original(world):
    world.users("ann", "bob")
    world.tweet("ann", 10)
    world.tweet("bob", 20, text="", retweet_of_id=10)
    shown = world.timelines.hydrate([20, 10])
    assert [(e.entry_id, e.tweet.tweet_id) for e in shown] == [(20, 10)]


def test_given_a_retweeter_crossing_the_celebrity_threshold_either_way_when_migrated_then_retweets_stay_indexed(
    world,
):
    followers = with_followers(world, "bob", THRESHOLDS.celebrity)
    world.users("ann")
    world.tweet("ann", 10)
    world.tweet("bob", 20, text="", retweet_of_id=10)

    assert world.timelines.refresh_tier("bob")
    assert world.cache.celebrity_retweets["bob"] == {20: 10}

    world.social_store.remove_edge(Relation.FOLLOWS, followers[0], "bob", counted=True)
    assert not world.timelines.refresh_tier("bob")
    assert all(world.cache.retweet_index[f] == {20: 10} for f in followers[1:])  # still following
