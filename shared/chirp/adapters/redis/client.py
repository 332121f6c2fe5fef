"""The Redis client of a process, configured from Settings: one redis-server, or a Redis Cluster (`REDIS_CLUSTER`),
and what the adapters need to be correct on both: Lua scripts sent in one round trip wherever they run, and keys
grouped by hash slot (a cluster runs a multi-key command or script only over keys of one slot)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache

import redis
from redis.backoff import ExponentialBackoff
from redis.cluster import RedisCluster
from redis.crc import key_slot
from redis.exceptions import NoScriptError
from redis.retry import Retry

from chirp.settings import Settings

AnyRedis = redis.Redis | RedisCluster
# What a failing call raises, single or cluster: RedisCluster raises exceptions of its own, outside RedisError, when
# no node is reachable or slots are uncovered.
REDIS_FAILURES = (redis.RedisError, redis.exceptions.RedisClusterException)


@lru_cache(maxsize=4)
def redis_client(settings: Settings) -> AnyRedis:
    password = None
    if settings.redis_auth_secret_arn:
        from chirp.adapters.aws import aws_client  # botocore only where Redis has a password (AWS)

        secrets = aws_client("secretsmanager", settings)
        password = secrets.get_secret_value(SecretId=settings.redis_auth_secret_arn)["SecretString"]
    options = dict(
        # Two quick retries, not redis-py's default backoff of seconds: a request waiting on a dead Redis would
        # rather answer 503 now.
        retry=Retry(ExponentialBackoff(cap=0.1, base=0.02), retries=2),
        host=settings.redis_host,
        port=settings.redis_port,
        password=password,
        ssl=settings.redis_tls,
        socket_timeout=2,
        socket_connect_timeout=1,
        health_check_interval=30,
        decode_responses=True,
    )
    return RedisCluster(**options) if settings.redis_cluster else redis.Redis(**options)


def is_cluster(client: AnyRedis) -> bool:
    return isinstance(client, RedisCluster)


def reset_connections(client: AnyRedis) -> None:
    """Drops every pooled connection (a restored snapshot's are long closed by the server)."""
    if is_cluster(client):
        for node in client.get_nodes():
            if node.redis_connection is not None:
                node.redis_connection.connection_pool.reset()
    else:
        client.connection_pool.reset()


def hash_slot(key: str) -> int:
    """The key's Redis Cluster slot: of the part between the first `{` and the next `}` when there is one."""
    return key_slot(key.encode())


def by_slot[Item](items: Iterable[Item], key_of: Callable[[Item], str]) -> list[list[Item]]:
    """Items grouped by their key's hash slot, in the order each slot first appears, each group in the items'
    order."""
    groups: dict[int, list[Item]] = {}
    for item in items:
        groups.setdefault(hash_slot(key_of(item)), []).append(item)
    return list(groups.values())


def slot_groups[Item](client: AnyRedis, items: Sequence[Item], key_of: Callable[[Item], str]) -> list[list[Item]]:
    """What one multi-key command or script call may cover: everything on a single Redis, one slot on a cluster."""
    if not items:
        return []
    return by_slot(items, key_of) if is_cluster(client) else [list(items)]


def node_groups[Item](client: AnyRedis, items: Sequence[Item], key_of: Callable[[Item], str]) -> list[list[Item]]:
    """What one call of a script flagged `allow-cross-slot-keys` may cover: everything on a single Redis, the keys
    one node serves on a cluster (as its slot map says now)."""
    if not items or not is_cluster(client):
        return [list(items)] if items else []
    groups: dict[str, list[Item]] = {}
    for item in items:
        groups.setdefault(client.get_node_from_key(key_of(item)).name, []).append(item)
    return list(groups.values())


class LuaScript:
    """A Lua script sent as EVALSHA, and as EVAL where the node answers NOSCRIPT (which also loads it there): one
    round trip when the node has it, on a single Redis or any node of a cluster. redis-py's Script sends SCRIPT
    EXISTS before every pipelined call, and a cluster pipeline refuses its EVALSHA."""

    def __init__(self, source: str):
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()

    def __call__(self, client: AnyRedis, keys: Sequence[str], args: Sequence = ()):
        try:
            return client.execute_command("EVALSHA", self.sha, len(keys), *keys, *args)
        except NoScriptError:
            return client.execute_command("EVAL", self.source, len(keys), *keys, *args)


class Batch:
    """Commands sent together, `pipe` (redis-py's pipeline) and scripts (`run`): one round trip on a single Redis,
    one wave on a cluster (redis-py writes each node's share before it reads any answer). A script call a node
    answers NOSCRIPT is sent again as EVAL, once per node and script."""

    def __init__(self, client: AnyRedis, *, transaction: bool = False):
        self.client, self.pipe = client, client.pipeline(transaction=transaction)
        self._scripts: dict[int, tuple[LuaScript, Sequence[str], Sequence]] = {}

    def run(self, script: LuaScript, keys: Sequence[str], args: Sequence = ()) -> None:
        self._scripts[len(self.pipe)] = (script, keys, args)
        self._queue(self.pipe, "EVALSHA", script.sha, keys, args)

    def _queue(self, pipe, command: str, body: str, keys: Sequence[str], args: Sequence) -> None:
        # A cluster pipeline asks a node for a script's keys (COMMAND GETKEYS, a round trip per call) unless told
        # where the call goes: the node serving its keys' slot.
        options = {"target_nodes": self.client.get_node_from_key(keys[0])} if keys and is_cluster(self.client) else {}
        pipe.execute_command(command, body, len(keys), *keys, *args, **options)

    def execute(self) -> list:
        results = self.pipe.execute(raise_on_error=False)
        self._scripts, scripts = {}, self._scripts
        missing = [i for i in scripts if isinstance(results[i], NoScriptError)]
        if missing:
            with self.client.pipeline(transaction=False) as again:
                for i in missing:
                    script, keys, args = scripts[i]
                    self._queue(again, "EVAL", script.source, keys, args)
                for i, result in zip(missing, again.execute(raise_on_error=False), strict=True):
                    results[i] = result
        for result in results:
            if isinstance(result, Exception):
                raise result
        return results

    def __enter__(self) -> Batch:
        return self

    def __exit__(self, *_) -> None:
        self.pipe.reset()
