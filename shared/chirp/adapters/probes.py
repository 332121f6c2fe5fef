"""Health probes for the backing services the CDK app wired into the environment.

Each probe uses the lightest client that is still right on AWS: botocore for DynamoDB and Kinesis, redis-py for
Redis, and for OpenSearch one GET of the cluster's health sent by botocore's HTTP session, SigV4-signed by
botocore where the domain wants it (AWS): opensearch-py, with requests, which it imports whatever its connection
class, would cost health's cold start about 150 ms for that one GET. The clients are imported and built by the
first check, not at init: health is never restored from a snapshot, so its cold start pays them once either way,
and its init stays what answering needs."""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING

from chirp.health import Probe
from chirp.settings import Settings

if TYPE_CHECKING:
    from botocore.httpsession import URLLib3Session

# A dead dependency must not hold the check: the AWS clients' own timeouts are as short (chirp.adapters.aws).
HTTP_TIMEOUT_S = 5


@cache
def _http() -> URLLib3Session:
    from botocore.httpsession import URLLib3Session

    return URLLib3Session(timeout=HTTP_TIMEOUT_S)


def opensearch_cluster_status(settings: Settings) -> str:
    """`GET /_cluster/health`'s status (green, yellow or red)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    from chirp.adapters.aws import session

    request = AWSRequest(method="GET", url=f"{settings.opensearch_url}/_cluster/health")
    if settings.opensearch_sigv4:
        SigV4Auth(session().get_credentials().get_frozen_credentials(), "es", settings.region).add_auth(request)
    response = _http().send(request.prepare())
    if response.status_code != 200:
        raise RuntimeError(f"cluster health answered HTTP {response.status_code}")
    return json.loads(response.content)["status"]


def dependency_probes(settings: Settings) -> dict[str, Probe]:
    """The probes, with their clients built here, in the caller's thread (a botocore session is not thread-safe)."""
    from chirp.adapters.aws import aws_client
    from chirp.adapters.redis.client import redis_client

    dynamodb = aws_client("dynamodb", settings)
    kinesis = aws_client("kinesis", settings)
    cache = redis_client(settings)

    def tables() -> None:
        for table in (settings.tweets_table, settings.social_table):
            status = dynamodb.describe_table(TableName=table)["Table"]["TableStatus"]
            if status != "ACTIVE":
                raise RuntimeError(f"table {table} is {status}")

    def stream() -> None:
        summary = kinesis.describe_stream_summary(StreamName=settings.new_tweets_stream)
        status = summary["StreamDescriptionSummary"]["StreamStatus"]
        if status not in ("ACTIVE", "UPDATING"):
            raise RuntimeError(f"stream {settings.new_tweets_stream} is {status}")

    def redis() -> None:
        if not cache.ping():
            raise RuntimeError("PING not answered")

    def opensearch() -> None:
        if opensearch_cluster_status(settings) == "red":
            raise RuntimeError("cluster status red")

    return {"dynamodb": tables, "kinesis": stream, "redis": redis, "opensearch": opensearch}
