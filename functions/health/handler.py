"""GET /health: every backing service, checked from inside the Lambda with the endpoints it was given."""

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from chirp.adapters.probes import dependency_probes
from chirp.health import HealthReport, check_dependencies
from chirp.observability import logger, metrics, tracer
from chirp.settings import get_settings

app = APIGatewayRestResolver(enable_validation=True)


@app.get("/health")
@tracer.capture_method
def health() -> Response[HealthReport]:
    report = check_dependencies(dependency_probes(get_settings()))
    unhealthy = [name for name, state in report.dependencies.items() if not state.ok]
    # Published on every check, 0 included, so an alarm can tell "all healthy" from "no data".
    metrics.add_metric(name="UnhealthyDependencies", unit="Count", value=len(unhealthy))
    if unhealthy:
        logger.warning("unhealthy dependencies", extra={"report": report.model_dump()})
    return Response(
        status_code=200 if report.ok else 503,
        content_type=content_types.APPLICATION_JSON,
        body=report.model_dump(),
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
