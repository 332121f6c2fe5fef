"""GET /health: every backing service, checked from inside the Lambda with the endpoints it was given.

The same check also runs every minute on a schedule, so the UnhealthyDependencies metric (and its alarm)
does not wait for somebody to call the endpoint. GET /health needs no token: it is rate limited per client
address (chirp.runtime.http_guard), failing open so that it can report a Redis outage.
"""

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from chirp.adapters.probes import dependency_probes
from chirp.composition import services
from chirp.health import HealthReport, check_dependencies
from chirp.observability import logger, metrics, tracer
from chirp.runtime.http_guard import protected
from chirp.settings import get_settings

# No request validation: the route takes no input, and the validating resolver costs the cold start about 100 ms.
app = APIGatewayRestResolver()


@tracer.capture_method
def checked() -> HealthReport:
    report = check_dependencies(dependency_probes(get_settings()))
    unhealthy = [name for name, state in report.dependencies.items() if not state.ok]
    # Published on every check, 0 included: no data at all means the check itself did not run.
    metrics.add_metric(name="UnhealthyDependencies", unit="Count", value=len(unhealthy))
    if unhealthy:
        logger.warning("unhealthy dependencies", extra={"report": report.model_dump()})
    return report


@app.get(
    "/health",
    security=[],  # public: probes and load balancers call it without a token
    responses={
        200: {"description": "Every dependency answers", "content": {"application/json": {"model": HealthReport}}},
        503: {"description": "A dependency is down", "content": {"application/json": {"model": HealthReport}}},
    },
)
def health() -> Response[HealthReport]:
    report = checked()
    return Response(
        status_code=200 if report.ok else 503,
        content_type=content_types.APPLICATION_JSON,
        body=report.model_dump(),
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
@protected(guard=lambda: services().guard)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    if event.get("source") == "aws.events":  # the schedule: nobody waits for an HTTP answer
        return checked().model_dump()
    return app.resolve(event, context)
