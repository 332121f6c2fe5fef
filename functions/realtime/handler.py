"""The WebSocket API's routes: $connect (the REST API's ID token, as `Authorization: Bearer` or, for browsers,
which cannot set headers on a WebSocket, the `access_token` query parameter), `subscribe` and $disconnect.

Frames the client sends are JSON `{"action": "subscribe", "streams": ["user", "public:local"]}`; the answer,
posted to the connection, is `{"subscribed": [...]}`, or `{"error", "message"}` for what it cannot accept."""

from __future__ import annotations

import json

from aws_lambda_powertools.utilities.typing import LambdaContext

from chirp.composition import services
from chirp.errors import InvalidInput, NotFound
from chirp.observability import logger, metrics, tracer
from chirp.realtime.model import Stream, Wire
from chirp.realtime.service import parse_streams

MAX_FRAME_BYTES = 4096  # a subscribe frame is tens of bytes


def _answer(status: int, body: dict) -> dict:
    return {"statusCode": status, "body": json.dumps(body)}


def _error(status: int, error: str, message: str) -> dict:
    return _answer(status, {"error": error, "message": message})


def _bearer(event: dict) -> str:
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    authorization = headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return (event.get("queryStringParameters") or {}).get("access_token", "")


def connect(event: dict) -> dict:
    user_id = services().id_tokens.subject(_bearer(event))
    if user_id is None:
        # A non-2xx answer refuses the handshake: the client sees the upgrade fail.
        return _error(401, "Unauthorized", "a valid ID token is required (Authorization header or access_token)")
    query = event.get("queryStringParameters") or {}
    try:
        streams = parse_streams(query["stream"].split(",")) if query.get("stream") else [Stream.USER]
    except InvalidInput as error:
        return _error(400, "BadRequest", str(error))
    connection_id = event["requestContext"]["connectionId"]
    services().realtime.connect(connection_id, user_id, Wire.CHIRP, streams)
    metrics.add_metric(name="WebSocketConnects", unit="Count", value=1)
    return _answer(200, {"connected": connection_id})


def subscribe(event: dict) -> dict:
    """Answers on the connection (a WebSocket route's own answer needs a route response, which the emulator
    lacks); the status is for the logs."""
    answer = _subscribe(event)
    services().realtime.answer(event["requestContext"]["connectionId"], answer["body"])
    return {"statusCode": answer["statusCode"]}


def _subscribe(event: dict) -> dict:
    body = event.get("body") or ""
    if len(body.encode()) > MAX_FRAME_BYTES:
        return _error(413, "PayloadTooLarge", f"a frame is at most {MAX_FRAME_BYTES} bytes")
    try:
        message = json.loads(body)
        names = message["streams"] if isinstance(message, dict) else None
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
            raise InvalidInput('send {"action": "subscribe", "streams": ["user", "public:local"]}')
        connection = services().realtime.subscribe(event["requestContext"]["connectionId"], parse_streams(names))
    except json.JSONDecodeError:
        return _error(400, "BadRequest", "a frame must be JSON")
    except InvalidInput as error:
        return _error(400, "BadRequest", str(error))
    except NotFound:
        return _error(410, "Gone", "this connection is closed")
    return _answer(200, {"subscribed": [stream.value for stream in connection.streams]})


def disconnect(event: dict) -> dict:
    services().realtime.disconnect(event["requestContext"]["connectionId"])
    return _answer(200, {})


ROUTES = {"$connect": connect, "$disconnect": disconnect, "subscribe": subscribe}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    route = ROUTES.get(event.get("requestContext", {}).get("routeKey", ""))
    if route is None:
        return _error(400, "BadRequest", 'unknown action: send {"action": "subscribe", "streams": [...]}')
    return route(event)
