"""Kinesis consumer of the new-tweets stream: counts each reply and quote on its parent tweet, once (a marker per
child in the same DynamoDB transaction as the count), and uncounts it once it is deleted; then sets the parent's
cached counts to DynamoDB's sums. See chirp.runtime.stream for poison records and partial batch failures."""

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType

from chirp.composition import services
from chirp.observability import metrics
from chirp.runtime.stream import tweet_stream_handler
from chirp.tweets.model import Tweet

processor = BatchProcessor(event_type=EventType.KinesisDataStreams, raise_on_entire_batch_failure=False)


def count(tweet: Tweet) -> None:
    moved = services().engagement.count_posted(tweet)
    if moved:
        metrics.add_metric(name="CountsMoved", unit="Count", value=len(moved))


lambda_handler = tweet_stream_handler(
    "tweet_counter", count, processor=processor, poison=lambda: services().poison, on_deleted=count
)
