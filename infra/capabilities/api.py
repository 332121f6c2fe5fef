"""The REST API: the routes of the functions' own resolvers, a Cognito authorizer, access logs and request
validation."""

from __future__ import annotations

from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as aws_lambda
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.capabilities.auth import Auth
from infra.catalog import FUNCTIONS, ResolverRoutes
from infra.config import StageConfig
from infra.routes import resolver_routes

STAGE_NAME = "v1"


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        auth: Auth,
        functions: dict[str, aws_lambda.Function],
    ):
        super().__init__(scope, construct_id)
        access_logs = logs.LogGroup(
            self, "AccessLogs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=config.removal_policy
        )
        self.rest_api = apigw.RestApi(
            self,
            "Rest",
            description="Chirp HTTP API",
            cloud_watch_role=True,
            deploy_options=apigw.StageOptions(
                stage_name=STAGE_NAME,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
                tracing_enabled=config.tracing,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                throttling_rate_limit=1000,
                throttling_burst_limit=2000,
            ),
        )
        # Created only when a route needs it: an authorizer attached to no method fails synthesis.
        self._authorizer: apigw.CognitoUserPoolsAuthorizer | None = None
        self._user_pool = auth.user_pool
        self.validator = self.rest_api.add_request_validator(
            "Validator", validate_request_body=True, validate_request_parameters=True
        )
        for spec in FUNCTIONS:
            if not spec.triggered_by(ResolverRoutes):
                continue
            integration = apigw.LambdaIntegration(functions[spec.name])
            for route in resolver_routes(spec):
                resource = self.rest_api.root.resource_for_path(route.path)
                auth_options = (
                    {"authorization_type": apigw.AuthorizationType.NONE}
                    if route.public
                    else {"authorizer": self.authorizer(), "authorization_type": apigw.AuthorizationType.COGNITO}
                )
                resource.add_method(route.method, integration, request_validator=self.validator, **auth_options)

    def authorizer(self) -> apigw.CognitoUserPoolsAuthorizer:
        if self._authorizer is None:
            self._authorizer = apigw.CognitoUserPoolsAuthorizer(
                self, "Authorizer", cognito_user_pools=[self._user_pool]
            )
        return self._authorizer
