"""Posting with and without an Idempotency-Key against the deployed idempotency table (Powertools' persistence in
the local cloud's DynamoDB): whether the tweet was written by this request, which decides whether its counts
must be read (an earlier request's tweet may have been liked since)."""

from __future__ import annotations

import uuid

from chirp.runtime import idempotent_post
from tests.conftest import FakeLambdaContext

CONTEXT = FakeLambdaContext(function_name="api")


def test_given_no_key_when_posting_then_each_post_is_written_by_its_request(services, make_user):
    author = make_user()
    draft = idempotent_post.Draft(text="no key")

    first, second = (idempotent_post.post(author, draft, None, CONTEXT) for _ in range(2))

    assert (first.just_written, second.just_written) == (True, True)
    assert first.tweet.tweet_id != second.tweet.tweet_id


def test_given_a_key_when_the_post_is_retried_then_the_retry_returns_the_first_tweet_not_written_by_it(
    services, make_user
):
    author, key = make_user(), uuid.uuid4().hex
    draft = idempotent_post.Draft(text="exactly once")

    first = idempotent_post.post(author, draft, key, CONTEXT)
    retry = idempotent_post.post(author, draft, key, CONTEXT)

    assert (first.just_written, retry.just_written) == (True, False)
    assert retry.tweet == first.tweet
    assert idempotent_post.post(author, draft, uuid.uuid4().hex, CONTEXT).just_written  # a new key: a new post
