"""Media through the deployed stack: presigned upload straight to S3, the S3-triggered transcoder, results."""

from __future__ import annotations

import io
import struct
import uuid

import blurhash
import pytest
import requests
from PIL import Image

from tests import media_samples
from tests.e2e.conftest import eventually


def _png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def _in_home_timeline(reader, tweet_id: int) -> dict:
    """The tweet as the reader's home timeline shows it, once the fan-out delivered it."""

    def shown():
        items = reader.call("GET", "/timelines/home").json()["items"]
        return next((e["tweet"] for e in items if e["tweet"]["tweet_id"] == tweet_id), None)

    tweet = eventually(shown)
    assert tweet is not None, "the tweet never reached the reader's home timeline"
    return tweet


def test_given_a_presigned_upload_when_the_image_lands_then_it_is_transcoded_into_webp_variants(new_user):
    user = new_user("med")
    data = _png(3000, 1000)
    ticket = user.call("POST", "/media", json={"content_type": "image/png", "size_bytes": len(data)})
    assert ticket.status_code == 201, ticket.text
    ticket = ticket.json()
    uploaded = requests.put(ticket["upload_url"], data=data, headers=ticket["headers"], timeout=30)
    assert uploaded.status_code == 200, uploaded.text

    def ready():
        status = user.call("GET", f"/media/{ticket['media_id']}").json()
        return status if status["status"] != "processing" else None

    status = eventually(ready, timeout_s=30)
    assert status["status"] == "ready", status
    thumb = Image.open(io.BytesIO(requests.get(status["urls"]["thumb"], timeout=30).content))
    assert (thumb.format, thumb.size) == ("WEBP", (150, 150))
    medium = Image.open(io.BytesIO(requests.get(status["urls"]["medium"], timeout=30).content))
    assert (medium.format, medium.size) == ("WEBP", (680, 227))


def _uploaded(user, data: bytes, content_type: str = "image/png") -> str:
    ticket = user.call("POST", "/media", json={"content_type": content_type, "size_bytes": len(data)})
    assert ticket.status_code == 201, ticket.text
    ticket = ticket.json()
    assert requests.put(ticket["upload_url"], data=data, headers=ticket["headers"], timeout=30).status_code == 200
    return ticket["media_id"]


def _ready(user, media_id: str) -> dict:
    status = eventually(lambda: user.call("GET", f"/media/{media_id}").json().get("status") != "processing", 60)
    assert status, f"media {media_id} still processing"
    return user.call("GET", f"/media/{media_id}").json()


def _refusal(response, status: int, *words: str) -> None:
    assert response.status_code == status, response.text
    message = response.json()["message"]
    assert all(word in message for word in words), message


def test_given_an_image_with_alt_text_when_attached_then_a_followers_home_timeline_shows_it_decodable(new_user):
    author, follower = new_user("medauth"), new_user("medfoll")
    follower.call("GET", "/timelines/home")  # a live timeline, as an active user has
    assert follower.call("POST", f"/users/{author.user_id}/follow").status_code == 200
    media_id = _uploaded(author, _png(1200, 900))
    assert _ready(author, media_id)["status"] == "ready"
    described = author.call("PATCH", f"/media/{media_id}", json={"alt_text": "a red rectangle"})
    assert described.status_code == 200, described.text
    assert described.json()["alt_text"] == "a red rectangle"

    tag = f"pic{uuid.uuid4().hex[:10]}"
    text = f"look @{follower.handle} #{tag}"  # a mention and a hashtag: notifications and search show it too
    posted = author.call("POST", "/tweets", json={"text": text, "media_ids": [media_id]})

    assert posted.status_code == 201, posted.text
    assert [m["media_id"] for m in posted.json()["media"]] == [media_id]
    tweet_id = posted.json()["tweet_id"]

    tweet = _in_home_timeline(follower, tweet_id)
    [medium] = tweet["media"]
    assert (medium["type"], medium["alt_text"], medium["width"], medium["height"]) == (
        "image",
        "a red rectangle",
        1200,
        900,
    )
    [[(red, _, blue)]] = blurhash.decode(medium["blurhash"], 1, 1)  # the placeholder is the image's red
    assert red > 150 > blue
    for variant in medium["variants"].values():
        assert "/uploads/" not in variant["url"]  # variants only: never the raw upload
        image = Image.open(io.BytesIO(requests.get(variant["url"], timeout=30).content))
        image.load()
        assert (image.format, image.size) == ("WEBP", (variant["width"], variant["height"]))
    assert follower.call("GET", f"/media/{media_id}").json()["tweet_id"] == tweet_id  # attached: anyone sees it

    def every_shape() -> dict[str, dict | None]:
        found = follower.call("GET", "/search", params={"hashtag": tag}).json()["items"]
        notes = follower.call("GET", "/notifications").json()["items"]
        own = follower.call("GET", f"/users/{author.user_id}/tweets").json()["items"]
        return {
            "single": follower.call("GET", f"/tweets/{tweet_id}").json(),
            "user timeline": next((t for t in own if t["tweet_id"] == tweet_id), None),
            "search": next((e["tweet"] for e in found if e["tweet"]["tweet_id"] == tweet_id), None),
            "notifications": next((n["tweet"] for n in notes if n.get("tweet_id") == tweet_id), None),
        }

    shapes = eventually(lambda: (shown := every_shape()) and all(shown.values()) and shown)
    assert shapes, every_shape()
    for name, shape in shapes.items():  # URLs are signed per answer: the rest is the same everywhere
        [shown] = shape["media"]
        assert {k: v for k, v in shown.items() if k != "variants"} == {
            k: v for k, v in medium.items() if k != "variants"
        }, name
        assert set(shown["variants"]) == {"orig", "medium", "thumb"}, name


def test_given_media_ids_never_issued_or_others_when_asked_or_attached_then_refused_as_stated(new_user):
    owner, other = new_user("medown"), new_user("medoth")
    never_issued = "0" * 32
    _refusal(owner.call("GET", f"/media/{never_issued}"), 404, never_issued)
    _refusal(owner.call("POST", "/tweets", json={"text": "x", "media_ids": [never_issued]}), 422, never_issued)

    media_id = _uploaded(owner, _png(64, 64))
    _refusal(other.call("GET", f"/media/{media_id}"), 404, media_id)  # only the owner sees it unattached
    _ready(owner, media_id)
    _refusal(other.call("POST", "/tweets", json={"text": "x", "media_ids": [media_id]}), 403, media_id, "another user")
    _refusal(other.call("PATCH", f"/media/{media_id}", json={"alt_text": "x"}), 404, media_id)
    _refusal(owner.call("PATCH", f"/media/{media_id}", json={"alt_text": "x" * 1501}), 400, "1500")

    assert owner.call("POST", "/tweets", json={"text": "mine", "media_ids": [media_id]}).status_code == 201
    _refusal(owner.call("POST", "/tweets", json={"text": "again", "media_ids": [media_id]}), 409, media_id, "attached")
    _refusal(owner.call("PATCH", f"/media/{media_id}", json={"alt_text": "late"}), 409, media_id)


def test_given_an_upload_not_processed_or_rejected_when_attached_then_422_naming_it(new_user):
    owner = new_user("medpend")
    pending = owner.call("POST", "/media", json={"content_type": "image/png", "size_bytes": 10}).json()["media_id"]
    _refusal(owner.call("POST", "/tweets", json={"text": "x", "media_ids": [pending]}), 422, pending, "processing")

    junk = _uploaded(owner, b"not a picture at all")
    assert _ready(owner, junk)["status"] == "rejected"
    _refusal(owner.call("POST", "/tweets", json={"text": "x", "media_ids": [junk]}), 422, junk, "rejected")


def test_given_a_bad_upload_request_when_asking_for_a_url_then_4xx(new_user):
    user = new_user("med")
    assert user.call("POST", "/media", json={"content_type": "application/x-sh", "size_bytes": 10}).status_code == 400
    assert user.call("POST", "/media", json={"content_type": "image/png", "size_bytes": 50 << 20}).status_code == 400


def test_given_a_ticket_when_a_larger_or_other_typed_body_is_put_then_s3_refuses_it_before_storing(new_user):
    user = new_user("medsize")
    declared = _png(32, 32)
    ticket = user.call("POST", "/media", json={"content_type": "image/png", "size_bytes": len(declared)}).json()
    larger = declared + b"\0" * 1024
    refused = [
        requests.put(ticket["upload_url"], data=larger, headers={"Content-Type": "image/png"}, timeout=30),
        requests.put(ticket["upload_url"], data=declared, headers={"Content-Type": "image/gif"}, timeout=30),
    ]
    assert [response.status_code for response in refused] == [403, 403]
    assert user.call("GET", f"/media/{ticket['media_id']}").json()["status"] == "processing"  # nothing landed


def test_given_a_short_video_when_attached_then_a_followers_home_timeline_shows_playable_renditions(new_user, tmp_path):
    author, follower = new_user("vidauth"), new_user("vidfoll")
    follower.call("GET", "/timelines/home")
    assert follower.call("POST", f"/users/{author.user_id}/follow").status_code == 200
    data = media_samples.video(tmp_path / "clip.mp4", 1280, 720, 2.0).read_bytes()
    media_id = _uploaded(author, data, "video/mp4")
    status = _ready(author, media_id)
    assert status["status"] == "ready", status
    assert set(status["urls"]) == {"360p", "720p", "poster"}

    posted = author.call("POST", "/tweets", json={"text": "a clip", "media_ids": [media_id]})
    assert posted.status_code == 201, posted.text
    tweet_id = posted.json()["tweet_id"]

    tweet = _in_home_timeline(follower, tweet_id)
    [clip] = tweet["media"]
    assert (clip["type"], clip["width"], clip["height"]) == ("video", 1280, 720)
    assert clip["duration_s"] == pytest.approx(2.0, abs=0.1)
    assert clip["blurhash"]
    for name, variant in clip["variants"].items():
        local = tmp_path / f"{name}.mp4"
        local.write_bytes(requests.get(variant["url"], timeout=30).content)
        assert media_samples.decoded_frames(str(local)) == (60, ["h264", "aac"]), name
    poster = Image.open(io.BytesIO(requests.get(clip["poster"]["url"], timeout=30).content))
    assert (poster.format, poster.size) == ("WEBP", (1280, 720))


def test_given_an_animated_gif_when_uploaded_then_it_becomes_a_silent_mp4_attached_alone(new_user, tmp_path):
    author = new_user("gifauth")
    gif = _uploaded(author, media_samples.animated_gif(200, 100), "image/gif")
    image = _uploaded(author, _png(64, 64))
    assert _ready(author, gif)["status"] == "ready"
    _ready(author, image)
    _refusal(author.call("POST", "/tweets", json={"text": "x", "media_ids": [gif, image]}), 400, "alone")

    posted = author.call("POST", "/tweets", json={"text": "a gif", "media_ids": [gif]})

    assert posted.status_code == 201, posted.text
    [shown] = posted.json()["media"]
    assert shown["type"] == "animated_gif"
    local = tmp_path / "gif.mp4"
    local.write_bytes(requests.get(shown["variants"]["360p"]["url"], timeout=30).content)
    assert media_samples.decoded_frames(str(local)) == (10, ["h264"])  # silent: no audio stream


def test_given_a_file_that_is_no_video_when_uploaded_as_one_then_rejected_with_a_reason(new_user):
    author = new_user("vidbad")
    media_id = _uploaded(author, b"\0\0\0\x18ftypmp42" + b"garbage" * 100, "video/mp4")
    status = _ready(author, media_id)
    assert status["status"] == "rejected"
    assert "not a readable" in status["reason"]


def test_given_a_video_larger_than_a_part_when_uploaded_in_parts_then_completed_and_transcoded(new_user, tmp_path):
    author = new_user("vidpart")
    clip = media_samples.video(tmp_path / "clip.mp4", 640, 360, 1.0).read_bytes()
    padding = 9 * 2**20  # a top-level `free` box: players skip it, so the file stays valid at over one part
    data = clip + struct.pack(">I", padding) + b"free" + bytes(padding - 8)
    ticket = author.call("POST", "/media", json={"content_type": "video/mp4", "size_bytes": len(data)}).json()
    assert ticket["method"] == "MULTIPART"
    assert sum(part["size_bytes"] for part in ticket["parts"]) == len(data)
    first = ticket["parts"][0]
    assert requests.put(first["url"], data=data[: first["size_bytes"] + 1], timeout=60).status_code == 403

    etags, offset = [], 0
    for part in ticket["parts"]:
        put = requests.put(part["url"], data=data[offset : offset + part["size_bytes"]], timeout=60)
        assert put.status_code == 200, put.text
        etags.append({"part_number": part["part_number"], "etag": put.headers["ETag"]})
        offset += part["size_bytes"]
    _refusal(author.call("POST", f"/media/{ticket['media_id']}/complete", json={"parts": etags[:1]}), 400, "parts")
    completed = author.call("POST", f"/media/{ticket['media_id']}/complete", json={"parts": etags})
    assert completed.status_code == 200, completed.text

    status = _ready(author, ticket["media_id"])
    assert status["status"] == "ready", status
    local = tmp_path / "360p.mp4"
    local.write_bytes(requests.get(status["urls"]["360p"], timeout=30).content)
    assert media_samples.decoded_frames(str(local)) == (30, ["h264", "aac"])
