"""Every error answer of the API: `{"error", "message"}` with the status the domain's error names."""

from __future__ import annotations

import json

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from chirp.adapters.outages import is_outage
from chirp.errors import ChirpError
from chirp.ids.snowflake import IdGenerationError
from chirp.observability import logger
from chirp.runtime.idempotent_post import PostInProgress

UNSUPPORTED_MEDIA_TYPE = 415, "UnsupportedMediaType", "send the body as application/json"
RETRY_AFTER_S = 1  # dependency outages and requests still in progress: try again soon


def error_response(status: int, error: str, message: str, retry_after_s: int | None = None) -> Response:
    if retry_after_s is None and status in (429, 503):  # always said when the answer is "retry later"
        retry_after_s = RETRY_AFTER_S
    headers = {"Retry-After": str(retry_after_s)} if retry_after_s is not None else None
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body={"error": error, "message": message},
        headers=headers,
    )


def register_error_handlers(app: APIGatewayRestResolver) -> None:
    @app.exception_handler(ChirpError)
    def domain_error(error: ChirpError) -> Response:
        return error_response(error.status, type(error).__name__, str(error))

    @app.not_found
    def no_such_route(_: Exception) -> Response:
        """A path the gateway routed here that no route matches (an id with characters no route takes)."""
        event = app.current_event
        return error_response(404, "NotFound", f"no such resource: {event.http_method} {event.path}")

    @app.exception_handler(RequestValidationError)
    def invalid_request(error: RequestValidationError) -> Response:
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()]
        return error_response(400, "InvalidInput", "; ".join(problems))

    @app.exception_handler(RequestUnsupportedContentType)
    def unsupported_content_type(_: RequestUnsupportedContentType) -> Response:
        return error_response(*UNSUPPORTED_MEDIA_TYPE)

    @app.exception_handler(IdGenerationError)
    def ids_unavailable(error: IdGenerationError) -> Response:
        logger.error("cannot issue tweet ids", extra={"reason": str(error)})
        return error_response(503, "Unavailable", "tweet ids cannot be issued right now; retry shortly")

    @app.exception_handler(PostInProgress)
    def retry_in_progress(error: PostInProgress) -> Response:
        return error_response(409, "Conflict", str(error), retry_after_s=RETRY_AFTER_S)

    @app.exception_handler(RecursionError)
    def nested_too_deeply(_: RecursionError) -> Response:
        """JSON nested thousands of levels deep exhausts the parser's recursion: the body's fault."""
        return error_response(400, "InvalidInput", "the body nests too deeply")

    @app.exception_handler(Exception)
    def unexpected(error: Exception) -> Response:
        """A dependency that does not answer is a 503 to retry; anything else a 500. Neither says more: the
        log has the details, under the request id the client can quote."""
        request_id = app.current_event.request_context.request_id
        if is_outage(error):
            logger.warning("dependency unavailable", extra={"error": f"{type(error).__name__}: {error}"})
            return error_response(503, "Unavailable", "a service Chirp depends on is unavailable; retry shortly")
        logger.exception("unexpected error")
        return error_response(500, "InternalError", f"something went wrong on our side (request {request_id})")


def unsupported_media_type(event: dict) -> dict | None:
    """Bodies are JSON only: a body declared as anything else is answered 415 here, where the resolver would
    parse it as a form instead (and raise on a multipart type without a boundary: a 502). A JSON type is
    passed on lower-cased: media types are case-insensitive, the resolver's check is not."""
    headers = event.get("headers") or {}
    name = next((name for name in headers if name.lower() == "content-type"), None)
    media_type = (headers.get(name) or "application/json").split(";")[0].strip().lower()
    if media_type == "application/json":
        if name is not None:
            headers[name] = headers[name].lower()
        return None
    if not event.get("body"):
        return None
    status, error, message = UNSUPPORTED_MEDIA_TYPE
    body = {"error": error, "message": f"{message}, not {media_type!r}"}
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}
