"""S3 ObjectCreated under videos/ on the media bucket: transcodes each video or animated GIF into H.264/AAC mp4
renditions and a poster, recorded on its ticket (chirp.runtime.s3_uploads says how retries and bad files are
handled)."""

from __future__ import annotations

from aws_lambda_powertools.utilities.typing import LambdaContext

from chirp.composition import services
from chirp.media.service import is_video_key
from chirp.observability import logger, metrics, tracer
from chirp.runtime.s3_uploads import transcode_uploads


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return transcode_uploads(event, kind="Video", wanted=is_video_key, transcode=services().video_transcoder.transcode)
