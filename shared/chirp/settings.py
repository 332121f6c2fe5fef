"""Configuration, parsed once from the environment into a typed object (pydantic).

The same code runs on AWS, in the local cloud and in tests: only these values change. The variable names
are the fields' aliases; the CDK app gives each function the variables of what it is granted.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field

# The AWS stage's tiers (infra/config.py holds each stage's; the local stage's are small so that tests cross them).
DEFAULT_RATE_LIMITS = {
    "tweets": "300/3h",
    "likes": "1000/24h",
    "follows": "400/24h",
    "home": "150/15m",
    "search": "180/15m",
    "default": "900/15m",
    "anonymous": "300/5m",
}


class Settings(BaseModel):
    # Every field is a scalar read from one variable (its alias): a plain model does that, where pydantic-settings
    # (its sources, asyncio, the plugin scan) cost every function's cold start about 40 ms.
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=False)

    stage: str = Field(default="local", alias="CHIRP_STAGE")
    region: str = Field(default="us-east-1", alias="AWS_REGION")
    tweets_table: str = Field(default="chirp-tweets", alias="TWEETS_TABLE")
    social_table: str = Field(default="chirp-social", alias="SOCIAL_TABLE")
    notifications_table: str = Field(default="chirp-notifications", alias="NOTIFICATIONS_TABLE")
    leases_table: str = Field(default="chirp-leases", alias="LEASES_TABLE")
    idempotency_table: str = Field(default="chirp-idempotency", alias="IDEMPOTENCY_TABLE")
    clients_table: str = Field(default="chirp-clients", alias="CLIENTS_TABLE")
    # The user pool's app client: third-party clients' password sign-in (OAuth password grant) goes through it.
    user_pool_client_id: str = Field(default="", alias="USER_POOL_CLIENT_ID")
    engagements_table: str = Field(default="chirp-engagements", alias="ENGAGEMENTS_TABLE")
    # Real time (chirp.realtime): WebSocket connections, the API whose @connections API pushes to them, and the
    # user pool whose ID tokens open them.
    connections_table: str = Field(default="chirp-connections", alias="CONNECTIONS_TABLE")
    websocket_api_id: str = Field(default="", alias="WEBSOCKET_API_ID")
    websocket_stage: str = Field(default="v1", alias="WEBSOCKET_STAGE")
    user_pool_id: str = Field(default="", alias="USER_POOL_ID")
    new_tweets_stream: str = Field(default="new-tweets", alias="NEW_TWEETS_STREAM")
    engagements_stream: str = Field(default="engagements", alias="ENGAGEMENTS_STREAM")
    fanout_queue_url: str = Field(default="", alias="FANOUT_QUEUE_URL")
    consumer_failures_queue_url: str = Field(default="", alias="CONSUMER_FAILURES_QUEUE_URL")
    media_bucket: str = Field(default="chirp-media", alias="MEDIA_BUCKET")
    media_table: str = Field(default="chirp-media", alias="MEDIA_TABLE")
    # Where processed media are served from on AWS (the CloudFront distribution, `https://<domain>`); empty where
    # there is none (the local cloud), so media URLs are the bucket's presigned GETs.
    media_base_url: str = Field(default="", alias="MEDIA_BASE_URL")
    # The Mastodon streaming API's own domain (wss://...), and the instance URL its entities link to; "" where the
    # instance serves both itself (locally, through the host-root proxy).
    mastodon_streaming_url: str = Field(default="", alias="MASTODON_STREAMING_URL")
    mastodon_base_url: str = Field(default="", alias="MASTODON_BASE_URL")
    redis_host: str = Field(default="127.0.0.1", alias="REDIS_HOST")
    redis_port: int = Field(default=6379, alias="REDIS_PORT")
    redis_tls: bool = Field(default=False, alias="REDIS_TLS")
    # A Redis Cluster (ElastiCache cluster mode): the host is its configuration endpoint, keys route by slot.
    redis_cluster: bool = Field(default=False, alias="REDIS_CLUSTER")
    redis_auth_secret_arn: str = Field(default="", alias="REDIS_AUTH_SECRET_ARN")
    opensearch_endpoint: str = Field(default="127.0.0.1:9200", alias="OPENSEARCH_ENDPOINT")
    opensearch_scheme: str = Field(default="http", pattern="^https?$", alias="OPENSEARCH_SCHEME")
    opensearch_sigv4: bool = Field(default=False, alias="OPENSEARCH_SIGV4")
    tweets_index_replicas: int = Field(default=0, ge=0, alias="TWEETS_INDEX_REPLICAS")
    popular_threshold: int = Field(default=10_000, ge=1, alias="POPULAR_THRESHOLD")
    celebrity_threshold: int = Field(default=100_000, ge=1, alias="CELEBRITY_THRESHOLD")
    trend_lists_parameter: str = Field(default="", alias="TREND_LISTS_PARAMETER")
    # Distinct accounts in an hour a tag needs to trend, and how long a ranking is served before it is redone.
    trend_min_accounts: int = Field(default=10, ge=1, alias="TREND_MIN_ACCOUNTS")
    trend_ranked_ttl_s: int = Field(default=60, ge=1, alias="TREND_RANKED_TTL_S")
    # Accounts younger than this count for less in trends (coordinated spam uses fresh accounts).
    trend_new_account_s: int = Field(default=86_400, ge=0, alias="TREND_NEW_ACCOUNT_S")
    # Timelines of users not seen for this long expire: not pushed to, rebuilt on their next read.
    inactive_after_s: int = Field(default=7 * 86_400, ge=60, alias="INACTIVE_AFTER_S")
    # Rate limits (chirp.limits): each endpoint class's tier, `count/window` (e.g. "300/3h"), from the stage.
    # As JSON, like every structured setting: Settings is hashed (clients are cached per Settings).
    rate_limits: str = Field(default=json.dumps(DEFAULT_RATE_LIMITS), alias="RATE_LIMITS")
    # Runtime settings in SSM Parameter Store (chirp.adapters.ssm), re-read at most once per cache period.
    degradation_manual_parameter: str = Field(default="/chirp/local/degradation/manual", alias="DEGRADATION_MANUAL")
    degradation_auto_parameter: str = Field(default="/chirp/local/degradation/auto", alias="DEGRADATION_AUTO")
    limit_overrides_path: str = Field(default="/chirp/local/limits/users", alias="LIMIT_OVERRIDES_PATH")
    runtime_config_ttl_s: float = Field(default=30.0, ge=0, alias="RUNTIME_CONFIG_TTL_S")
    # The degradation controller: its thresholds and hysteresis (chirp.degradation.controller.Tuning, as JSON),
    # and what it watches (the REST API's CloudWatch dimensions, the fan-out consumer).
    controller_tuning: str = Field(default="{}", alias="CONTROLLER_TUNING")
    api_name: str = Field(default="", alias="API_NAME")
    api_stage: str = Field(default="v1", alias="API_STAGE")
    fanout_function: str = Field(default="", alias="FANOUT_FUNCTION")
    # Set only outside AWS (local cloud, tests); boto3 and pynamodb use it as their endpoint.
    aws_endpoint_url: str | None = Field(default=None, alias="AWS_ENDPOINT_URL")

    @property
    def rate_limit_tiers(self) -> dict[str, str]:
        return json.loads(self.rate_limits)

    @property
    def websocket_management_url(self) -> str:
        """Where the WebSocket API's @connections API answers (the emulator serves it under its gateway)."""
        if self.aws_endpoint_url:
            return f"{self.aws_endpoint_url}/_aws/execute-api/{self.websocket_api_id}/{self.websocket_stage}"
        return f"https://{self.websocket_api_id}.execute-api.{self.region}.amazonaws.com/{self.websocket_stage}"

    @property
    def user_pool_issuer(self) -> str:
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"

    @property
    def user_pool_keys_url(self) -> str:
        """The user pool's public signing keys (JWKS): the emulator serves them under its own endpoint."""
        if self.aws_endpoint_url:
            return f"{self.aws_endpoint_url}/{self.user_pool_id}/.well-known/jwks.json"
        return f"{self.user_pool_issuer}/.well-known/jwks.json"

    @property
    def opensearch_url(self) -> str:
        return f"{self.opensearch_scheme}://{self.opensearch_endpoint}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """From the process environment, or from the mapping given (tests, tools reading .local/cloud.env)."""
        environ = os.environ if environ is None else environ
        known = {field.alias for field in cls.model_fields.values()}
        return cls.model_validate({key: value for key, value in environ.items() if key in known})


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once (a Lambda environment's variables never change)."""
    return Settings.from_env()
