"""What reaches the API handler before any route: bodies that are not JSON (415) and paths no route takes
(404), each answered with a JSON reason, never a 5xx or the resolver's own error shapes."""

import json
import sys

import pytest
import redis

from tests.conftest import load_handler
from tests.unit.fakes import REDIS_OUTAGES

# Requests refused before any route publish no metric, which Powertools warns about.
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


@pytest.mark.parametrize(
    "content_type",
    ["multipart/form-data", "multipart/form-data; boundary=x", "text/plain", "application/x-www-form-urlencoded"],
)
def test_given_a_body_that_is_not_json_when_posted_then_415_names_the_type(content_type, api_event, lambda_context):
    event = api_event("POST", "/tweets", body='{"text": "hi"}', claims={"sub": "u1"})
    event["headers"] = {"content-type": content_type}

    response = load_handler("api").lambda_handler(event, lambda_context)

    assert response["statusCode"] == 415
    body = json.loads(response["body"])
    assert body["error"] == "UnsupportedMediaType"
    assert content_type.split(";")[0] in body["message"]


@pytest.mark.parametrize(
    "headers",
    [{"Content-Type": "application/json; charset=utf-8"}, {"content-type": "Application/JSON"}, {}, None],
)
def test_given_a_json_body_or_no_declared_type_when_checked_then_it_goes_on_to_the_routes(headers, api_event):
    event = api_event("POST", "/tweets", body='{"text": "hi"}')
    event["headers"] = headers

    load_handler("api")
    assert sys.modules["rest_api.errors"].unsupported_media_type(event) is None


def test_given_no_body_when_a_type_is_declared_then_it_goes_on_to_the_routes(api_event):
    event = api_event("GET", "/trends")
    event["headers"] = {"Content-Type": "text/plain"}

    load_handler("api")
    assert sys.modules["rest_api.errors"].unsupported_media_type(event) is None


def test_given_a_path_no_route_takes_when_called_then_404_in_the_api_error_shape(api_event, lambda_context):
    event = api_event("GET", "/users/\u00a1", claims={"sub": "u1"})  # the gateway routes it; no route matches

    response = load_handler("api").lambda_handler(event, lambda_context)

    assert response["statusCode"] == 404
    assert json.loads(response["body"])["error"] == "NotFound"


def test_given_json_declared_in_capitals_when_posted_then_the_routes_take_it_as_json(api_event, lambda_context):
    """Media types are case-insensitive; the resolver compares them as written."""
    event = api_event("POST", "/tweets", body="{}", claims={"sub": "u1"})
    event["headers"] = {"Content-Type": "APPLICATION/JSON; charset=UTF-8"}

    response = load_handler("api").lambda_handler(event, lambda_context)

    assert response["statusCode"] == 400  # the body was read as JSON: the missing text is what is refused
    assert "text" in json.loads(response["body"])["message"]


def test_given_a_declared_type_but_no_body_when_posted_then_415_in_the_api_error_shape(api_event, lambda_context):
    event = api_event("POST", "/tweets", claims={"sub": "u1"})
    event["headers"] = {"Content-Type": "text/plain"}

    response = load_handler("api").lambda_handler(event, lambda_context)

    assert response["statusCode"] == 415
    assert json.loads(response["body"])["error"] == "UnsupportedMediaType"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/tweets/" + "9" * 39),  # beyond a 64-bit id
        ("GET", "/tweets/0"),
        ("GET", "/users/" + "u" * 3000),
        ("POST", "/users/" + "u" * 3000 + "/follow"),
        ("GET", "/users/a/follows/" + "b" * 3000),
        ("GET", "/media/" + "m" * 3000),
    ],
)
def test_given_an_unbounded_path_id_when_requested_then_400_before_any_lookup(method, path, api_event, lambda_context):
    response = load_handler("api").lambda_handler(api_event(method, path, claims={"sub": "u1"}), lambda_context)

    assert response["statusCode"] == 400
    assert json.loads(response["body"])["error"] == "InvalidInput"


def test_given_a_body_nested_thousands_deep_when_posted_then_400(api_event, lambda_context):
    body = "[" * 50_000 + "]" * 50_000

    response = load_handler("api").lambda_handler(
        api_event("POST", "/tweets", body=body, claims={"sub": "u1"}), lambda_context
    )

    assert response["statusCode"] == 400


@pytest.mark.parametrize("outage", REDIS_OUTAGES.values(), ids=REDIS_OUTAGES.keys())
def test_given_redis_down_when_a_route_needs_it_then_503_with_retry_after_and_nothing_internal(
    api_event, lambda_context, monkeypatch, outage
):
    handler = load_handler("api")
    refused = outage()

    def home(*_, **__):
        raise refused

    monkeypatch.setattr(sys.modules["rest_api.reading"].services(), "timelines", type("T", (), {"home": home})())

    response = handler.lambda_handler(api_event("GET", "/timelines/home", claims={"sub": "u1"}), lambda_context)

    assert response["statusCode"] == 503
    assert response["multiValueHeaders"]["Retry-After"] == ["1"]
    assert "127.0.0.1" not in response["body"]
    assert "6480" not in response["body"]
    assert json.loads(response["body"])["error"] == "Unavailable"


@pytest.mark.parametrize(
    "bug",
    [KeyError("secret-internal-detail"), redis.exceptions.RedisClusterException("secret-internal-detail: CROSSSLOT")],
    ids=["key-error", "keys-across-slots"],
)
def test_given_an_unexpected_bug_when_a_route_fails_then_500_without_internals(
    api_event, lambda_context, monkeypatch, bug
):
    handler = load_handler("api")

    def home(*_, **__):
        raise bug

    monkeypatch.setattr(sys.modules["rest_api.reading"].services(), "timelines", type("T", (), {"home": home})())

    response = handler.lambda_handler(api_event("GET", "/timelines/home", claims={"sub": "u1"}), lambda_context)

    assert response["statusCode"] == 500
    assert "secret-internal-detail" not in response["body"]
