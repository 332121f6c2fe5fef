"""The REST API: the routes of the functions' own resolvers, a Cognito authorizer, access logs, request
validation, CORS preflight, and the gateway's own answers in the API's error shape."""

from __future__ import annotations

from collections import defaultdict

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as aws_lambda
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.capabilities.auth import Auth
from infra.catalog import FUNCTIONS, ResolverRoutes
from infra.config import StageConfig
from infra.routes import resolver_routes

STAGE_NAME = "v1"


def rest_api_name(config: StageConfig) -> str:
    """The REST API's name: its CloudWatch metrics' ApiName dimension (the degradation controller watches them)."""
    return f"chirp-{config.name}"


# CORS: any origin (the API authenticates by bearer token, never by cookie), the request headers clients send,
# and the response headers browsers may show them. The gateway answers preflights (OPTIONS); the Lambda's own
# responses carry the same policy (its resolver's CORSConfig).
CORS_ALLOW_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key")
CORS_EXPOSE_HEADERS = (
    "Retry-After",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "RateLimit-Policy",
    "RateLimit",
    "Chirp-Degradation-Level",
)
CORS_MAX_AGE = Duration.hours(1)

# What API Gateway itself answers (no route, no valid token, throttling, an integration failure), in the
# API's error shape {"error", "message"}; $context.error.messageString is the gateway's message, JSON-quoted.
NOT_FOUND_MESSAGE = "no route serves this method and path"


def _error_body(error: str, message: str = "$context.error.messageString") -> dict[str, str]:
    return {"application/json": f'{{"error":"{error}","message":{message}}}'}


GATEWAY_RESPONSES: dict[str, tuple[str | None, dict[str, str]]] = {
    # An unknown path, or a known path with a method it does not serve: API Gateway calls both a missing
    # authentication token (403); the API calls them 404, as its handlers do for an unknown id.
    "MISSING_AUTHENTICATION_TOKEN": ("404", _error_body("NotFound", f'"{NOT_FOUND_MESSAGE}"')),
    "UNAUTHORIZED": ("401", _error_body("Unauthorized")),  # no token, or one the Cognito authorizer refuses
    # A function that could not be invoked: on AWS a throttled function (its reserved concurrency is full: load shed
    # there) surfaces as an integration failure. Clients see what any shed load answers: 503, retry shortly.
    "INTEGRATION_FAILURE": ("503", _error_body("Unavailable", '"Chirp is shedding load; retry shortly"')),
    # Every other gateway answer keeps its status; the error names the gateway's response type (THROTTLED,
    # BAD_REQUEST_BODY, INTEGRATION_TIMEOUT...).
    "DEFAULT_4XX": (None, _error_body("$context.error.responseType")),
    "DEFAULT_5XX": (None, _error_body("$context.error.responseType")),
}


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
            rest_api_name=rest_api_name(config),
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
        methods_by_path: dict[str, set[str]] = defaultdict(set)
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
                methods_by_path[route.path].add(route.method)
        # A preflight on every path a route serves, allowing that path's methods: answered by the gateway (a
        # MOCK integration), without a token, as browsers send it.
        for path, methods in sorted(methods_by_path.items()):
            self.rest_api.root.resource_for_path(path).add_cors_preflight(
                allow_origins=apigw.Cors.ALL_ORIGINS,
                allow_methods=sorted(methods),
                allow_headers=list(CORS_ALLOW_HEADERS),
                expose_headers=list(CORS_EXPOSE_HEADERS),
                max_age=CORS_MAX_AGE,
            )
        for response_type, (status, templates) in GATEWAY_RESPONSES.items():
            self.rest_api.add_gateway_response(
                response_type.replace("_", ""),
                type=apigw.ResponseType.of(response_type),
                status_code=status,
                templates=templates,
                # Browsers show a cross-origin error answer to the page only with this header; a 503 says when to
                # retry, as the API's own 503s do.
                response_headers={
                    "Access-Control-Allow-Origin": "'*'",
                    **({"Retry-After": "'1'"} if status == "503" else {}),
                },
            )

    def authorizer(self) -> apigw.CognitoUserPoolsAuthorizer:
        if self._authorizer is None:
            self._authorizer = apigw.CognitoUserPoolsAuthorizer(
                self, "Authorizer", cognito_user_pools=[self._user_pool]
            )
        return self._authorizer
