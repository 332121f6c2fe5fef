"""SQS consumer: pushes one page of a popular author's followers per message (the async fan-out tier).

Idempotent (same id, same score), and a failed page is retried alone (partial batch response).
"""

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from chirp.composition import services
from chirp.observability import logger, metrics, tracer
from chirp.timelines.model import FollowerPage

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@tracer.capture_method
def push(record: SQSRecord) -> None:
    try:
        page = FollowerPage.model_validate_json(record.body)
    except ValidationError as error:
        logger.error("unreadable follower page skipped", extra={"message_id": record.message_id, "error": str(error)})
        metrics.add_metric(name="PoisonPages", unit="Count", value=1)
        return
    pushed = services().timelines.push_page(page.tweet_id, page.follower_ids, page.retweet_of_id)
    metrics.add_metric(name="TimelinesPushed", unit="Count", value=pushed)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(event=event, record_handler=push, processor=processor, context=context)
