"""Synthetic media made on the spot (no fixtures checked in): videos encoded with PyAV, animated GIFs with Pillow.
Used by the unit, end-to-end tests and the benchmarks alike."""

from __future__ import annotations

import io
import math
import struct
from pathlib import Path

import av
from PIL import Image

AUDIO_RATE = 48_000
SAMPLES_PER_FRAME = 1024


def video(path: Path, width: int, height: int, seconds: float, *, fps: int = 30, audio: bool = True) -> Path:
    """An H.264 (+ AAC 440 Hz tone) mp4 of a red picture with a blue bar sweeping across it."""
    with av.open(str(path), "w", format="mp4") as out:
        picture = out.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
        picture.width, picture.height, picture.pix_fmt = width, height, "yuv420p"
        sound = out.add_stream("aac", rate=AUDIO_RATE, layout="stereo") if audio else None
        for i in range(round(seconds * fps)):
            image = Image.new("RGB", (width, height), (200, 30, 30))
            image.paste((30, 30, 220), (0, 0, (i * 7) % width + 1, height // 4))
            out.mux(picture.encode(av.VideoFrame.from_image(image)))
        out.mux(picture.encode(None))
        if sound is not None:
            for k in range(round(seconds * AUDIO_RATE / SAMPLES_PER_FRAME)):
                start = k * SAMPLES_PER_FRAME
                samples = (0.3 * math.sin(2 * math.pi * 440 * (start + n) / AUDIO_RATE) for n in range(1024))
                frame = av.AudioFrame(format="fltp", layout="stereo", samples=SAMPLES_PER_FRAME)
                data = struct.pack(f"<{SAMPLES_PER_FRAME}f", *samples)
                for plane in frame.planes:
                    plane.update(data)
                frame.sample_rate, frame.pts = AUDIO_RATE, start
                out.mux(sound.encode(frame))
            out.mux(sound.encode(None))
    return path


def animated_gif(width: int, height: int, frames: int = 10, delay_ms: int = 100) -> bytes:
    pictures = [Image.new("RGB", (width, height), (20 * i % 256, 40, 200)) for i in range(frames)]
    out = io.BytesIO()
    pictures[0].save(out, format="GIF", save_all=True, append_images=pictures[1:], duration=delay_ms, loop=0)
    return out.getvalue()


def decoded_frames(path_or_url: str) -> tuple[int, list[str]]:
    """How many video frames decode, and the codecs of the streams: proof that a file plays."""
    with av.open(path_or_url) as container:
        codecs = [stream.codec_context.name for stream in container.streams]
        return sum(1 for _ in container.decode(video=0)), codecs
