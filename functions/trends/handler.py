"""Kinesis consumer: counts each tweet's hashtags for trends (idempotent: accounts are HyperLogLog members).
From degradation level 1 on it counts nothing (trends are non-essential work)."""

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType

from chirp.composition import services
from chirp.observability import metrics
from chirp.runtime.stream import tweet_stream_handler
from chirp.tweets.model import Tweet

processor = BatchProcessor(event_type=EventType.KinesisDataStreams, raise_on_entire_batch_failure=False)


def count(tweet: Tweet) -> None:
    if not services().trends.record([tweet]):
        metrics.add_metric(name="TrendsNotRecorded", unit="Count", value=1)


lambda_handler = tweet_stream_handler("trends", count, processor=processor, poison=lambda: services().poison)
