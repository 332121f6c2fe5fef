"""Every Lambda of Chirp and what triggers it, declared once.

The CDK app builds functions and triggers from this list; the tests read it to find handlers and to
check the synthesized template. Pure data: importing it needs no CDK.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = ROOT / "functions"


@dataclass(frozen=True)
class ApiRoute:
    method: str
    path: str
    authorized: bool = True


@dataclass(frozen=True)
class KinesisTrigger:
    """A consumer of the new-tweets stream, with partial batch responses and a bounded retry."""

    batch_size: int = 100
    max_batching_window_s: int = 1
    retry_attempts: int = 3
    max_record_age_s: int = 3600
    parallelization_factor: int = 2


@dataclass(frozen=True)
class SqsTrigger:
    """A consumer of the fan-out pages queue, with partial batch responses."""

    batch_size: int = 10


@dataclass(frozen=True)
class ScheduleTrigger:
    every_minutes: int


@dataclass(frozen=True)
class S3Trigger:
    prefix: str


@dataclass(frozen=True)
class DeployTrigger:
    """Runs the function as a CloudFormation custom resource: at the first deploy and at every deploy that
    changes one of `inputs` (repository paths whose content digest is the resource's property). The deploy
    waits for it and fails when it fails; the functions named in `before` are created or updated only after
    it succeeded, so they never run against what it has not prepared yet."""

    resource_type: str
    inputs: tuple[str, ...]
    before: tuple[str, ...] = ()


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    description: str
    routes: tuple[ApiRoute, ...] = ()
    kinesis: KinesisTrigger | None = None
    s3: S3Trigger | None = None
    schedule: ScheduleTrigger | None = None
    sqs: SqsTrigger | None = None
    deploy: DeployTrigger | None = None
    memory_mb: int = 512
    timeout_s: int = 15
    # Which resources the function may touch; the stack turns these into least-privilege grants.
    grants: frozenset[str] = field(default_factory=frozenset)

    @property
    def code_dir(self) -> Path:
        return FUNCTIONS_DIR / self.name

    @property
    def handler(self) -> str:
        return "handler.lambda_handler"


FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        name="health",
        description="GET /health: checks DynamoDB, Kinesis, Redis and OpenSearch from inside the VPC",
        routes=(ApiRoute("GET", "/health", authorized=False),),
        schedule=ScheduleTrigger(every_minutes=1),  # the same check, for the UnhealthyDependencies alarm
        grants=frozenset({"tables:describe", "stream:describe", "redis", "opensearch:health"}),
    ),
    FunctionSpec(
        name="api",
        description="The REST API: profiles, follows, tweets, user and home timelines",
        routes=(
            ApiRoute("POST", "/users"),
            ApiRoute("GET", "/users/{user_id}"),
            ApiRoute("POST", "/users/{user_id}/follow"),
            ApiRoute("DELETE", "/users/{user_id}/follow"),
            ApiRoute("POST", "/users/{user_id}/block"),
            ApiRoute("DELETE", "/users/{user_id}/block"),
            ApiRoute("POST", "/users/{user_id}/mute"),
            ApiRoute("DELETE", "/users/{user_id}/mute"),
            ApiRoute("GET", "/users/{user_id}/follows/{other_id}"),
            ApiRoute("GET", "/users/{user_id}/followers"),
            ApiRoute("GET", "/users/{user_id}/following"),
            ApiRoute("GET", "/users/{user_id}/tweets"),
            ApiRoute("POST", "/tweets"),
            ApiRoute("GET", "/tweets/{tweet_id}"),
            ApiRoute("DELETE", "/tweets/{tweet_id}"),
            ApiRoute("GET", "/timelines/home"),
            ApiRoute("GET", "/trends"),
            ApiRoute("GET", "/search"),
            ApiRoute("GET", "/notifications"),
            ApiRoute("POST", "/media"),
            ApiRoute("GET", "/media/{media_id}"),
        ),
        grants=frozenset(
            {
                "tweets:write",
                "social:write",
                "stream:write",
                "redis",
                "idempotency:write",
                "media:presign",
                "opensearch:search",
            }
        ),
    ),
    FunctionSpec(
        name="fanout",
        description="new-tweets consumer: delivers tweets into home timelines (hybrid push/pull)",
        kinesis=KinesisTrigger(),
        timeout_s=60,
        grants=frozenset({"tweets:read", "social:read", "redis", "fanout_queue:send"}),
    ),
    FunctionSpec(
        name="indexer",
        description="new-tweets consumer: indexes tweets in OpenSearch (one bulk request per batch)",
        kinesis=KinesisTrigger(),
        timeout_s=60,
        grants=frozenset({"opensearch:write"}),
    ),
    FunctionSpec(
        name="trends",
        description="new-tweets consumer: counts distinct accounts per hashtag and day for trends",
        kinesis=KinesisTrigger(),
        grants=frozenset({"redis"}),
    ),
    FunctionSpec(
        name="notifier",
        description="new-tweets consumer: raises mention and reply notifications",
        kinesis=KinesisTrigger(),
        grants=frozenset({"tweets:read", "social:read", "redis"}),
    ),
    FunctionSpec(
        name="fanout_worker",
        description="Pushes pages of a popular author's followers, handed over through SQS",
        sqs=SqsTrigger(),
        timeout_s=60,
        grants=frozenset({"tweets:read", "social:read", "redis"}),
    ),
    FunctionSpec(
        name="transcoder",
        description="S3 uploads/ -> WebP variants (metadata stripped) and meta.json under media/",
        s3=S3Trigger(prefix="uploads/"),
        memory_mb=1536,  # a 40-megapixel image decodes to several hundred MB
        timeout_s=60,
        grants=frozenset({"media:transcode"}),
    ),
    FunctionSpec(
        name="outbox_relay",
        description="Re-publishes stored tweets whose publish to the stream was never confirmed",
        schedule=ScheduleTrigger(every_minutes=1),
        timeout_s=60,
        grants=frozenset({"tweets:write", "stream:write"}),
    ),
    FunctionSpec(
        name="search_schema",
        description="On deploy: creates the tweets index or updates its mapping, before anything reads it",
        deploy=DeployTrigger(
            resource_type="Custom::SearchSchema", inputs=("shared/chirp/search.py",), before=("indexer", "api")
        ),
        timeout_s=120,
        grants=frozenset({"opensearch:schema"}),
    ),
)
