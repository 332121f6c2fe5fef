"""Chirp's wiring, declared once: every Lambda, what triggers it, what it may touch and which tuning settings
it reads; and the streams and queues between them.

The CDK app builds resources, triggers, IAM and each function's environment from these declarations; the
tests read them to check the synthesized template. Pure data: importing it needs no CDK.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = ROOT / "functions"

# --- resources: each one's generated name (or URL) reaches its functions through one Settings field ---------

TABLES = {
    "tweets": "tweets_table",
    "social": "social_table",
    "notifications": "notifications_table",
    "idempotency": "idempotency_table",
}
BUCKETS = {"media": "media_bucket"}


@dataclass(frozen=True)
class Stream:
    name: str
    setting: str  # the Settings field its name reaches functions through
    retention_hours: int = 24


@dataclass(frozen=True)
class DeadLetter:
    """Where a message goes after `max_receive_count` failed receives."""

    max_receive_count: int
    retention_days: int = 14


@dataclass(frozen=True)
class Queue:
    name: str
    setting: str | None = None  # the Settings field its URL reaches senders through; None: nobody sends by URL
    visibility_timeout_s: int | None = None
    retention_days: int | None = None
    dead_letter: DeadLetter | None = None


STREAMS: tuple[Stream, ...] = (Stream("new_tweets", setting="new_tweets_stream"),)

QUEUES: tuple[Queue, ...] = (
    # Records a stream consumer gave up on (retries exhausted, too old, or poison it set aside with its reason)
    # land here, never silently lost.
    Queue("consumer_failures", setting="consumer_failures_queue_url", retention_days=14),
    # The popular tier's follower pages; a page that keeps failing moves to its dead-letter queue.
    Queue(
        "fanout_pages",
        setting="fanout_queue_url",
        visibility_timeout_s=360,  # six times its consumer's timeout, as AWS advises
        dead_letter=DeadLetter(max_receive_count=5),
    ),
)

# --- triggers: each names its source ------------------------------------------------------------------------


@dataclass(frozen=True)
class ResolverRoutes:
    """Serves the routes of the function's Powertools resolver (`app` in its handler.py) through the REST API:
    methods and paths as the handler declares them; a route declared with `security=[]` needs no token."""


@dataclass(frozen=True)
class KinesisTrigger:
    """A consumer of a stream, with partial batch responses and a bounded retry; records it gives up on go to
    the `on_failure` queue."""

    stream: str
    on_failure: str
    batch_size: int = 100
    max_batching_window_s: int = 1
    retry_attempts: int = 3
    max_record_age_s: int = 3600
    parallelization_factor: int = 2


@dataclass(frozen=True)
class SqsTrigger:
    """A consumer of a queue, with partial batch responses."""

    queue: str
    batch_size: int = 10


@dataclass(frozen=True)
class S3Trigger:
    """Objects created in `bucket` under `prefix`."""

    bucket: str
    prefix: str


@dataclass(frozen=True)
class ScheduleTrigger:
    every_minutes: int


@dataclass(frozen=True)
class DeployTrigger:
    """Runs the function as a CloudFormation custom resource: at the first deploy and at every deploy that
    changes one of `inputs` (repository paths whose content digest is the resource's property). The deploy
    waits for it and fails when it fails; the functions named in `before` are created or updated only after
    it succeeded, so they never run against what it has not prepared yet."""

    resource_type: str
    inputs: tuple[str, ...]
    before: tuple[str, ...] = ()


# A new kind of trigger (a WebSocket route, say) is one class here and one case in Functions._connect.
Trigger = ResolverRoutes | KinesisTrigger | SqsTrigger | S3Trigger | ScheduleTrigger | DeployTrigger

# --- grants: what a function may touch; each brings the settings that locate it -----------------------------


class Access(StrEnum):
    DESCRIBE = "describe"  # status only, no data
    READ = "read"
    WRITE = "write"  # read and write
    SCHEMA = "schema"  # create the structure or change it (the search index and its mapping)


@dataclass(frozen=True)
class TableAccess:
    table: str
    access: Access


@dataclass(frozen=True)
class StreamAccess:
    stream: str
    access: Access


@dataclass(frozen=True)
class QueueAccess:
    """Sends to the queue (consuming it is an SqsTrigger)."""

    queue: str


@dataclass(frozen=True)
class SearchAccess:
    access: Access


@dataclass(frozen=True)
class MediaAccess:
    """Objects of the media bucket: reads those under `get`, writes those under `put`."""

    get: str
    put: str


@dataclass(frozen=True)
class RedisAccess:
    """The cache: reached by network placement and, where the stage has one, its AUTH token."""


Grant = TableAccess | StreamAccess | QueueAccess | SearchAccess | MediaAccess | RedisAccess

# Tuning settings a function may read (FunctionSpec.reads), valued from the stage's StageConfig.
FANOUT_TIERS = ("popular_threshold", "celebrity_threshold")
TIMELINE_EXPIRY = ("inactive_after_s",)


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    description: str
    triggers: tuple[Trigger, ...] = ()
    grants: tuple[Grant, ...] = ()
    # Tuning settings the function reads: Settings fields valued from the stage's StageConfig field of the same
    # name. A function's environment holds these and its grants' settings, nothing else (but Powertools' own).
    reads: tuple[str, ...] = ()
    memory_mb: int = 512
    timeout_s: int = 15

    @property
    def code_dir(self) -> Path:
        return FUNCTIONS_DIR / self.name

    @property
    def handler(self) -> str:
        return "handler.lambda_handler"

    def triggered_by[T](self, kind: type[T]) -> tuple[T, ...]:
        return tuple(trigger for trigger in self.triggers if isinstance(trigger, kind))


NEW_TWEETS = KinesisTrigger(stream="new_tweets", on_failure="consumer_failures")
SETS_POISON_ASIDE = QueueAccess("consumer_failures")  # every new-tweets consumer sends unreadable records there
READ_TWEETS_AND_GRAPH = (TableAccess("tweets", Access.READ), TableAccess("social", Access.READ))

FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        name="health",
        description="GET /health: checks DynamoDB, Kinesis, Redis and OpenSearch from inside the VPC",
        # The schedule runs the same check for the UnhealthyDependencies alarm.
        triggers=(ResolverRoutes(), ScheduleTrigger(every_minutes=1)),
        grants=(
            TableAccess("tweets", Access.DESCRIBE),
            TableAccess("social", Access.DESCRIBE),
            StreamAccess("new_tweets", Access.DESCRIBE),
            RedisAccess(),
            SearchAccess(Access.DESCRIBE),
        ),
    ),
    FunctionSpec(
        name="api",
        description="The REST API: profiles, follows, tweets, user and home timelines",
        triggers=(ResolverRoutes(),),
        grants=(
            TableAccess("tweets", Access.WRITE),
            TableAccess("social", Access.WRITE),
            TableAccess("notifications", Access.WRITE),  # follows notify; GET /notifications reads them
            TableAccess("idempotency", Access.WRITE),
            StreamAccess("new_tweets", Access.WRITE),
            RedisAccess(),
            MediaAccess(put="uploads/", get="media/"),  # signs uploads, reads transcoding results
            SearchAccess(Access.READ),
        ),
        reads=FANOUT_TIERS + TIMELINE_EXPIRY,  # follows move authors between tiers and rebuild timelines
    ),
    FunctionSpec(
        name="fanout",
        description="new-tweets consumer: delivers tweets into home timelines (hybrid push/pull)",
        triggers=(NEW_TWEETS,),
        timeout_s=60,
        grants=(*READ_TWEETS_AND_GRAPH, RedisAccess(), QueueAccess("fanout_pages"), SETS_POISON_ASIDE),
        reads=FANOUT_TIERS + TIMELINE_EXPIRY,
    ),
    FunctionSpec(
        name="indexer",
        description="new-tweets consumer: indexes tweets in OpenSearch (one bulk request per batch)",
        triggers=(NEW_TWEETS,),
        timeout_s=60,
        grants=(SearchAccess(Access.WRITE), SETS_POISON_ASIDE),
    ),
    FunctionSpec(
        name="trends",
        description="new-tweets consumer: counts distinct accounts per hashtag and day for trends",
        triggers=(NEW_TWEETS,),
        grants=(RedisAccess(), SETS_POISON_ASIDE),
    ),
    FunctionSpec(
        name="notifier",
        description="new-tweets consumer: raises mention and reply notifications",
        triggers=(NEW_TWEETS,),
        grants=(
            *READ_TWEETS_AND_GRAPH,
            TableAccess("notifications", Access.WRITE),
            RedisAccess(),
            SETS_POISON_ASIDE,
        ),
    ),
    FunctionSpec(
        name="fanout_worker",
        description="Pushes pages of a popular author's followers, handed over through SQS",
        triggers=(SqsTrigger(queue="fanout_pages"),),
        timeout_s=60,
        grants=(*READ_TWEETS_AND_GRAPH, RedisAccess()),
        reads=TIMELINE_EXPIRY,
    ),
    FunctionSpec(
        name="transcoder",
        description="S3 uploads/ -> WebP variants (metadata stripped) and meta.json under media/",
        triggers=(S3Trigger(bucket="media", prefix="uploads/"),),
        memory_mb=1536,  # a 40-megapixel image decodes to several hundred MB
        timeout_s=60,
        grants=(MediaAccess(get="uploads/", put="media/"),),
    ),
    FunctionSpec(
        name="outbox_relay",
        description="Re-publishes stored tweets whose publish to the stream was never confirmed",
        triggers=(ScheduleTrigger(every_minutes=1),),
        timeout_s=60,
        grants=(TableAccess("tweets", Access.WRITE), StreamAccess("new_tweets", Access.WRITE)),
    ),
    FunctionSpec(
        name="search_schema",
        description="On deploy: creates the tweets index or updates its mapping, before anything reads it",
        triggers=(
            DeployTrigger(
                resource_type="Custom::SearchSchema",
                inputs=("shared/chirp/search/schema.py",),
                before=("indexer", "api"),
            ),
        ),
        timeout_s=120,
        grants=(SearchAccess(Access.SCHEMA),),
    ),
)


def consumer_failure_queues() -> list[str]:
    """The queues stream consumers hand the records they gave up on to (watched by an alarm)."""
    return sorted({trigger.on_failure for spec in FUNCTIONS for trigger in spec.triggered_by(KinesisTrigger)})
