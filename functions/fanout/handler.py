"""Kinesis consumer: delivers each new tweet into home timelines (hybrid push/pull).

At-least-once safe: delivery is idempotent (same id, same score); see chirp.runtime.stream for how
poison records and failures are handled.

From degradation level 3 fan-out on write is off: each tweet is deferred (its author's timeline at once,
followers pull it). Once it is back on, deferred tweets are pushed: after each stream batch, and every minute
on a schedule (a catch-up must not wait for the next tweet).
"""

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.typing import LambdaContext

from chirp.composition import services
from chirp.observability import logger, metrics, tracer
from chirp.runtime.stream import tweet_stream_handler
from chirp.tweets.model import Tweet

processor = BatchProcessor(event_type=EventType.KinesisDataStreams, raise_on_entire_batch_failure=False)


def deliver(tweet: Tweet) -> None:
    tier = services().timelines.fan_out(tweet)
    metrics.add_metric(name=f"FanOut{tier.value.title() if tier else 'Deferred'}", unit="Count", value=1)
    # The stream delivered it: the tweet leaves the outbox here, off POST /tweets' path (chirp.tweets.service).
    services().tweet_store.mark_published(tweet.tweet_id)


def undeliver(tweet: Tweet) -> None:
    """A deletion: gone from the author's timeline and the celebrity pull set (the API did it too, unless Redis
    failed then); other timelines filter it at read."""
    services().timelines.on_delete(tweet)


def catch_up() -> int:
    pushed = services().timelines.catch_up()
    if pushed:
        logger.info("deferred tweets pushed", extra={"tweets": pushed})
        metrics.add_metric(name="FanOutCaughtUp", unit="Count", value=pushed)
    return pushed


consume = tweet_stream_handler(
    "fanout", deliver, processor=processor, poison=lambda: services().poison, on_deleted=undeliver, after_batch=catch_up
)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def scheduled_catch_up(event: dict, context: LambdaContext) -> dict:
    return {"caught_up": catch_up()}


def lambda_handler(event: dict, context: LambdaContext) -> dict:
    if event.get("source") == "aws.events":  # the schedule
        return scheduled_catch_up(event, context)
    return consume(event, context)
