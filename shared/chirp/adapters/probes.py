"""Health probes for the backing services the CDK app wired into the environment."""

from __future__ import annotations

from chirp.adapters.aws import aws_client
from chirp.adapters.opensearch.client import opensearch_client
from chirp.adapters.redis.client import redis_client
from chirp.health import Probe
from chirp.settings import Settings


def dependency_probes(settings: Settings) -> dict[str, Probe]:
    dynamodb = aws_client("dynamodb", settings)
    kinesis = aws_client("kinesis", settings)

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
        if not redis_client(settings).ping():
            raise RuntimeError("PING not answered")

    def opensearch() -> None:
        status = opensearch_client(settings).cluster.health()["status"]
        if status == "red":
            raise RuntimeError("cluster status red")

    return {"dynamodb": tables, "kinesis": stream, "redis": redis, "opensearch": opensearch}
