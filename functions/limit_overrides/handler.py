"""Every minute: mirrors the per-user rate limit overrides operators set in SSM (`/chirp/<stage>/limits/users/<sub>`)
into Redis, next to each user's counters, where every check reads them in its one round trip; an override removed
from SSM is removed from Redis. Invoked by hand (or by the benchmarks), it mirrors at once and says how many."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from chirp.composition import services
from chirp.observability import logger, metrics, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    users = services().override_mirror.run()
    metrics.add_metric(name="LimitOverrides", unit="Count", value=users)
    return {"users_with_overrides": users}
