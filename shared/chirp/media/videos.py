"""Video: untrusted files decoded by FFmpeg (PyAV, in the video layer) into H.264/AAC mp4 renditions and a poster.

One decoding pass feeds every rendition's encoder. Only the streams' pictures and sound are re-encoded, so no
metadata of the source survives. An animated GIF becomes a silent mp4 (clients loop it). Anything FFmpeg cannot
read, or that breaks a limit, is UnusableMedia with the reason recorded, never an exception that would be retried.
"""

from __future__ import annotations

import io
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
from av.video.frame import PictureType
from PIL import Image

from chirp.media.images import WEBP_QUALITY, Encoded, UnusableImage, blurhash_of, fit_within
from chirp.media.model import MAX_VIDEO_SECONDS, RENDITIONS

# FFmpeg's demuxer names for the allowed containers (mp4 and QuickTime share one demuxer, WebM is Matroska's).
ALLOWED_FORMATS = {"mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "gif"}
MAX_DIMENSION = 4096
X264_OPTIONS = {"crf": "23", "preset": "veryfast", "movflags": "+faststart"}
AUDIO_RATE = 48_000
POSTER_LONGEST = 1280


class UnusableMedia(UnusableImage):
    """The file is not a video this service accepts; the message is the reason recorded."""


@dataclass(frozen=True)
class RenditionFile:
    path: Path
    width: int
    height: int


@dataclass
class VideoRendition:
    source_format: str
    width: int
    height: int
    duration_s: float
    has_audio: bool
    renditions: dict[str, RenditionFile] = field(default_factory=dict)
    poster: Encoded | None = None
    blurhash: str | None = None


def rendition_sizes(width: int, height: int) -> dict[str, tuple[int, int]]:
    """Each rendition's size by name: its short side at the rendition's height, never enlarged (360p always, the
    others only when the source has them), even numbers (as H.264's 4:2:0 needs)."""
    short = min(width, height)
    sizes = {}
    for name, target in RENDITIONS.items():
        if target > short and sizes:
            break
        w, h = fit_within(width, height, round(max(width, height) * min(1.0, target / short)))
        sizes[name] = (w - w % 2 or 2, h - h % 2 or 2)
    return sizes


def transcode_video(
    source: Path, workdir: Path, *, deadline_s: float = math.inf, clock: Callable[[], float] = time.monotonic
) -> VideoRendition:
    """Decodes the file once into every rendition (workdir/<name>.mp4) and a poster, or raises UnusableMedia; also
    when `clock` passes `deadline_s` before the last frame (the transcoder's time would run out: the file is
    rejected with a reason, rather than left processing for ever by a function that timed out)."""
    try:
        with av.open(str(source)) as container:
            return _transcode(container, workdir, deadline_s, clock)
    except UnusableMedia:
        raise
    except Exception as error:  # only FFmpeg runs here, on untrusted bytes, on local files: any failure is theirs
        raise UnusableMedia(f"not a readable MP4, QuickTime, WebM or GIF video ({type(error).__name__})") from error


def _transcode(
    container: av.container.InputContainer, workdir: Path, deadline_s: float, clock: Callable[[], float]
) -> VideoRendition:
    if container.format.name not in ALLOWED_FORMATS:
        raise UnusableMedia(f"not an MP4, QuickTime, WebM or GIF video ({container.format.name})")
    if not container.streams.video:
        raise UnusableMedia("no video track")
    video = container.streams.video[0]
    width, height = video.codec_context.width, video.codec_context.height
    if not (0 < width <= MAX_DIMENSION and 0 < height <= MAX_DIMENSION):
        raise UnusableMedia(f"{width}x{height} pixels: at most {MAX_DIMENSION} on a side")
    duration_s = _duration(container, video)
    if duration_s > MAX_VIDEO_SECONDS:
        raise UnusableMedia(f"{duration_s:.1f} s long: at most {MAX_VIDEO_SECONDS} s")
    is_gif = container.format.name == "gif"
    audio = None if is_gif or not container.streams.audio else container.streams.audio[0]
    rate = _frame_rate(video)
    outputs = {
        name: _Output(workdir / f"{name}.mp4", size, rate, with_audio=audio is not None)
        for name, size in rendition_sizes(width, height).items()
    }
    result = VideoRendition(
        source_format=_content_type(container),
        width=width,
        height=height,
        duration_s=duration_s,
        has_audio=audio is not None,
    )
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=AUDIO_RATE, frame_size=1024)
    frames_seen = 0.0
    try:
        for packet in container.demux([s for s in (video, audio) if s is not None]):
            for frame in packet.decode():
                if isinstance(frame, av.VideoFrame):
                    frames_seen += 1
                    if frames_seen / float(rate) > MAX_VIDEO_SECONDS + 1:  # a lying header: stop at the limit
                        raise UnusableMedia(f"longer than {MAX_VIDEO_SECONDS} s")
                    if clock() > deadline_s:
                        raise UnusableMedia("could not be transcoded in the time the transcoder has")
                    if result.poster is None:
                        _set_poster(result, frame)
                    for output in outputs.values():
                        output.add_video(frame)
                else:
                    for resampled in resampler.resample(frame):
                        for output in outputs.values():
                            output.add_audio(resampled)
        for resampled in resampler.resample(None):
            for output in outputs.values():
                output.add_audio(resampled)
        for output in outputs.values():
            output.flush()
    finally:
        for output in outputs.values():
            output.container.close()
    if result.poster is None:
        raise UnusableMedia("no decodable video frame")
    result.renditions = {name: output.file for name, output in outputs.items()}
    return result


def _content_type(container: av.container.InputContainer) -> str:
    """The type found in the file (mp4 and QuickTime share a demuxer: the brand tells them apart)."""
    name = container.format.name
    if name == "gif":
        return "image/gif"
    if name == "matroska,webm":
        return "video/webm"
    return "video/quicktime" if container.metadata.get("major_brand", "").startswith("qt") else "video/mp4"


def _duration(container: av.container.InputContainer, video: av.video.stream.VideoStream) -> float:
    if video.duration is not None and video.time_base is not None:
        return float(video.duration * video.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    raise UnusableMedia("no duration in the file")


def _frame_rate(video: av.video.stream.VideoStream) -> Fraction:
    rate = video.average_rate or video.guessed_rate or Fraction(30)
    return Fraction(rate).limit_denominator(1001) if 1 <= rate <= 120 else Fraction(30)


def _set_poster(result: VideoRendition, frame: av.VideoFrame) -> None:
    image = frame.to_image()
    image = image.resize(fit_within(*image.size, POSTER_LONGEST), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="WEBP", quality=WEBP_QUALITY)
    result.poster = Encoded(out.getvalue(), image.width, image.height)
    result.blurhash = blurhash_of(image)


class _Output:
    """One rendition being written: an mp4 with an H.264 stream and, when the source has sound, an AAC one."""

    def __init__(self, path: Path, size: tuple[int, int], rate: Fraction, *, with_audio: bool):
        self.file = RenditionFile(path, *size)
        self.container = av.open(str(path), mode="w", format="mp4", options={"movflags": "+faststart"})
        self.video = self.container.add_stream("libx264", rate=rate, options=X264_OPTIONS)
        self.video.width, self.video.height, self.video.pix_fmt = size[0], size[1], "yuv420p"
        self.audio = self.container.add_stream("aac", rate=AUDIO_RATE, layout="stereo") if with_audio else None
        # Timestamps are renumbered from zero: frames at the output's rate, samples at its sample rate.
        self.frame_time, self.frames, self.samples = 1 / rate, 0, 0

    def add_video(self, frame: av.VideoFrame) -> None:
        scaled = frame.reformat(self.file.width, self.file.height, format="yuv420p")
        scaled.pts, scaled.time_base = self.frames, self.frame_time
        self.frames += 1
        # An all-intra source's frames say I; left so, every output frame would be a keyframe (3x the bytes).
        scaled.pict_type = PictureType.NONE
        self.container.mux(self.video.encode(scaled))

    def add_audio(self, frame: av.AudioFrame) -> None:
        if self.audio is not None:
            frame.pts, frame.time_base = self.samples, Fraction(1, AUDIO_RATE)
            self.samples += frame.samples
            self.container.mux(self.audio.encode(frame))

    def flush(self) -> None:
        """Writes what the encoders still hold (x264 keeps a few frames to look ahead)."""
        self.container.mux(self.video.encode(None))
        if self.audio is not None:
            self.container.mux(self.audio.encode(None))
