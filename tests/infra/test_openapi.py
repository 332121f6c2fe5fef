"""The OpenAPI document: generated from the handlers, in step with the gateway's routes, and committed."""

from __future__ import annotations

import json

import pytest
from openapi_spec_validator import validate

from infra.catalog import FUNCTIONS
from infra.openapi import DOCUMENT, openapi_document, render


@pytest.fixture(scope="module")
def document() -> dict:
    return openapi_document()


def test_given_the_handlers_when_documented_then_it_is_valid_openapi(document):
    validate(document)


def test_given_the_catalog_when_documented_then_the_gateway_and_the_handlers_serve_the_same_routes(document):
    """A route the gateway sends that no handler serves answers 404; one a handler serves that the gateway
    lacks is unreachable. Both directions, so neither can happen."""
    declared = {(route.method.lower(), route.path) for spec in FUNCTIONS for route in spec.routes}
    documented = {(method, path) for path, operations in document["paths"].items() for method in operations}
    assert documented == declared


def test_given_public_and_private_routes_when_documented_then_only_the_public_ones_need_no_token(document):
    public = {(r.method.lower(), r.path) for spec in FUNCTIONS for r in spec.routes if not r.authorized}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if (method, path) in public:
                assert operation["security"] == [], path
            else:
                assert "security" not in operation, path  # the document's default: the Cognito token
                assert "401" in operation["responses"], path
    assert document["security"] == [{"CognitoIdToken": []}]


def test_given_a_route_that_creates_when_documented_then_it_answers_201_and_errors_are_json(document):
    post_tweet = document["paths"]["/tweets"]["post"]
    assert post_tweet["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Tweet"
    }
    assert post_tweet["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/NewTweet")
    assert post_tweet["responses"]["4XX"]["content"]["application/json"]["schema"]["$ref"].endswith("/Error")
    assert "422" not in json.dumps(document["paths"])  # validation answers 400, not the resolver's 422


def test_given_the_committed_document_when_compared_then_it_is_what_the_handlers_generate():
    assert DOCUMENT.read_text() == render(), "the API changed: run `make openapi` and commit docs/openapi.json"
