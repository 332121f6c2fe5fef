"""What API Gateway answers by itself, through the deployed stage: unknown routes, missing tokens and CORS
preflights (configured in infra/capabilities/api.py; the template is checked in tests/infra/test_api_gateway.py).

MiniStack (1.5.x) renders REST gateway responses as API Gateway does: customized types with their status,
templates ($context.error.*) and headers, the DEFAULT_4XX/5XX fallbacks, as deployed with the stage's deployment;
and it answers a MOCK-integrated OPTIONS method with its integration response. So these run unchanged locally."""

from __future__ import annotations

import pytest
import requests

TIMEOUT_S = 30
ORIGIN = "https://app.example"


@pytest.fixture(scope="module")
def api(cloud_env) -> str:
    return cloud_env["CHIRP_API_URL"].rstrip("/")


def _error_body(response: requests.Response) -> dict:
    assert response.headers["Content-Type"].startswith("application/json"), response.headers
    body = response.json()
    assert set(body) == {"error", "message"}, body
    assert isinstance(body["message"], str)
    assert body["message"]
    return body


def test_given_a_path_no_route_takes_when_called_then_the_gateway_answers_404_not_found_json(api):
    response = requests.get(f"{api}/no-such-route/at-all", timeout=TIMEOUT_S)
    assert response.status_code == 404, response.text
    assert _error_body(response)["error"] == "NotFound"
    # A browser may read it.
    assert response.headers.get("Access-Control-Allow-Origin") == "*"


def test_given_a_known_path_when_called_with_a_method_it_does_not_serve_then_it_is_404_too(api):
    response = requests.patch(f"{api}/tweets", json={}, timeout=TIMEOUT_S)
    assert response.status_code == 404, response.text
    assert _error_body(response)["error"] == "NotFound"


def test_given_a_browser_preflight_when_options_tweets_then_the_gateway_allows_any_origin_and_post(api):
    response = requests.options(
        f"{api}/tweets",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,idempotency-key",
        },
        timeout=TIMEOUT_S,
    )
    assert 200 <= response.status_code < 300, response.text
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response.headers["Access-Control-Allow-Methods"].split(",")
    allowed = {header.strip().lower() for header in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "idempotency-key"} <= allowed


def test_given_a_preflight_when_options_a_path_with_an_id_then_its_methods_are_allowed(api):
    response = requests.options(
        f"{api}/tweets/123",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "DELETE"},
        timeout=TIMEOUT_S,
    )
    assert 200 <= response.status_code < 300, response.text
    assert set(response.headers["Access-Control-Allow-Methods"].split(",")) == {"GET", "DELETE"}


def test_given_no_token_when_calling_a_route_that_needs_one_then_the_gateway_answers_401_json(api):
    response = requests.get(f"{api}/timelines/home", timeout=TIMEOUT_S)
    assert response.status_code == 401, response.text
    assert _error_body(response)["error"] == "Unauthorized"
    assert response.headers.get("Access-Control-Allow-Origin") == "*"


def test_given_a_tampered_token_when_calling_a_route_then_the_gateway_answers_401_json(api):
    response = requests.get(f"{api}/timelines/home", headers={"Authorization": "Bearer not.a.token"}, timeout=TIMEOUT_S)
    assert response.status_code == 401, response.text
    assert _error_body(response)["error"] == "Unauthorized"
