"""Notifications against real DynamoDB and Redis: raised once, silenced by blocks and mutes, paged exactly."""

from __future__ import annotations

import pytest

from chirp.notifications.service import Notifications


@pytest.fixture
def notifications(services) -> Notifications:
    return services.notifications


@pytest.fixture
def quiet_stream(services, monkeypatch):
    """Tweets stay off the stream: the deployed notifier would raise the same notifications again."""
    monkeypatch.setattr(services.tweets.publisher, "publish", lambda tweet: None)


def _handle(services, user_id: str) -> str:
    return services.social.profile(user_id).handle


def test_given_a_mention_and_a_reply_when_replayed_then_each_notifies_once(
    services, notifications, make_user, quiet_stream
):
    alice, bob = make_user(), make_user()
    original = services.tweets.post(alice, "hello")
    mention = services.tweets.post(bob, f"hi @{_handle(services, alice)}")
    reply = services.tweets.post(bob, "a reply", reply_to_id=original.tweet_id)
    for tweet in (mention, reply, mention, reply):  # at-least-once: replays change nothing
        notifications.for_tweet(tweet)
    page = notifications.page(alice, cursor=None, limit=10)
    assert [(n.kind, n.tweet_id) for n in page.items] == [("reply", reply.tweet_id), ("mention", mention.tweet_id)]


def test_given_a_muted_actor_when_they_mention_then_nothing_is_raised(services, notifications, make_user, quiet_stream):
    alice, bob = make_user(), make_user()
    services.social.mute(alice, bob)
    assert notifications.for_tweet(services.tweets.post(bob, f"@{_handle(services, alice)} hi")) == 0


def test_given_many_notifications_when_paging_then_no_gaps_or_repeats(services, notifications, make_user, quiet_stream):
    alice, bob = make_user(), make_user()
    mentions = [services.tweets.post(bob, f"@{_handle(services, alice)} {i}") for i in range(7)]
    for tweet in mentions:
        notifications.for_tweet(tweet)
    seen, cursor = [], None
    while True:
        page = notifications.page(alice, cursor=cursor, limit=3)
        seen += [n.tweet_id for n in page.items]
        cursor = page.next_cursor
        if not cursor:
            break
    assert seen == sorted((t.tweet_id for t in mentions), reverse=True)


def test_given_notifications_when_redis_loses_everything_then_they_are_still_there(
    services, notifications, make_user, quiet_stream
):
    alice, bob = make_user(), make_user()
    mention = services.tweets.post(bob, f"hi @{_handle(services, alice)}")
    notifications.for_tweet(mention)
    services.social.follow(bob, alice)

    services.redis.flushdb()  # Redis holds only what can be rebuilt: notifications are not among it

    page = notifications.page(alice, cursor=None, limit=10)
    assert [(n.kind, n.actor_id) for n in page.items] == [("follow", bob), ("mention", bob)]
