"""The new-tweets stream, as its consumers read it: one record = one Tweet as JSON. A tweet published
again with deleted=true announces its deletion (the indexer acts on it; the others ignore it).

A record that can never be parsed is logged and counted, not failed: failing it would only have it
retried until it expires, holding its shard. Any other failure is raised for that record alone, so
the batch processor reports it as a partial failure and the rest of the batch goes through.
"""

from __future__ import annotations

from collections.abc import Callable

from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord
from pydantic import ValidationError

from chirp.models import Tweet
from chirp.observability import logger, metrics


def parse_tweet(record: KinesisStreamRecord) -> Tweet | None:
    try:
        return Tweet.model_validate_json(record.kinesis.data_as_bytes())
    except (ValidationError, ValueError) as error:
        logger.error("poison record skipped", extra={"sequence": record.kinesis.sequence_number, "error": str(error)})
        metrics.add_metric(name="PoisonRecords", unit="Count", value=1)
        return None


def tweet_record_handler(apply: Callable[[Tweet], object]) -> Callable[[KinesisStreamRecord], None]:
    """A BatchProcessor record handler that applies `apply` to each new (parsable, not deleted) tweet."""

    def handle(record: KinesisStreamRecord) -> None:
        tweet = parse_tweet(record)
        if tweet is not None and not tweet.deleted:
            apply(tweet)

    return handle
