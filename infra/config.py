"""Stages. Every way the local cloud differs from AWS is a field here, named once, and nowhere else."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace

from aws_cdk import RemovalPolicy

from infra.catalog import ROOT

if str(ROOT / "shared") not in sys.path:
    sys.path.append(str(ROOT / "shared"))

from chirp.settings import DEFAULT_RATE_LIMITS


@dataclass(frozen=True)
class StageConfig:
    name: str
    # Encryption in transit and AUTH on the cache: the local stand-in is a plain loopback redis-server.
    redis_tls_and_auth: bool
    # AWS serves OpenSearch over HTTPS with SigV4; locally the endpoint is a plain-HTTP OpenSearch.
    opensearch_https_sigv4: bool
    # Resources the local emulator rejects (AWS::EC2::FlowLog) or cannot run (Node.js log-publishing
    # custom resource of the OpenSearch domain): created on AWS only.
    vpc_flow_logs: bool
    opensearch_slow_logs: bool
    # X-Ray has no local daemon.
    tracing: bool
    # Lambda SnapStart for the functions the catalog marks: restored from a snapshot of their initialised
    # environment instead of a cold start. Needs published versions (an alias per function); none locally.
    snap_start: bool
    # CloudFront in front of the media bucket: MiniStack does not serve a distribution, so locally media URLs are
    # the bucket's presigned GETs.
    media_cdn: bool
    # Layers' pure-Python packages as one zip each (zipimport) or as files. Locally zips: MiniStack extracts every
    # layer at every cold start, and one zip instead of thousands of files is what makes that cheap. On AWS files:
    # Lambda extracts a layer once per execution environment, and zipimport slows every import of every init.
    zipped_layers: bool
    # Every REST API but Chirp's own in a nested stack of its own: CloudFormation allows a stack 500 resources and a
    # REST API costs about three a route. Not locally: MiniStack updates a nested stack without the attributes of
    # its unchanged resources (a REST API's RootResourceId, read by every route: the update fails), and it has no
    # such limit to stay under.
    nested_apis: bool
    # NAT gateways for the functions' egress beyond the DynamoDB, S3 and Kinesis endpoints: the WebSocket API's
    # @connections (no VPC endpoint serves it), Cognito's JWKS, SQS, Secrets Manager, SSM and CloudWatch. 0 only
    # locally: isolated subnets (the emulator ignores the VPC; its Lambdas reach every API directly).
    nat_gateways: int
    # Sizes.
    redis_node_type: str
    redis_replicas: int  # per shard
    # ElastiCache cluster mode: 0 keeps it off (one primary); N >= 3 shards the keys over N primaries (redis-py's
    # RedisCluster client then routes by slot). Locally `make dev REDIS=cluster` deploys with 3 (real redis-server
    # masters the launcher starts: the emulator's ElastiCache gives one endpoint).
    redis_shards: int
    opensearch_instance_type: str
    opensearch_data_nodes: int
    kinesis_shards: int
    removal_policy: RemovalPolicy
    # Fan-out tiers by follower count: small locally so tests cross them.
    popular_threshold: int
    celebrity_threshold: int
    # Rate limits per endpoint class (chirp.limits), `count/window`: the tiers every user gets unless an operator
    # set others for them (SSM limits/users/<user id>).
    rate_limits: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_RATE_LIMITS))
    # Reserved concurrency (FunctionSpec.reserved_concurrency): posting and home timelines keep their capacity
    # whatever search, trends or /health are sent; the controller runs alone.
    api_concurrency: int = 500
    discovery_concurrency: int = 100
    health_concurrency: int = 10
    controller_concurrency: int = 1
    # How long a function keeps the runtime parameters (degradation level, limit overrides) before reading again.
    runtime_config_ttl_s: float = 30
    # GET /trends recomputes the ranking when the one kept is older than this (trends refresh, degradation level 0).
    # The degradation controller's thresholds and hysteresis (chirp.degradation.controller.Tuning; {}: its
    # defaults).
    controller_tuning: dict = field(default_factory=dict)
    # Home timelines of users unseen for this long expire: no pushes to them, rebuilt on return.
    inactive_after_s: int = 7 * 86_400
    # Trends: distinct trusted accounts in an hour a tag needs; how long a ranking is served; how young an
    # account counts for less (locally 0: the tests' accounts are all seconds old).
    trend_min_accounts: int = 10
    trend_ranked_ttl_s: int = 60
    trend_new_account_s: int = 86_400
    # The custom domain whose root serves the Mastodon client API, and the ACM certificate for it (same
    # region). Without a domain the API is reachable at its execute-api URL only, where clients that append
    # paths to a host (toot's paging) break. Locally the domain is a name MiniStack routes by (the local
    # cloud's host-root proxy sends it as Host) and the certificate a placeholder the emulator never checks.
    mastodon_domain: str | None = None
    mastodon_certificate_arn: str | None = None
    # The custom domain serving the Mastodon streaming API (the WebSocket API, mapped at `api/v1/streaming`): API
    # Gateway cannot map a WebSocket API to the REST API's domain. Its certificate is mastodon_certificate_arn,
    # which must cover this name too. None: the instance advertises its own domain, where nothing streams on AWS.
    mastodon_streaming_domain: str | None = None

    @property
    def mastodon_streaming_url(self) -> str:
        """What the Mastodon API advertises as its streaming API ("": its own address, as locally)."""
        return f"wss://{self.mastodon_streaming_domain}" if self.mastodon_streaming_domain else ""

    @property
    def mastodon_base_url(self) -> str:
        """The Mastodon instance URL streaming entities link to when clients stream through another domain."""
        return f"https://{self.mastodon_domain}" if self.mastodon_streaming_domain else ""


LOCAL = StageConfig(
    name="local",
    redis_tls_and_auth=False,
    opensearch_https_sigv4=False,
    vpc_flow_logs=False,
    opensearch_slow_logs=False,
    tracing=False,
    snap_start=False,
    media_cdn=False,
    zipped_layers=True,
    nested_apis=False,
    nat_gateways=0,
    redis_node_type="cache.t4g.micro",
    redis_replicas=0,
    redis_shards=0,
    opensearch_instance_type="t3.small.search",
    opensearch_data_nodes=1,
    kinesis_shards=1,
    removal_policy=RemovalPolicy.DESTROY,
    popular_threshold=5,
    celebrity_threshold=10,
    trend_min_accounts=5,
    trend_ranked_ttl_s=2,
    trend_new_account_s=0,
    mastodon_domain="mastodon.chirp.test",
    mastodon_certificate_arn="arn:aws:acm:us-east-1:000000000000:certificate/local-placeholder",
    # Small and short so that tests cross them in seconds and recover in seconds (GCRA: one request back every
    # window/count); the benchmarks and the load run raise their users' limits (SSM overrides) instead.
    rate_limits={
        "tweets": "30/1m",
        "likes": "60/1m",
        "follows": "30/1m",
        "home": "120/1m",
        "search": "60/1m",
        "default": "300/1m",
        "anonymous": "120/1m",
    },
    # Every local function shares two cores: the API may run 40 at once (the load run's 30 users and their probes),
    # discovery 3 (a search flood is throttled there), /health 3.
    api_concurrency=40,
    discovery_concurrency=3,
    health_concurrency=3,
    runtime_config_ttl_s=2,
    # A minute of signals (the e2e test feeds them and waits them out), and two calm runs to step down.
    controller_tuning={"window_s": 60, "calm_runs": 2, "min_requests": 10},
)


def aws_stage(
    name: str,
    mastodon_domain: str | None = None,
    mastodon_certificate_arn: str | None = None,
    mastodon_streaming_domain: str | None = None,
) -> StageConfig:
    if bool(mastodon_domain) != bool(mastodon_certificate_arn):
        raise ValueError(
            "a Mastodon domain needs its certificate: set both mastodon_domain and mastodon_certificate_arn"
        )
    if mastodon_streaming_domain and not mastodon_domain:
        raise ValueError("a Mastodon streaming domain needs the Mastodon domain (and its certificate) too")
    return StageConfig(
        mastodon_domain=mastodon_domain or None,
        mastodon_certificate_arn=mastodon_certificate_arn or None,
        mastodon_streaming_domain=mastodon_streaming_domain or None,
        name=name,
        redis_tls_and_auth=True,
        opensearch_https_sigv4=True,
        vpc_flow_logs=True,
        opensearch_slow_logs=True,
        tracing=True,
        snap_start=True,
        media_cdn=True,
        zipped_layers=False,
        nested_apis=True,
        nat_gateways=1,
        redis_node_type="cache.r7g.large",
        redis_replicas=1,
        redis_shards=3,
        opensearch_instance_type="r6g.large.search",
        opensearch_data_nodes=2,
        kinesis_shards=2,
        removal_policy=RemovalPolicy.RETAIN,
        popular_threshold=10_000,
        celebrity_threshold=100_000,
    )


def stage_config(name: str, redis_shards: str | int | None = None, **aws_options: str | None) -> StageConfig:
    """The stage's configuration; an AWS stage takes its Mastodon domain and certificate from `aws_options`
    (the app reads them from the CDK context: `-c mastodon_domain=... -c mastodon_certificate_arn=...`). Any
    stage takes its Redis shard count from `-c redis_shards=N`: 0 for one primary, at least 3 for cluster mode."""
    config = LOCAL if name == "local" else aws_stage(name, **aws_options)
    if redis_shards is None:
        return config
    shards = str(redis_shards)
    if not shards.isdigit() or int(shards) in (1, 2) or int(shards) > 500:
        raise ValueError(f"redis_shards={redis_shards!r}: 0 (cluster mode off) or 3 to 500 shards")
    return replace(config, redis_shards=int(shards))
