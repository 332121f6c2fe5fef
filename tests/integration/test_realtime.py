"""Real time's adapters against the local cloud's real Redis, DynamoDB and WebSocket API: the connected index
(users leave with their last connection, expired users are not counted; one caller rebuilds it when lost), the
connections table (its live connections read back for a rebuild), the follow checks in batches, and a post to a
closed connection answering Gone."""

from __future__ import annotations

import uuid

import pytest

from chirp.adapters.apigateway.connections import ApiGatewayConnections, management_client
from chirp.adapters.dynamodb.follow_graph import DynamoFollowGraph
from chirp.adapters.redis.client import is_cluster
from chirp.adapters.redis.connected_index import BUILT, REBUILDING, RedisConnectedIndex
from chirp.realtime.model import Connection, Stream, Wire
from chirp.realtime.ports import Gone
from chirp.social.model import Relation


@pytest.fixture
def index(services):
    clock = {"now": 1_000_000.0}
    # The app's database (a cluster has only that one): keys below are named by fresh ids, and removed.
    assert is_cluster(services.redis) or services.redis.connection_pool.connection_kwargs["db"] == 0
    return RedisConnectedIndex(services.redis, clock_s=lambda: clock["now"]), clock


def _connection(user_id: str, *streams: Stream) -> Connection:
    return Connection(
        connection_id=uuid.uuid4().hex, user_id=user_id, wire=Wire.CHIRP, streams=list(streams) or [Stream.USER]
    )


def test_given_two_connections_of_a_user_when_removed_one_by_one_then_the_user_leaves_with_the_last(index):
    connected, _ = index
    user = f"rt-{uuid.uuid4().hex[:10]}"
    first, second = _connection(user), _connection(user, Stream.USER, Stream.PUBLIC_LOCAL)
    before = connected.connected_users()
    connected.add(first, ttl_s=60)
    connected.add(second, ttl_s=60)

    assert sorted(c.connection_id for c in connected.connections_of([user, "nobody"])[user]) == sorted(
        [first.connection_id, second.connection_id]
    )
    assert connected.connected_users() == before + 1
    assert second.connection_id in {c.connection_id for c in connected.public_connections()}

    connected.remove(second)
    assert connected.connected_users() == before + 1
    assert second.connection_id not in {c.connection_id for c in connected.public_connections()}
    connected.remove(first)
    assert connected.connected_users() == before
    assert connected.connections_of([user]) == {}


def test_given_a_user_whose_connections_expired_then_they_are_neither_counted_nor_paged(index):
    connected, clock = index
    user = f"rt-{uuid.uuid4().hex[:10]}"
    connection = _connection(user)
    connected.add(connection, ttl_s=60)
    assert user in [u for page in connected.connected_user_pages(1000) for u in page]

    clock["now"] += 61
    assert user not in [u for page in connected.connected_user_pages(1000) for u in page]
    connected.remove(connection)


def test_given_connections_following_hashtags_when_looked_up_then_each_hashtags_followers_until_they_leave(index):
    connected, _ = index
    tag, other = f"it{uuid.uuid4().hex[:8]}", f"it{uuid.uuid4().hex[:8]}"
    cat = _connection(f"rt-{uuid.uuid4().hex[:10]}").model_copy(
        update={"streams": [], "hashtags": [(Stream.HASHTAG, tag), (Stream.HASHTAG_LOCAL, tag)]}
    )
    dan = _connection(f"rt-{uuid.uuid4().hex[:10]}").model_copy(update={"hashtags": [(Stream.HASHTAG, other)]})
    connected.add(cat, ttl_s=60)
    connected.add(dan, ttl_s=60)

    found = connected.hashtag_connections([tag, other, "nobodysfollowingthis"])
    assert {t: [c.connection_id for c in cs] for t, cs in found.items()} == {
        tag: [cat.connection_id],
        other: [dan.connection_id],
    }
    assert found[tag][0].hashtags == cat.hashtags  # the subscriptions read back as written

    connected.remove(cat)
    connected.remove(dan)
    assert connected.hashtag_connections([tag, other]) == {}


def test_given_users_leaving_during_a_walk_when_paged_then_every_user_still_connected_is_walked_once(index):
    connected, _ = index
    users = [f"rt-{uuid.uuid4().hex[:10]}" for _ in range(300)]
    connections = [_connection(user) for user in users]
    for connection in connections:
        connected.add(connection, ttl_s=60)

    walk = connected.connected_user_pages(100)
    first = next(walk)
    leaving = [user for user in first if user in set(users)][:50]
    for connection in connections:  # when the first page's users leave, the set's head moves under the walk
        if connection.user_id in leaving:
            connected.remove(connection)
    walked = first + [user for page in walk for user in page]

    assert set(users) - set(leaving) <= set(walked)
    assert len(walked) == len(set(walked))
    for connection in connections:
        connected.remove(connection)


def test_given_a_user_who_connects_again_while_their_last_connection_is_removed_then_they_stay_connected(
    index, monkeypatch
):
    connected, _ = index
    user = f"rt-{uuid.uuid4().hex[:10]}"
    first, second = _connection(user), _connection(user)
    connected.add(first, ttl_s=60)
    zrem = connected.redis.zrem

    def racing(*args):  # the second connection arrives after the first left the hash, before the user leaves
        connected.add(second, ttl_s=60)
        return zrem(*args)

    monkeypatch.setattr(connected.redis, "zrem", racing)
    connected.remove(first)
    monkeypatch.undo()

    assert user in [u for page in connected.connected_user_pages(1000) for u in page]
    assert [c.connection_id for c in connected.connections_of([user])[user]] == [second.connection_id]
    connected.remove(second)
    assert user not in [u for page in connected.connected_user_pages(1000) for u in page]


def test_given_a_stored_connection_then_it_reads_back_and_deletes(services):
    store = services.connection_store
    connection = _connection("rt-user", Stream.PUBLIC_LOCAL)
    store.put(connection, expires_at_s=2_000_000_000)
    assert store.get(connection.connection_id) == connection
    store.delete(connection.connection_id)
    assert store.get(connection.connection_id) is None


def test_given_a_mastodon_connection_when_stored_then_its_scopes_base_url_and_hashtags_read_back(services):
    store = services.connection_store
    connection = Connection(
        connection_id=uuid.uuid4().hex,
        user_id="rt-user",
        wire=Wire.MASTODON,
        streams=[],  # a Mastodon client may connect before it subscribes
        scopes=["read", "write"],
        base_url="https://social.example.com",
        hashtags=[(Stream.HASHTAG, "cats"), (Stream.HASHTAG_LOCAL, "ねこ")],
    )
    store.put(connection, expires_at_s=2_000_000_000)
    assert store.get(connection.connection_id) == connection
    assert [(c, e) for c, e in store.live(1_999_999_999) if c.connection_id == connection.connection_id] == [
        (connection, 2_000_000_000)
    ]
    store.delete(connection.connection_id)


def test_given_the_index_marker_gone_when_pushers_ask_then_exactly_one_rebuilds_and_then_it_is_whole(services, index):
    connected, _ = index
    user = f"rt-{uuid.uuid4().hex[:10]}"
    services.redis.delete(BUILT)  # as a flush leaves it (the deployed pushers rebuild too: harmless)
    services.redis.delete(REBUILDING)

    first, second = connected.needs_rebuild(), connected.needs_rebuild()

    assert (first, second) == (True, False), "the second caller finds the rebuild's lock taken"
    connection = _connection(user)
    connected.rebuilt([(connection, 60)])
    assert connected.connections_of([user]) == {user: [connection]}
    assert connected.needs_rebuild() is False
    assert services.redis.exists(REBUILDING) == 0
    connected.remove(connection)


def test_given_live_and_expired_connections_in_the_table_then_live_reads_only_the_live_ones(services):
    store = services.connection_store
    live, expired = _connection("rt-live"), _connection("rt-expired")
    store.put(live, expires_at_s=2_000_000_000)
    store.put(expired, expires_at_s=1_000)  # DynamoDB's TTL deletes it some time later

    found = dict((c.connection_id, expires) for c, expires in store.live(now_s=1_700_000_000))

    assert found.get(live.connection_id) == 2_000_000_000
    assert expired.connection_id not in found
    store.delete(live.connection_id)
    store.delete(expired.connection_id)


def test_given_followers_and_mutes_then_batch_checks_find_exactly_them(services, make_user):
    author, fan, muter, stranger = (make_user() for _ in range(4))
    for user in (fan, muter):
        services.social_store.add_edge(Relation.FOLLOWS, user, author, counted=True)
    services.social_store.add_edge(Relation.MUTES, muter, author, counted=False)
    graph = DynamoFollowGraph(services.social_store)

    assert graph.followers_count(author) == 2
    assert graph.followers_among(author, [fan, muter, stranger]) == {fan, muter}
    assert graph.hiding_among(author, [fan, muter, stranger]) == {muter}


def test_given_a_connection_that_does_not_exist_when_posted_to_then_gone(cloud_settings):
    gateway = ApiGatewayConnections(management_client(cloud_settings, 1))
    with pytest.raises(Gone):
        gateway.post("no-such-connection", b"{}")
