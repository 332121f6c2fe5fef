"""Kinesis consumer: counts each tweet's hashtags for trends (idempotent: accounts are HyperLogLog members)."""

from chirp.adapters.stream import tweet_stream_handler
from chirp.models import Tweet
from chirp.service import services


def count(tweet: Tweet) -> None:
    services().trends.record([tweet])


lambda_handler = tweet_stream_handler(count)
