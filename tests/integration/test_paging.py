"""Cursor paging against the local cloud's real DynamoDB: pages chain without gaps, and a cursor this API
never returned is the caller's error (400), whatever DynamoDB makes of it."""

from __future__ import annotations

import base64
import json

import pytest

from chirp.adapters.dynamodb.cursor import encode_cursor
from chirp.errors import InvalidInput


def _follow_all(services, follower: str, followees: list[str]) -> None:
    for followee in followees:
        services.social_store.add_edge("FOLLOWS", follower, followee, counted=True)


def test_given_more_follows_than_a_page_when_paged_then_every_followee_comes_once(services, make_user):
    follower, followees = make_user(), [make_user() for _ in range(5)]
    _follow_all(services, follower, followees)

    seen, cursor = [], None
    while True:
        page = services.social.following(follower, cursor=cursor, limit=2)
        seen += page.user_ids
        if page.next_cursor is None:
            break
        cursor = page.next_cursor

    assert sorted(seen) == sorted(followees)


@pytest.mark.parametrize(
    "start_key",
    [
        {"pk": {"S": "USER#somebody-else"}},  # well formed, but not this table's key
        {"unknown": {"S": "x"}, "sk": {"S": "FOLLOWS#x"}},
        {"pk": {"N": "1"}, "sk": {"S": "FOLLOWS#x"}},  # a number where the key is a string
    ],
)
def test_given_a_well_formed_cursor_of_another_key_when_paging_then_it_is_invalid_input(services, make_user, start_key):
    user = make_user()
    cursor = encode_cursor(start_key)

    for page in (services.social.following, services.social.followers, services.tweets.user_timeline):
        with pytest.raises(InvalidInput, match="cursor"):
            page(user, cursor=cursor, limit=10)


def test_given_a_cursor_of_a_bare_value_when_paging_then_it_is_invalid_input(services, make_user):
    cursor = base64.urlsafe_b64encode(json.dumps({"a": 1}).encode()).decode()
    with pytest.raises(InvalidInput, match="cursor"):
        services.social.following(make_user(), cursor=cursor, limit=10)
