"""Scripts on the real Redis, single or cluster (chirp.adapters.redis.client.LuaScript and Batch): sent as
EVALSHA, sent again as EVAL only where a node lacks the script (a restart, a failover, a new node), never preceded
by SCRIPT EXISTS."""

from __future__ import annotations

import pytest

from chirp.adapters.redis import timeline_cache
from chirp.adapters.redis.client import is_cluster, node_groups, reset_connections
from chirp.adapters.redis.timeline_cache import timeline_key
from tests.conftest import load_bench

recorded_requests = load_bench("counting").recorded_requests


def _calls(sent) -> dict[str, int]:
    """Script commands among the requests this process sent (bench/counting.py's record). Counted on the client: the
    servers' command stats would also count the deployed app's functions, which share them and run scripts too."""
    names = [b" ".join(command[:2]).upper() for request in sent for command in request]
    return {
        "evalsha": sum(name.startswith(b"EVALSHA") for name in names),
        "eval": sum(name.startswith(b"EVAL ") for name in names),
        "script|exists": sum(name == b"SCRIPT EXISTS" for name in names),
        "command|getkeys": sum(name == b"COMMAND GETKEYS" for name in names),
    }


def _flush_scripts(client) -> None:
    nodes = [node.redis_connection for node in client.get_primaries()] if is_cluster(client) else [client]
    for node in nodes:
        node.script_flush()


def test_given_nodes_without_the_script_when_a_fanout_runs_then_each_group_is_sent_again_once_as_eval(
    services, make_user
):
    cache, client = services.timeline_cache, services.redis
    readers = [make_user() for _ in range(6)]
    for reader in readers:
        cache.replace(reader, [])  # live, empty
    groups = len(node_groups(client, readers, timeline_key))
    _flush_scripts(client)  # as after a restart or a failover

    with recorded_requests() as sent:
        pushed = cache.push(2**61 + 1, readers)
    first = _calls(sent)
    with recorded_requests() as sent:
        again = cache.push(2**61 + 2, readers)
    second = _calls(sent)

    assert pushed == again == len(readers)
    assert first["evalsha"] == groups  # one call per node (one on a single Redis)
    assert first["eval"] == groups  # each answered NOSCRIPT: sent again with its source
    assert second["evalsha"] == groups
    assert second["eval"] == 0  # loaded now: EVALSHA alone
    assert first["script|exists"] == second["script|exists"] == 0  # never asked first
    # nor are a call's keys asked of a node (a cluster pipeline does, a round trip per call, unless told the node)
    assert first["command|getkeys"] == second["command|getkeys"] == 0
    assert all(client.zcard(timeline_key(reader)) == 3 for reader in readers)  # the sentinel and both entries


def test_given_a_slot_map_gone_stale_when_a_fanout_runs_then_it_goes_again_slot_by_slot_and_reaches_everyone(
    services, make_user, monkeypatch
):
    cache, client = services.timeline_cache, services.redis
    if not is_cluster(client):
        pytest.skip("a single Redis has no slots to move")
    readers = [make_user() for _ in range(12)]
    for reader in readers:
        cache.replace(reader, [])
    # Given groups as a stale slot map would make them: every timeline in one call, whatever node serves it
    monkeypatch.setattr(timeline_cache, "node_groups", lambda _client, users, _key: [list(users)])

    pushed = cache.push(2**61 + 3, readers)

    assert pushed == len(readers)
    assert all(client.zscore(timeline_key(reader), 2**61 + 3) is not None for reader in readers)


def test_given_pooled_connections_dropped_as_after_a_snapshot_restore_then_the_next_calls_reconnect(services):
    client, cache = services.redis, services.timeline_cache
    cache.put_tweets([])  # connections to the nodes pooled
    client.get(timeline_key("anyone"))

    reset_connections(client)  # what Services.after_restore does (SnapStart)

    assert client.ping()
    assert cache.get_tweets([2**61 + 7]) == {}  # every node answers again
