"""Publishes stored tweets to the new-tweets Kinesis stream (partition key = author: per-author order)."""

from __future__ import annotations

from chirp.tweets.model import Tweet


class KinesisPublisher:
    def __init__(self, client, stream_name: str):
        self.client, self.stream_name = client, stream_name

    def publish(self, tweet: Tweet) -> None:
        self.client.put_record(
            StreamName=self.stream_name, Data=tweet.model_dump_json().encode(), PartitionKey=tweet.author_id
        )
