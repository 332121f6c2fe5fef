"""Kinesis consumer: delivers each new tweet into home timelines (hybrid push/pull).

At-least-once safe: delivery is idempotent (same id, same score). A record that can never be parsed
is logged and counted, not retried for ever; any other failure is reported for that record alone.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from chirp.models import Tweet
from chirp.observability import logger, metrics, tracer
from chirp.service import services

processor = BatchProcessor(event_type=EventType.KinesisDataStreams, raise_on_entire_batch_failure=False)


@tracer.capture_method
def deliver(record: KinesisStreamRecord) -> None:
    try:
        tweet = Tweet.model_validate_json(record.kinesis.data_as_bytes())
    except (ValidationError, ValueError) as error:
        logger.error("poison record skipped", extra={"sequence": record.kinesis.sequence_number, "error": str(error)})
        metrics.add_metric(name="PoisonRecords", unit="Count", value=1)
        return
    tier = services().feeds.fan_out(tweet)
    metrics.add_metric(name=f"FanOut{tier.value.title()}", unit="Count", value=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(event=event, record_handler=deliver, processor=processor, context=context)
