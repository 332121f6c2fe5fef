"""Video rules with real FFmpeg (PyAV) on synthetic files: renditions, poster, limits, and bad files rejected."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from chirp.media.model import TRANSCODE_TRIES, Source, TranscodeResult, Variant
from chirp.media.video_transcoding import FINISH_RESERVE_S, VideoTranscoder
from chirp.media.videos import UnusableMedia, rendition_sizes, transcode_video
from tests.media_samples import animated_gif, decoded_frames, video
from tests.unit.fakes import World


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((1920, 1080), {"360p": (640, 360), "720p": (1280, 720), "1080p": (1920, 1080)}),
        ((1280, 720), {"360p": (640, 360), "720p": (1280, 720)}),
        ((1080, 1920), {"360p": (360, 640), "720p": (720, 1280), "1080p": (1080, 1920)}),  # portrait: short side
        ((320, 240), {"360p": (320, 240)}),  # never enlarged
        ((99, 51), {"360p": (98, 50)}),  # even sides, as 4:2:0 needs
    ],
)
def test_given_a_source_size_when_planned_then_360p_always_and_larger_renditions_only_when_the_source_has_them(
    size, expected
):
    assert rendition_sizes(*size) == expected


def test_given_a_video_with_sound_when_transcoded_then_h264_aac_renditions_a_poster_and_blurhash(tmp_path):
    source = video(tmp_path / "in.mp4", 1280, 720, 1.0)
    result = transcode_video(source, tmp_path)
    assert (result.source_format, result.width, result.height, result.has_audio) == ("video/mp4", 1280, 720, True)
    assert result.duration_s == pytest.approx(1.0, abs=0.1)
    assert set(result.renditions) == {"360p", "720p"}
    for rendition in result.renditions.values():
        frames, codecs = decoded_frames(str(rendition.path))
        assert (frames, codecs) == (30, ["h264", "aac"])
    assert (result.poster.width, result.poster.height) == (1280, 720)
    assert result.blurhash


def test_given_an_animated_gif_when_transcoded_then_a_silent_mp4(tmp_path):
    source = tmp_path / "in.gif"
    source.write_bytes(animated_gif(120, 80, frames=10))
    result = transcode_video(source, tmp_path)
    assert (result.source_format, result.has_audio) == ("image/gif", False)
    assert decoded_frames(str(result.renditions["360p"].path)) == (10, ["h264"])


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda d: _write(d / "junk", b"not a video" * 100), "not a readable"),
        (lambda d: video(d / "long.mp4", 16, 16, 141, fps=1, audio=False), "141.0 s long: at most 140 s"),
        (lambda d: _write(d / "pic.png", _png()), "not an MP4, QuickTime, WebM or GIF video (png_pipe)"),
    ],
    ids=["junk", "too-long", "a-still-image"],
)
def test_given_a_bad_file_when_transcoded_then_unusable_with_the_reason(tmp_path, make, reason):
    with pytest.raises(UnusableMedia, match=reason.replace("(", r"\(").replace(")", r"\)")):
        transcode_video(make(tmp_path), tmp_path)


def test_given_a_video_upload_when_the_transcoder_runs_twice_then_ready_with_the_same_keys_and_recorded(tmp_path):
    world = World()
    ticket = world.media.presign_upload("ann", "video/mp4", 1000)
    world.media_objects.objects[ticket.key] = video(tmp_path / "up.mp4", 640, 360, 0.5).read_bytes()
    transcoder = VideoTranscoder(world.media_objects, world.media_store, scratch=tmp_path)

    first, second = transcoder.transcode(ticket.key), transcoder.transcode(ticket.key)

    assert first.status == "ready"
    assert first.kind == "video"
    assert first.variants.keys() == second.variants.keys() == {"360p", "poster"}
    assert world.media_store.records[ticket.media_id].result == second
    assert f"media/{ticket.media_id}/360p.mp4" in world.media_objects.objects
    assert not any(key.startswith("videos/") and key != ticket.key for key in world.media_objects.objects)


def test_given_a_poison_video_when_transcoded_then_rejected_with_a_reason_and_nothing_written(tmp_path):
    world = World()
    ticket = world.media.presign_upload("ann", "video/webm", 1000)
    world.media_objects.objects[ticket.key] = b"\x1a\x45\xdf\xa3" + b"\0" * 500  # an EBML header, then nothing
    result = VideoTranscoder(world.media_objects, world.media_store, scratch=tmp_path).transcode(ticket.key)
    assert result.status == "rejected"
    assert "not a readable" in result.reason
    assert not [key for key in world.media_objects.objects if key.startswith("media/")]


def test_given_a_clock_past_the_deadline_when_transcoded_then_unusable_for_lack_of_time(tmp_path):
    source = video(tmp_path / "in.mp4", 64, 64, 0.5, audio=False)

    with pytest.raises(UnusableMedia, match="could not be transcoded in the time the transcoder has"):
        transcode_video(source, tmp_path, deadline_s=10.0, clock=lambda: 11.0)


@pytest.mark.parametrize("time_left_s", [FINISH_RESERVE_S - 1, FINISH_RESERVE_S + 5], ids=["none", "5-frames"])
def test_given_too_little_time_left_when_an_upload_is_transcoded_then_it_is_rejected_not_left_processing(
    tmp_path, time_left_s
):
    # Given a clock that moves a second each time it is read (once per decoded frame) and a 15-frame video
    world = World()
    ticket = world.media.presign_upload("ann", "video/mp4", 1000)
    world.media_objects.objects[ticket.key] = video(tmp_path / "up.mp4", 64, 64, 0.5, audio=False).read_bytes()
    clock = itertools.count().__next__
    transcoder = VideoTranscoder(world.media_objects, world.media_store, scratch=tmp_path, clock=clock)

    result = transcoder.transcode(ticket.key, time_left_s=time_left_s)

    assert (result.status, result.reason) == ("rejected", "could not be transcoded in the time the transcoder has")
    assert world.media_store.records[ticket.media_id].status == "rejected"  # recorded: no longer processing
    assert not [key for key in world.media_objects.objects if key.startswith("media/")]


def test_given_a_video_the_transcoder_crashed_on_twice_when_invoked_again_then_rejected_without_decoding(tmp_path):
    # Given an upload two invocations started on and recorded nothing for (killed: out of memory or time)
    world = World()
    ticket = world.media.presign_upload("ann", "video/mp4", 1000)
    world.media_objects.objects[ticket.key] = video(tmp_path / "up.mp4", 64, 64, 0.5, audio=False).read_bytes()
    for _ in range(TRANSCODE_TRIES):
        world.media_store.start_try(ticket.media_id)
    scratch = tmp_path / "scratch"
    scratch.mkdir()

    result = VideoTranscoder(world.media_objects, world.media_store, scratch=scratch).transcode(ticket.key)

    assert (result.status, result.reason) == (
        "rejected",
        "could not be transcoded: the transcoder failed on it 2 times (out of memory or time)",
    )
    assert world.media_store.records[ticket.media_id].status == "rejected"
    assert not list(scratch.iterdir())  # not downloaded, not decoded


def test_given_a_ready_video_when_attached_then_the_tweet_shows_its_renditions_poster_and_duration():
    world = World()
    world.users("ann")
    media_id = world.media.presign_upload("ann", "video/mp4", 1000).media_id
    world.media_store.record_result(
        TranscodeResult(
            media_id=media_id,
            owner="ann",
            status="ready",
            kind="video",
            source=Source(format="video/mp4", width=1280, height=720, size_bytes=1000),
            variants={
                "360p": Variant(key=f"media/{media_id}/360p.mp4", width=640, height=360, size_bytes=9),
                "poster": Variant(key=f"media/{media_id}/poster.webp", width=1280, height=720, size_bytes=9),
            },
            blurhash="LEHV6nWB2yk8pyo0adR*.7kCMdnj",
            duration_s=12.5,
        )
    )
    tweet = world.tweets.post("ann", "a clip", media_ids=[media_id])
    [shown] = world.engagement.post(tweet, "ann").media
    assert (shown.type, shown.duration_s, set(shown.variants)) == ("video", 12.5, {"360p"})
    assert shown.poster.url.startswith(f"https://media.test/media/{media_id}/poster.webp")


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, format="PNG")
    return out.getvalue()
