"""Repairs the search index from DynamoDB, the truth.

- SQS trigger on the index failures queue: each message is the pointer Lambda leaves when the indexer gave up
  on a batch (its records aged out during an outage); their tweets are indexed again. A batch the stream no
  longer holds is logged and counted (`SearchRecordsExpired`): only a reindex restores it. A failure (the
  cluster still down) is a partial batch failure: SQS redelivers the message later.
- Invoked directly with {"reindex": {"segment": 0, "total_segments": 4, "start_key": null}}: indexes that scan
  segment until shortly before the invocation's deadline, and answers where to resume (`python -m chirp.cli
  reindex` drives this locally; on AWS, `aws lambda invoke`).
"""

from __future__ import annotations

import json

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ValidationError

from chirp.composition import services
from chirp.observability import logger, metrics, tracer
from chirp.search.repair import FailedBatch, RecordsExpired

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
SAFETY_MS = 20_000  # stop a reindex this long before the invocation's deadline


class ReindexRequest(BaseModel):
    segment: int = 0
    total_segments: int = 1
    start_key: dict | None = None


@tracer.capture_method
def redrive(record: SQSRecord) -> None:
    try:
        batch = FailedBatch.model_validate(json.loads(record.body)["KinesisBatchInfo"])
    except (ValueError, KeyError, TypeError, ValidationError) as error:
        logger.error("not an on-failure pointer; dropped", extra={"message_id": record.message_id, "error": str(error)})
        metrics.add_metric(name="UnreadableFailurePointers", unit="Count", value=1)
        return
    try:
        indexed = services().search_repair.redrive(batch)
    except RecordsExpired as error:
        logger.error("failed batch past the stream's retention", extra={"reason": str(error)})
        metrics.add_metric(name="SearchRecordsExpired", unit="Count", value=1)
        return
    metrics.add_metric(name="TweetsRedriven", unit="Count", value=indexed)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    if "reindex" in event:
        request = ReindexRequest.model_validate(event["reindex"])
        indexed, next_key = services().search_repair.reindex(
            segment=request.segment,
            total_segments=request.total_segments,
            start_key=request.start_key,
            keep_going=lambda: context.get_remaining_time_in_millis() > SAFETY_MS,
        )
        metrics.add_metric(name="TweetsReindexed", unit="Count", value=indexed)
        return {"indexed": indexed, "next_start_key": next_key}
    return process_partial_response(event=event, record_handler=redrive, processor=processor, context=context)
