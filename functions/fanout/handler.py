"""Kinesis consumer: delivers each new tweet into home timelines (hybrid push/pull).

At-least-once safe: delivery is idempotent (same id, same score); see chirp.adapters.stream for how
poison records and failures are handled.
"""

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.typing import LambdaContext

from chirp.adapters.stream import tweet_record_handler
from chirp.models import Tweet
from chirp.observability import logger, metrics, tracer
from chirp.service import services

processor = BatchProcessor(event_type=EventType.KinesisDataStreams, raise_on_entire_batch_failure=False)


def deliver(tweet: Tweet) -> None:
    tier = services().feeds.fan_out(tweet)
    metrics.add_metric(name=f"FanOut{tier.value.title()}", unit="Count", value=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(
        event=event, record_handler=tweet_record_handler(deliver), processor=processor, context=context
    )
