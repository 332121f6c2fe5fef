"""S3 ObjectCreated events on the media bucket, for the transcoders: each wanted key is transcoded, every
other key (the transcoders' own outputs, the other transcoder's uploads) is ignored.

S3 invokes asynchronously and retries a failed invocation; transcoding is idempotent, so a retry or a
redelivered event rewrites the same objects. Bad content is recorded as rejected, never raised, so only
infrastructure failures (S3 or DynamoDB unavailable) are retried."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import S3Event

from chirp.media.model import TranscodeResult
from chirp.observability import logger, metrics, tracer


def transcode_uploads(
    event: dict, *, kind: str, wanted: Callable[[str], bool], transcode: Callable[[str], TranscodeResult]
) -> dict[str, int]:
    """Counts of what happened to the event's keys; `kind` names the logs and metrics ("Media", "Video")."""
    outcomes = {"transcoded": 0, "rejected": 0, "ignored": 0}
    transcode = tracer.capture_method(transcode)  # one trace segment per key
    for record in S3Event(event).records:
        key = unquote_plus(record.s3.get_object.key)  # S3 sends keys URL-encoded, '+' for a space
        if not wanted(key):
            logger.info(f"not a {kind.lower()} upload, ignored", extra={"key": key})
            outcomes["ignored"] += 1
            continue
        result = transcode(key)
        extra = {"media_id": result.media_id, "owner": result.owner}
        if result.duration_s is not None:  # videos
            extra["duration_s"] = result.duration_s
        if result.status == "ready":
            logger.info(f"{kind.lower()} transcoded", extra=extra)
            metrics.add_metric(name=f"{kind}Transcoded", unit="Count", value=1)
            outcomes["transcoded"] += 1
        else:
            logger.warning(f"{kind.lower()} rejected", extra={**extra, "reason": result.reason})
            metrics.add_metric(name=f"{kind}Rejected", unit="Count", value=1)
            outcomes["rejected"] += 1
    return outcomes
