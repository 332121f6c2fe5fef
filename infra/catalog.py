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
    "leases": "leases_table",
    "idempotency": "idempotency_table",
    "clients": "clients_table",  # third-party clients: OAuth apps, access tokens (hashed), media descriptions
    "engagements": "engagements_table",
    "media": "media_table",  # issued media ids: owner, transcoding outcome, alt text, the tweet attached to
    "connections": "connections_table",  # clients' WebSocket connections (chirp.realtime), expiring by TTL
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


STREAMS: tuple[Stream, ...] = (
    Stream("new_tweets", setting="new_tweets_stream"),
    # Likes, retweets and their undoing (partition key: the user who acted).
    Stream("engagements", setting="engagements_stream"),
)


@dataclass(frozen=True)
class Parameter:
    """A runtime setting in SSM Parameter Store, named `/chirp/<stage>/<path>`: operators change it without a
    deploy, functions re-read it at most once per their cache period. `initial` is the value the stack creates
    it with (CloudFormation sets it again only when `initial` itself changes); without one, `path` is a folder of
    parameters that operators create (per-user limit overrides)."""

    path: str
    setting: str  # the Settings field its full name reaches functions through
    initial: str | None = None

    @property
    def is_folder(self) -> bool:
        return self.initial is None


PARAMETERS: dict[str, Parameter] = {
    # An operator's degradation level (0-4), which wins over the controller's; `auto` hands the decision back.
    "degradation_manual": Parameter("degradation/manual", setting="degradation_manual_parameter", initial="auto"),
    # The controller's automatic level and hysteresis state (JSON), written by degradation_controller only.
    "degradation_auto": Parameter(
        "degradation/auto", setting="degradation_auto_parameter", initial='{"level": 0, "calm_runs": 0, "reason": ""}'
    ),
    # One parameter per user whose rate limits an operator raised: limits/users/<user id> = {"*": "100000/1h"};
    # limit_overrides mirrors them into Redis every minute.
    "limit_overrides": Parameter("limits/users", setting="limit_overrides_path"),
    # Hashtags that never trend: blocked ones, and evergreen ones always in use (JSON lists).
    "trend_lists": Parameter(
        "trends/lists", setting="trend_lists_parameter", initial='{"blocked": [], "evergreen": []}'
    ),
}

QUEUES: tuple[Queue, ...] = (
    # Records a stream consumer gave up on (retries exhausted, too old, or poison it set aside with its reason)
    # land here, never silently lost.
    Queue("consumer_failures", setting="consumer_failures_queue_url", retention_days=14),
    # Batches the indexer gave up on (records older than its maximum age: a long search outage), as Lambda's
    # on-failure pointers to their stream records; search_repair redrives them.
    Queue(
        "index_failures",
        visibility_timeout_s=1800,  # six times its consumer's timeout
        retention_days=14,
        dead_letter=DeadLetter(max_receive_count=5),
    ),
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
class HttpApi:
    """A REST API of API Gateway, serving the routes of the functions that name it (ResolverRoutes).

    Its bearer tokens are the user pool's ID tokens (a Cognito authorizer), or, when `authorizer` names a
    function, tokens that function checks (a TOKEN authorizer: a function with an AuthorizerTrigger for this
    API). `error_shape` is the body of the gateway's own answers (unknown route, no token, throttling), in the
    API's error shape; $message is the gateway's message, JSON-quoted, $type its response type. With
    `host_root`, the stage is also served at the root of the stage's custom domain (StageConfig.mastodon_domain):
    for clients that build URLs from a host (Mastodon clients append the Link header's path to it).
    `binary_media_types` arrive base64-encoded, bytes intact (uploads)."""

    name: str
    description: str
    authorizer: str | None = None
    host_root: bool = False
    binary_media_types: tuple[str, ...] = ()


HTTP_APIS: dict[str, HttpApi] = {
    api.name: api
    for api in (
        HttpApi("chirp", "Chirp HTTP API"),
        HttpApi(
            "mastodon",
            "Chirp's Mastodon client API",
            authorizer="mastodon_auth",
            host_root=True,
            binary_media_types=("multipart/form-data",),
        ),
    )
}


@dataclass(frozen=True)
class ResolverRoutes:
    """Serves the routes of the function's Powertools resolver (`app` in its handler.py) through the REST API
    `api` (HTTP_APIS): methods and paths as the handler declares them; a route declared with `security=[]`
    needs no token."""

    api: str = "chirp"


@dataclass(frozen=True)
class AuthorizerTrigger:
    """Checks the bearer tokens of the REST API `api` for API Gateway (a TOKEN authorizer on the Authorization
    header), which caches each token's answer for `cache_ttl_s`: a revoked token works until then."""

    api: str
    cache_ttl_s: int = 60


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


@dataclass(frozen=True)
class WebSocketRoutes:
    """Serves the routes of the WebSocket API (one per stack): $connect, $disconnect and each action its clients
    send (`{"action": <route>, ...}`). An action answers by posting to the connection (ConnectionsAccess): the
    emulator has no route responses."""

    actions: tuple[str, ...] = ()


# A new kind of trigger is one class here and one case in Functions._connect.
Trigger = (
    ResolverRoutes
    | AuthorizerTrigger
    | KinesisTrigger
    | SqsTrigger
    | S3Trigger
    | ScheduleTrigger
    | DeployTrigger
    | WebSocketRoutes
)

# --- grants: what a function may touch; each brings the settings that locate it -----------------------------


class Access(StrEnum):
    """What a function does with a stream or the search domain (tables name their calls: TableAccess)."""

    DESCRIBE = "describe"  # status only, no data
    READ = "read"  # stream: read records again by sequence number (outside a trigger); search: run queries
    WRITE = "write"  # stream: put records; search: bulk-index documents and create the index if it is missing
    SCHEMA = "schema"  # create the structure or change it (the search index and its mapping)


class TableCall(StrEnum):
    """One DynamoDB call on a table, as IAM names it. There is no member for managing the table: no function may
    delete or alter one; only the search repair scans (a reindex reads every tweet). A transaction
    (TransactWriteItems) has no IAM action of its own: DynamoDB authorizes each Put, Update, Delete and
    ConditionCheck in it as PutItem, UpdateItem, DeleteItem and ConditionCheckItem, so a function that writes in
    transactions is granted those."""

    DESCRIBE = "dynamodb:DescribeTable"  # status only, no data
    GET = "dynamodb:GetItem"
    BATCH_GET = "dynamodb:BatchGetItem"
    QUERY = "dynamodb:Query"  # on the table's own key; a GSI is queried through TableAccess.indexes
    PUT = "dynamodb:PutItem"
    UPDATE = "dynamodb:UpdateItem"
    DELETE = "dynamodb:DeleteItem"
    BATCH_WRITE = "dynamodb:BatchWriteItem"
    CONDITION_CHECK = "dynamodb:ConditionCheckItem"
    SCAN = "dynamodb:Scan"


@dataclass(frozen=True)
class TableAccess:
    """Exactly `calls` on the table, and Query on each global secondary index named in `indexes` (that index
    only). Written as the calls the function's code makes, so a new call needs a new line here."""

    table: str
    calls: tuple[TableCall, ...] = ()
    indexes: tuple[str, ...] = ()


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
    """Objects of the media bucket: reads those under `get`, writes those under `put` (None: none), tagging what it
    writes when `tagged`, and removes the tags of those under `untag`. Reading the processed media (`media/`)
    brings where they are served from (the CloudFront distribution on AWS), as their URLs point there."""

    get: str | None
    put: str | None
    tagged: bool = False
    untag: str | None = None


@dataclass(frozen=True)
class RedisAccess:
    """The cache: reached by network placement and, where the stage has one, its AUTH token."""


@dataclass(frozen=True)
class UserPoolAccess:
    """Signs users in with their password through the user pool's app client (InitiateAuth, a public Cognito
    call that IAM does not govern): brings the client's id, no permission."""


@dataclass(frozen=True)
class ParameterAccess:
    """A runtime parameter (PARAMETERS): READ it (a folder: every parameter under it, by path), or WRITE it. Brings
    the parameter's name and the stage's cache period for runtime settings."""

    parameter: str
    access: Access = Access.READ


@dataclass(frozen=True)
class MetricsAccess:
    """Reads the CloudWatch metrics the degradation controller watches: the REST API's latency, errors and requests,
    and the fan-out consumer's iterator age. Brings where they are (the API's name and stage, the fan-out's
    function name). GetMetricData has no resource-level permission: the one grant on `*` besides ENIs and X-Ray."""


@dataclass(frozen=True)
class ConnectionsAccess:
    """Posts to the WebSocket API's connections (the @connections API: execute-api:ManageConnections, POST on its
    stage). Brings the API's id and stage."""


@dataclass(frozen=True)
class IdTokenAccess:
    """Checks the user pool's ID tokens itself (signature against the pool's public keys, issuer, audience), where
    API Gateway has no Cognito authorizer (a WebSocket API). Brings the pool's and its app client's ids; no
    permission (the keys are public)."""


Grant = (
    TableAccess
    | StreamAccess
    | QueueAccess
    | SearchAccess
    | MediaAccess
    | RedisAccess
    | ParameterAccess
    | MetricsAccess
    | UserPoolAccess
    | ConnectionsAccess
    | IdTokenAccess
)

# Tuning settings a function may read (FunctionSpec.reads), valued from the stage's StageConfig.
FANOUT_TIERS = ("popular_threshold", "celebrity_threshold")
TIMELINE_EXPIRY = ("inactive_after_s",)
TRENDS_TUNING = ("trend_min_accounts", "trend_ranked_ttl_s", "trend_new_account_s")
RATE_LIMITS = ("rate_limits",)
# What a function needs to act on the degradation level: both level parameters, read together.
KNOWS_LEVEL = (ParameterAccess("degradation_manual"), ParameterAccess("degradation_auto"))
# What an HTTP function needs for its guard (chirp.runtime.http_guard): the level, and the cache holding the rate
# limit counters with the operators' per-user limits mirrored next to them (never SSM per request).
GUARDED = (*KNOWS_LEVEL, RedisAccess())


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
    ephemeral_storage_mb: int | None = None  # /tmp beyond Lambda's default 512 MB (None: the default)
    # Layers under layers/<name>/ this function needs besides the shared dependencies (image libraries; "search":
    # OpenSearch's client, for every function that searches or indexes).
    extra_layers: tuple[str, ...] = ()
    # Restored from a snapshot on stages with SnapStart (the latency-sensitive ones: the API, the stream
    # consumers). Its code must register what to redo after a restore (chirp.runtime.snapstart).
    snap_start: bool = False
    # The StageConfig field holding the function's reserved concurrency: at most that many run at once (more are
    # throttled, so it sheds load there and never takes other functions' capacity), and that many are kept for it.
    # None: it draws on the account's unreserved pool.
    reserved_concurrency: str | None = None
    # Its code: functions/<code> (default: its name), entry point <entry>.lambda_handler. Functions of one folder
    # ship the same code (the REST API's core and discovery functions share their routers and guard).
    code: str | None = None
    entry: str = "handler"

    @property
    def code_dir(self) -> Path:
        return FUNCTIONS_DIR / (self.code or self.name)

    @property
    def handler(self) -> str:
        return f"{self.entry}.lambda_handler"

    @property
    def handler_file(self) -> Path:
        return self.code_dir / f"{self.entry}.py"

    def triggered_by[T](self, kind: type[T]) -> tuple[T, ...]:
        return tuple(trigger for trigger in self.triggers if isinstance(trigger, kind))


NEW_TWEETS = KinesisTrigger(stream="new_tweets", on_failure="consumer_failures")
SETS_POISON_ASIDE = QueueAccess("consumer_failures")  # every stream consumer sends unreadable records there
GET, BATCH_GET, QUERY = TableCall.GET, TableCall.BATCH_GET, TableCall.QUERY
ENGAGEMENT_INDEXES = ("likes_by_tweet", "retweets_by_tweet", "likes_by_user", "bookmarks_by_user")
PUT, UPDATE, DELETE, BATCH_WRITE = TableCall.PUT, TableCall.UPDATE, TableCall.DELETE, TableCall.BATCH_WRITE
# What pushing to connected clients needs (chirp.realtime): the connected index, the @connections API, and the
# connections table, to drop a connection found gone and to rebuild the index from it when Redis lost it (a scan).
PUSHES = (RedisAccess(), ConnectionsAccess(), TableAccess("connections", (DELETE, TableCall.SCAN)))
# What a push renders for the connections that speak Mastodon (chirp.mastodon.views, as the Mastodon API renders a
# status): authors' and mentioned accounts, a reply's parent and a retweet's original, counts missing from the
# cache, and media with their descriptions and signed URLs.
RENDERS_MASTODON = (
    TableAccess("social", (GET, BATCH_GET)),
    TableAccess("tweets", (BATCH_GET,)),
    TableAccess("engagements", (BATCH_GET,)),
    TableAccess("media", (BATCH_GET,)),
    TableAccess("clients", (BATCH_GET,)),
    MediaAccess(get="media/", put=None),
)

FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        name="health",
        description="GET /health: checks DynamoDB, Kinesis, Redis and OpenSearch from inside the VPC",
        # The schedule runs the same check for the UnhealthyDependencies alarm.
        triggers=(ResolverRoutes(), ScheduleTrigger(every_minutes=1)),
        grants=(
            TableAccess("tweets", (TableCall.DESCRIBE,)),
            TableAccess("social", (TableCall.DESCRIBE,)),
            StreamAccess("new_tweets", Access.DESCRIBE),
            RedisAccess(),
            SearchAccess(Access.DESCRIBE),
            *KNOWS_LEVEL,  # its guard: a public route is limited per client address (no user overrides)
        ),
        reads=RATE_LIMITS,
        reserved_concurrency="health_concurrency",
    ),
    FunctionSpec(
        name="api",
        description="The REST API: profiles, follows, tweets, user and home timelines, notifications, media",
        triggers=(ResolverRoutes(),),
        grants=(
            # A tweet is put (conditionally), marked published or deleted (updates), read alone or in batches
            # (timelines, search hits); an author's tweets are a query of the user_tweets index.
            # A retweet is put with its edge (one transaction); undoing it marks it deleted.
            TableAccess("tweets", (GET, BATCH_GET, PUT, UPDATE), indexes=("user_tweets",)),
            # Profiles and edges: transactions of puts, deletes and count updates; whom a user follows is a query
            # of the table, who follows them one of the inverted index.
            TableAccess("social", (GET, BATCH_GET, QUERY, PUT, UPDATE, DELETE), indexes=("inverted",)),
            # A follow's notification is put in the follow's transaction; GET /notifications reads them.
            TableAccess("notifications", (PUT, QUERY)),
            TableAccess("idempotency", (GET, PUT, UPDATE, DELETE)),  # Powertools' idempotency records
            TableAccess("leases", (PUT, UPDATE, DELETE)),  # its Snowflake worker slot: taken, renewed, released
            # Edges, counter shards and outbox entries: transactions of updates and puts; flags and sums are batch
            # reads; who liked or retweeted, and what a user liked, are queries of the sparse indexes; a published
            # event's outbox entry is deleted.
            TableAccess("engagements", (BATCH_GET, PUT, UPDATE, DELETE), indexes=ENGAGEMENT_INDEXES),
            StreamAccess("new_tweets", Access.WRITE),
            StreamAccess("engagements", Access.WRITE),
            # Signs uploads and the variants' URLs; attaching keeps the variants (removes their unattached tag).
            MediaAccess(put="uploads/", get="media/", untag="media/"),
            MediaAccess(put="videos/", get=None),  # ...and uploads of videos and GIFs
            # Tickets are put; read in batches (status, attaching, tweets' media); alt text set and media claimed by
            # conditional updates (a claim is one transaction of them).
            TableAccess("media", (BATCH_GET, PUT, UPDATE)),
            *PUSHES,  # a follow's notification, to the followee's connected clients (best effort)
            *GUARDED,
        ),
        # Follows move authors between tiers and rebuild timelines.
        reads=FANOUT_TIERS + TIMELINE_EXPIRY + RATE_LIMITS,
        reserved_concurrency="api_concurrency",
        snap_start=True,
    ),
    FunctionSpec(
        name="discovery",
        description="The REST API's search and trends, apart: a flood of them is shed here, not in the core API",
        code="api",
        entry="discovery",
        triggers=(ResolverRoutes(),),
        grants=(
            # Hits are hydrated like timeline entries: tweets, their authors' profiles, counts and the caller's
            # flags, in batches.
            TableAccess("tweets", (BATCH_GET,)),
            # Authors' profiles in batches; a from:/@handle looked up; whom the caller blocks or mutes (a query of
            # the caller's edges) and who blocks the caller (the inverted index), kept out of the results.
            TableAccess("social", (GET, BATCH_GET, QUERY), indexes=("inverted",)),
            TableAccess("engagements", (BATCH_GET,)),
            SearchAccess(Access.READ),
            ParameterAccess("trend_lists"),  # GET /trends ranks, leaving the operators' lists out
            TableAccess("media", (BATCH_GET,)),  # hits carry their media...
            MediaAccess(get="media/", put=None),  # ...with the variants' signed URLs
            *GUARDED,
        ),
        reads=RATE_LIMITS + TRENDS_TUNING,
        reserved_concurrency="discovery_concurrency",
        extra_layers=("search",),
        snap_start=True,
    ),
    FunctionSpec(
        name="mastodon",
        description="The Mastodon client API: sign-in, statuses, accounts, timelines, search, notifications, media",
        triggers=(ResolverRoutes(api="mastodon"),),
        timeout_s=30,  # the synchronous v1 upload waits for its variants
        grants=(
            # What the REST API does (it posts, reads and follows through the same services)...
            TableAccess("tweets", (GET, BATCH_GET, PUT, UPDATE), indexes=("user_tweets",)),
            TableAccess("social", (GET, BATCH_GET, QUERY, PUT, UPDATE, DELETE), indexes=("inverted",)),
            TableAccess("notifications", (PUT, QUERY)),
            TableAccess("idempotency", (GET, PUT, UPDATE, DELETE)),
            TableAccess("leases", (PUT, UPDATE, DELETE)),
            # Favourites and reblogs are likes and retweets: the same transactions, flags, counts and events.
            TableAccess("engagements", (BATCH_GET, PUT, UPDATE, DELETE), indexes=ENGAGEMENT_INDEXES),
            StreamAccess("new_tweets", Access.WRITE),
            StreamAccess("engagements", Access.WRITE),
            RedisAccess(),
            MediaAccess(put="uploads/", get="media/", untag="media/"),  # stores uploads where presigned ones land
            MediaAccess(put="videos/", get=None),
            TableAccess("media", (BATCH_GET, PUT, UPDATE)),  # the REST API's media calls
            SearchAccess(Access.READ),  # search and threads
            # ...and what clients register and hold: apps and tokens (issued, revoked), media descriptions, markers.
            TableAccess("clients", (GET, BATCH_GET, PUT, UPDATE, DELETE)),
            UserPoolAccess(),  # the password grant
            ParameterAccess("trend_lists"),  # GET /api/v1/trends/tags ranks like GET /trends
            *PUSHES,  # a follow's notification, to the followee's connected clients (best effort)
        ),
        reads=FANOUT_TIERS + TIMELINE_EXPIRY + TRENDS_TUNING + ("mastodon_streaming_url",),  # advertised
        extra_layers=("search",),
        snap_start=True,
    ),
    FunctionSpec(
        name="mastodon_auth",
        description="Checks the Mastodon API's bearer tokens (Chirp's own, hashed in the clients table)",
        triggers=(AuthorizerTrigger(api="mastodon"),),
        memory_mb=256,
        timeout_s=5,
        grants=(TableAccess("clients", (GET,)),),
        snap_start=True,
    ),
    FunctionSpec(
        name="engagements",
        description="engagements consumer: refreshes cached counts, delivers retweets, aggregates notifications",
        # One batch at a time per shard: a tweet's aggregated notification is updated by one invocation at once
        # (its version condition makes a race safe; this makes it rare).
        triggers=(KinesisTrigger(stream="engagements", on_failure="consumer_failures", parallelization_factor=1),),
        timeout_s=60,
        grants=(
            TableAccess("engagements", (BATCH_GET,)),  # the edges as they stand, the counter shards to sum
            # A retweet goes through the fan-out: the author's tier, their followers' pages, a celebrity's recent
            # tweets when Redis lost them; mentions are not read here.
            # A retweet's push: batch checks of connected users' follows and mutes.
            TableAccess("social", (GET, BATCH_GET), indexes=("inverted",)),
            TableAccess("tweets", indexes=("user_tweets",)),
            # Aggregated notifications: the state read, then one transaction (state, old and new notification).
            TableAccess("notifications", (GET, PUT, DELETE)),
            QueueAccess("fanout_pages"),
            *PUSHES,  # Redis too
            *RENDERS_MASTODON,
            SETS_POISON_ASIDE,
        ),
        reads=FANOUT_TIERS + TIMELINE_EXPIRY,
        snap_start=True,
    ),
    FunctionSpec(
        name="tweet_counter",
        description="new-tweets consumer: counts replies and quotes on their parent tweets, once each",
        triggers=(NEW_TWEETS,),
        grants=(
            # A marker per reply or quote and the parent's counter shard in one transaction (put or update each),
            # then the parent's sums read back.
            TableAccess("engagements", (BATCH_GET, PUT, UPDATE)),
            RedisAccess(),  # the parent's heat, and its cached counts
            SETS_POISON_ASIDE,
        ),
        snap_start=True,
    ),
    FunctionSpec(
        name="fanout",
        description="new-tweets consumer: delivers tweets into home timelines (hybrid push/pull)",
        # The schedule pushes tweets deferred while fan-out on write was off (degradation level 3), even when no
        # new tweet arrives to trigger it.
        triggers=(NEW_TWEETS, ScheduleTrigger(every_minutes=1)),
        timeout_s=60,
        grants=(
            TableAccess("social", (GET,), indexes=("inverted",)),  # the author's tier, then their followers' pages
            # A celebrity's recent tweets when Redis lost them; deferred tweets, read back in batches to push them;
            # each tweet received is confirmed published (its outbox mark removed: an update).
            TableAccess("tweets", (BATCH_GET, UPDATE), indexes=("user_tweets",)),
            RedisAccess(),
            QueueAccess("fanout_pages"),
            SETS_POISON_ASIDE,
            *KNOWS_LEVEL,
        ),
        reads=FANOUT_TIERS + TIMELINE_EXPIRY,
        snap_start=True,
    ),
    FunctionSpec(
        name="indexer",
        description="new-tweets consumer: indexes tweets in OpenSearch (one bulk request per batch)",
        # Retried while the cluster is down, for up to six hours; older batches go to index_failures, whose
        # records search_repair reads again within the stream's remaining retention.
        triggers=(
            KinesisTrigger(
                stream="new_tweets",
                on_failure="index_failures",
                retry_attempts=10_000,
                max_record_age_s=6 * 3600,
                max_batching_window_s=0,  # searchable within a second: no waiting to fill a batch
            ),
        ),
        timeout_s=60,
        grants=(SearchAccess(Access.WRITE), SETS_POISON_ASIDE),
        extra_layers=("search",),
        snap_start=True,
    ),
    FunctionSpec(
        name="trends",
        description="new-tweets consumer: counts distinct accounts per hashtag in rolling buckets for trends",
        triggers=(NEW_TWEETS,),
        grants=(TableAccess("social", (BATCH_GET,)), RedisAccess(), SETS_POISON_ASIDE, *KNOWS_LEVEL),  # ages
        reads=TRENDS_TUNING,
        snap_start=True,
    ),
    FunctionSpec(
        name="notifier",
        description="new-tweets consumer: raises mention and reply notifications; pushes tweets, deletions and "
        "notifications to connected clients (WebSocket)",
        # No batching window: a push is worth as much as it is quick. A record older than ten minutes is given up
        # (its notifications were raised by then; clients read their timeline when they reconnect).
        triggers=(
            KinesisTrigger(
                stream="new_tweets", on_failure="consumer_failures", max_batching_window_s=0, max_record_age_s=600
            ),
        ),
        timeout_s=60,
        grants=(
            TableAccess("tweets", (GET,)),  # the parent of a reply
            # Mentioned handles, blocks and mutes; for a push the author's follower count and pages, and batch
            # checks of connected users' follows and mutes.
            TableAccess("social", (GET, BATCH_GET), indexes=("inverted",)),
            TableAccess("notifications", (BATCH_WRITE,)),
            *PUSHES,
            *RENDERS_MASTODON,
            SETS_POISON_ASIDE,
        ),
        snap_start=True,
    ),
    FunctionSpec(
        name="realtime",
        description="The WebSocket API: $connect (the REST API's ID tokens or Mastodon's), subscribe, $default "
        "(Mastodon's frames), $disconnect",
        triggers=(WebSocketRoutes(actions=("subscribe", "$default")),),
        memory_mb=256,
        timeout_s=10,
        grants=(
            TableAccess("connections", (GET, PUT, DELETE)),  # the truth about connections
            RedisAccess(),  # the connected index
            IdTokenAccess(),
            TableAccess("clients", (GET,)),  # Mastodon access tokens, by their hash (chirp.oauth)
            ConnectionsAccess(),  # answers to a client's frames
        ),
        reads=("mastodon_base_url",),  # what a Mastodon connection's entities link to, on AWS
    ),
    FunctionSpec(
        name="fanout_worker",
        description="Pushes pages of a popular author's followers, handed over through SQS",
        triggers=(SqsTrigger(queue="fanout_pages"),),
        timeout_s=60,
        grants=(RedisAccess(),),  # a page names its followers: pushing it reads no table
        reads=TIMELINE_EXPIRY,
    ),
    FunctionSpec(
        name="transcoder",
        description="S3 uploads/ -> WebP variants (metadata stripped) and meta.json under media/",
        triggers=(S3Trigger(bucket="media", prefix="uploads/"),),
        memory_mb=1536,  # a 40-megapixel image decodes to several hundred MB
        timeout_s=60,
        grants=(
            MediaAccess(get="uploads/", put="media/", tagged=True),  # variants tagged unattached until attached
            TableAccess("media", (UPDATE,)),  # records the outcome on the upload's ticket (if it exists)
        ),
        extra_layers=("media",),
    ),
    FunctionSpec(
        name="video_transcoder",
        description="S3 videos/ -> H.264/AAC mp4 at 360p, 720p, 1080p (those the source has) and a poster",
        triggers=(S3Trigger(bucket="media", prefix="videos/"),),
        # The longest allowed video (140 s, 512 MiB) at 1080p, into all three renditions in one pass: measured 331 MB
        # peak, the same at half the length (streamed), and 0.96 s of work per s of input on two cores, so about
        # 134 s (bench/media_video.py). Memory is sized for CPU: 3,008 MB buys Lambda's second vCPU, which x264
        # uses; 900 s leaves 6x for slower cores. The source and every rendition sit in /tmp at once (512 MiB plus
        # a few hundred MB at the renditions' bitrates): 2 GB.
        memory_mb=3008,
        timeout_s=900,
        ephemeral_storage_mb=2048,
        grants=(
            MediaAccess(get="videos/", put="media/", tagged=True),
            TableAccess("media", (UPDATE,)),  # records the outcome on the upload's ticket (if it exists)
        ),
        extra_layers=("media", "video"),
    ),
    FunctionSpec(
        name="outbox_relay",
        description="Re-publishes stored tweets and engagement events whose publish was never confirmed",
        triggers=(ScheduleTrigger(every_minutes=1),),
        timeout_s=60,
        grants=(
            # The outbox index's pending ids, each tweet read, published, and its mark cleared.
            TableAccess("tweets", (GET, UPDATE), indexes=("outbox",)),
            StreamAccess("new_tweets", Access.WRITE),
            # Engagement events in the outbox partitions: queried, published, deleted.
            TableAccess("engagements", (QUERY, DELETE)),
            StreamAccess("engagements", Access.WRITE),
        ),
    ),
    FunctionSpec(
        name="search_repair",
        description="Redrives batches the indexer gave up on, and reindexes tweets from DynamoDB when invoked",
        triggers=(SqsTrigger(queue="index_failures", batch_size=1),),
        timeout_s=300,
        grants=(
            TableAccess("tweets", (BATCH_GET, TableCall.SCAN)),  # the tweets of a failed batch; a reindex scans
            StreamAccess("new_tweets", Access.READ),  # a failed batch's records, read again
            SearchAccess(Access.WRITE),
        ),
        extra_layers=("search",),
    ),
    FunctionSpec(
        name="degradation_controller",
        description="Sets the automatic degradation level from the API's latency and errors and the fan-out's lag",
        triggers=(ScheduleTrigger(every_minutes=1),),
        grants=(
            ParameterAccess("degradation_manual"),  # reported: the operator's level wins
            ParameterAccess("degradation_auto"),
            ParameterAccess("degradation_auto", Access.WRITE),
            MetricsAccess(),
        ),
        reads=("controller_tuning",),
        # One run at a time: two would read the same state and write over each other.
        reserved_concurrency="controller_concurrency",
    ),
    FunctionSpec(
        name="limit_overrides",
        description="Mirrors the per-user rate limit overrides operators set in SSM into Redis, every minute",
        triggers=(ScheduleTrigger(every_minutes=1),),
        grants=(ParameterAccess("limit_overrides"), RedisAccess()),
    ),
    FunctionSpec(
        name="search_schema",
        description="On deploy: creates the tweets index or updates its mapping, before anything reads it",
        triggers=(
            DeployTrigger(
                resource_type="Custom::SearchSchema",
                inputs=("shared/chirp/search/schema.py",),
                before=("indexer", "api", "discovery"),
            ),
        ),
        timeout_s=120,
        grants=(SearchAccess(Access.SCHEMA),),
        extra_layers=("search",),
    ),
)


def consumer_failure_queues() -> list[str]:
    """The queues stream consumers hand the records they gave up on to (watched by an alarm)."""
    return sorted({trigger.on_failure for spec in FUNCTIONS for trigger in spec.triggered_by(KinesisTrigger)})


def dead_letter_queue(queue: Queue) -> str:
    """The name of the dead-letter queue of `queue` (which must declare one)."""
    if queue.dead_letter is None:
        raise ValueError(f"queue {queue.name!r} declares no dead-letter queue")
    return f"{queue.name}_failed"


def failure_queues() -> list[str]:
    """Every queue whose messages are work that failed: the consumers' failure queues and every dead-letter queue.
    Each is watched by an alarm on its depth."""
    dead_letters = [dead_letter_queue(queue) for queue in QUEUES if queue.dead_letter]
    return sorted({*consumer_failure_queues(), *dead_letters})
