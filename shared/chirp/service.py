"""The composition root: builds the services once per process from Settings."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from chirp.adapters.clients import aws_client, redis_client
from chirp.adapters.page_queue import SqsPageQueue
from chirp.adapters.publisher import KinesisPublisher
from chirp.dal.social_store import SocialStore
from chirp.dal.tables import bind_tables
from chirp.dal.timeline_cache import TimelineCache
from chirp.dal.tweet_store import TweetStore
from chirp.graph import GraphService
from chirp.ids import LeasedSnowflake, WorkerLease
from chirp.notifications import Notifications
from chirp.settings import Settings, get_settings
from chirp.timeline import MAX_ITEMS, FeedManager, Thresholds
from chirp.trends import Trends
from chirp.tweets import TweetService


@dataclass(frozen=True)
class Services:
    feeds: FeedManager
    tweets: TweetService
    graph: GraphService
    trends: Trends
    notifications: Notifications


def build_services(settings: Settings) -> Services:
    bind_tables(settings)
    redis = redis_client(settings)
    cache_ = TimelineCache(redis, max_items=MAX_ITEMS, ttl_s=settings.inactive_after_s)
    store, social = TweetStore(), SocialStore()
    thresholds = Thresholds(settings.popular_threshold, settings.celebrity_threshold)
    pages = SqsPageQueue(aws_client("sqs", settings), settings.fanout_queue_url)
    feeds = FeedManager(cache_, store, social, thresholds, pages)
    publisher = KinesisPublisher(aws_client("kinesis", settings), settings.new_tweets_stream)
    tweets = TweetService(store, social, feeds, publisher, LeasedSnowflake(WorkerLease(redis)))
    notifications = Notifications(redis, social, store)
    return Services(
        feeds=feeds,
        tweets=tweets,
        graph=GraphService(social, feeds, notifications),
        trends=Trends(redis),
        notifications=notifications,
    )


@cache
def services() -> Services:
    return build_services(get_settings())
