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
    """The Lambda-style environment of the domain against the local cloud, as tests/integration/conftest.py
    builds it: AWS endpoint and credentials, table, stream and queue names, Redis, OpenSearch.

    The fan-out tier thresholds keep their defaults: no benchmark here goes through FeedManager.fan_out's
    choice of tier in-process (delivery_latency.py goes through the deployed functions, with theirs)."""
    env = env or cloud_env()
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
