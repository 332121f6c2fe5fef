"""The Chirp REST API: one resolver, a Router per resource (rest_api/), one error mapping."""

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from rest_api import engagement, media, reading, tweets, users
from rest_api.errors import register_error_handlers, unsupported_media_type

from chirp.composition import services
from chirp.observability import logger, metrics, tracer
from chirp.runtime.snapstart import on_restore

# Browsers read only the headers a response exposes; the gateway answers preflights (infra/capabilities/api.py).
CORS = CORSConfig(
    allow_origin="*",
    allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
    expose_headers=["Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"],
    max_age=3600,
)
app = APIGatewayRestResolver(enable_validation=True, cors=CORS)
register_error_handlers(app)
for resource in (users, tweets, engagement, reading, media):
    app.include_router(resource.router)
on_restore(lambda: services().after_restore())  # SnapStart (AWS): each restored copy leases its own id slot


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return unsupported_media_type(event) or app.resolve(event, context)
