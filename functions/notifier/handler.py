"""Kinesis consumer of new tweets: raises mention and reply notifications (idempotent: deterministic members), and
pushes to connected clients (chirp.realtime) each new tweet and each deletion, to those whose home timeline shows
it and to the public stream, and each notification to its recipient (best effort: chirp.runtime.push)."""

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType

from chirp.composition import services
from chirp.observability import metrics
from chirp.runtime.push import push_best_effort
from chirp.runtime.stream import tweet_stream_handler
from chirp.tweets.model import Tweet

processor = BatchProcessor(event_type=EventType.KinesisDataStreams, raise_on_entire_batch_failure=False)


def on_tweet(tweet: Tweet) -> None:
    raised = services().notifications.raise_for_tweet(tweet)
    metrics.add_metric(name="NotificationsRaised", unit="Count", value=len(raised))
    push_best_effort("update", lambda: services().realtime.tweet_posted(tweet), tweet_id=tweet.tweet_id)
    if raised:
        push_best_effort("notification", lambda: services().realtime.notified(raised), tweet_id=tweet.tweet_id)


def on_deleted(tweet: Tweet) -> None:
    push_best_effort("delete", lambda: services().realtime.tweet_deleted(tweet), tweet_id=tweet.tweet_id)


lambda_handler = tweet_stream_handler(
    "notifier", on_tweet, processor=processor, poison=lambda: services().poison, on_deleted=on_deleted
)
