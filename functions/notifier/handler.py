"""Kinesis consumer: raises mention and reply notifications (idempotent: deterministic members)."""

from chirp.composition import services
from chirp.observability import metrics
from chirp.runtime.stream import tweet_stream_handler
from chirp.tweets.model import Tweet


def notify(tweet: Tweet) -> None:
    raised = services().notifications.for_tweet(tweet)
    metrics.add_metric(name="NotificationsRaised", unit="Count", value=raised)


lambda_handler = tweet_stream_handler("notifier", notify, poison=lambda: services().poison)
