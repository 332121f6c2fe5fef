"""Every Lambda in the catalog: shared layers, one least-privilege role each, an environment of exactly the
settings its grants and reads call for, and the triggers it names."""

from __future__ import annotations

import hashlib
import json

from aws_cdk import Aws, CustomResource, Duration, Size
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as aws_lambda
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from constructs import Construct

from infra import bundling, settings
from infra.capabilities.data import Data
from infra.capabilities.grants import Grants
from infra.capabilities.media import Media
from infra.capabilities.network import Network
from infra.capabilities.queues import Queues
from infra.capabilities.search import Search
from infra.capabilities.websocket import WebSocket
from infra.catalog import (
    FUNCTIONS,
    ROOT,
    AuthorizerTrigger,
    DeployTrigger,
    FunctionSpec,
    KinesisTrigger,
    ResolverRoutes,
    S3Trigger,
    ScheduleTrigger,
    SqsTrigger,
    Trigger,
    WebSocketRoutes,
)
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
        queues: Queues,
        search: Search,
        media: Media,
        grants: Grants,
        websocket: WebSocket,
    ):
        super().__init__(scope, construct_id)
        self.config, self.network, self.data, self.queues = config, network, data, queues
        self.websocket = websocket
        self.search, self.media, self.grants = search, media, grants
        self.layers = [
            aws_lambda.LayerVersion(
                self,
                "Dependencies",
                code=bundling.dependencies_layer_code("deps", config.zipped_layers),
                compatible_runtimes=[bundling.RUNTIME],
                description="Pinned third-party packages (layers/deps/requirements.txt)",
            ),
            aws_lambda.LayerVersion(
                self,
                "Domain",
                code=bundling.domain_layer_code(config.zipped_layers),
                compatible_runtimes=[bundling.RUNTIME],
                description="The chirp domain package (shared/chirp)",
            ),
        ]
        # Layers only some functions need (the catalog's FunctionSpec.extra_layers), built once each.
        self.extra_layers = {
            name: aws_lambda.LayerVersion(
                self,
                f"{name.title()}Layer",
                code=bundling.dependencies_layer_code(name, config.zipped_layers),
                compatible_runtimes=[bundling.RUNTIME],
                description=f"Pinned packages of layers/{name}/requirements.txt",
            )
            for name in sorted({layer for spec in FUNCTIONS for layer in spec.extra_layers})
        }
        # Every function's settings by variable: the union is what a shell needs to act as any of them.
        self.settings_environment: dict[str, str] = {}
        self.functions: dict[str, aws_lambda.Function] = {spec.name: self._function(spec) for spec in FUNCTIONS}
        # What triggers invoke: the function, or with SnapStart its published version's alias (snapshots exist
        # only for published versions).
        self.targets: dict[str, aws_lambda.IFunction] = {
            spec.name: self._target(spec, self.functions[spec.name]) for spec in FUNCTIONS
        }
        grants.functions.update(self.functions)
        for spec in FUNCTIONS:
            for trigger in spec.triggers:
                self._connect(spec, trigger)

    def _powertools_environment(self) -> dict[str, str]:
        """Powertools' own variables (not Chirp settings): every function logs, traces and publishes metrics."""
        return {
            "POWERTOOLS_SERVICE_NAME": "chirp",
            "POWERTOOLS_METRICS_NAMESPACE": "Chirp",
            "POWERTOOLS_TRACE_DISABLED": str(not self.config.tracing).lower(),
        }

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
        self._grant_basics(role, log_group)
        spec_settings: dict[str, str] = {}
        for grant in spec.grants:
            spec_settings.update(self.grants.apply(grant, role))
        spec_settings.update({field: _setting_value(getattr(self.config, field)) for field in spec.reads})
        environment = settings.variables(spec_settings)
        self.settings_environment.update(environment)
        return aws_lambda.Function(
            self,
            spec.name,
            description=spec.description,
            runtime=bundling.RUNTIME,
            architecture=aws_lambda.Architecture.X86_64,
            handler=spec.handler,
            code=bundling.function_code(spec.code_dir),
            layers=[*self.layers, *(self.extra_layers[name] for name in spec.extra_layers)],
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_s),
            ephemeral_storage_size=Size.mebibytes(spec.ephemeral_storage_mb) if spec.ephemeral_storage_mb else None,
            environment={**self._powertools_environment(), **environment},
            role=role,
            log_group=log_group,
            vpc=self.network.vpc,
            vpc_subnets=self.network.private_subnets,
            security_groups=[self.network.lambda_sg],
            tracing=aws_lambda.Tracing.ACTIVE if self.config.tracing else aws_lambda.Tracing.DISABLED,
            snap_start=aws_lambda.SnapStartConf.ON_PUBLISHED_VERSIONS if self._snap_starts(spec) else None,
            reserved_concurrent_executions=(
                getattr(self.config, spec.reserved_concurrency) if spec.reserved_concurrency else None
            ),
        )

    def _snap_starts(self, spec: FunctionSpec) -> bool:
        return self.config.snap_start and spec.snap_start

    def _target(self, spec: FunctionSpec, function: aws_lambda.Function) -> aws_lambda.IFunction:
        if not self._snap_starts(spec):
            return function
        return aws_lambda.Alias(self, f"{spec.name}Live", alias_name="live", version=function.current_version)

    def _grant_basics(self, role: iam.Role, log_group: logs.LogGroup) -> None:
        log_group.grant_write(role)
        # ENI management for VPC placement (what Lambda does with the role), as tightly as IAM allows: ENIs are
        # created only in the functions' subnets with their security group; ENIs of the account may be deleted
        # and have addresses (un)assigned; describing them takes no resource ARN.
        network_interfaces = _ec2_arn("network-interface", "*")
        subnets = self.network.vpc.select_subnets(subnet_type=self.network.private_subnets.subnet_type).subnets
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["ec2:CreateNetworkInterface"],
                resources=[
                    network_interfaces,
                    *(_ec2_arn("subnet", subnet.subnet_id) for subnet in subnets),
                    _ec2_arn("security-group", self.network.lambda_sg.security_group_id),
                ],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "ec2:DeleteNetworkInterface",
                    "ec2:AssignPrivateIpAddresses",
                    "ec2:UnassignPrivateIpAddresses",
                ],
                resources=[network_interfaces],
            )
        )
        role.add_to_policy(iam.PolicyStatement(actions=["ec2:DescribeNetworkInterfaces"], resources=["*"]))
        if self.config.tracing:
            role.add_to_policy(
                iam.PolicyStatement(actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources=["*"])
            )

    def _connect(self, spec: FunctionSpec, trigger: Trigger) -> None:
        function = self.targets[spec.name]
        match trigger:
            case KinesisTrigger():
                function.add_event_source(
                    sources.KinesisEventSource(
                        self.data.streams[trigger.stream],
                        starting_position=aws_lambda.StartingPosition.TRIM_HORIZON,
                        batch_size=trigger.batch_size,
                        max_batching_window=Duration.seconds(trigger.max_batching_window_s),
                        report_batch_item_failures=True,
                        bisect_batch_on_error=True,
                        retry_attempts=trigger.retry_attempts,
                        max_record_age=Duration.seconds(trigger.max_record_age_s),
                        parallelization_factor=trigger.parallelization_factor,
                        on_failure=sources.SqsDlq(self.queues.queues[trigger.on_failure]),
                    )
                )
            case SqsTrigger():
                function.add_event_source(
                    sources.SqsEventSource(
                        self.queues.queues[trigger.queue],
                        batch_size=trigger.batch_size,
                        report_batch_item_failures=True,
                    )
                )
            case S3Trigger():
                self.media.buckets[trigger.bucket].add_event_notification(
                    s3.EventType.OBJECT_CREATED,
                    s3n.LambdaDestination(function),
                    s3.NotificationKeyFilter(prefix=trigger.prefix),
                )
            case ScheduleTrigger():
                events.Rule(
                    self,
                    f"{spec.name}Schedule",
                    schedule=events.Schedule.rate(Duration.minutes(trigger.every_minutes)),
                    targets=[targets.LambdaFunction(function)],
                )
            case DeployTrigger():
                self._run_on_deploy(spec, trigger)
            case WebSocketRoutes():
                self.websocket.route(spec.name, trigger, function)
            case ResolverRoutes() | AuthorizerTrigger():
                pass  # the Api construct routes to it (or asks it), once the REST API exists
            case _:
                raise TypeError(f"{spec.name}: no wiring for trigger {trigger!r}")

    def _run_on_deploy(self, spec: FunctionSpec, trigger: DeployTrigger) -> None:
        function = self.functions[spec.name]
        digest = hashlib.sha256()
        for path in trigger.inputs:
            digest.update((ROOT / path).read_bytes())
        resource = CustomResource(
            self,
            f"{spec.name}OnDeploy",
            service_token=function.function_arn,
            resource_type=trigger.resource_type,
            properties={"InputsDigest": digest.hexdigest()},
            # An answer lost for any reason fails the deploy after this, not after CloudFormation's hour.
            service_timeout=Duration.seconds(spec.timeout_s + 60),
        )
        # Called only once its grants, the domain with its security rules, and the VPC's route to S3 (where
        # the answer goes) all exist.
        resource.node.add_dependency(function.role, self.search, self.network)
        for name in trigger.before:
            self.functions[name].node.add_dependency(resource)

    def consumers(self) -> dict[str, aws_lambda.Function]:
        """The stream consumers, whose lag is watched."""
        return {spec.name: self.functions[spec.name] for spec in FUNCTIONS if spec.triggered_by(KinesisTrigger)}


def _setting_value(value) -> str:
    """A stage's tuning value as its variable holds it: structured values as JSON (Settings parses them)."""
    return json.dumps(value, sort_keys=True) if isinstance(value, dict | list | tuple) else str(value)


def _ec2_arn(resource: str, name: str) -> str:
    """An EC2 ARN of this account and region, written with pseudo parameters whatever the stack's environment
    (so cdk-nag names the ENI wildcard the same in every synthesis, and nag.py can acknowledge it)."""
    return f"arn:{Aws.PARTITION}:ec2:{Aws.REGION}:{Aws.ACCOUNT_ID}:{resource}/{name}"
