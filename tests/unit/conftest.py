from __future__ import annotations

import pytest

from tests.conftest import FakeLambdaContext


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


@pytest.fixture
def api_event():
    """An API Gateway REST (v1) proxy event, as the deployed API sends it."""

    def build(method: str, path: str, body: str | None = None, claims: dict | None = None) -> dict:
        return {
            "resource": path,
            "path": path,
            "httpMethod": method,
            "headers": {"Content-Type": "application/json"},
            "multiValueHeaders": {},
            "queryStringParameters": None,
            "multiValueQueryStringParameters": None,
            "pathParameters": None,
            "body": body,
            "isBase64Encoded": False,
            "requestContext": {
                "requestId": "req-1",
                "stage": "v1",
                "httpMethod": method,
                "path": f"/v1{path}",
                "authorizer": {"claims": claims} if claims else None,
            },
        }

    return build
