"""Counting what a benchmark sends: Redis requests (redis-py's wire format parsed back into commands, and
replayed), the commands redis-server ran (MONITOR), and AWS API calls by operation.

The counters patch redis-py's Connection.send_packed_command and botocore's BaseClient._make_api_call for the
duration of a `with` block, in this process only."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

import redis
from redis.connection import Connection


@contextmanager
def server_commands(client: redis.Redis) -> Iterator[dict[str, int]]:
    """Exactly how many commands redis-server ran on client's database inside the block, those a Lua script
    runs included: read from MONITOR, keeping that database's lines only (so use a database nothing else
    uses, such as cloud.BENCH_DB). MONITOR slows the server down while it runs: count inside it, never time."""
    db = client.connection_pool.connection_kwargs.get("db", 0)
    marker = uuid.uuid4().hex
    result: dict[str, int] = {}
    with client.monitor() as monitor:

        def lines() -> Iterator[str]:
            while True:
                line = monitor.connection.read_response()
                yield line.decode() if isinstance(line, bytes) else line

        client.echo(f"bench-start-{marker}")
        for line in lines():
            if f"bench-start-{marker}" in line:
                break
        yield result
        client.echo(f"bench-end-{marker}")
        count, database = 0, f"[{db}"
        for line in lines():
            if f"bench-end-{marker}" in line:
                break
            count += line.split(" ", 2)[1] == database
        result["commands"] = count


@contextmanager
def redis_round_trips(client: redis.Redis | None = None) -> Iterator[dict[str, int]]:
    """Counts what this process sends to Redis inside the block.

    round_trips: requests written (redis-py's Connection.send_packed_command; a pipeline or a script call is
    one). commands (only with `client`): what the server ran on client's database, script-internal commands
    included (server_commands: exact, but slows the server; count, don't time).
    """
    result: dict[str, int] = {}
    with server_commands(client) if client is not None else nullcontext({}) as server, recorded_requests() as sent:
        yield result
    result["round_trips"] = len(sent)
    if client is not None:
        result["commands"] = server["commands"]


@contextmanager
def aws_calls() -> Iterator[Counter]:
    """Counts AWS API calls made inside the block, by "service.Operation" (boto3 and pynamodb both call
    botocore's BaseClient._make_api_call once per API call; retries happen below it)."""
    from botocore.client import BaseClient

    calls: Counter = Counter()
    original = BaseClient._make_api_call

    def counted(self, operation_name, api_params):
        calls[f"{self.meta.service_model.service_name}.{operation_name}"] += 1
        return original(self, operation_name, api_params)

    BaseClient._make_api_call = counted
    try:
        yield calls
    finally:
        BaseClient._make_api_call = original


def dynamodb_total(calls: Counter) -> int:
    return sum(n for name, n in calls.items() if name.startswith("dynamodb."))


def parse_request(packed) -> list[list[bytes]]:
    """The commands of one request as redis-py packed it (RESP arrays of bulk strings)."""
    chunks = [packed] if isinstance(packed, str | bytes | memoryview) else packed
    data = b"".join(c.encode() if isinstance(c, str) else bytes(c) for c in chunks)
    commands, i = [], 0
    while i < len(data):
        end = data.index(b"\r\n", i)
        count, i = int(data[i + 1 : end]), end + 2
        args = []
        for _ in range(count):
            end = data.index(b"\r\n", i)
            length, i = int(data[i + 1 : end]), end + 2
            args.append(data[i : i + length])
            i += length + 2
        commands.append(args)
    return commands


@contextmanager
def recorded_requests() -> Iterator[list[list[list[bytes]]]]:
    """Records every request this process sends to Redis inside the block: a list of requests, each the list
    of its commands (a pipeline's several, a script call's one EVALSHA)."""
    requests: list[list[list[bytes]]] = []
    original = Connection.send_packed_command

    def send(self, command, check_health=True):
        requests.append(parse_request(command))
        return original(self, command, check_health)

    Connection.send_packed_command = send
    try:
        yield requests
    finally:
        Connection.send_packed_command = original


def replay(client: redis.Redis, requests: list[list[list[bytes]]]) -> None:
    """Sends recorded requests again with plain redis-py, grouped as recorded: one command alone, several
    in one pipeline (MULTI ... EXEC as a transaction)."""
    for commands in requests:
        if len(commands) == 1:
            client.execute_command(commands[0][0].decode(), *commands[0][1:])
            continue
        transaction = commands[0][0].upper() == b"MULTI"
        with client.pipeline(transaction=transaction) as pipe:
            for args in commands[1:-1] if transaction else commands:
                pipe.execute_command(args[0].decode(), *args[1:])
            pipe.execute()


def describe_requests(requests: list[list[list[bytes]]]) -> list[str]:
    """Each request's commands, e.g. 'EXISTS ZREVRANGEBYSCORE SINTER', 'ZREVRANGEBYSCORE x50', 'MGET(20 keys)'."""
    described = []
    for commands in requests:
        if len(commands) == 1 and len(commands[0]) > 3:
            described.append(f"{commands[0][0].decode().upper()}({len(commands[0]) - 1} args)")
            continue
        names: list[list] = []  # [name, consecutive count]
        for args in commands:
            name = args[0].decode().upper()
            if names and names[-1][0] == name:
                names[-1][1] += 1
            else:
                names.append([name, 1])
        described.append(" ".join(name if n == 1 else f"{name} x{n}" for name, n in names))
    return described


@contextmanager
def waves() -> Iterator[dict[str, int]]:
    """Counts sequential waves of Redis requests inside the block: each command sent alone and each pipeline run
    is one, whatever the nodes it reaches (redis-py writes a cluster pipeline's share to every node before it reads
    any answer); `requests`: what was written to the nodes (a wave to three nodes is three). On a single Redis
    both are its round trips."""
    from redis.client import Pipeline
    from redis.cluster import ClusterPipeline, RedisCluster

    result = {"waves": 0}
    depth = [0]
    patched = [
        (cls, name, getattr(cls, name))
        for cls, name in (
            (redis.Redis, "execute_command"),
            (RedisCluster, "execute_command"),
            (Pipeline, "execute"),
            (ClusterPipeline, "execute"),
        )
    ]

    def outermost(original):
        def counted(self, *args, **kwargs):
            result["waves"] += depth[0] == 0
            depth[0] += 1
            try:
                return original(self, *args, **kwargs)
            finally:
                depth[0] -= 1

        return counted

    for cls, name, original in patched:
        setattr(cls, name, outermost(original))
    try:
        with recorded_requests() as sent:
            yield result
    finally:
        for cls, name, original in patched:
            setattr(cls, name, original)
    result["requests"] = len(sent)
