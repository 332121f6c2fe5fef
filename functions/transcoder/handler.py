"""S3 ObjectCreated on the media bucket: transcodes each upload into its WebP variants, recorded on its ticket.

S3 invokes asynchronously and retries a failed invocation; transcoding is idempotent, so a retry or a
redelivered event rewrites the same objects. Bad content is recorded as rejected, never raised, so only
infrastructure failures (S3 unavailable) are retried.
"""

from __future__ import annotations

from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import S3Event
from aws_lambda_powertools.utilities.typing import LambdaContext

from chirp.composition import services
from chirp.media.service import is_upload_key
from chirp.observability import logger, metrics, tracer


@tracer.capture_method
def transcode(key: str) -> str:
    result = services().transcoder.transcode(key)
    if result.status == "ready":
        logger.info("media transcoded", extra={"media_id": result.media_id, "owner": result.owner})
        metrics.add_metric(name="MediaTranscoded", unit="Count", value=1)
        return "transcoded"
    logger.warning(
        "media rejected", extra={"media_id": result.media_id, "owner": result.owner, "reason": result.reason}
    )
    metrics.add_metric(name="MediaRejected", unit="Count", value=1)
    return "rejected"


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    outcomes = {"transcoded": 0, "rejected": 0, "ignored": 0}
    for record in S3Event(event).records:
        key = unquote_plus(record.s3.get_object.key)  # S3 sends keys URL-encoded, '+' for a space
        if is_upload_key(key):
            outcomes[transcode(key)] += 1
        else:  # our own media/ outputs, or anything else written to the bucket
            logger.info("not an upload, ignored", extra={"key": key})
            outcomes["ignored"] += 1
    return outcomes
