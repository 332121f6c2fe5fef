"""S3 ObjectCreated under uploads/ on the media bucket: transcodes each image into its WebP variants and
BlurHash, recorded on its ticket (chirp.runtime.s3_uploads says how retries and bad files are handled)."""

from __future__ import annotations

from aws_lambda_powertools.utilities.typing import LambdaContext

from chirp.composition import services
from chirp.media.service import is_upload_key
from chirp.observability import logger, metrics, tracer
from chirp.runtime.s3_uploads import transcode_uploads


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return transcode_uploads(event, kind="Media", wanted=is_upload_key, transcode=services().transcoder.transcode)
