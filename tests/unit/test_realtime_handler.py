"""The WebSocket API's routes for Mastodon clients, on fakes: where the token is taken from (as Mastodon's streaming
server takes it) and the subprotocol named back, the handshake refused for an unknown token, stream or scope, and
subscribe / unsubscribe frames changing exactly the connection's streams."""

from __future__ import annotations

import json

import pytest

from chirp.adapters.dynamodb.follow_graph import DynamoFollowGraph
from chirp.oauth.model import AccessGrant
from chirp.realtime.model import Stream, Wire
from chirp.realtime.service import Realtime
from chirp.realtime.wire import ChirpFrames
from chirp.settings import Settings
from tests.conftest import load_handler
from tests.unit.fakes import FakeConnectedIndex, FakeConnectionStore, FakeGateway, World

TOKENS = {"read-token": ["read"], "write-token": ["write"]}


class FakeOAuth:
    def authenticate(self, token: str) -> AccessGrant | None:
        scopes = TOKENS.get(token)
        return AccessGrant(user_id="bob", client_id="app", scopes=scopes, created_at_ms=1) if scopes else None


class FakeIdTokens:
    def subject(self, token: str) -> str | None:
        return "ann" if token == "header.claims.signature" else None


class Services:
    def __init__(self):
        self.oauth, self.id_tokens = FakeOAuth(), FakeIdTokens()
        self.settings = Settings(_env_file=None, MASTODON_BASE_URL="")
        self.store, self.gateway = FakeConnectionStore(), FakeGateway()
        graph = DynamoFollowGraph(World().social_store)
        self.realtime = Realtime(self.store, FakeConnectedIndex(), self.gateway, graph, {Wire.CHIRP: ChirpFrames()})


@pytest.fixture
def wired(monkeypatch):
    handler, services = load_handler("realtime"), Services()
    monkeypatch.setattr(handler, "services", lambda: services)
    return handler, services


def _connect(handler, headers: dict | None = None, query: dict | None = None) -> dict:
    event = {
        "requestContext": {"routeKey": "$connect", "connectionId": "c1"},
        "headers": {"Host": "social.example.com", "X-Forwarded-Proto": "https", **(headers or {})},
        "queryStringParameters": query,
    }
    return handler.connect(event)


def _frame(handler, body: str) -> dict:
    return handler.other_frame({"requestContext": {"routeKey": "$default", "connectionId": "c1"}, "body": body})


def test_given_the_token_as_the_subprotocol_when_connecting_then_it_is_a_mastodon_connection_naming_it_back(wired):
    handler, services = wired

    answer = _connect(handler, {"Sec-WebSocket-Protocol": "read-token"}, {"stream": "user"})

    assert answer["statusCode"] == 200
    assert answer["headers"] == {"Sec-WebSocket-Protocol": "read-token"}
    connection = services.store.get("c1")
    assert (connection.wire, connection.streams, connection.scopes) == (Wire.MASTODON, [Stream.USER], ["read"])
    assert connection.base_url == "https://social.example.com"


def test_given_an_id_token_as_the_subprotocol_when_connecting_then_it_is_a_chirp_connection_naming_it_back(wired):
    handler, services = wired

    answer = _connect(handler, {"Sec-WebSocket-Protocol": "header.claims.signature"})

    assert answer["headers"] == {"Sec-WebSocket-Protocol": "header.claims.signature"}
    assert (services.store.get("c1").wire, services.store.get("c1").user_id) == (Wire.CHIRP, "ann")


def test_given_a_configured_instance_url_when_a_mastodon_client_connects_then_its_links_use_it(wired):
    # On AWS the streaming API has a domain of its own: the Host is not the instance the entities link to.
    handler, services = wired
    services.settings = Settings(_env_file=None, MASTODON_BASE_URL="https://social.example.com")

    _connect(handler, {"Host": "streaming.social.example.com"}, {"access_token": "read-token"})

    assert services.store.get("c1").base_url == "https://social.example.com"


def test_given_a_header_a_query_and_a_subprotocol_when_connecting_then_the_header_wins_and_nothing_is_named(wired):
    handler, services = wired

    answer = _connect(
        handler,
        {"Authorization": "Bearer read-token", "Sec-WebSocket-Protocol": "unknown"},
        {"access_token": "unknown"},
    )

    assert answer["statusCode"] == 200
    assert "headers" not in answer
    assert services.store.get("c1").streams == [], "no stream asked: the client subscribes with frames"


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({"access_token": "forged"}, 401),
        ({"access_token": "write-token", "stream": "user"}, 401),  # outside the token's scopes
        ({"access_token": "read-token", "stream": "direct"}, 400),  # a stream Chirp does not serve
        ({"access_token": "read-token", "stream": "hashtag"}, 400),  # which hashtag?
        ({"access_token": "read-token", "stream": "hashtag", "tag": "two words"}, 400),
    ],
)
def test_given_what_chirp_cannot_accept_when_connecting_then_the_handshake_is_refused(wired, query, status):
    handler, services = wired

    assert _connect(handler, query=query)["statusCode"] == status
    assert services.store.get("c1") is None


def test_given_a_mastodon_connection_when_it_subscribes_and_unsubscribes_then_exactly_its_streams_change(wired):
    handler, services = wired
    _connect(handler, query={"access_token": "read-token", "stream": "user"})

    assert _frame(handler, json.dumps({"type": "subscribe", "stream": "public:local"}))["statusCode"] == 200
    assert services.store.get("c1").streams == [Stream.USER, Stream.PUBLIC_LOCAL]
    assert _frame(handler, json.dumps({"type": "unsubscribe", "stream": "user"}))["statusCode"] == 200
    assert services.store.get("c1").streams == [Stream.PUBLIC_LOCAL]
    assert "c1" not in services.gateway.received, "Mastodon answers a subscription only when it fails"


def test_given_a_mastodon_connection_when_its_frames_are_bad_then_errors_are_answered_as_mastodon_does(wired):
    handler, services = wired
    _connect(handler, query={"access_token": "write-token"})

    assert _frame(handler, "not json")["statusCode"] == 400  # ignored, as Mastodon ignores it
    _frame(handler, json.dumps({"type": "subscribe", "stream": "direct"}))
    _frame(handler, json.dumps({"type": "subscribe", "stream": "hashtag"}))
    _frame(handler, json.dumps({"type": "subscribe", "stream": "user"}))

    assert services.gateway.received["c1"] == [
        {"error": "Unknown stream type", "status": 400},
        {"error": "No tag for stream provided", "status": 400},
        {"error": "Access token does not cover required scopes", "status": 401},
    ]
    assert services.store.get("c1").streams == []


DEEP = "[" * 2000 + "]" * 2000  # deeper than the JSON parser recurses, well within a frame's 4,096 bytes


@pytest.mark.parametrize("body", ['{"action": "subscribe"}', '{"action": "subscribe", "streams": ' + DEEP + "}"])
def test_given_a_chirp_connection_when_a_subscribe_frame_is_malformed_then_it_is_answered_400(wired, body):
    handler, services = wired
    _connect(handler, {"Sec-WebSocket-Protocol": "header.claims.signature"})

    answer = handler.subscribe({"requestContext": {"routeKey": "subscribe", "connectionId": "c1"}, "body": body})

    assert answer["statusCode"] == 400
    assert services.gateway.received["c1"][0]["error"] == "BadRequest"


def test_given_a_mastodon_connection_when_a_frame_nests_too_deep_then_it_is_ignored_as_any_non_json(wired):
    handler, services = wired
    _connect(handler, query={"access_token": "read-token", "stream": "user"})

    assert _frame(handler, DEEP)["statusCode"] == 400
    assert "c1" not in services.gateway.received


def test_given_a_mastodon_connection_when_it_follows_hashtags_then_each_is_a_subscription_of_its_own(wired):
    handler, services = wired
    _connect(handler, query={"access_token": "write-token", "stream": "hashtag", "tag": "#Cats"})  # no scope needed
    assert (services.store.get("c1").streams, services.store.get("c1").hashtags) == ([], [(Stream.HASHTAG, "cats")])

    _frame(handler, json.dumps({"type": "subscribe", "stream": "hashtag:local", "tag": "dogs"}))
    _frame(handler, json.dumps({"type": "subscribe", "stream": "hashtag", "tag": "CATS"}))  # followed already
    assert services.store.get("c1").hashtags == [(Stream.HASHTAG, "cats"), (Stream.HASHTAG_LOCAL, "dogs")]
    _frame(handler, json.dumps({"type": "unsubscribe", "stream": "hashtag", "tag": "cats"}))

    assert services.store.get("c1").hashtags == [(Stream.HASHTAG_LOCAL, "dogs")]
    assert "c1" not in services.gateway.received, "Mastodon answers a subscription only when it fails"
