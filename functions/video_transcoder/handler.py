"""S3 ObjectCreated under videos/ on the media bucket: transcodes each video or animated GIF into H.264/AAC mp4
renditions and a poster, recorded on its ticket.

S3 invokes asynchronously and retries a failed invocation; transcoding is idempotent, so a retry or a redelivered
event rewrites the same objects. Bad content is recorded as rejected, never raised, so only infrastructure failures
(S3 or DynamoDB unavailable) are retried.
"""

from __future__ import annotations

from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import S3Event
from aws_lambda_powertools.utilities.typing import LambdaContext

from chirp.composition import services
from chirp.media.service import is_video_key
from chirp.observability import logger, metrics, tracer


@tracer.capture_method
def transcode(key: str) -> str:
    result = services().video_transcoder.transcode(key)
    extra = {"media_id": result.media_id, "owner": result.owner}
    if result.status == "ready":
        logger.info("video transcoded", extra={**extra, "duration_s": result.duration_s})
        metrics.add_metric(name="VideoTranscoded", unit="Count", value=1)
        return "transcoded"
    logger.warning("video rejected", extra={**extra, "reason": result.reason})
    metrics.add_metric(name="VideoRejected", unit="Count", value=1)
    return "rejected"


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    outcomes = {"transcoded": 0, "rejected": 0, "ignored": 0}
    for record in S3Event(event).records:
        key = unquote_plus(record.s3.get_object.key)  # S3 sends keys URL-encoded, '+' for a space
        if is_video_key(key):
            outcomes[transcode(key)] += 1
        else:
            logger.info("not a video upload, ignored", extra={"key": key})
            outcomes["ignored"] += 1
    return outcomes
