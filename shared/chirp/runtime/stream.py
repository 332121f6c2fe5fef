"""The new-tweets stream, as its consumers read it: one record = one Tweet as JSON. A tweet published
again with deleted=true announces its deletion (the indexer acts on it; the others ignore it).

A record that can never be parsed is logged and counted, not failed: failing it would only have it
retried until it expires, holding its shard. Any other failure is raised for that record alone, so
the batch processor reports it as a partial failure and the rest of the batch goes through.
"""

from __future__ import annotations

from collections.abc import Callable

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from chirp.observability import logger, metrics, tracer
from chirp.tweets.model import Tweet


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


def tweet_stream_handler(apply: Callable[[Tweet], object]) -> Callable[[dict, LambdaContext], dict]:
    """The Lambda entry point of a per-tweet stream consumer: partial batch responses, and the one
    Logger/Tracer/Metrics set of the service."""
    processor = BatchProcessor(event_type=EventType.KinesisDataStreams, raise_on_entire_batch_failure=False)
    record_handler = tweet_record_handler(tracer.capture_method(apply))

    @logger.inject_lambda_context
    @tracer.capture_lambda_handler
    @metrics.log_metrics
    def lambda_handler(event: dict, context: LambdaContext) -> dict:
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )

    return lambda_handler
