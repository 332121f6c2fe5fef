"""The guard of every HTTP answer (chirp.runtime.http_guard), through the handlers as API Gateway calls them:
rate limits with their headers on every answer, degradation refusals, and what is not an HTTP request."""

from __future__ import annotations

import json

import pytest

from chirp.degradation.levels import Level
from chirp.health import HealthReport
from chirp.limits.model import EndpointClass, Limit
from tests.conftest import load_handler

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

LIMIT_FIELDS = {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "RateLimit-Policy", "RateLimit"}


def _headers(response: dict) -> dict[str, str]:
    single = response.get("headers") or {}
    multi = {name: values[-1] for name, values in (response.get("multiValueHeaders") or {}).items()}
    return {**single, **multi}


@pytest.fixture
def api(lambda_context):
    handler = load_handler("api")
    return lambda event: handler.lambda_handler(event, lambda_context)


@pytest.fixture
def tight(guard_on_fakes):
    """Posting limited to 2 a minute."""
    guard_on_fakes.limiter.tiers = {**guard_on_fakes.limiter.tiers, EndpointClass.TWEETS: Limit(2, 60)}
    return guard_on_fakes


def test_given_any_answer_when_a_route_refuses_the_input_then_it_still_carries_the_limit_state(api, api_event):
    response = api(api_event("POST", "/tweets", body="{}", claims={"sub": "u1"}))

    assert response["statusCode"] == 400  # the route's own answer: no text
    headers = _headers(response)
    assert headers.keys() >= LIMIT_FIELDS | {"Chirp-Degradation-Level"}
    assert headers["RateLimit-Policy"] == '"tweets";q=300;w=10800'
    assert headers["Chirp-Degradation-Level"] == "0"


def test_given_a_spent_limit_when_posting_again_then_429_in_the_error_shape_with_retry_after(api, api_event, tight):
    for _ in range(2):
        assert api(api_event("POST", "/tweets", body="{}", claims={"sub": "u1"}))["statusCode"] == 400

    response = api(api_event("POST", "/tweets", body="{}", claims={"sub": "u1"}))

    assert response["statusCode"] == 429
    assert json.loads(response["body"])["error"] == "TooManyRequests"
    headers = _headers(response)
    assert headers["Retry-After"] == "30"
    assert headers["X-RateLimit-Remaining"] == "0"
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert "Retry-After" in headers["Access-Control-Expose-Headers"].split(",")
    # Another user, or another class of the same user, is not refused.
    assert api(api_event("POST", "/tweets", body="{}", claims={"sub": "u2"}))["statusCode"] == 400
    assert api(api_event("GET", "/users/" + "u" * 3000, claims={"sub": "u1"}))["statusCode"] == 400


def test_given_no_token_when_a_public_route_is_called_then_it_is_counted_per_client_address(
    api_event, lambda_context, guard_on_fakes, monkeypatch
):
    guard_on_fakes.limiter.tiers = {**guard_on_fakes.limiter.tiers, EndpointClass.ANONYMOUS: Limit(1, 60)}
    health = load_handler("health")
    ok = HealthReport(ok=True, dependencies={})
    monkeypatch.setattr(health, "checked", lambda: ok)  # the probes need servers
    event = api_event("GET", "/health")
    event["requestContext"]["identity"] = {"sourceIp": "203.0.113.9"}

    first = health.lambda_handler(event, lambda_context)
    refused = health.lambda_handler(event, lambda_context)

    assert first["statusCode"] == 200
    assert _headers(first)["RateLimit-Policy"] == '"anonymous";q=1;w=60'
    assert refused["statusCode"] == 429
    assert guard_on_fakes.store.tats.keys() == {"limit:{ip:203.0.113.9}:anonymous"}


@pytest.mark.parametrize(("method", "path"), [("POST", "/tweets"), ("DELETE", "/tweets/1"), ("POST", "/media")])
def test_given_level_4_when_anything_is_written_then_503_read_only_with_retry_after(
    api, api_event, guard_on_fakes, method, path
):
    guard_on_fakes.level = Level.SURVIVAL

    response = api(api_event(method, path, body="{}", claims={"sub": "u1"}))

    assert response["statusCode"] == 503
    assert "read-only" in json.loads(response["body"])["message"]
    headers = _headers(response)
    assert headers["Retry-After"] == "60"
    assert headers["Chirp-Degradation-Level"] == "4"
    assert guard_on_fakes.store.hits == 0  # refused before the limit is spent


def test_given_level_4_when_reading_then_the_route_answers(api, api_event, guard_on_fakes):
    guard_on_fakes.level = Level.SURVIVAL

    response = api(api_event("GET", "/tweets/0", claims={"sub": "u1"}))

    assert response["statusCode"] == 400  # the route ran (and refused the id)
    assert _headers(response)["Chirp-Degradation-Level"] == "4"


@pytest.mark.parametrize(("level", "status"), [(Level.WARNING, 400), (Level.CRITICAL, 503), (Level.SURVIVAL, 503)])
def test_given_a_level_when_searching_then_search_is_off_from_level_3(
    api_event, lambda_context, guard_on_fakes, level, status
):
    guard_on_fakes.level = level
    event = api_event("GET", "/search", claims={"sub": "u1"})  # no query: the route itself answers 400

    response = load_handler("api", "discovery").lambda_handler(event, lambda_context)

    assert response["statusCode"] == status
    if status == 503:
        assert "search is switched off" in json.loads(response["body"])["message"]


def test_given_redis_down_when_searching_then_503_since_search_is_never_unmetered(
    api_event, lambda_context, guard_on_fakes
):
    guard_on_fakes.store.down = True

    search_event, post_event = (
        api_event("GET", "/search", claims={"sub": "u9"}),
        api_event("POST", "/tweets", body="{}", claims={"sub": "u9"}),
    )
    search = load_handler("api", "discovery").lambda_handler(search_event, lambda_context)
    posting = load_handler("api").lambda_handler(post_event, lambda_context)

    assert search["statusCode"] == 503
    assert "rate limits cannot be checked" in json.loads(search["body"])["message"]
    assert _headers(search)["Retry-After"] == "5"  # when the limiter asks Redis again
    assert posting["statusCode"] == 400  # fails open: the route ran
    assert _headers(posting)["X-RateLimit-Limit"] == "300"
    assert "X-RateLimit-Remaining" not in _headers(posting)  # unknown, so not said


def test_given_a_scheduled_event_when_handled_then_the_guard_stays_out(guard_on_fakes, lambda_context, monkeypatch):
    health = load_handler("health")
    monkeypatch.setattr(health, "checked", lambda: HealthReport(ok=True, dependencies={}))

    assert health.lambda_handler({"source": "aws.events"}, lambda_context) == {"ok": True, "dependencies": {}}
    assert guard_on_fakes.store.hits == 0
