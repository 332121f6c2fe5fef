"""Every Lambda in the catalog: shared layers, one least-privilege role each, environment, triggers."""

from __future__ import annotations

import hashlib

from aws_cdk import CustomResource, Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as aws_lambda
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import bundling
from infra.capabilities.auth import Auth
from infra.capabilities.cache import Cache
from infra.capabilities.data import Data
from infra.capabilities.media import Media
from infra.capabilities.network import Network
from infra.capabilities.search import Search
from infra.catalog import FUNCTIONS, ROOT, FunctionSpec
from infra.config import StageConfig


class Functions(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        network: Network,
        data: Data,
        cache: Cache,
        search: Search,
        auth: Auth,
        media: Media,
    ):
        super().__init__(scope, construct_id)
        self.config, self.network, self.data, self.cache, self.search = config, network, data, cache, search
        self.auth, self.media = auth, media
        self.layers = [
            aws_lambda.LayerVersion(
                self,
                "Dependencies",
                code=bundling.dependencies_layer_code(),
                compatible_runtimes=[bundling.RUNTIME],
                description="Pinned third-party packages (layers/deps/requirements.txt)",
            ),
            aws_lambda.LayerVersion(
                self,
                "Domain",
                code=bundling.domain_layer_code(),
                compatible_runtimes=[bundling.RUNTIME],
                description="The chirp domain package (shared/chirp)",
            ),
        ]
        # Records a consumer gave up on (retries exhausted or too old) land here, never silently lost.
        self.consumer_dlq = self._queue("ConsumerFailures", retention=Duration.days(14))
        # The popular tier's follower pages; a page that keeps failing moves to its dead-letter queue.
        self.fanout_pages_dlq = self._queue("FanoutPagesFailed", retention=Duration.days(14))
        self.fanout_pages = self._queue(
            "FanoutPages",
            visibility_timeout=Duration.minutes(6),  # six times the worker's timeout, as AWS advises
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=5, queue=self.fanout_pages_dlq),
        )
        self.functions: dict[str, aws_lambda.Function] = {spec.name: self._function(spec) for spec in FUNCTIONS}
        for spec in FUNCTIONS:
            if spec.deploy:
                self._run_on_deploy(spec)

    def _queue(self, construct_id: str, retention: Duration | None = None, **options) -> sqs.Queue:
        return sqs.Queue(
            self,
            construct_id,
            retention_period=retention,
            encryption=sqs.QueueEncryption.KMS_MANAGED,
            enforce_ssl=True,
            **options,
        )

    def environment(self) -> dict[str, str]:
        env = {
            "CHIRP_STAGE": self.config.name,
            "POWERTOOLS_SERVICE_NAME": "chirp",
            "POWERTOOLS_METRICS_NAMESPACE": "Chirp",
            "POWERTOOLS_TRACE_DISABLED": str(not self.config.tracing).lower(),
            "TWEETS_TABLE": self.data.tweets.table_name,
            "SOCIAL_TABLE": self.data.social.table_name,
            "IDEMPOTENCY_TABLE": self.data.idempotency.table_name,
            "NEW_TWEETS_STREAM": self.data.new_tweets.stream_name,
            "FANOUT_QUEUE_URL": self.fanout_pages.queue_url,
            "MEDIA_BUCKET": self.media.bucket.bucket_name,
            "REDIS_HOST": self.cache.host,
            "REDIS_PORT": self.cache.port,
            "REDIS_TLS": str(self.config.redis_tls_and_auth).lower(),
            "OPENSEARCH_ENDPOINT": self.search.endpoint,
            "OPENSEARCH_SCHEME": "https" if self.config.opensearch_https_sigv4 else "http",
            "OPENSEARCH_SIGV4": str(self.config.opensearch_https_sigv4).lower(),
            "TWEETS_INDEX_REPLICAS": str(self.config.opensearch_data_nodes - 1),
            "USER_POOL_ID": self.auth.user_pool.user_pool_id,
            "USER_POOL_CLIENT_ID": self.auth.client.user_pool_client_id,
            "POPULAR_THRESHOLD": str(self.config.popular_threshold),
            "CELEBRITY_THRESHOLD": str(self.config.celebrity_threshold),
            "INACTIVE_AFTER_S": str(self.config.inactive_after_s),
        }
        if self.cache.auth_secret is not None:
            env["REDIS_AUTH_SECRET_ARN"] = self.cache.auth_secret.secret_arn
        return env

    def _function(self, spec: FunctionSpec) -> aws_lambda.Function:
        role = iam.Role(
            self,
            f"{spec.name}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Chirp {spec.name}: only what its catalog grants name",
        )
        log_group = logs.LogGroup(
            self, f"{spec.name}Logs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=self.config.removal_policy
        )
        function = aws_lambda.Function(
            self,
            spec.name,
            description=spec.description,
            runtime=bundling.RUNTIME,
            architecture=aws_lambda.Architecture.X86_64,
            handler=spec.handler,
            code=aws_lambda.Code.from_asset(str(spec.code_dir), exclude=["__pycache__", "*.pyc"]),
            layers=self.layers,
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_s),
            environment=self.environment(),
            role=role,
            log_group=log_group,
            vpc=self.network.vpc,
            vpc_subnets=self.network.private_subnets,
            security_groups=[self.network.lambda_sg],
            tracing=aws_lambda.Tracing.ACTIVE if self.config.tracing else aws_lambda.Tracing.DISABLED,
        )
        self._grant_basics(role, log_group)
        self._grant(spec, function)
        self._add_triggers(spec, function)
        return function

    def _grant_basics(self, role: iam.Role, log_group: logs.LogGroup) -> None:
        log_group.grant_write(role)
        # ENI management for VPC placement; these actions support no resource scoping.
        role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "ec2:CreateNetworkInterface",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DeleteNetworkInterface",
                    "ec2:AssignPrivateIpAddresses",
                    "ec2:UnassignPrivateIpAddresses",
                ],
                resources=["*"],
            )
        )
        if self.config.tracing:
            role.add_to_policy(
                iam.PolicyStatement(actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources=["*"])
            )
        if self.cache.auth_secret is not None:
            self.cache.auth_secret.grant_read(role)

    def _grant(self, spec: FunctionSpec, function: aws_lambda.Function) -> None:
        data, role = self.data, function.role
        tables = {"tweets": data.tweets, "social": data.social, "idempotency": data.idempotency}
        for grant in spec.grants:
            resource, _, access = grant.partition(":")
            if resource == "tables" and access == "describe":
                for table in (data.tweets, data.social):
                    table.grant(role, "dynamodb:DescribeTable")
            elif resource in tables:
                {"read": tables[resource].grant_read_data, "write": tables[resource].grant_read_write_data}[access](
                    role
                )
            elif resource == "stream":
                {
                    "describe": lambda: data.new_tweets.grant(role, "kinesis:DescribeStreamSummary"),
                    "write": lambda: data.new_tweets.grant_write(role),
                }[access]()
            elif resource == "opensearch":
                self._grant_search(access, role)
            elif resource == "media":
                self._grant_media(access, role)
            elif resource == "fanout_queue":
                self.fanout_pages.grant_send_messages(role)
            elif resource == "userpool":
                role.add_to_policy(
                    iam.PolicyStatement(
                        actions=["cognito-idp:AdminGetUser"], resources=[self.auth.user_pool.user_pool_arn]
                    )
                )
            elif resource != "redis":  # Redis access is by network placement and AUTH token, not IAM
                raise ValueError(f"{spec.name}: unknown grant {grant!r}")

    # The exact calls of each search access but "write" (the indexer's bulk writes and index checks).
    _SEARCH_CALLS = {
        "health": (("es:ESHttpGet", "_cluster/health"),),
        "search": (("es:ESHttpPost", "tweets/_search"),),
        "schema": (
            ("es:ESHttpPut", "tweets"),
            ("es:ESHttpPut", "tweets/_mapping"),
            ("es:ESHttpGet", "_cluster/health/tweets"),
        ),
    }

    def _grant_search(self, access: str, role: iam.IRole) -> None:
        """Path-scoped where a function makes a few known calls: health, search, the deploy's schema."""
        if access == "write":
            self.search.domain.grant_read_write(role)
            return
        arn = self.search.domain.domain_arn
        for action, path in self._SEARCH_CALLS[access]:
            role.add_to_principal_policy(iam.PolicyStatement(actions=[action], resources=[f"{arn}/{path}"]))

    def _grant_media(self, access: str, role: iam.IRole) -> None:
        """Prefix-scoped, exact actions: the API signs uploads and reads results; the transcoder reads
        uploads and writes results."""
        bucket = self.media.bucket
        put, get = {"presign": ("uploads/*", "media/*"), "transcode": ("media/*", "uploads/*")}[access]
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["s3:PutObject"], resources=[bucket.arn_for_objects(put)])
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["s3:GetObject"], resources=[bucket.arn_for_objects(get)])
        )

    def _add_triggers(self, spec: FunctionSpec, function: aws_lambda.Function) -> None:
        if spec.kinesis:
            trigger = spec.kinesis
            function.add_event_source(
                sources.KinesisEventSource(
                    self.data.new_tweets,
                    starting_position=aws_lambda.StartingPosition.TRIM_HORIZON,
                    batch_size=trigger.batch_size,
                    max_batching_window=Duration.seconds(trigger.max_batching_window_s),
                    report_batch_item_failures=True,
                    bisect_batch_on_error=True,
                    retry_attempts=trigger.retry_attempts,
                    max_record_age=Duration.seconds(trigger.max_record_age_s),
                    parallelization_factor=trigger.parallelization_factor,
                    on_failure=sources.SqsDlq(self.consumer_dlq),
                )
            )
        if spec.sqs:
            function.add_event_source(
                sources.SqsEventSource(
                    self.fanout_pages,
                    batch_size=spec.sqs.batch_size,
                    report_batch_item_failures=True,
                )
            )
        if spec.schedule:
            events.Rule(
                self,
                f"{spec.name}Schedule",
                schedule=events.Schedule.rate(Duration.minutes(spec.schedule.every_minutes)),
                targets=[targets.LambdaFunction(function)],
            )
        if spec.s3:
            self.media.bucket.add_event_notification(
                s3.EventType.OBJECT_CREATED,
                s3n.LambdaDestination(function),
                s3.NotificationKeyFilter(prefix=spec.s3.prefix),
            )

    def _run_on_deploy(self, spec: FunctionSpec) -> None:
        function = self.functions[spec.name]
        digest = hashlib.sha256()
        for path in spec.deploy.inputs:
            digest.update((ROOT / path).read_bytes())
        resource = CustomResource(
            self,
            f"{spec.name}OnDeploy",
            service_token=function.function_arn,
            resource_type=spec.deploy.resource_type,
            properties={"InputsDigest": digest.hexdigest()},
            # An answer lost for any reason fails the deploy after this, not after CloudFormation's hour.
            service_timeout=Duration.seconds(spec.timeout_s + 60),
        )
        # Called only once its grants, the domain with its security rules, and the VPC's route to S3 (where
        # the answer goes) all exist.
        resource.node.add_dependency(function.role, self.search, self.network)
        for name in spec.deploy.before:
            self.functions[name].node.add_dependency(resource)

    def consumers(self) -> dict[str, aws_lambda.Function]:
        return {spec.name: self.functions[spec.name] for spec in FUNCTIONS if spec.kinesis}
