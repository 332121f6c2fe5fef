"""The tweet store's conditional writes against the local cloud's DynamoDB: a write its condition refuses is an
answer, and writes nothing."""

from __future__ import annotations

import time

from chirp.tweets.model import Tweet


def stored(services, author: str) -> Tweet:
    tweet = Tweet(tweet_id=services.tweets.ids.next_id(), author_id=author, text="hi", created_at_ms=int(time.time()))
    services.tweet_store.create(tweet)
    return tweet


def test_given_a_tweet_when_deleted_by_its_author_twice_then_only_the_first_deletes(services, make_user):
    store, author = services.tweet_store, make_user()
    tweet = stored(services, author)

    assert store.mark_deleted(tweet.tweet_id, author) is True
    assert store.mark_deleted(tweet.tweet_id, author) is False  # already deleted
    assert store.get(tweet.tweet_id).deleted is True


def test_given_a_tweet_when_someone_else_deletes_it_then_it_is_refused_and_kept(services, make_user):
    store, author = services.tweet_store, make_user()
    tweet = stored(services, author)

    assert store.mark_deleted(tweet.tweet_id, make_user()) is False

    assert store.get(tweet.tweet_id).deleted is False


def test_given_a_published_tweet_when_confirmed_again_or_an_unknown_one_confirmed_then_nothing_is_written(
    services, make_user
):
    store = services.tweet_store
    tweet = stored(services, make_user())
    store.mark_published(tweet.tweet_id)

    store.mark_published(tweet.tweet_id)  # a record seen twice
    unknown = services.tweets.ids.next_id()
    store.mark_published(unknown)

    assert store.get(unknown) is None  # no stub created
    assert store.get(tweet.tweet_id) == tweet
