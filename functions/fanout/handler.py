"""Kinesis consumer: delivers each new tweet into home timelines (hybrid push/pull).

At-least-once safe: delivery is idempotent (same id, same score); see chirp.adapters.stream for how
poison records and failures are handled.
"""

from chirp.adapters.stream import tweet_stream_handler
from chirp.models import Tweet
from chirp.observability import metrics
from chirp.service import services


def deliver(tweet: Tweet) -> None:
    tier = services().feeds.fan_out(tweet)
    metrics.add_metric(name=f"FanOut{tier.value.title()}", unit="Count", value=1)


lambda_handler = tweet_stream_handler(deliver)
