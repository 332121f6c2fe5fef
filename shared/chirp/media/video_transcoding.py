"""Transcoding a video (or animated GIF) upload into mp4 renditions and a poster, recorded on its ticket (the video
transcoder function; PyAV is imported here only).

The upload is copied to local storage (FFmpeg seeks in it), decoded once, and every output is uploaded under
media/{media_id}/. Bad content is recorded as rejected rather than raised, so it is never retried; a redelivered
event rewrites the same keys.
"""

from __future__ import annotations

import math
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from chirp.errors import InvalidInput
from chirp.media.model import Source, TranscodeResult, Variant
from chirp.media.ports import MediaObjects, MediaStore
from chirp.media.service import VIDEO_KEY, given_up, max_upload_bytes
from chirp.media.videos import UnusableMedia, transcode_video

# What a transcoder keeps, of its invocation's time, to upload the renditions and record the outcome: a 1080p
# rendition of the longest video is about 100 MB, S3 takes it in seconds in-region.
FINISH_RESERVE_S = 60


class VideoTranscoder:
    def __init__(
        self,
        objects: MediaObjects,
        store: MediaStore,
        scratch: Path | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.objects, self.store, self.clock = objects, store, clock
        self.scratch = scratch or Path(tempfile.gettempdir())  # Lambda's ephemeral storage

    def transcode(self, key: str, time_left_s: float = math.inf) -> TranscodeResult:
        """Turns the upload at `key` into its renditions and poster, and records the outcome on its ticket (none
        for a ticket never issued or expired). Raises only when storage fails. `time_left_s`: the invocation's
        time; what cannot be decoded before FINISH_RESERVE_S of it remain is rejected, since a timed-out function
        would record nothing and leave the ticket processing for ever (a retry would time out the same way)."""
        deadline_s = self.clock() + time_left_s - FINISH_RESERVE_S
        match = VIDEO_KEY.fullmatch(key)
        if match is None:
            raise InvalidInput(f"not a video upload key: {key!r}")
        owner, media_id = match["owner"], match["media_id"]
        if (abandoned := given_up(self.store, media_id, owner)) is not None:
            return abandoned
        with tempfile.TemporaryDirectory(dir=self.scratch) as workdir:
            source = Path(workdir) / "source"
            limit = max_upload_bytes("video/mp4")
            size = self.objects.download(key, source, max_bytes=limit)
            if size is None:
                raise InvalidInput(f"no upload at {key!r}")
            try:
                if size > limit:
                    raise UnusableMedia(f"larger than {limit} bytes ({size})")
                rendition = transcode_video(source, Path(workdir), deadline_s=deadline_s, clock=self.clock)
            except UnusableMedia as error:
                result = TranscodeResult(media_id=media_id, owner=owner, status="rejected", reason=str(error))
            else:
                variants = {
                    name: self._put_file(media_id, name, file.path, file.width, file.height)
                    for name, file in rendition.renditions.items()
                }
                poster_key = f"media/{media_id}/poster.webp"
                self.objects.write(poster_key, rendition.poster.data, "image/webp", unattached=True)
                variants["poster"] = Variant(
                    key=poster_key,
                    width=rendition.poster.width,
                    height=rendition.poster.height,
                    size_bytes=len(rendition.poster.data),
                )
                result = TranscodeResult(
                    media_id=media_id,
                    owner=owner,
                    status="ready",
                    kind="video",
                    source=Source(
                        format=rendition.source_format, width=rendition.width, height=rendition.height, size_bytes=size
                    ),
                    variants=variants,
                    blurhash=rendition.blurhash,
                    duration_s=round(rendition.duration_s, 3),
                )
        # Recorded last: once the ticket says ready, every variant it names can be read.
        self.store.record_result(result)
        return result

    def _put_file(self, media_id: str, name: str, path: Path, width: int, height: int) -> Variant:
        key = f"media/{media_id}/{name}.mp4"
        self.objects.upload(path, key, "video/mp4", unattached=True)
        return Variant(key=key, width=width, height=height, size_bytes=path.stat().st_size)
