"""Kinesis consumer: raises mention and reply notifications (idempotent: deterministic members)."""

from chirp.adapters.stream import tweet_stream_handler
from chirp.models import Tweet
from chirp.observability import metrics
from chirp.service import services


def notify(tweet: Tweet) -> None:
    raised = services().notifications.for_tweet(tweet)
    metrics.add_metric(name="NotificationsRaised", unit="Count", value=raised)


lambda_handler = tweet_stream_handler(notify)
