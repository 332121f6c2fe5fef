"""The notification rules (chirp.notifications.service) on in-memory fakes: mentions, replies, follows."""

from __future__ import annotations

import pytest

from chirp.errors import InvalidInput
from chirp.ids.snowflake import snowflake_timestamp_ms
from chirp.notifications.model import Notification
from chirp.notifications.service import follow_notification
from chirp.social.model import Relation
from tests.unit.fakes import World


@pytest.fixture
def world() -> World:
    world = World()
    world.users("ann", "bob", "cat")
    return world


def of(world: World, user_id: str) -> list[tuple[str, str, int | None]]:
    return [(n.kind, n.actor_id, n.tweet_id) for n in world.notification_store.of(user_id)]


def test_given_a_mention_when_notified_then_the_mentioned_user_gets_one_with_the_tweets_id_and_time(world):
    tweet = world.tweet("ann", 100, mentions=["bob"])

    assert world.notifications.for_tweet(tweet) == 1

    assert world.notification_store.of("bob") == [
        Notification(id=100, kind="mention", actor_id="ann", tweet_id=100, at_ms=tweet.created_at_ms)
    ]


def test_given_mentions_of_several_users_and_an_unknown_handle_when_notified_then_each_known_one_once(world):
    tweet = world.tweet("ann", 100, mentions=["bob", "nobody", "cat"])
    assert world.notifications.for_tweet(tweet) == 2
    assert of(world, "bob") == of(world, "cat") == [("mention", "ann", 100)]


def test_given_a_reply_when_notified_then_the_parents_author_gets_a_reply(world):
    world.tweet("bob", 1)
    assert world.notifications.for_tweet(world.tweet("ann", 100, reply_to_id=1)) == 1
    assert of(world, "bob") == [("reply", "ann", 100)]


def test_given_a_reply_that_also_mentions_the_parents_author_when_notified_then_it_is_one_reply(world):
    world.tweet("bob", 1)
    tweet = world.tweet("ann", 100, reply_to_id=1, mentions=["bob", "cat"])
    assert world.notifications.for_tweet(tweet) == 2
    assert of(world, "bob") == [("reply", "ann", 100)]
    assert of(world, "cat") == [("mention", "ann", 100)]


def test_given_a_reply_to_a_tweet_that_is_gone_when_notified_then_nobody_is(world):
    assert world.notifications.for_tweet(world.tweet("ann", 100, reply_to_id=1)) == 0
    assert world.notification_store.items == {}


@pytest.mark.parametrize(
    "fields",
    [{"mentions": ["ann"]}, {"reply_to_id": 1}, {"reply_to_id": 1, "mentions": ["ann"]}],
    ids=["self-mention", "self-reply", "both"],
)
def test_given_ones_own_mention_or_reply_when_notified_then_nobody_is(world, fields):
    world.tweet("ann", 1)
    assert world.notifications.for_tweet(world.tweet("ann", 100, **fields)) == 0
    assert of(world, "ann") == []


@pytest.mark.parametrize("kind", [Relation.BLOCKS, Relation.MUTES])
def test_given_a_recipient_who_hides_the_author_when_notified_then_they_are_not(world, kind):
    world.social_store.add_edge(kind, "bob", "ann", counted=False)
    world.tweet("bob", 1)
    tweet = world.tweet("ann", 100, reply_to_id=1, mentions=["cat"])

    assert world.notifications.for_tweet(tweet) == 1

    assert of(world, "bob") == []
    assert of(world, "cat") == [("mention", "ann", 100)]


def test_given_an_author_who_hides_the_recipient_when_notified_then_the_recipient_still_is(world):
    world.social_store.add_edge(Relation.MUTES, "ann", "bob", counted=False)
    assert world.notifications.for_tweet(world.tweet("ann", 100, mentions=["bob"])) == 1


def test_given_a_replayed_tweet_when_notified_again_then_nothing_new_is_stored(world):
    tweet = world.tweet("ann", 100, mentions=["bob"])
    world.notifications.for_tweet(tweet)
    stored = {u: dict(n) for u, n in world.notification_store.items.items()}

    world.notifications.for_tweet(tweet)

    assert world.notification_store.items == stored


def test_given_a_tweet_without_recipients_when_notified_then_the_store_is_not_called(world):
    calls = []
    world.notification_store.add = calls.append
    assert world.notifications.for_tweet(world.tweet("ann", 100)) == 0
    assert calls == []


# --- follows ----------------------------------------------------------------------------------------------


def test_given_a_follow_when_made_then_the_followee_gets_one_ordered_by_time(world):
    at_ms = world.clock()
    world.social.follow("ann", "bob")

    (notification,) = world.notification_store.of("bob")
    assert (notification.kind, notification.actor_id, notification.tweet_id, notification.at_ms) == (
        "follow",
        "ann",
        None,
        at_ms,
    )
    assert snowflake_timestamp_ms(notification.id) == at_ms


def test_given_follows_at_different_times_when_notified_then_their_ids_follow_time_order():
    ids = [follow_notification(actor, at_ms).id for actor, at_ms in (("cat", 2_000_000_000_000),
                                                                     ("ann", 1_900_000_000_000),
                                                                     ("ann", 1_900_000_000_001))]  # fmt: skip
    assert ids[0] > ids[2] > ids[1]


def test_given_follows_in_one_millisecond_when_notified_then_each_follower_has_its_own_id(world):
    at_ms = world.clock()
    world.social.follow("ann", "bob")
    world.social.follow("cat", "bob")
    world.social.follow("ann", "bob")  # a repeat: no second notification
    ids = [n.id for n in world.notification_store.of("bob")]
    assert len(ids) == len(set(ids)) == 2
    assert {snowflake_timestamp_ms(i) for i in ids} == {at_ms}
    assert follow_notification("ann", at_ms) == follow_notification("ann", at_ms)  # a retry writes the same one


def test_given_a_followee_who_mutes_the_follower_when_followed_then_no_notification_is_stored(world):
    world.social_store.add_edge(Relation.MUTES, "bob", "ann", counted=False)
    assert world.social.follow("ann", "bob")
    assert world.notification_store.items == {}


# --- paging -----------------------------------------------------------------------------------------------


def test_given_notifications_when_paged_then_newest_first_with_a_cursor_while_pages_are_full(world):
    for tweet_id in (101, 102, 103):
        world.notifications.for_tweet(world.tweet("ann", tweet_id, mentions=["bob"]))

    world.notifications.for_tweet(world.tweet("ann", 104, mentions=["bob"]))

    first = world.notifications.page("bob", cursor=None, limit=3)
    second = world.notifications.page("bob", cursor=first.next_cursor, limit=3)

    assert ([n.id for n in first.items], first.next_cursor) == ([104, 103, 102], "102")
    assert ([n.id for n in second.items], second.next_cursor) == ([101], None)
    assert world.notifications.page("cat", cursor=None, limit=2).items == []


@pytest.mark.parametrize(("cursor", "limit"), [(None, 0), (None, 101), ("x", 10)])
def test_given_a_bad_limit_or_cursor_when_paged_then_it_is_refused(world, cursor, limit):
    with pytest.raises(InvalidInput):
        world.notifications.page("bob", cursor=cursor, limit=limit)


# --- quotes ---------------------------------------------------------------------------------------------------


def test_given_a_quote_when_notified_then_the_quoted_author_gets_a_quote(world):
    world.tweet("bob", 1)
    assert world.notifications.for_tweet(world.tweet("ann", 100, quote_tweet_id=1)) == 1
    assert of(world, "bob") == [("quote", "ann", 100)]


def test_given_a_quote_that_mentions_the_quoted_author_when_notified_then_it_is_one_quote(world):
    world.tweet("bob", 1)
    assert world.notifications.for_tweet(world.tweet("ann", 100, quote_tweet_id=1, mentions=["bob"])) == 1
    assert of(world, "bob") == [("quote", "ann", 100)]


def test_given_a_reply_that_quotes_when_both_are_by_one_author_then_the_reply_outranks_the_quote(world):
    world.tweet("bob", 1)
    world.tweet("bob", 2)
    world.tweet("cat", 3)
    assert world.notifications.for_tweet(world.tweet("ann", 100, reply_to_id=1, quote_tweet_id=2)) == 1
    assert of(world, "bob") == [("reply", "ann", 100)]
    assert world.notifications.for_tweet(world.tweet("ann", 101, reply_to_id=1, quote_tweet_id=3)) == 2
    assert of(world, "cat") == [("quote", "ann", 101)]


def test_given_a_quote_of_a_gone_or_own_tweet_when_notified_then_nobody_is(world):
    world.tweet("ann", 1)
    assert world.notifications.for_tweet(world.tweet("ann", 100, quote_tweet_id=1)) == 0
    assert world.notifications.for_tweet(world.tweet("bob", 101, quote_tweet_id=999)) == 0
    assert world.notification_store.items == {}


# --- likes and retweets: aggregated ---------------------------------------------------------------------------


BASE_MS = 1_750_000_000_000


def aggregate(world: World, *engaged: tuple[str, int], undone=(), total=None, kind="like", recipient="ann"):
    """Engagements at BASE_MS + the offsets given."""
    return world.notifications.for_engagements(
        recipient,
        kind,
        100,
        engaged=[(actor, BASE_MS + at) for actor, at in engaged],
        undone=list(undone),
        total=len(engaged) if total is None else total,
    )


def test_given_a_first_like_when_notified_then_one_notification_names_the_liker_at_the_time_of_the_like(world):
    stored = aggregate(world, ("bob", 5_000), total=1)

    (notification,) = world.notification_store.of("ann")
    assert notification == Notification(
        id=stored.notification_id,
        kind="like",
        actor_id="bob",
        tweet_id=100,
        at_ms=BASE_MS + 5_000,
        actor_ids=["bob"],
        count=1,
    )
    assert snowflake_timestamp_ms(notification.id) == BASE_MS + 5_000
    assert stored.version == 0


def test_given_more_likes_when_notified_then_the_same_single_notification_updates_and_moves_to_the_top(world):
    first = aggregate(world, ("bob", 5_000), total=1)
    world.notification_store.add(
        {"ann": Notification(id=first.notification_id + 1, kind="follow", actor_id="x", at_ms=1)}
    )

    second = aggregate(world, ("cat", 6_000), ("dan", 7_000), total=47_384)

    notifications = world.notification_store.of("ann")
    assert [n.kind for n in notifications] == ["like", "follow"]  # one like notification, on top again
    assert notifications[0].id == second.notification_id > first.notification_id + 1
    assert (notifications[0].actor_ids, notifications[0].actor_id, notifications[0].count) == (
        ["dan", "cat", "bob"],
        "dan",
        47_384,
    )
    assert second.version == first.version + 1


def test_given_many_new_likers_when_notified_then_only_the_newest_few_are_named(world):
    aggregate(world, *((f"u{i}", 1_000 + i) for i in range(10)), total=10)
    (notification,) = world.notification_store.of("ann")
    assert notification.actor_ids == ["u9", "u8", "u7"]
    assert notification.count == 10


def test_given_a_replayed_like_when_notified_then_nothing_is_written(world):
    aggregate(world, ("bob", 5_000), total=1)
    writes = world.notification_store.writes
    assert aggregate(world, ("bob", 5_000), total=1).version == 0
    assert world.notification_store.writes == writes


def test_given_a_like_seen_late_when_notified_then_it_is_named_but_does_not_move_the_notification(world):
    newest = aggregate(world, ("bob", 9_000), total=1)
    late = aggregate(world, ("cat", 4_000), total=2)
    assert late.notification_id == newest.notification_id
    assert (late.actor_ids, late.at_ms, late.count) == (["cat", "bob"], BASE_MS + 9_000, 2)


def test_given_a_liker_who_likes_again_later_when_notified_then_the_notification_moves(world):
    first = aggregate(world, ("bob", 5_000), total=1)
    again = aggregate(world, ("bob", 8_000), total=1)
    assert again.notification_id > first.notification_id
    assert again.actor_ids == ["bob"]


def test_given_an_unlike_when_notified_then_the_actor_leaves_and_the_count_drops_without_moving(world):
    first = aggregate(world, ("bob", 5_000), ("cat", 6_000), total=2)

    after = aggregate(world, undone=["cat"], total=1)

    assert (after.actor_ids, after.count, after.notification_id) == (["bob"], 1, first.notification_id)
    (notification,) = world.notification_store.of("ann")
    assert (notification.actor_id, notification.count) == ("bob", 1)


def test_given_every_named_actor_undone_when_notified_then_the_notification_is_deleted(world):
    aggregate(world, ("bob", 5_000), total=1)
    assert aggregate(world, undone=["bob"], total=0) is None
    assert world.notification_store.of("ann") == []
    assert world.notification_store.aggregates == {}
    assert aggregate(world, undone=["bob"], total=0) is None  # replayed: still nothing


def test_given_only_undone_acts_of_a_tweet_never_notified_when_notified_then_nothing_is_stored(world):
    assert aggregate(world, undone=["bob"], total=0) is None
    assert world.notification_store.writes == 0


def test_given_the_recipient_and_silenced_actors_when_notified_then_they_are_never_named(world):
    world.social_store.add_edge(Relation.BLOCKS, "ann", "cat", counted=False)
    world.social_store.add_edge(Relation.MUTES, "ann", "dan", counted=False)

    assert aggregate(world, ("ann", 1), ("cat", 2), ("dan", 3), total=2) is None

    stored = aggregate(world, ("ann", 1), ("cat", 2), ("dan", 3), ("bob", 4), total=3)
    assert (stored.actor_ids, stored.count) == (["bob"], 3)


def test_given_a_count_below_the_names_when_notified_then_the_count_is_at_least_the_names(world):
    assert aggregate(world, ("bob", 1), ("cat", 2), total=0).count == 2


def test_given_likes_and_retweets_of_one_tweet_when_notified_then_one_notification_each(world):
    aggregate(world, ("bob", 1_000), total=1, kind="like")
    aggregate(world, ("cat", 2_000), total=1, kind="retweet")
    assert sorted((n.kind, n.actor_id) for n in world.notification_store.of("ann")) == [
        ("like", "bob"),
        ("retweet", "cat"),
    ]


def test_given_another_consumer_racing_when_notified_then_the_update_is_redone_on_what_it_wrote(world):
    aggregate(world, ("bob", 5_000), total=1)
    world.notification_store.race = lambda: aggregate(world, ("cat", 6_000), total=2)

    stored = aggregate(world, ("dan", 7_000), total=3)

    assert (stored.actor_ids, stored.count, stored.version) == (["dan", "cat", "bob"], 3, 2)
    assert len(world.notification_store.of("ann")) == 1


def test_given_an_aggregate_that_keeps_changing_when_notified_then_it_gives_up_to_be_retried(world, monkeypatch):
    from chirp.notifications import service
    from chirp.notifications.ports import StaleAggregate

    aggregate(world, ("bob", 5_000), total=1)
    monkeypatch.setattr(service, "AGGREGATE_ATTEMPTS", 3)
    attempts = []

    def always_stale(new, previous):
        attempts.append(new)
        raise StaleAggregate("moved on")

    monkeypatch.setattr(world.notification_store, "put_aggregate", always_stale)
    with pytest.raises(StaleAggregate, match="the like notification of tweet 100 kept changing"):
        aggregate(world, ("cat", 6_000), total=2)
    assert len(attempts) == 3


def test_given_likers_whose_names_sort_against_time_when_notified_then_the_newest_are_named_first(world):
    stored = aggregate(world, ("zed", 1), ("amy", 2), ("kim", 3), ("bob", 4), total=4)
    assert stored.actor_ids == ["bob", "kim", "amy"]


def test_given_one_actor_twice_in_a_batch_when_notified_then_named_once(world):
    assert aggregate(world, ("bob", 1), ("bob", 2), total=1).actor_ids == ["bob"]


def test_given_a_replayed_act_and_an_older_new_one_when_notified_then_the_new_one_is_still_named(world):
    aggregate(world, ("bob", 9_000), total=1)
    stored = aggregate(world, ("bob", 9_000), ("cat", 4_000), total=2)
    assert stored.actor_ids == ["cat", "bob"]


# --- unread counts --------------------------------------------------------------------------------------------


def stored(world: World, user_id: str, ids: range, kind: str = "mention") -> None:
    for i in ids:
        world.notification_store.add({user_id: Notification(id=i, kind=kind, actor_id="bob", tweet_id=i, at_ms=i)})


def unread(world: World, read_up_to=None, limit=100, counted=lambda n: True) -> int:
    return world.notifications.unread_count("ann", read_up_to=read_up_to, limit=limit, counted=counted)


def test_given_notifications_when_counted_then_only_those_newer_than_the_position_read(world):
    stored(world, "ann", range(1, 251))
    stored(world, "bob", range(1, 10))

    def counted_with_pages(**kwargs) -> tuple[int, int]:
        before = world.notification_store.pages_read
        return unread(world, **kwargs), world.notification_store.pages_read - before

    assert counted_with_pages() == (100, 1)  # the limit asked: one page is enough
    assert counted_with_pages(limit=1000) == (250, 3)  # the oldest reached in the third
    assert counted_with_pages(read_up_to=240) == (10, 1)
    assert counted_with_pages(read_up_to=100, limit=1000) == (150, 2)  # the position in the second page
    assert counted_with_pages(read_up_to=150, limit=1000) == (100, 2)  # a page exactly: the next says it is read
    assert counted_with_pages(read_up_to=250) == (0, 1)
    assert world.notifications.unread_count("cat", read_up_to=None, limit=100, counted=lambda n: True) == 0


def test_given_kinds_when_counted_then_only_the_counted_ones_up_to_the_cap(world):
    stored(world, "ann", range(1, 151), kind="mention")
    stored(world, "ann", range(151, 161), kind="follow")

    assert unread(world, limit=1000, counted=lambda n: n.kind == "follow") == 10
    assert unread(world, limit=1000, counted=lambda n: n.kind == "mention") == 150
    assert unread(world, limit=5, counted=lambda n: n.kind == "mention") == 5


def test_given_more_notifications_than_the_cap_when_counted_then_the_scan_stops_there(world):
    stored(world, "ann", range(1, 1301))
    assert unread(world, limit=1000) == 1000
    assert unread(world, limit=1000, counted=lambda n: n.id <= 200) == 0  # 1,000 scanned: beyond is not read
    with pytest.raises(InvalidInput, match="limit must be between 1 and 1000"):
        unread(world, limit=1001)
