"""The REST APIs of the catalog (HTTP_APIS): the routes of the functions' own resolvers, a Cognito authorizer or
the API's token-authorizer function, access logs, request validation, CORS preflight, the gateway's own answers
in the API's error shape, and for a host-root API its custom domain."""

from __future__ import annotations

from collections import defaultdict

from aws_cdk import Duration, Names
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_lambda as aws_lambda
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.capabilities.auth import Auth
from infra.catalog import FUNCTIONS, AuthorizerTrigger, HttpApi, ResolverRoutes
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
# API's error shape; $context.error.messageString is the gateway's message, JSON-quoted.
NOT_FOUND_MESSAGE = "no route serves this method and path"


def _error_body(error: str, message: str = "$context.error.messageString") -> dict[str, str]:
    return {"application/json": f'{{"error":"{error}","message":{message}}}'}


def _mastodon_error(message: str = "$context.error.messageString") -> dict[str, str]:
    return {"application/json": f'{{"error":{message}}}'}


GATEWAY_RESPONSES: dict[str, dict[str, tuple[str | None, dict[str, str]]]] = {
    # Chirp's own API: {"error", "message"}.
    "chirp": {
        # An unknown path, or a known path with a method it does not serve: API Gateway calls both a missing
        # authentication token (403); the API calls them 404, as its handlers do for an unknown id.
        "MISSING_AUTHENTICATION_TOKEN": ("404", _error_body("NotFound", f'"{NOT_FOUND_MESSAGE}"')),
        "UNAUTHORIZED": ("401", _error_body("Unauthorized")),  # no token, or one the Cognito authorizer refuses
        # A function that could not be invoked: on AWS a throttled function (its reserved concurrency is full: load
        # shed there) surfaces as an integration failure. Clients see what any shed load answers: 503, retry.
        "INTEGRATION_FAILURE": ("503", _error_body("Unavailable", '"Chirp is shedding load; retry shortly"')),
        # Every other gateway answer keeps its status; the error names the gateway's response type (THROTTLED,
        # BAD_REQUEST_BODY, INTEGRATION_TIMEOUT...).
        "DEFAULT_4XX": (None, _error_body("$context.error.responseType")),
        "DEFAULT_5XX": (None, _error_body("$context.error.responseType")),
    },
    # The Mastodon API: {"error": "..."} with Mastodon's own words where it has them.
    "mastodon": {
        "MISSING_AUTHENTICATION_TOKEN": ("404", _mastodon_error('"Record not found"')),
        "UNAUTHORIZED": ("401", _mastodon_error('"The access token is invalid"')),
        "DEFAULT_4XX": (None, _mastodon_error()),
        "DEFAULT_5XX": (None, _mastodon_error()),
    },
}


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        http_api: HttpApi,
        config: StageConfig,
        auth: Auth,
        functions: dict[str, aws_lambda.IFunction],
    ):
        super().__init__(scope, construct_id)
        self.http_api, self.functions = http_api, functions
        self.access_logs = access_logs = logs.LogGroup(
            self, "AccessLogs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=config.removal_policy
        )
        self.rest_api = apigw.RestApi(
            self,
            "Rest",
            rest_api_name=rest_api_name(config) if http_api.name == "chirp" else None,
            description=http_api.description,
            # API Gateway's logging role is one per account and region: Chirp's own API brings it.
            cloud_watch_role=http_api.name == "chirp",
            binary_media_types=list(http_api.binary_media_types) or None,
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
        self._authorizer: apigw.IAuthorizer | None = None
        self._user_pool = auth.user_pool
        self.validator = self.rest_api.add_request_validator(
            "Validator", validate_request_body=True, validate_request_parameters=True
        )
        methods_by_path: dict[str, set[str]] = defaultdict(set)
        for spec in FUNCTIONS:
            if not any(trigger.api == http_api.name for trigger in spec.triggered_by(ResolverRoutes)):
                continue
            # One invoke permission for the whole API, not two per method: a permission per route would take
            # CloudFormation past its 500 resources a stack (the Mastodon API alone has about 40 routes).
            integration = apigw.LambdaIntegration(
                functions[spec.name], scope_permission_to_method=False, allow_test_invoke=False
            )
            for route in resolver_routes(spec):
                resource = self.rest_api.root.resource_for_path(route.path)
                auth_options = (
                    {"authorization_type": apigw.AuthorizationType.NONE}
                    if route.public
                    else {"authorizer": self.authorizer(), "authorization_type": self.authorization_type}
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
        for response_type, (status, templates) in GATEWAY_RESPONSES[http_api.name].items():
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

    @property
    def authorization_type(self) -> apigw.AuthorizationType:
        return apigw.AuthorizationType.CUSTOM if self.http_api.authorizer else apigw.AuthorizationType.COGNITO

    def authorizer(self) -> apigw.IAuthorizer:
        if self._authorizer is None:
            if self.http_api.authorizer:
                (spec,) = [s for s in FUNCTIONS if s.name == self.http_api.authorizer]
                (trigger,) = [t for t in spec.triggered_by(AuthorizerTrigger) if t.api == self.http_api.name]
                self._authorizer = apigw.TokenAuthorizer(
                    self,
                    "Authorizer",
                    handler=self.functions[spec.name],
                    identity_source=apigw.IdentitySource.header("Authorization"),
                    # A malformed header is refused by the gateway itself: no invocation, nothing cached.
                    validation_regex=r"^Bearer [-A-Za-z0-9._~+/]{16,512}=*$",
                    results_cache_ttl=Duration.seconds(trigger.cache_ttl_s),
                )
            else:
                self._authorizer = apigw.CognitoUserPoolsAuthorizer(
                    self, "Authorizer", cognito_user_pools=[self._user_pool]
                )
        return self._authorizer


def serve_at_host_root(scope: Construct, *, api: Api, config: StageConfig) -> apigw.DomainName:
    """The API's stage at the root of the stage's custom domain (a base path mapping without a base path), for an
    HttpApi with `host_root`: the domain created in `scope`, the API's own construct or, when the API lives in a
    nested stack, a construct of the stack with the same id. The certificate is the stage's
    (StageConfig.mastodon_certificate_arn, an ACM certificate for the domain in this region); DNS (an alias to the
    domain's regional name) is the account's.

    Either way the domain and its mapping keep the logical ids they had before the API moved: a stack deployed
    before keeps its domain (CloudFormation would create a new one before deleting the old, and a domain name
    exists once), and its mapping is updated in place to the moved API (a second mapping of the domain's root would
    be refused the same way)."""
    certificate = acm.Certificate.from_certificate_arn(scope, "Certificate", config.mastodon_certificate_arn)
    domain = apigw.DomainName(
        scope,
        "Domain",
        domain_name=config.mastodon_domain,
        certificate=certificate,
        endpoint_type=apigw.EndpointType.REGIONAL,
        security_policy=apigw.SecurityPolicy.TLS_1_2,
    )
    # The mapping's id names the REST API as CDK's add_base_path_mapping does: by the unique id of "<scope>/Rest",
    # the API's own construct, or where it was before it moved (a construct of that path, which creates nothing).
    api_at_scope = scope.node.try_find_child("Rest") or Construct(scope, "Rest")
    apigw.BasePathMapping(
        domain,
        f"Map:/=>{Names.node_unique_id(api_at_scope.node)}",
        domain_name=domain,
        rest_api=api.rest_api,
        stage=api.rest_api.deployment_stage,
    )
    return domain
