"""The Redis client of a process, configured from Settings."""

from __future__ import annotations

from functools import lru_cache

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from chirp.settings import Settings


@lru_cache(maxsize=4)
def redis_client(settings: Settings) -> redis.Redis:
    password = None
    if settings.redis_auth_secret_arn:
        from chirp.adapters.aws import aws_client  # botocore only where Redis has a password (AWS)

        secrets = aws_client("secretsmanager", settings)
        password = secrets.get_secret_value(SecretId=settings.redis_auth_secret_arn)["SecretString"]
    return redis.Redis(
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
