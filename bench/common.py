"""Helpers shared by the benchmarks: the local cloud's settings and clients, Redis round-trip and
DynamoDB call counters, medians and percentiles, and result files (`bench/results/<name>.json`).

Importing this module puts `shared/` (the `chirp` package) and the repository root on sys.path, so a
benchmark imports it before anything from `chirp`.
"""

from __future__ import annotations

import copy
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
CLOUD_ENV = Path(os.environ.get("CHIRP_LOCAL_DIR", ROOT / ".local")) / "cloud.env"
BENCH_DB = 14  # synthetic Redis data goes to this database, never to the app's database 0
RUNS = 5

for _path in (str(ROOT), str(ROOT / "shared")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import redis  # noqa: E402
from redis.connection import Connection  # noqa: E402

# --- statistics -------------------------------------------------------------------------------------------


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def percentile(values: Iterable[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), p in 0..100."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """(seconds, result) of one call."""
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def samples_per_call(fn: Callable[[], Any], calls: int) -> list[float]:
    """Seconds of each of `calls` successive calls of fn."""
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return samples


def median_per_call(fn: Callable[[], Any], calls: int) -> float:
    """Median seconds of `calls` successive calls of fn."""
    return median(samples_per_call(fn, calls))


def fmt_int(value: float) -> str:
    return f"{value:,.0f}"


def table(headers: list[str], rows: list[list[Any]]) -> str:
    """A plain-text table for the console."""
    cells = [[str(c) for c in row] for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


# --- results ----------------------------------------------------------------------------------------------


def command_for(name: str) -> str:
    return f".venv/bin/python bench/{name}.py"


def headline(figure: str, value: str, compared_with: str) -> dict[str, str]:
    """One row of bench/results/summary.md."""
    return {"figure": figure, "value": value, "compared_with": compared_with}


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}


def write_result(name: str, data: dict[str, Any]) -> Path:
    """Writes bench/results/<name>.json (atomically) with the command and machine, and returns its path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    document = {
        "benchmark": name,
        "command": command_for(name),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        **data,
    }
    path = RESULTS / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(document, indent=2) + "\n")
    tmp.replace(path)
    print(f"\nwrote {path.relative_to(ROOT)}")
    return path


def run_tag() -> str:
    """A short random tag naming everything one benchmark run creates (so it can delete exactly that)."""
    return uuid.uuid4().hex[:8]


# --- the local cloud --------------------------------------------------------------------------------------


def read_cloud_env() -> dict[str, str]:
    """The variables `make dev` wrote to .local/cloud.env."""
    if not CLOUD_ENV.exists():
        raise SystemExit(f"the local cloud is not running ({CLOUD_ENV} missing): run `make dev` first")
    values = {}
    for line in CLOUD_ENV.read_text().splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        if key:
            values[key] = value
    return values


def cloud_values(env: dict[str, str] | None = None) -> dict[str, str]:
    """The Lambda-style environment of the domain against the local cloud, as tests/integration/conftest.py
    builds it: AWS endpoint and credentials, table, stream and queue names, Redis, OpenSearch.

    The fan-out tier thresholds keep their defaults: no benchmark here goes through FeedManager.fan_out's
    choice of tier in-process (delivery_latency.py goes through the deployed functions, with theirs)."""
    env = env or read_cloud_env()
    redis_host, redis_port = env["CHIRP_REDIS_URL"].removeprefix("redis://").split("/")[0].split(":")
    values = {
        **{k: v for k, v in env.items() if k.startswith("AWS_")},
        "TWEETS_TABLE": env["CHIRP_OUTPUT_TweetsTable"],
        "SOCIAL_TABLE": env["CHIRP_OUTPUT_SocialTable"],
        "NEW_TWEETS_STREAM": env["CHIRP_OUTPUT_NewTweetsStream"],
        "REDIS_HOST": redis_host,
        "REDIS_PORT": redis_port,
        "OPENSEARCH_ENDPOINT": env["CHIRP_OPENSEARCH_URL"].removeprefix("http://"),
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    optional = {"FANOUT_QUEUE_URL": "CHIRP_OUTPUT_FanoutQueueUrl"}  # outputs of newer deployments
    values.update({name: env[output] for name, output in optional.items() if output in env})
    return values


def cloud_settings():
    """Settings for the running local cloud; also exported to os.environ (boto3 reads the endpoint there)."""
    from chirp import service as service_module
    from chirp.settings import Settings, get_settings

    values = cloud_values()
    os.environ.update(values)
    get_settings.cache_clear()
    service_module.services.cache_clear()
    return Settings.from_env(values)


def bench_redis(settings, db: int = BENCH_DB) -> redis.Redis:
    """A client like the app's (chirp.adapters.clients.redis_client) on the benchmarks' own database."""
    return redis.Redis(
        host=settings.redis_host,
        port=settings.redis_port,
        db=db,
        socket_timeout=10,
        socket_connect_timeout=2,
        decode_responses=True,
    )


def bench_feeds(settings, client: redis.Redis):
    """The app's FeedManager (build_services: real DynamoDB tables and collaborators), with its timeline cache
    moved to `client`'s database."""
    from chirp.dal.timeline_cache import TimelineCache
    from chirp.service import build_services
    from chirp.timeline import MAX_ITEMS

    feeds = copy.copy(build_services(settings).feeds)
    feeds.cache = TimelineCache(client, max_items=MAX_ITEMS, ttl_s=settings.inactive_after_s)
    return feeds


def redis_version(client: redis.Redis) -> str:
    return client.info("server")["redis_version"]


def delete_matching(client: redis.Redis, pattern: str) -> int:
    """UNLINKs every key of client's database matching pattern; returns how many."""
    deleted, batch = 0, []
    for key in client.scan_iter(match=pattern, count=1000):
        batch.append(key)
        if len(batch) == 1000:
            deleted += client.unlink(*batch)
            batch = []
    if batch:
        deleted += client.unlink(*batch)
    return deleted


def unlink(client: redis.Redis, keys: list[str]) -> int:
    deleted = 0
    for start in range(0, len(keys), 1000):
        deleted += client.unlink(*keys[start : start + 1000])
    return deleted


# --- counters ---------------------------------------------------------------------------------------------


@contextmanager
def server_commands(client: redis.Redis) -> Iterator[dict[str, int]]:
    """Exactly how many commands redis-server ran on client's database inside the block, those a Lua script
    runs included: read from MONITOR, keeping that database's lines only (so use a database nothing else
    uses, such as BENCH_DB). MONITOR slows the server down while it runs: count inside it, never time."""
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


def dynamodb_total(calls: Counter) -> int:
    return sum(n for name, n in calls.items() if name.startswith("dynamodb."))


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)
