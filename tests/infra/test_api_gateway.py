"""What API Gateway answers by itself: unknown routes, missing tokens and its own errors in the API's
{"error", "message"} shape, and CORS preflights for every routed path (tests/e2e/test_gateway.py checks the
deployed behaviour)."""

from __future__ import annotations

import json
from collections import defaultdict

from chirp.runtime.http_guard import EXPOSED_HEADERS
from infra.capabilities.api import CORS_ALLOW_HEADERS, CORS_EXPOSE_HEADERS
from infra.catalog import FUNCTIONS, ResolverRoutes
from infra.routes import resolver_routes
from tests.infra.test_openapi import gateway_method_properties


def _gateway_responses(template) -> dict[str, dict]:
    return {
        response["Properties"]["ResponseType"]: response["Properties"]
        for response in template.find_resources("AWS::ApiGateway::GatewayResponse").values()
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
        if spec.triggered_by(ResolverRoutes):
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
