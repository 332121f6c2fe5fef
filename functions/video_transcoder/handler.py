"""S3 ObjectCreated under videos/ on the media bucket: transcodes each video or animated GIF into H.264/AAC mp4
renditions and a poster, recorded on its ticket (chirp.runtime.s3_uploads says how retries and bad files are
handled)."""

from __future__ import annotations

from aws_lambda_powertools.utilities.typing import LambdaContext

from chirp.composition import services
from chirp.media.model import TranscodeResult
from chirp.media.service import is_video_key
from chirp.observability import logger, metrics, tracer
from chirp.runtime.s3_uploads import transcode_uploads


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    transcoder = services().video_transcoder

    def transcode(key: str) -> TranscodeResult:  # within what is left of this invocation's time
        return transcoder.transcode(key, time_left_s=context.get_remaining_time_in_millis() / 1000)

    return transcode_uploads(event, kind="Video", wanted=is_video_key, transcode=transcode)
