"""The local cloud as the benchmarks use it: its variables (`.local/cloud.env`, read by localstack/cloud_env.py),
the domain's settings and services against it, and Redis clients on the benchmarks' own database."""

from __future__ import annotations

import copy
import os
import uuid

import paths  # noqa: F401 - puts the repository root and shared/ on sys.path
import redis

from localstack.cloud_env import read_cloud_env

BENCH_DB = 14  # synthetic Redis data goes to this database, never to the app's database 0


def cloud_env() -> dict[str, str]:
    """The variables `make dev` wrote to .local/cloud.env; exits naming `make dev` when there are none."""
    try:
        return read_cloud_env()
    except FileNotFoundError as error:
        raise SystemExit(str(error)) from None


def cloud_values(env: dict[str, str] | None = None) -> dict[str, str]:
    """The Lambda-style environment of the domain against the local cloud: the AWS endpoint and credentials,
    and every Settings variable (table, stream and queue names, Redis, OpenSearch, the stage's tuning), all of
    which `make dev` publishes to cloud.env."""
    from chirp.settings import Settings

    env = env or cloud_env()
    known = {field.alias for field in Settings.model_fields.values()}
    values = {k: v for k, v in env.items() if k.startswith("AWS_") or k in known}
    values["POWERTOOLS_TRACE_DISABLED"] = "true"
    return values


def cloud_settings():
    """Settings for the running local cloud, those its deployed functions run with (the stage's fan-out tier
    thresholds included); also exported to os.environ (boto3 reads the endpoint and credentials there)."""
    from chirp import composition
    from chirp.settings import Settings, get_settings

    values = cloud_values()
    os.environ.update(values)
    get_settings.cache_clear()
    composition.services.cache_clear()
    return Settings.from_env(values)


def bench_redis(settings, db: int = BENCH_DB) -> redis.Redis:
    """A client like the app's (chirp.adapters.redis.client.redis_client) on the benchmarks' own database."""
    return redis.Redis(
        host=settings.redis_host,
        port=settings.redis_port,
        db=db,
        socket_timeout=10,
        socket_connect_timeout=2,
        decode_responses=True,
    )


def bench_timelines(settings, client: redis.Redis):
    """The app's Timelines (chirp.composition: real DynamoDB tables and collaborators), with its timeline cache
    moved to `client`'s database."""
    from chirp.adapters.redis.timeline_cache import RedisTimelineCache
    from chirp.composition import build_services
    from chirp.timelines.rules import MAX_ITEMS

    timelines = copy.copy(build_services(settings).timelines)
    timelines.cache = RedisTimelineCache(client, max_items=MAX_ITEMS, ttl_s=settings.inactive_after_s)
    return timelines


def bench_engagements(settings, client: redis.Redis):
    """The app's Engagements (real DynamoDB tables and collaborators), with its count cache moved to `client`'s
    database."""
    from chirp.adapters.redis.count_cache import RedisCountCache
    from chirp.composition import build_services

    engagements = copy.copy(build_services(settings).engagement)
    engagements.cache = RedisCountCache(client)
    return engagements


def redis_version(client: redis.Redis) -> str:
    return client.info("server")["redis_version"]


def run_tag() -> str:
    """A short random tag naming everything one benchmark run creates (so it can delete exactly that)."""
    return uuid.uuid4().hex[:8]


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
