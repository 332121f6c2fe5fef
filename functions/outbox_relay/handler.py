"""Scheduled: re-publishes tweets stored but never confirmed on the new-tweets stream, and engagement events never
confirmed on the engagements stream (a crash after the write)."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from chirp.composition import services
from chirp.observability import logger, metrics, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    relayed = services().tweets.relay_outbox()
    metrics.add_metric(name="OutboxRelayed", unit="Count", value=relayed)
    events = services().engagement.relay_outbox()
    metrics.add_metric(name="EngagementOutboxRelayed", unit="Count", value=events)
    return {"relayed": relayed, "events_relayed": events}
