"""The Mastodon client API on Chirp's services: what Mastodon.py, toot and Mastodon apps call to sign in, post,
read, follow, search and upload. Served at the root of its own host (a custom domain): clients append paths,
and some the Link header's path, to the instance URL. The bearer token is Chirp's own (chirp.oauth), checked by
the mastodon_auth authorizer before a request gets here."""

from importlib import import_module

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from mastodon_api import absent, accounts, instance, media, reading, statuses
from mastodon_api.context import scope_check
from mastodon_api.errors import register_error_handlers

from chirp.composition import services
from chirp.observability import logger, metrics, tracer
from chirp.runtime.snapstart import before_snapshot, on_restore

CORS = CORSConfig(
    allow_origin="*",
    allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
    expose_headers=["Link", "Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"],
    max_age=3600,
)
# Parameters come as query, JSON, form or multipart (mastodon_api.params reads them all): no body models.
app = APIGatewayRestResolver(cors=CORS)
register_error_handlers(app)
app.use(middlewares=[scope_check])
instance.register(app)
for resource in (accounts, statuses, reading, media, absent):
    app.include_router(resource.router)
on_restore(lambda: services().after_restore())
# Every request's rate limit needs redis-py: imported into the snapshot, as the REST API's handler does.
before_snapshot(lambda: import_module("redis"))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
