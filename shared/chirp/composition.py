"""The composition root: every service of every function, built once per process from Settings.

Each service is built on first use, so a function builds only the clients it needs (the indexer never
connects to DynamoDB, the API never imports Pillow)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, cached_property
from typing import TYPE_CHECKING

from chirp.settings import Settings, get_settings

if TYPE_CHECKING:  # each adapter is imported where it is built: a function imports only what it uses
    from chirp.adapters.dynamodb.engagement_store import DynamoEngagementStore
    from chirp.adapters.dynamodb.social_store import SocialStore
    from chirp.adapters.dynamodb.tweet_store import TweetStore
    from chirp.adapters.redis.count_cache import RedisCountCache
    from chirp.adapters.redis.rate_limits import RedisLimitStore
    from chirp.adapters.redis.timeline_cache import RedisTimelineCache
    from chirp.adapters.sqs.poison_queue import SqsPoisonQueue
    from chirp.adapters.ssm.runtime_config import SsmLevelStore, SsmLimitOverrides
    from chirp.degradation.levels import CurrentLevel, Switches
    from chirp.degradation.service import DegradationController
    from chirp.engagement.rules import Engagements
    from chirp.ids.snowflake import LeasedSnowflake
    from chirp.limits.service import OverrideMirror, RateLimiter
    from chirp.notifications.service import Notifications
    from chirp.runtime.http_guard import Guard
    from chirp.social.service import SocialService
    from chirp.timelines.rules import Timelines
    from chirp.trends.rules import Trends
    from chirp.tweets.service import TweetService


def aws_client(service: str, settings: Settings):
    from chirp.adapters.aws import aws_client as client

    return client(service, settings)


class Services:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._tables_bound = False

    def _bind_tables(self) -> None:
        """Points the table models at this environment's tables (no I/O): every DynamoDB store's first step."""
        if not self._tables_bound:
            from chirp.adapters.dynamodb.tables import bind_tables

            bind_tables(self.settings)
            self._tables_bound = True

    @cached_property
    def redis(self):
        from chirp.adapters.redis.client import redis_client

        return redis_client(self.settings)

    @cached_property
    def tweet_store(self) -> TweetStore:
        from chirp.adapters.dynamodb.tweet_store import TweetStore

        self._bind_tables()
        return TweetStore()

    @cached_property
    def social_store(self) -> SocialStore:
        from chirp.adapters.dynamodb.social_store import SocialStore

        self._bind_tables()
        return SocialStore()

    @cached_property
    def timeline_cache(self) -> RedisTimelineCache:
        from chirp.adapters.redis.timeline_cache import RedisTimelineCache
        from chirp.timelines.rules import MAX_ITEMS

        return RedisTimelineCache(self.redis, max_items=MAX_ITEMS, ttl_s=self.settings.inactive_after_s)

    @cached_property
    def timelines(self) -> Timelines:
        from chirp.adapters.sqs.page_queue import SqsPageQueue
        from chirp.timelines.rules import Thresholds, Timelines

        thresholds = Thresholds(self.settings.popular_threshold, self.settings.celebrity_threshold)
        # Only a popular author's post sends pages: the API's reads and the other consumers never need SQS.
        pages = _OnFirstUse(lambda: SqsPageQueue(aws_client("sqs", self.settings), self.settings.fanout_queue_url))
        return Timelines(self.timeline_cache, self.tweet_store, self.social_store, thresholds, pages, self.switches)

    # --- protection: degradation levels and rate limits ---------------------------------------------------
    @cached_property
    def level_store(self) -> SsmLevelStore:
        from chirp.adapters.ssm.runtime_config import SsmLevelStore

        ssm = aws_client("ssm", self.settings)
        return SsmLevelStore(ssm, self.settings.degradation_manual_parameter, self.settings.degradation_auto_parameter)

    @cached_property
    def level(self) -> CurrentLevel:
        """The effective degradation level, re-read from SSM at most once per cache period."""
        from chirp.degradation.levels import CurrentLevel

        return CurrentLevel(lambda: self.level_store.read().effective, self.settings.runtime_config_ttl_s)

    @cached_property
    def switches(self) -> Switches:
        from chirp.degradation.levels import Switches

        return Switches(self.level)

    @cached_property
    def limit_store(self) -> RedisLimitStore:
        from chirp.adapters.redis.rate_limits import RedisLimitStore

        return RedisLimitStore(self.redis)

    @cached_property
    def limiter(self) -> RateLimiter:
        from chirp.limits.model import parse_limits
        from chirp.limits.service import RateLimiter

        return RateLimiter(self.limit_store, parse_limits(self.settings.rate_limit_tiers))

    @cached_property
    def limit_overrides(self) -> SsmLimitOverrides:
        """Where operators set users' limits (SSM); the mirror copies them into Redis."""
        from chirp.adapters.ssm.runtime_config import SsmLimitOverrides

        return SsmLimitOverrides(aws_client("ssm", self.settings), self.settings.limit_overrides_path)

    @cached_property
    def override_mirror(self) -> OverrideMirror:
        from chirp.limits.service import OverrideMirror

        return OverrideMirror(self.limit_overrides, self.limit_store)

    @cached_property
    def guard(self) -> Guard:
        """What every HTTP function applies to every request (chirp.runtime.http_guard)."""
        from chirp.runtime.http_guard import Guard

        return Guard(limiter=lambda: self.limiter, level=lambda: self.level())

    @cached_property
    def degradation_controller(self) -> DegradationController:
        from chirp.adapters.cloudwatch.signals import CloudWatchSignals
        from chirp.degradation.controller import Tuning
        from chirp.degradation.service import DegradationController

        metrics = CloudWatchSignals(
            aws_client("cloudwatch", self.settings),
            api_name=self.settings.api_name,
            api_stage=self.settings.api_stage,
            fanout_function=self.settings.fanout_function,
        )
        tuning = Tuning.model_validate_json(self.settings.controller_tuning)
        return DegradationController(self.level_store, metrics, tuning)

    @cached_property
    def ids(self) -> LeasedSnowflake:
        """Tweet ids (tweets and retweets) from one leased worker slot per process."""
        from chirp.adapters.dynamodb.worker_lease import DynamoWorkerLease
        from chirp.ids.snowflake import LeasedSnowflake

        self._bind_tables()
        return LeasedSnowflake(DynamoWorkerLease())

    @cached_property
    def tweets(self) -> TweetService:
        from chirp.adapters.kinesis.publisher import KinesisPublisher
        from chirp.tweets.service import TweetService

        # Reading a tweet builds this service too: the stream's client waits for the first publish.
        publisher = _OnFirstUse(
            lambda: KinesisPublisher(aws_client("kinesis", self.settings), self.settings.new_tweets_stream)
        )
        return TweetService(
            self.tweet_store, self.social_store, self.timelines, publisher, self.ids, media=_LazyMedia(self)
        )

    @cached_property
    def engagement_store(self) -> DynamoEngagementStore:
        from chirp.adapters.dynamodb.engagement_store import DynamoEngagementStore

        self._bind_tables()
        return DynamoEngagementStore()

    @cached_property
    def count_cache(self) -> RedisCountCache:
        from chirp.adapters.redis.count_cache import RedisCountCache

        return RedisCountCache(self.redis)

    @cached_property
    def engagement(self) -> Engagements:
        from chirp.adapters.kinesis.publisher import KinesisEventPublisher
        from chirp.engagement.rules import Engagements

        publisher = KinesisEventPublisher(aws_client("kinesis", self.settings), self.settings.engagements_stream)
        return Engagements(
            self.engagement_store,
            self.count_cache,
            publisher,
            self.tweet_store,
            self.social_store,
            self.timelines,
            self.notifications,
            self.ids,
            media=_LazyMedia(self),
        )

    @cached_property
    def notifications(self) -> Notifications:
        from chirp.adapters.dynamodb.notification_store import DynamoNotificationStore
        from chirp.notifications.service import Notifications

        self._bind_tables()
        return Notifications(DynamoNotificationStore(), self.social_store, self.tweet_store)

    @cached_property
    def social(self) -> SocialService:
        from chirp.runtime.push import push_best_effort
        from chirp.social.service import SocialService

        def push_notification(recipient_id: str, notification) -> None:  # a follow's, stored already
            notified = {recipient_id: notification}
            push_best_effort("notification", lambda: self.realtime.notified(notified), user_id=recipient_id)

        return SocialService(self.social_store, self.timelines, on_notified=push_notification)

    @cached_property
    def trends(self) -> Trends:
        from chirp.adapters.redis.tag_counter import RedisTagCounter, RedisTrendState
        from chirp.adapters.ssm.tag_lists import SsmTagLists
        from chirp.trends.rules import Trends

        lists = SsmTagLists(aws_client("ssm", self.settings), self.settings.trend_lists_parameter)
        return Trends(
            RedisTagCounter(self.redis),
            RedisTrendState(self.redis),
            self.social_store,
            lists,
            min_accounts=self.settings.trend_min_accounts,
            ranked_ttl_s=self.settings.trend_ranked_ttl_s,
            new_account_ms=self.settings.trend_new_account_s * 1000,
            switches=self.switches,
        )

    # --- real time: WebSocket connections and pushes -------------------------------------------------------
    @cached_property
    def connection_store(self):
        from chirp.adapters.dynamodb.connection_store import DynamoConnectionStore

        self._bind_tables()
        return DynamoConnectionStore()

    @cached_property
    def realtime(self):
        from chirp.adapters.apigateway.connections import ApiGatewayConnections, management_client
        from chirp.adapters.dynamodb.follow_graph import DynamoFollowGraph
        from chirp.adapters.redis.connected_index import RedisConnectedIndex
        from chirp.mastodon.streaming import MastodonFrames
        from chirp.realtime.model import Wire
        from chirp.realtime.service import Realtime
        from chirp.realtime.wire import ChirpFrames

        def mastodon_views(base_url: str):  # imported when a push first reaches a connection that speaks Mastodon
            from chirp.mastodon.views import Views

            return Views(base_url, None)

        max_in_flight = 16
        return Realtime(
            self.connection_store,
            RedisConnectedIndex(self.redis),
            ApiGatewayConnections(management_client(self.settings, max_in_flight)),
            DynamoFollowGraph(self.social_store),
            {Wire.CHIRP: ChirpFrames(), Wire.MASTODON: MastodonFrames(mastodon_views)},
            max_in_flight=max_in_flight,
        )

    @cached_property
    def id_tokens(self):
        from chirp.adapters.cognito.id_tokens import IdTokens

        settings = self.settings
        return IdTokens(settings.user_pool_keys_url, settings.user_pool_issuer, settings.user_pool_client_id)

    @cached_property
    def poison(self) -> SqsPoisonQueue:
        """Where a consumer sets poison records aside. Every record is parsed with it at hand, and most parse: its
        SQS client is built with the first poison record."""
        from chirp.adapters.sqs.poison_queue import SqsPoisonQueue

        settings = self.settings
        return _OnFirstUse(lambda: SqsPoisonQueue(aws_client("sqs", settings), settings.consumer_failures_queue_url))

    @cached_property
    def search(self):
        from chirp.adapters.opensearch.client import tweet_index  # opensearch-py only where searched
        from chirp.search.service import TweetSearch

        return TweetSearch(tweet_index(self.settings), self.timelines, self.social_store)

    @cached_property
    def tweet_index(self):
        """The index itself, for the indexer and the deploy's schema function."""
        from chirp.adapters.opensearch.client import tweet_index

        return tweet_index(self.settings)

    @cached_property
    def search_repair(self):
        from chirp.adapters.kinesis.stream_reader import KinesisStreamReader
        from chirp.search.repair import SearchRepair

        stream = KinesisStreamReader(aws_client("kinesis", self.settings))
        return SearchRepair(self.tweet_store, self.tweet_index, stream)

    def auditor(self):
        """A new auditor: each keeps what it read for one run."""
        from chirp.timelines.audit import TimelineAuditor

        return TimelineAuditor(
            self.timeline_cache,
            self.tweet_store,
            self.social_store,
            self.timelines.thresholds,
            engagements=self.engagement_store,
            counts=self.count_cache,
        )

    @cached_property
    def media_objects(self):
        from chirp.adapters.s3.media_objects import S3MediaObjects

        return S3MediaObjects(aws_client("s3", self.settings), self.settings.media_bucket)

    @cached_property
    def media(self):
        from chirp.media.service import MediaService

        return MediaService(self.media_objects, self.media_store, delivery_base_url=self.settings.media_base_url)

    @cached_property
    def media_store(self):
        from chirp.adapters.dynamodb.media_store import DynamoMediaStore

        self._bind_tables()
        return DynamoMediaStore()

    @cached_property
    def client_store(self):
        from chirp.adapters.dynamodb.client_store import DynamoClientStore

        self._bind_tables()
        return DynamoClientStore()

    @cached_property
    def markers(self):
        from chirp.adapters.dynamodb.marker_store import DynamoMarkerStore
        from chirp.markers.service import Markers

        self._bind_tables()
        return Markers(DynamoMarkerStore())

    @cached_property
    def oauth(self):
        from chirp.adapters.cognito.passwords import CognitoPasswords
        from chirp.oauth.service import OAuth

        passwords = CognitoPasswords(
            lambda: aws_client("cognito-idp", self.settings), self.settings.user_pool_client_id
        )
        return OAuth(self.client_store, passwords)

    @cached_property
    def transcoder(self):
        from chirp.media.transcoding import Transcoder  # Pillow: only the transcoder imports it

        return Transcoder(self.media_objects, self.media_store)

    @cached_property
    def video_transcoder(self):
        from chirp.media.video_transcoding import VideoTranscoder  # PyAV: only the video transcoder imports it

        return VideoTranscoder(self.media_objects, self.media_store)

    def after_restore(self) -> None:
        """A restored snapshot's environment: a Snowflake slot of its own, and no Redis connection of the
        snapshot's (the server closed them long ago)."""
        if "tweets" in self.__dict__:
            self.tweets.ids.after_restore()
        if "redis" in self.__dict__:
            from chirp.adapters.redis.client import reset_connections

            reset_connections(self.redis)


class _OnFirstUse:
    """Stands for an adapter built on the first use of any of its attributes, with its AWS client: a client costs
    tens of milliseconds to build, which a process that never calls it should not pay."""

    def __init__(self, build: Callable[[], object]):
        self._build = cache(build)

    def __getattr__(self, name: str):
        return getattr(self._build(), name)


class _LazyMedia:
    """The media service, built only when a tweet attaches or shows media (it needs an S3 client)."""

    def __init__(self, services: Services):
        self.services = services

    def prepare(self, owner: str, media_ids: list[str]) -> list[str]:
        return self.services.media.prepare(owner, media_ids)

    def views(self, media_ids: list[str]):
        return self.services.media.views(media_ids) if media_ids else {}


def build_services(settings: Settings) -> Services:
    return Services(settings)


@cache
def services() -> Services:
    return build_services(get_settings())
