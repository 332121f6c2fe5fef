"""The notification rules (chirp.notifications.service) on in-memory fakes: mentions, replies, follows."""

from __future__ import annotations

import pytest

from chirp.errors import InvalidInput
from chirp.ids.snowflake import snowflake_timestamp_ms
from chirp.notifications.model import Notification
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


def test_given_a_follow_when_notified_then_the_followee_gets_one_ordered_by_time(world):
    at_ms = world.clock()
    world.notifications.for_follow("ann", "bob", at_ms)

    (notification,) = world.notification_store.of("bob")
    assert (notification.kind, notification.actor_id, notification.tweet_id, notification.at_ms) == (
        "follow",
        "ann",
        None,
        at_ms,
    )
    assert snowflake_timestamp_ms(notification.id) == at_ms


def test_given_follows_at_different_times_when_notified_then_their_ids_follow_time_order(world):
    world.notifications.for_follow("cat", "bob", 2_000_000_000_000)
    world.notifications.for_follow("ann", "bob", 1_900_000_000_000)
    world.notifications.for_follow("ann", "bob", 1_900_000_000_001)
    assert [n.at_ms for n in world.notification_store.of("bob")] == [
        2_000_000_000_000,
        1_900_000_000_001,
        1_900_000_000_000,
    ]


def test_given_follows_in_one_millisecond_when_notified_then_each_follower_has_its_own_id(world):
    at_ms = world.clock()
    world.notifications.for_follow("ann", "bob", at_ms)
    world.notifications.for_follow("cat", "bob", at_ms)
    world.notifications.for_follow("ann", "bob", at_ms)  # a repeat: the same notification
    ids = [n.id for n in world.notification_store.of("bob")]
    assert len(ids) == len(set(ids)) == 2


@pytest.mark.parametrize("kind", [Relation.BLOCKS, Relation.MUTES])
def test_given_a_followee_who_hides_the_follower_when_notified_then_nothing_is_stored(world, kind):
    world.social_store.add_edge(kind, "bob", "ann", counted=False)
    world.notifications.for_follow("ann", "bob", world.clock())
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
