"""Publishes stored tweets to the new-tweets Kinesis stream (partition key = author: per-author order), and
engagement events to the engagements stream."""

from __future__ import annotations

from chirp.engagement.model import EngagementEvent
from chirp.tweets.model import Tweet


class KinesisPublisher:
    def __init__(self, client, stream_name: str):
        self.client, self.stream_name = client, stream_name

    def publish(self, tweet: Tweet) -> None:
        self.client.put_record(
            StreamName=self.stream_name, Data=tweet.model_dump_json().encode(), PartitionKey=tweet.author_id
        )


class KinesisEventPublisher:
    """Publishes engagement events to the engagements stream (partition key = the user who acted: one user's acts
    stay in order, and a viral tweet's likes spread over every shard)."""

    def __init__(self, client, stream_name: str):
        self.client, self.stream_name = client, stream_name

    def publish(self, event: EngagementEvent) -> None:
        self.client.put_record(
            StreamName=self.stream_name, Data=event.model_dump_json().encode(), PartitionKey=event.user_id
        )
