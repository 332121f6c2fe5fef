"""Hash slots and slot groups (chirp.adapters.redis.client): what a Redis Cluster lets one multi-key command,
transaction or script cover, and the key layout that keeps a reader's and an author's keys together."""

from __future__ import annotations

import redis

from chirp.adapters.redis.client import by_slot, hash_slot, slot_groups
from chirp.adapters.redis.timeline_cache import (
    celebrity_key,
    celebrity_retweets_key,
    deferred_key,
    following_key,
    hidden_key,
    retweets_key,
    timeline_key,
)
from chirp.social.model import Relation


def test_given_keys_from_the_redis_documentation_then_their_slots_are_redis_slots():
    # What CLUSTER KEYSLOT answers (redis-server 7.0): only the hash tag of a key that has one is hashed; after an
    # empty tag the whole key is, not the next tag
    assert hash_slot("foo") == 12182
    assert hash_slot("{user1000}.following") == hash_slot("{user1000}.followers") == hash_slot("user1000") == 3443
    assert hash_slot("foo{}{bar}") == 8363 != hash_slot("bar")


def test_given_a_reader_then_the_timeline_and_its_companions_share_one_slot():
    reader = "3f1c9a52-0b7e-4d2c-9a41-7a1e2b9c0d11"
    keys = [timeline_key(reader), retweets_key(reader), following_key(reader)]
    keys += [hidden_key(kind, reader) for kind in (Relation.BLOCKS, Relation.MUTES)]
    assert {hash_slot(key) for key in keys} == {hash_slot(reader)}


def test_given_an_author_then_the_pull_sets_share_the_author_slot():
    author = "it-5e0d2a9b71c4"
    keys = [celebrity_key(author), celebrity_retweets_key(author), deferred_key(author)]
    assert {hash_slot(key) for key in keys} == {hash_slot(author)}


def test_given_users_when_grouped_by_slot_then_each_group_is_one_slot_in_first_seen_order():
    users = [f"user-{i}" for i in range(200)]

    groups = by_slot(users, timeline_key)

    assert sorted(u for group in groups for u in group) == sorted(users)  # each user once
    assert all(len({hash_slot(timeline_key(u)) for u in group}) == 1 for group in groups)
    assert len({hash_slot(timeline_key(group[0])) for group in groups}) == len(groups)  # one group per slot
    assert [group[0] for group in groups] == sorted((g[0] for g in groups), key=users.index)
    assert all(group == sorted(group, key=users.index) for group in groups)


def test_given_a_single_redis_when_grouped_then_everything_is_one_group_and_nothing_is_no_group():
    single = redis.Redis()  # not connected: grouping asks the server nothing

    assert slot_groups(single, ["a", "b", "c"], timeline_key) == [["a", "b", "c"]]
    assert slot_groups(single, [], timeline_key) == []
