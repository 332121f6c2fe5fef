"""The WebSocket API's routes: $connect, `subscribe`, $default (every other frame) and $disconnect.

A connection speaks the protocol of its token. With the REST API's ID token it speaks Chirp's: frames the client
sends are JSON `{"action": "subscribe", "streams": ["user", "public:local"]}`; the answer, posted to the
connection, is `{"subscribed": [...]}`, or `{"error", "message"}` for what it cannot accept. With a Mastodon
access token (chirp.oauth) it is Mastodon's streaming API (`/api/v1/streaming`, chirp.mastodon.streaming):
`{"type": "subscribe" | "unsubscribe", "stream": ...}` frames, and `{"error", "status"}` for what it cannot
accept. Either token comes as Mastodon's streaming server takes it: `Authorization: Bearer`, else the
`access_token` query parameter (browsers cannot set headers on a WebSocket), else `Sec-WebSocket-Protocol` (the
Mastodon web app's way), which the answer then names back, as a browser requires."""

from __future__ import annotations

import json

from aws_lambda_powertools.utilities.typing import LambdaContext

from chirp.composition import services
from chirp.errors import Forbidden, InvalidInput, NotFound
from chirp.mastodon import streaming
from chirp.observability import logger, metrics, tracer
from chirp.realtime.model import Connection, Stream, Wire
from chirp.realtime.service import parse_streams
from chirp.runtime.forwarded import public_base_url

MAX_FRAME_BYTES = 4096  # a subscribe frame is tens of bytes


def _answer(status: int, body: dict) -> dict:
    return {"statusCode": status, "body": json.dumps(body)}


def _error(status: int, error: str, message: str) -> dict:
    return _answer(status, {"error": error, "message": message})


def _headers(event: dict) -> dict[str, str]:
    return {name.lower(): value for name, value in (event.get("headers") or {}).items()}


def _credentials(event: dict) -> tuple[str, str | None]:
    """The token, and the subprotocol to echo when the client sent it as one."""
    headers = _headers(event)
    authorization = headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        return authorization[7:].strip(), None
    query_token = (event.get("queryStringParameters") or {}).get("access_token", "")
    if query_token:
        return query_token, None
    protocol = headers.get("sec-websocket-protocol", "").split(",")[0].strip()
    return protocol, protocol or None


def _is_id_token(token: str) -> bool:
    """A JWT has three dot-separated parts; Chirp's Mastodon tokens are URL-safe base64 without dots."""
    return token.count(".") == 2


def _base_url(event: dict) -> str:
    """The Mastodon instance's URL, on which entities' links are built: the configured one where the streaming API
    has a domain of its own (AWS), else the address the client reached, as the REST API builds its links (the local
    host-root proxy forwards its own)."""
    if configured := services().settings.mastodon_base_url:
        return configured
    return public_base_url(event.get("headers") or {})


def connect(event: dict) -> dict:
    token, subprotocol = _credentials(event)
    if not _is_id_token(token):
        return _connect_mastodon(event, token, subprotocol)
    user_id = services().id_tokens.subject(token)
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
    return _connected(connection_id, subprotocol)


def _connected(connection_id: str, subprotocol: str | None) -> dict:
    answer = _answer(200, {"connected": connection_id})
    if subprotocol:  # a browser drops a connection whose answer does not name the subprotocol it offered
        answer["headers"] = {"Sec-WebSocket-Protocol": subprotocol}
    return answer


def _connect_mastodon(event: dict, token: str, subprotocol: str | None) -> dict:
    grant = services().oauth.authenticate(token)
    if grant is None:
        return _error(401, "Unauthorized", "Invalid access token")
    # Without `stream` nothing is subscribed yet: the client sends subscribe frames (Mastodon.py does).
    query = event.get("queryStringParameters") or {}
    streams, hashtags = [], []
    try:
        if name := query.get("stream"):
            stream = streaming.stream_named(name)
            streaming.check_scopes(stream, grant.scopes)
            hashtag = streaming.hashtag_of(stream, query.get("tag"))
            streams, hashtags = ([], [(stream, hashtag)]) if hashtag else ([stream], [])
    except InvalidInput as error:
        return _error(400, "BadRequest", str(error))
    except Forbidden as error:
        return _error(401, "Unauthorized", str(error))
    connection_id = event["requestContext"]["connectionId"]
    services().realtime.connect(
        connection_id,
        grant.user_id,
        Wire.MASTODON,
        streams,
        scopes=tuple(grant.scopes),
        base_url=_base_url(event),
        hashtags=hashtags,
    )
    metrics.add_metric(name="WebSocketConnects", unit="Count", value=1)
    return _connected(connection_id, subprotocol)


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
        names = message.get("streams") if isinstance(message, dict) else None
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
            raise InvalidInput('send {"action": "subscribe", "streams": ["user", "public:local"]}')
        connection = services().realtime.subscribe(event["requestContext"]["connectionId"], parse_streams(names))
    except (json.JSONDecodeError, RecursionError):  # nesting deeper than the parser goes is no JSON we take
        return _error(400, "BadRequest", "a frame must be JSON")
    except InvalidInput as error:
        return _error(400, "BadRequest", str(error))
    except NotFound:
        return _error(410, "Gone", "this connection is closed")
    return _answer(200, {"subscribed": [stream.value for stream in connection.streams]})


def other_frame(event: dict) -> dict:
    """Every frame without a route of its own: Mastodon's subscribe and unsubscribe, or a Chirp client's mistake.
    Answers on the connection, as `subscribe` does."""
    connection_id = event["requestContext"]["connectionId"]
    realtime = services().realtime
    try:
        connection = realtime.connection(connection_id)
    except NotFound:
        return {"statusCode": 410}
    if connection.wire is Wire.MASTODON:
        status, answer = _mastodon_frame(connection, event.get("body") or "")
        if answer is not None:
            realtime.answer(connection_id, answer)
        return {"statusCode": status}
    unknown = _error(400, "BadRequest", 'unknown action: send {"action": "subscribe", "streams": [...]}')
    realtime.answer(connection_id, unknown["body"])
    return {"statusCode": 400}


def _mastodon_frame(connection: Connection, body: str) -> tuple[int, str | None]:
    """(status for the logs, the frame to answer or None): Mastodon answers a subscription only when it fails."""
    if len(body.encode()) > MAX_FRAME_BYTES:
        return 413, streaming.error_frame(f"a frame is at most {MAX_FRAME_BYTES} bytes", 413)
    try:
        subscribing, stream, hashtag = streaming.subscription(json.loads(body))
        if subscribing:
            streaming.check_scopes(stream, connection.scopes)
        streams, hashtags = streaming.subscribed(connection, subscribing, stream, hashtag)
        if (streams, hashtags) != (connection.streams, connection.hashtags):
            services().realtime.subscribe(connection.connection_id, streams, hashtags)
    except (json.JSONDecodeError, RecursionError):
        return 400, None  # Mastodon ignores a frame that is not JSON
    except InvalidInput as error:
        return 400, streaming.error_frame(str(error), 400)
    except Forbidden as error:
        return 401, streaming.error_frame(str(error), 401)
    return 200, None


def disconnect(event: dict) -> dict:
    services().realtime.disconnect(event["requestContext"]["connectionId"])
    return _answer(200, {})


ROUTES = {"$connect": connect, "$disconnect": disconnect, "subscribe": subscribe, "$default": other_frame}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    route = ROUTES.get(event.get("requestContext", {}).get("routeKey", ""))
    if route is None:
        return _error(400, "BadRequest", 'unknown action: send {"action": "subscribe", "streams": [...]}')
    return route(event)
