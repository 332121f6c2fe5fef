"""Kinesis consumer: counts each tweet's hashtags for trends (idempotent: accounts are HyperLogLog members)."""

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.typing import LambdaContext

from chirp.adapters.stream import tweet_record_handler
from chirp.models import Tweet
from chirp.observability import logger, metrics, tracer
from chirp.service import services

processor = BatchProcessor(event_type=EventType.KinesisDataStreams, raise_on_entire_batch_failure=False)


def count(tweet: Tweet) -> None:
    services().trends.record([tweet])


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(
        event=event, record_handler=tweet_record_handler(count), processor=processor, context=context
    )
