"""Every error answer of the Mastodon API in Mastodon's shape, `{"error": "..."}` (OAuth errors add
`error_description`; a 422 adds `details`, as Mastodon's validation errors do), with the statuses Mastodon gives:
422 for input it cannot accept, 404 for an unknown record, 401 for a missing or bad token, 503 with Retry-After
for an outage."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types

from chirp.adapters.outages import is_outage
from chirp.errors import ChirpError, InvalidInput
from chirp.ids.snowflake import IdGenerationError
from chirp.oauth.service import OAuthError
from chirp.observability import logger
from chirp.runtime.idempotent_post import PostInProgress

RETRY_AFTER_S = 1


def error_response(status: int, error: str, description: str | None = None) -> Response:
    body = {"error": error} if description is None else {"error": error, "error_description": description}
    return _json(status, body)


def validation_error(error: ChirpError) -> Response:
    """Mastodon's 422 (its ValidationError): the message, and what is wrong with each parameter, where known."""
    field = getattr(error, "field", None)
    details = {field: [{"error": "ERR_INVALID", "description": str(error)}]} if field else {}
    return _json(422, {"error": str(error), "details": details})


def _json(status: int, body: dict) -> Response:
    headers = {"Retry-After": str(RETRY_AFTER_S)} if status in (429, 503) else None
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body, headers=headers)


def register_error_handlers(app: APIGatewayRestResolver) -> None:
    @app.exception_handler(OAuthError)
    def oauth_error(error: OAuthError) -> Response:
        return error_response(error.status, error.code, error.description)

    @app.exception_handler(ChirpError)
    def domain_error(error: ChirpError) -> Response:
        # Mastodon answers 422 for a parameter it cannot accept (a blank status, a bad limit); Chirp says 400.
        if isinstance(error, InvalidInput) or error.status == 422:
            return validation_error(error)
        return error_response(error.status, str(error))

    @app.not_found
    def no_such_route(_: Exception) -> Response:
        return error_response(404, "Record not found")

    @app.exception_handler(IdGenerationError)
    def ids_unavailable(error: IdGenerationError) -> Response:
        logger.error("cannot issue tweet ids", extra={"reason": str(error)})
        return error_response(503, "Statuses cannot be posted right now; retry shortly")

    @app.exception_handler(PostInProgress)
    def retry_in_progress(error: PostInProgress) -> Response:
        return error_response(503, str(error))  # Mastodon's answer to a racing key: try again

    @app.exception_handler(RecursionError)
    def nested_too_deeply(_: RecursionError) -> Response:
        return validation_error(InvalidInput("The body nests too deeply"))

    @app.exception_handler(Exception)
    def unexpected(error: Exception) -> Response:
        request_id = app.current_event.request_context.request_id
        if is_outage(error):
            logger.warning("dependency unavailable", extra={"error": f"{type(error).__name__}: {error}"})
            return error_response(503, "A service Chirp depends on is unavailable; retry shortly")
        logger.exception("unexpected error")
        return error_response(500, f"Something went wrong on our side (request {request_id})")
