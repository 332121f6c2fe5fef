"""The Mastodon API's token authorizer: a live token is allowed on every route of its API (API Gateway reuses the
cached answer for the token's other requests), as its user with its scopes; anything else is 401."""

from __future__ import annotations

import pytest

from chirp.oauth.model import AccessGrant
from infra.config import LOCAL
from localstack.ministack_cloud import MASTODON_DOMAIN
from tests.conftest import FakeLambdaContext, load_handler
from tests.mastodon_openapi import response_errors

METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/v1/GET/api/v1/timelines/home"


class FakeOAuth:
    def authenticate(self, token):
        if token == "good-token":
            return AccessGrant(user_id="u-alice", client_id="c-1", scopes=["read", "write"], created_at_ms=0)
        return None


class FakeServices:
    oauth = FakeOAuth()


@pytest.fixture
def authorizer(monkeypatch):
    handler = load_handler("mastodon_auth")
    monkeypatch.setattr(handler, "services", lambda: FakeServices())
    return handler


def test_given_a_live_token_when_checked_then_every_route_of_the_api_is_allowed_as_its_user(authorizer):
    answer = authorizer.lambda_handler(
        {"type": "TOKEN", "authorizationToken": "Bearer good-token", "methodArn": METHOD_ARN}, FakeLambdaContext()
    )
    assert answer["principalId"] == "u-alice"
    (statement,) = answer["policyDocument"]["Statement"]
    assert statement == {
        "Action": "execute-api:Invoke",
        "Effect": "Allow",
        "Resource": "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/v1/*/*",
    }
    assert answer["context"] == {"scopes": "read write", "client_id": "c-1"}


@pytest.mark.parametrize("header", ["Bearer bad-token", "Basic good-token", "good-token", ""])
def test_given_anything_else_when_checked_then_unauthorized(authorizer, header):
    with pytest.raises(Exception, match=r"^Unauthorized$"):  # API Gateway's signal for 401
        authorizer.lambda_handler(
            {"type": "TOKEN", "authorizationToken": header, "methodArn": METHOD_ARN}, FakeLambdaContext()
        )


def test_given_the_local_cloud_when_it_proxies_the_host_root_then_it_names_the_local_stages_domain():
    assert LOCAL.mastodon_domain == MASTODON_DOMAIN


def test_given_answers_unlike_mastodons_when_validated_then_the_validator_says_what_is_wrong():
    assert response_errors("GET", "/api/v1/accounts/abc", 200, b'{"id": 1}', "application/json")
    assert response_errors("GET", "/api/v1/timelines/home", 201, b"[]", "application/json")
    assert response_errors("GET", "/api/v1/no/such/thing", 200, b"{}", "application/json")
    assert response_errors("GET", "/api/v1/timelines/home", 200, b"[]", "text/html")
    assert response_errors("GET", "/api/v1/timelines/home", 200, b"[]", "application/json") == []
    assert response_errors("GET", "/api/v1/statuses/1", 404, b'{"error": "Record not found"}', "application/json") == []
