"""Every minute: sets the automatic degradation level from the API's p99 latency and error rate and the
fan-out's iterator age (CloudWatch), with hysteresis (chirp.degradation.controller). An operator's manual
level wins over it (`make degrade LEVEL=3`, or `aws ssm put-parameter` on AWS); the controller keeps deciding
meanwhile. Invoked by hand it does the same run and answers what it decided."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from chirp.composition import services
from chirp.observability import logger, metrics, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    run = services().degradation_controller.run()
    answer = {
        "effective": run.effective.value,
        "manual": None if run.manual is None else run.manual.value,
        "auto": run.auto.model_dump(mode="json"),
        "before": run.before.model_dump(mode="json"),
        "signals": {
            "api_p99_ms": run.signals.api_p99_ms,
            "api_error_rate": run.signals.error_rate,
            "api_requests": run.signals.api_requests,
            "iterator_age_ms": run.signals.iterator_age_ms,
        },
    }
    if run.auto.level != run.before.level:
        logger.warning("automatic degradation level changed", extra=answer)
    else:
        logger.info("degradation level held", extra=answer)
    metrics.add_metric(name="DegradationLevel", unit="Count", value=run.effective.value)
    metrics.add_metric(name="AutomaticDegradationLevel", unit="Count", value=run.auto.level.value)
    return answer
