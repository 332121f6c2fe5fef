"""The OpenAPI document: generated from the handlers, in step with the gateway's routes, and committed."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Template
from openapi_spec_validator import validate

from infra.catalog import FUNCTIONS, ResolverRoutes
from infra.openapi import DOCUMENT, openapi_document, render
from infra.routes import resolver_routes


@pytest.fixture(scope="module")
def document() -> dict:
    return openapi_document()


def test_given_the_handlers_when_documented_then_it_is_valid_openapi(document):
    validate(document)


def test_given_the_handlers_when_synthesized_then_the_gateway_serves_exactly_the_documented_routes(
    any_template, document
):
    """A route the gateway sends that no handler serves answers 404; one a handler serves that the gateway
    lacks is unreachable. Both directions, so neither can happen."""
    documented = {(method.upper(), path) for path, operations in document["paths"].items() for method in operations}
    assert set(_gateway_methods(any_template)) == documented


def test_given_public_and_private_routes_when_synthesized_then_only_routes_declared_public_need_no_token(
    any_template, document
):
    """A handler opens a route with `security=[]`; every other route needs the Cognito token, at the gateway
    and in the document alike."""
    declared_public = {
        (route.method, route.path)
        for spec in FUNCTIONS
        if any(trigger.api == "chirp" for trigger in spec.triggered_by(ResolverRoutes))
        for route in resolver_routes(spec)
        if route.public
    }
    assert declared_public == {("GET", "/health")}
    gateway = _gateway_methods(any_template)
    assert {route for route, authorization in gateway.items() if authorization == "NONE"} == declared_public
    assert set(gateway.values()) == {"NONE", "COGNITO_USER_POOLS"}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if (method.upper(), path) in declared_public:
                assert operation["security"] == [], path
            else:
                assert "security" not in operation, path  # the document's default: the Cognito token
                assert "401" in operation["responses"], path
    assert document["security"] == [{"CognitoIdToken": []}]


def _gateway_methods(template: Template, api: str = "chirp") -> dict[tuple[str, str], str]:
    """(method, path) -> authorization type of every method of the synthesized REST API that reaches a handler
    (CORS preflights, answered by the gateway itself, are left out: see test_gateway.py)."""
    return {
        (properties["HttpMethod"], path): properties["AuthorizationType"]
        for path, properties in gateway_method_properties(template, api)
        if properties["HttpMethod"] != "OPTIONS"
    }


def rest_api_logical_id(template: Template, api: str = "chirp") -> str:
    """The logical id of the catalog's REST API `api` (Chirp's own is the construct "Api", others "<Name>Api")."""
    prefix = "ApiRest" if api == "chirp" else f"{api.title()}ApiRest"
    (logical_id,) = [name for name in template.find_resources("AWS::ApiGateway::RestApi") if name[:-8] == prefix]
    return logical_id


def of_api(template: Template, resource_type: str, api: str = "chirp") -> dict[str, dict]:
    """The resources of this type that belong to the REST API `api`."""
    logical_id = rest_api_logical_id(template, api)
    return {
        name: resource
        for name, resource in template.find_resources(resource_type).items()
        if resource["Properties"].get("RestApiId") == {"Ref": logical_id}
    }


def gateway_method_properties(template: Template, api: str = "chirp") -> list[tuple[str, dict]]:
    """(path, properties) of every method of the synthesized REST API `api`."""
    resources = template.find_resources("AWS::ApiGateway::Resource")

    def path_of(resource_id: dict) -> str:
        if "Fn::GetAtt" in resource_id:  # the API's root resource
            return ""
        properties = resources[resource_id["Ref"]]["Properties"]
        return f"{path_of(properties['ParentId'])}/{properties['PathPart']}"

    return [
        (path_of(method["Properties"]["ResourceId"]) or "/", method["Properties"])
        for method in of_api(template, "AWS::ApiGateway::Method", api).values()
    ]


def test_given_a_route_that_creates_when_documented_then_it_answers_201_and_errors_are_json(document):
    post_tweet = document["paths"]["/tweets"]["post"]
    assert post_tweet["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PostView"
    }
    assert post_tweet["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/NewTweet")
    assert post_tweet["responses"]["4XX"]["content"]["application/json"]["schema"]["$ref"].endswith("/Error")
    assert "422" not in json.dumps(document["paths"])  # validation answers 400, not the resolver's 422


def test_given_the_committed_document_when_compared_then_it_is_what_the_handlers_generate():
    assert DOCUMENT.read_text() == render(), "the API changed: run `make openapi` and commit docs/openapi.json"
