"""One way to build the REST API's resolvers: every HTTP function of this folder (the core API in handler.py,
search and trends in discovery.py, each its own Lambda with its own reserved concurrency) gets the same CORS
policy, error mapping and protection (chirp.runtime.http_guard)."""

from __future__ import annotations

from collections.abc import Callable

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from chirp.composition import services
from chirp.observability import logger, metrics, tracer
from chirp.runtime.http_guard import EXPOSED_HEADERS, protected
from rest_api.errors import register_error_handlers, unsupported_media_type

# Browsers read only the headers a response exposes; the gateway answers preflights (infra/capabilities/api.py).
CORS = CORSConfig(
    allow_origin="*",
    allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
    expose_headers=list(EXPOSED_HEADERS),
    max_age=3600,
)


def resolver(*routers: Router) -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(enable_validation=True, cors=CORS)
    register_error_handlers(app)
    for router in routers:
        app.include_router(router)
    return app


def entry_point(app: APIGatewayRestResolver) -> Callable[[dict, LambdaContext], dict]:
    """The Lambda handler of a resolver: logging, tracing and metrics around the guard around the routes."""

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
    @tracer.capture_lambda_handler
    @metrics.log_metrics
    @protected(guard=lambda: services().guard)
    def lambda_handler(event: dict, context: LambdaContext) -> dict:
        return unsupported_media_type(event) or app.resolve(event, context)

    return lambda_handler
