"""Kinesis consumer: delivers each new tweet into home timelines (hybrid push/pull).

At-least-once safe: delivery is idempotent (same id, same score); see chirp.runtime.stream for how
poison records and failures are handled.
"""

from chirp.composition import services
from chirp.observability import metrics
from chirp.runtime.stream import tweet_stream_handler
from chirp.tweets.model import Tweet


def deliver(tweet: Tweet) -> None:
    tier = services().timelines.fan_out(tweet)
    metrics.add_metric(name=f"FanOut{tier.value.title()}", unit="Count", value=1)


def undeliver(tweet: Tweet) -> None:
    """A deletion: gone from the author's timeline and the celebrity pull set (the API did it too, unless Redis
    failed then); other timelines filter it at read."""
    services().timelines.on_delete(tweet)


lambda_handler = tweet_stream_handler("fanout", deliver, poison=lambda: services().poison, on_deleted=undeliver)
