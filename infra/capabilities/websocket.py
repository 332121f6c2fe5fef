"""The WebSocket API (chirp.realtime): created before the functions, so that the functions that push learn its
id from their grants, and routed once they exist (Functions._connect adds each WebSocketRoutes trigger's routes).
Access logs and a stage throttle as the REST APIs have; its $connect checks the REST API's ID tokens itself
(API Gateway has no Cognito authorizer for WebSocket APIs)."""

from __future__ import annotations

import json

from aws_cdk import Aws
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as aws_lambda
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.capabilities.api import STAGE_NAME
from infra.catalog import WebSocketRoutes
from infra.config import StageConfig

ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "connectionId": "$context.connectionId",
    "routeKey": "$context.routeKey",
    "eventType": "$context.eventType",
    "status": "$context.status",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "error": "$context.error.message",
}


class WebSocket(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig):
        super().__init__(scope, construct_id)
        self.api = apigwv2.WebSocketApi(
            self,
            "Api",
            api_name=f"chirp-{config.name}-realtime",
            description="Chirp real time: pushes new timeline entries, notifications and deletions",
            route_selection_expression="$request.body.action",
        )
        self.stage = apigwv2.WebSocketStage(
            self,
            "Stage",
            web_socket_api=self.api,
            stage_name=STAGE_NAME,
            auto_deploy=True,
            # As the REST API's stage: a bound on connects and frames, far above what Chirp's users send.
            throttle=apigwv2.ThrottleSettings(rate_limit=1000, burst_limit=2000),
        )
        if config.mastodon_streaming_domain:
            self._mastodon_streaming(config)

    def _mastodon_streaming(self, config: StageConfig) -> None:
        """Mastodon clients open `<streaming_api>/api/v1/streaming`: the stage at that path of a domain of its own
        (a WebSocket API cannot share the REST API's domain), over the Mastodon domain's certificate (which must
        cover this name too); DNS (an alias to the domain's regional name) is the account's."""
        domain = apigwv2.CfnDomainName(
            self,
            "MastodonStreamingDomain",
            domain_name=config.mastodon_streaming_domain,
            domain_name_configurations=[
                apigwv2.CfnDomainName.DomainNameConfigurationProperty(
                    certificate_arn=config.mastodon_certificate_arn,
                    endpoint_type="REGIONAL",
                    security_policy="TLS_1_2",
                )
            ],
        )
        mapping = apigwv2.CfnApiMapping(
            self,
            "MastodonStreamingMapping",
            api_id=self.api.api_id,
            domain_name=domain.ref,
            stage=self.stage.stage_name,
            api_mapping_key="api/v1/streaming",  # a multi-level mapping: the path Mastodon clients open
        )
        mapping.node.add_dependency(self.stage)

    def log_to(self, access_logs: logs.ILogGroup) -> None:
        """Access logs into the REST API's group (its lines name their route and connection): set on the
        CloudFormation resource, as the construct's settings are an interface to implement."""
        self.stage.node.default_child.access_log_settings = apigwv2.CfnStage.AccessLogSettingsProperty(
            destination_arn=access_logs.log_group_arn, format=json.dumps(ACCESS_LOG_FIELDS)
        )

    def route(self, name: str, trigger: WebSocketRoutes, function: aws_lambda.IFunction) -> None:
        """$connect, $disconnect and the trigger's actions, all to `function` through one integration and one
        invoke permission for the whole API (CDK's integration construct adds one per route; the stack keeps
        under CloudFormation's 500 resources)."""
        integration = apigwv2.CfnIntegration(
            self,
            f"{name}Integration",
            api_id=self.api.api_id,
            integration_type="AWS_PROXY",
            integration_uri=(
                f"arn:{Aws.PARTITION}:apigateway:{Aws.REGION}:lambda:path/2015-03-31/functions/"
                f"{function.function_arn}/invocations"
            ),
        )
        function.add_permission(
            f"{name}InvokedByWebSocket",
            principal=iam.ServicePrincipal("apigateway.amazonaws.com"),
            source_arn=f"arn:{Aws.PARTITION}:execute-api:{Aws.REGION}:{Aws.ACCOUNT_ID}:{self.api.api_id}/*",
        )
        for route_key in ("$connect", "$disconnect", *trigger.actions):
            apigwv2.CfnRoute(
                self,
                f"{name}Route{route_key.strip('$').title()}",
                api_id=self.api.api_id,
                route_key=route_key,
                authorization_type="NONE",  # $connect checks the token in the function
                target=f"integrations/{integration.ref}",
            )
