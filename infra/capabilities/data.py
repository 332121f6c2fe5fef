"""DynamoDB tables (tweets, social graph, notifications, leases, idempotency records, engagements) and the catalog's
Kinesis streams."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kinesis as kinesis
from constructs import Construct

from infra.capabilities.names import pascal_case
from infra.catalog import STREAMS
from infra.config import StageConfig

S = dynamodb.AttributeType.STRING
N = dynamodb.AttributeType.NUMBER


class Data(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig):
        super().__init__(scope, construct_id)
        # Each table's global secondary indexes by name: a grant may query one by name (and only that one).
        self.indexes: dict[str, list[str]] = {}
        # Tweets by id; GSI user_tweets = one author's tweets, newest first (Snowflake ids sort by time).
        self.tweets = self._table("Tweets", config, partition=("tweet_id", N))
        self._index(
            "tweets",
            self.tweets,
            index_name="user_tweets",
            partition_key=dynamodb.Attribute(name="author_id", type=S),
            sort_key=dynamodb.Attribute(name="tweet_id", type=N),
        )
        # Sparse outbox: tweets whose publish to the stream is unconfirmed, for the relay to re-publish.
        self._index(
            "tweets",
            self.tweets,
            index_name="outbox",
            partition_key=dynamodb.Attribute(name="outbox_shard", type=N),
            sort_key=dynamodb.Attribute(name="tweet_id", type=N),
            projection_type=dynamodb.ProjectionType.KEYS_ONLY,
        )
        # The social graph (profiles, follows, blocks, mutes) as an adjacency list: pk -> sk,
        # and the inverted GSI sk -> pk answers "who follows X".
        self.social = self._table("Social", config, partition=("pk", S), sort=("sk", S))
        self._index(
            "social",
            self.social,
            index_name="inverted",
            partition_key=dynamodb.Attribute(name="sk", type=S),
            sort_key=dynamodb.Attribute(name="pk", type=S),
            projection_type=dynamodb.ProjectionType.KEYS_ONLY,
        )
        # A recipient's notifications, newest first by id; DynamoDB's TTL deletes them after their retention.
        self.notifications = self._table(
            "Notifications", config, partition=("user_id", S), sort=("notification_id", N), ttl="expires_at"
        )
        # Snowflake worker slots, leased by the functions that issue ids (a lease must outlive a Redis flush).
        self.leases = self._table("Leases", config, partition=("slot", N))
        self.idempotency = self._table("Idempotency", config, partition=("id", S), ttl="expiration")
        # Third-party clients' apps, access tokens (by the token's hash) and media descriptions, by kind#id.
        self.clients = self._table("Clients", config, partition=("pk", S))
        # Engagements: like, retweet and bookmark edges (EDGE#user / TWEET#id), counter shards, reply and quote
        # markers and the event outbox; four sparse indexes list a tweet's likers and retweeters and a user's likes
        # and bookmarks, newest first (only edges that are likes, retweets or bookmarks carry their index's sort key).
        self.engagements = self._table("EngagementsTable", config, partition=("pk", S), sort=("sk", S))
        for index_name, partition, sort in (
            ("likes_by_tweet", ("tweet_id", N), ("like_order", N)),
            ("retweets_by_tweet", ("tweet_id", N), ("retweet_id", N)),
            ("likes_by_user", ("user_id", S), ("like_order", N)),
            ("bookmarks_by_user", ("user_id", S), ("bookmark_order", N)),
        ):
            self._index(
                "engagements",
                self.engagements,
                index_name=index_name,
                partition_key=dynamodb.Attribute(name=partition[0], type=partition[1]),
                sort_key=dynamodb.Attribute(name=sort[0], type=sort[1]),
                projection_type=dynamodb.ProjectionType.KEYS_ONLY,
            )
        # Issued media ids; DynamoDB's TTL forgets a ticket never uploaded, or an upload never attached, after a day.
        self.media = self._table("MediaTable", config, partition=("media_id", S), ttl="expires_at")
        # Clients' WebSocket connections by id; DynamoDB's TTL deletes one API Gateway must have closed.
        self.connections = self._table("Connections", config, partition=("connection_id", S), ttl="expires_at")
        self.tables = {
            "tweets": self.tweets,
            "social": self.social,
            "notifications": self.notifications,
            "leases": self.leases,
            "idempotency": self.idempotency,
            "clients": self.clients,
            "engagements": self.engagements,
            "media": self.media,
            "connections": self.connections,
        }

        self.streams = {
            stream.name: kinesis.Stream(
                self,
                pascal_case(stream.name),
                shard_count=config.kinesis_shards,
                retention_period=Duration.hours(stream.retention_hours),
                encryption=kinesis.StreamEncryption.MANAGED,
            )
            for stream in STREAMS
        }

    def _index(self, name: str, table: dynamodb.Table, *, index_name: str, **options) -> None:
        table.add_global_secondary_index(index_name=index_name, **options)
        self.indexes.setdefault(name, []).append(index_name)

    def _table(self, construct_id, config, *, partition, sort=None, ttl=None) -> dynamodb.Table:
        return dynamodb.Table(
            self,
            construct_id,
            partition_key=dynamodb.Attribute(name=partition[0], type=partition[1]),
            sort_key=dynamodb.Attribute(name=sort[0], type=sort[1]) if sort else None,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            time_to_live_attribute=ttl,
            removal_policy=config.removal_policy,
        )
