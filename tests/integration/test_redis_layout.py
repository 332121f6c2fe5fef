"""The switch to the hash-tagged Redis layout (chirp.cli switch-redis-layout) against the real Redis, single or
cluster: the layout before's keys go, and so do the timelines and marks written while both layouts ran (rebuilt
from DynamoDB on their next read); relations and hydration caches stay."""

from __future__ import annotations

from chirp.adapters.redis.timeline_cache import (
    CELEBRITIES,
    following_key,
    profile_key,
    switch_layout,
    timeline_key,
)
from chirp.social.model import Profile, Relation


def test_given_keys_of_both_layouts_when_switched_then_the_old_and_the_rebuilt_go_and_the_rest_stays(
    services, make_user
):
    cache, client = services.timeline_cache, services.redis
    user, star = make_user(), make_user()
    # Given the layout before's keys (no hash tag) and this layout's
    before = {f"timeline:{user}": "zset", f"rts:{user}": "zset", f"celeb:{star}": "zset", f"deferred:{star}": "zset"}
    before |= {f"following:{user}": "set", f"mutes:{user}": "set", "celebrities": "set"}
    for key, kind in before.items():
        client.zadd(key, {"1": 1}) if kind == "zset" else client.sadd(key, star)
    cache.set_relations(user, {Relation.FOLLOWS: [star]})
    cache.replace(user, [2**61])
    cache.set_celebrity(star, True, [2**61 + 1])
    cache.put_profiles([Profile(user_id=star, handle=star[3:15], display_name=star)])

    deleted = switch_layout(client)

    assert not any(client.exists(key) for key in before)
    assert not client.exists(timeline_key(user))  # rebuilt on its next read
    assert not client.sismember(CELEBRITIES, star)  # restored by that rebuild, or the celebrity's next post
    assert client.sismember(following_key(user), star)  # rewritten by the rebuild anyway: kept
    assert client.exists(profile_key(star))
    assert deleted["timeline:[^{]*"] >= 1
    assert deleted["timeline:{*"] >= 1
    assert services.timelines.home(user, cursor=None, limit=5).items == []  # rebuilt from DynamoDB: nothing posted
    assert client.exists(timeline_key(user))
