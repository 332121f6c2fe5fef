"""What API Gateway answers by itself: unknown routes, missing tokens and its own errors in the API's
{"error", "message"} shape, and CORS preflights for every routed path (tests/e2e/test_gateway.py checks the
deployed behaviour)."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

from chirp.runtime.http_guard import EXPOSED_HEADERS
from infra.capabilities.api import CORS_ALLOW_HEADERS, CORS_EXPOSE_HEADERS
from infra.catalog import FUNCTIONS, HTTP_APIS, AuthorizerTrigger, ResolverRoutes
from infra.config import stage_config
from infra.routes import resolver_routes
from tests.infra.conftest import MASTODON_CERTIFICATE, MASTODON_DOMAIN, MASTODON_STREAMING_DOMAIN
from tests.infra.test_media_delivery import _environment as environment
from tests.infra.test_openapi import gateway_method_properties, of_api, rest_api_logical_id


def _gateway_responses(template, api: str = "chirp") -> dict[str, dict]:
    return {
        response["Properties"]["ResponseType"]: response["Properties"]
        for response in of_api(template, "AWS::ApiGateway::GatewayResponse", api).values()
    }


def _rendered(template_text: str, **context: str) -> dict:
    """The body API Gateway renders from a response template, with the given $context.error values."""
    for name, value in context.items():
        template_text = template_text.replace(f"$context.error.{name}", value)
    return json.loads(template_text)


def test_given_an_unknown_route_when_synthesized_then_the_gateway_answers_404_in_the_error_shape(any_template):
    responses = _gateway_responses(any_template)
    missing = responses["MISSING_AUTHENTICATION_TOKEN"]
    assert missing["StatusCode"] == "404"
    body = json.loads(missing["ResponseTemplates"]["application/json"])
    assert body["error"] == "NotFound"
    assert body["message"]


def test_given_no_valid_token_when_synthesized_then_the_gateway_answers_401_in_the_error_shape(any_template):
    unauthorized = _gateway_responses(any_template)["UNAUTHORIZED"]
    assert unauthorized["StatusCode"] == "401"
    body = _rendered(unauthorized["ResponseTemplates"]["application/json"], messageString='"Unauthorized"')
    assert body == {"error": "Unauthorized", "message": "Unauthorized"}


def test_given_other_gateway_errors_when_synthesized_then_they_keep_their_status_in_the_error_shape(any_template):
    responses = _gateway_responses(any_template)
    assert set(responses) == {
        "MISSING_AUTHENTICATION_TOKEN",
        "UNAUTHORIZED",
        "INTEGRATION_FAILURE",
        "DEFAULT_4XX",
        "DEFAULT_5XX",
    }
    for family in ("DEFAULT_4XX", "DEFAULT_5XX"):
        assert "StatusCode" not in responses[family]  # each type keeps its own (429, 413, 504...)
        body = _rendered(
            responses[family]["ResponseTemplates"]["application/json"],
            responseType="THROTTLED",
            messageString='"Too Many Requests"',
        )
        assert body == {"error": "THROTTLED", "message": "Too Many Requests"}
    for name, response in responses.items():  # a browser may read every error answer
        assert response["ResponseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"] == "'*'", name


def test_given_a_throttled_function_when_synthesized_then_the_gateway_answers_503_with_retry_after(any_template):
    """On AWS a function at its reserved concurrency surfaces as an integration failure: shed load, retry soon."""
    failure = _gateway_responses(any_template)["INTEGRATION_FAILURE"]
    assert failure["StatusCode"] == "503"
    assert failure["ResponseParameters"]["gatewayresponse.header.Retry-After"] == "'1'"
    assert json.loads(failure["ResponseTemplates"]["application/json"])["error"] == "Unavailable"


def test_given_routed_paths_when_synthesized_then_each_has_a_tokenless_preflight_allowing_its_methods(any_template):
    routed: dict[str, set[str]] = defaultdict(set)
    for spec in FUNCTIONS:
        if any(trigger.api == "chirp" for trigger in spec.triggered_by(ResolverRoutes)):
            for route in resolver_routes(spec):
                routed[route.path].add(route.method)
    preflights = {
        path: properties
        for path, properties in gateway_method_properties(any_template)
        if properties["HttpMethod"] == "OPTIONS"
    }
    assert set(preflights) == set(routed)
    for path, properties in preflights.items():
        assert properties["AuthorizationType"] == "NONE", path
        integration = properties["Integration"]
        assert integration["Type"] == "MOCK", path  # the gateway answers: no Lambda runs for a preflight
        ((response),) = integration["IntegrationResponses"]
        headers = {
            name.removeprefix("method.response.header."): value.strip("'")
            for name, value in response["ResponseParameters"].items()
        }
        assert headers["Access-Control-Allow-Origin"] == "*"
        assert set(headers["Access-Control-Allow-Methods"].split(",")) == routed[path], path
        assert headers["Access-Control-Allow-Headers"].split(",") == list(CORS_ALLOW_HEADERS)
        assert headers["Access-Control-Expose-Headers"].split(",") == list(CORS_EXPOSE_HEADERS)
        assert set(EXPOSED_HEADERS) == set(CORS_EXPOSE_HEADERS)  # what the functions' answers carry
        assert {"Authorization", "Content-Type", "Idempotency-Key"} == set(CORS_ALLOW_HEADERS)


def test_given_the_mastodon_api_when_synthesized_then_the_gateway_answers_in_mastodons_error_shape(any_template):
    responses = _gateway_responses(any_template, "mastodon")
    assert set(responses) == {"MISSING_AUTHENTICATION_TOKEN", "UNAUTHORIZED", "DEFAULT_4XX", "DEFAULT_5XX"}
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"] == "404"
    assert responses["UNAUTHORIZED"]["StatusCode"] == "401"
    assert json.loads(responses["UNAUTHORIZED"]["ResponseTemplates"]["application/json"]) == {
        "error": "The access token is invalid"
    }
    throttled = _rendered(
        responses["DEFAULT_4XX"]["ResponseTemplates"]["application/json"], messageString='"Too Many Requests"'
    )
    assert throttled == {"error": "Too Many Requests"}  # Mastodon's Error: {"error": "..."}


def test_given_the_mastodon_api_when_synthesized_then_its_token_authorizer_is_the_catalogs_and_caches_per_token(
    any_template,
):
    (authorizer,) = of_api(any_template, "AWS::ApiGateway::Authorizer", "mastodon").values()
    properties = authorizer["Properties"]
    assert properties["Type"] == "TOKEN"
    assert properties["IdentitySource"] == "method.request.header.Authorization"
    (trigger,) = [t for spec in FUNCTIONS if spec.name == "mastodon_auth" for t in spec.triggered_by(AuthorizerTrigger)]
    assert properties["AuthorizerResultTtlInSeconds"] == trigger.cache_ttl_s
    assert "mastodonauth" in json.dumps(properties["AuthorizerUri"])
    methods = dict(((p["HttpMethod"], path), p) for path, p in gateway_method_properties(any_template, "mastodon"))
    public = {("GET", "/api/v1/instance"), ("GET", "/api/v2/instance"), ("GET", "/api/v1/custom_emojis")}
    public |= {("POST", "/api/v1/apps")}
    public |= {("POST", "/oauth/token"), ("POST", "/oauth/revoke")}
    for route, properties in methods.items():
        if route[0] == "OPTIONS" or route in public:
            assert properties["AuthorizationType"] == "NONE", route
        else:
            assert properties["AuthorizationType"] == "CUSTOM", route
    assert public <= set(methods)
    assert ("GET", "/api/v1/timelines/home") in methods
    assert ("POST", "/api/v2/media") in methods


def test_given_the_mastodon_api_when_synthesized_then_uploads_arrive_as_bytes(any_template):
    (rest,) = [
        r
        for r in any_template.find_resources("AWS::ApiGateway::RestApi").values()
        if r["Properties"]["Description"] == HTTP_APIS["mastodon"].description
    ]
    assert rest["Properties"]["BinaryMediaTypes"] == ["multipart/form-data"]


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_given_a_mastodon_domain_when_synthesized_then_the_api_is_served_at_its_root(
    local_template, aws_template, stage
):
    template = local_template if stage == "local" else aws_template
    expected = stage_config("local").mastodon_domain if stage == "local" else MASTODON_DOMAIN
    (domain,) = template.find_resources("AWS::ApiGateway::DomainName").values()
    assert domain["Properties"]["DomainName"] == expected
    assert domain["Properties"]["SecurityPolicy"] == "TLS_1_2"
    assert domain["Properties"]["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
    if stage == "prod":
        assert domain["Properties"]["RegionalCertificateArn"] == MASTODON_CERTIFICATE
    (mapping,) = template.find_resources("AWS::ApiGateway::BasePathMapping").values()
    assert "BasePath" not in mapping["Properties"]  # the root: no path prefix for clients to get wrong
    rest_api = {"Ref": rest_api_logical_id(template, "mastodon")}
    if stage == "local":  # one stack (StageConfig.nested_apis)
        assert mapping["Properties"]["RestApiId"] == rest_api
        return
    # On AWS the API is in its nested stack, the domain in the stack: the mapping reads the API's id from the nested
    # stack's output.
    (nested,) = template.find_resources("AWS::CloudFormation::Stack")
    stack, output = mapping["Properties"]["RestApiId"]["Fn::GetAtt"]
    assert stack == nested
    assert template.to_json()["Outputs"][output.removeprefix("Outputs.")]["Value"] == rest_api


# The logical ids of a deployment from before the Mastodon API moved into its nested stack (synthesized from the
# commit before the move): an update keeps the domain, and updates the mapping in place to the moved API.
DEPLOYED_HOST_ROOT = {
    "local": ("MastodonApiDomain28DE0C36", "MastodonApiDomainMapChirplocalMastodonApiRestF010C8BDA3C0D755"),
    "prod": ("MastodonApiDomain28DE0C36", "MastodonApiDomainMapChirpprodMastodonApiRestDB2078E929918D0E"),
}


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_given_a_stack_deployed_before_the_nested_api_when_updated_then_its_domain_and_mapping_keep_their_ids(
    local_stacks, aws_stacks, stage
):
    stacks = local_stacks if stage == "local" else aws_stacks
    (stack,) = [template for name, template in stacks.items() if name.startswith("Chirp-")]
    domain, mapping = DEPLOYED_HOST_ROOT[stage]

    assert stack["Resources"][domain]["Type"] == "AWS::ApiGateway::DomainName"
    assert stack["Resources"][mapping]["Type"] == "AWS::ApiGateway::BasePathMapping"


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_given_a_mastodon_streaming_domain_when_synthesized_then_the_websocket_api_is_mapped_where_clients_look(
    local_template, aws_template, stage
):
    """A WebSocket API cannot share the REST API's custom domain: on AWS the streaming API has its own, mapped at
    the path Mastodon clients open; the Mastodon API advertises it and streaming entities link to the instance.
    Locally the host-root proxy tunnels the path instead (nothing mapped, nothing advertised but the instance)."""
    template = local_template if stage == "local" else aws_template
    domains = template.find_resources("AWS::ApiGatewayV2::DomainName")
    mappings = template.find_resources("AWS::ApiGatewayV2::ApiMapping")
    streaming = environment(template, "mastodon").get("MASTODON_STREAMING_URL")
    base = environment(template, "realtime").get("MASTODON_BASE_URL")
    if stage == "local":
        assert (domains, mappings, streaming, base) == ({}, {}, "", "")
        return
    ((domain_id, domain),) = domains.items()
    assert domain["Properties"]["DomainName"] == MASTODON_STREAMING_DOMAIN
    assert domain["Properties"]["DomainNameConfigurations"] == [
        {"CertificateArn": MASTODON_CERTIFICATE, "EndpointType": "REGIONAL", "SecurityPolicy": "TLS_1_2"}
    ]
    (mapping,) = mappings.values()
    assert mapping["Properties"]["ApiMappingKey"] == "api/v1/streaming"
    assert mapping["Properties"]["DomainName"] == {"Ref": domain_id}
    assert (streaming, base) == (f"wss://{MASTODON_STREAMING_DOMAIN}", f"https://{MASTODON_DOMAIN}")


def test_given_a_streaming_domain_without_the_mastodon_domain_when_configured_then_it_is_refused():
    with pytest.raises(ValueError, match="streaming domain needs the Mastodon domain"):
        stage_config("prod", mastodon_streaming_domain=MASTODON_STREAMING_DOMAIN)


def test_given_an_aws_stage_without_a_domain_when_configured_then_a_certificate_alone_is_refused():
    with pytest.raises(ValueError, match="both"):
        stage_config("prod", mastodon_domain=None, mastodon_certificate_arn=MASTODON_CERTIFICATE)
    assert stage_config("prod").mastodon_domain is None


def test_given_two_apis_when_synthesized_then_the_mastodon_stage_waits_for_the_account_logging_role(any_template):
    """Locally the stage itself waits; on AWS the Mastodon API's nested stack does, so its stage does."""
    (account,) = any_template.find_resources("AWS::ApiGateway::Account")
    (stage,) = of_api(any_template, "AWS::ApiGateway::Stage", "mastodon").values()
    nested = any_template.find_resources("AWS::CloudFormation::Stack").values()
    assert [waiting.get("DependsOn") for waiting in [*nested, stage] if waiting.get("DependsOn")] == [[account]]


def test_given_every_route_when_synthesized_then_each_function_has_one_invoke_permission_per_api(
    aws_template, aws_stacks
):
    """Two permissions per method (the stage's and the console's test) would take the stack past CloudFormation's
    500 resources: each function the gateway invokes gets one, for its whole API."""
    permissions = [
        p["Properties"]
        for p in aws_template.find_resources("AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "apigateway.amazonaws.com"
    ]
    assert len(permissions) <= 2 * len([s for s in FUNCTIONS if s.triggered_by(ResolverRoutes)]) + 1
    # The stack reached 479 of CloudFormation's 500 with the Mastodon streaming domain; the Mastodon API (127: about
    # three a route) then moved into a nested stack of its own. A stack that nears the bound moves a part out too.
    sizes = {name: len(template["Resources"]) for name, template in aws_stacks.items()}
    assert len(sizes) == 2  # the stack and the Mastodon API's
    assert all(size < 480 for size in sizes.values()), sizes  # headroom under CloudFormation's 500 a stack
