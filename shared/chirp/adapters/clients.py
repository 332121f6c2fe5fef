"""One client per backing service and process, configured from Settings (cached: Lambda reuses them warm)."""

from __future__ import annotations

from functools import cache, lru_cache

import boto3
import redis
from botocore.config import Config
from opensearchpy import OpenSearch, RequestsHttpConnection

from chirp.search import TWEETS_INDEX, TweetIndex
from chirp.settings import Settings

# Fail fast: a Lambda stuck on a dead dependency costs its whole timeout.
_BOTO_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3})
# S3 presigned URLs must be SigV4: botocore otherwise signs us-east-1 URLs with SigV2, which does not bind
# the Content-Type (and other services reject "s3v4", so S3 alone gets it).
_S3_CONFIG = _BOTO_CONFIG.merge(Config(signature_version="s3v4"))


@cache
def aws_client(service: str, settings: Settings):
    config = _S3_CONFIG if service == "s3" else _BOTO_CONFIG
    return boto3.client(service, region_name=settings.region, config=config)


@lru_cache(maxsize=4)
def redis_client(settings: Settings) -> redis.Redis:
    password = None
    if settings.redis_auth_secret_arn:
        secrets = aws_client("secretsmanager", settings)
        password = secrets.get_secret_value(SecretId=settings.redis_auth_secret_arn)["SecretString"]
    return redis.Redis(
        host=settings.redis_host,
        port=settings.redis_port,
        password=password,
        ssl=settings.redis_tls,
        socket_timeout=2,
        socket_connect_timeout=2,
        health_check_interval=30,
        decode_responses=True,
    )


@lru_cache(maxsize=4)
def opensearch_client(settings: Settings) -> OpenSearch:
    use_tls = settings.opensearch_scheme == "https"
    auth = None
    if settings.opensearch_sigv4:
        from opensearchpy import AWSV4SignerAuth

        auth = AWSV4SignerAuth(boto3.Session().get_credentials(), settings.region, "es")
    return OpenSearch(
        hosts=[settings.opensearch_url],  # the scheme picks TLS and the default port
        http_auth=auth,
        verify_certs=use_tls,
        connection_class=RequestsHttpConnection,
        timeout=5,
    )


def tweet_index(settings: Settings) -> TweetIndex:
    """The tweets index as every function uses it; replicas only matter when it is created (0 on one node)."""
    return TweetIndex(opensearch_client(settings), TWEETS_INDEX, replicas=settings.tweets_index_replicas)
