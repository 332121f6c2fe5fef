"""Kinesis consumer: counts each tweet's hashtags for trends (idempotent: accounts are HyperLogLog members)."""

from chirp.composition import services
from chirp.runtime.stream import tweet_stream_handler
from chirp.tweets.model import Tweet


def count(tweet: Tweet) -> None:
    services().trends.record([tweet])


lambda_handler = tweet_stream_handler("trends", count, poison=lambda: services().poison)
