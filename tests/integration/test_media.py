"""Media against the local cloud's real S3 (which checks SigV4 signatures), in a bucket of each test's own."""

from __future__ import annotations

import io
import uuid
from urllib.parse import quote_plus

import pytest
import requests
from PIL import ExifTags, Image

from chirp.adapters.aws import aws_client
from chirp.adapters.dynamodb.media_store import DynamoMediaStore
from chirp.adapters.s3.media_objects import S3MediaObjects
from chirp.composition import services
from chirp.media.model import MAX_UPLOAD_BYTES, MediaRecord, TranscodeResult
from chirp.media.service import MediaService
from chirp.media.transcoding import Transcoder
from chirp.media.video_transcoding import VideoTranscoder
from chirp.settings import get_settings
from chirp.tweets.model import Tweet
from chirp.tweets.ports import MediaTaken
from tests import media_samples
from tests.conftest import FakeLambdaContext, load_handler
from tests.media_samples import decoded_frames, video

CONTEXT = FakeLambdaContext(function_name="transcoder")


@pytest.fixture(scope="module")
def s3(services):
    return aws_client("s3", services.settings)  # the client the functions use: plain botocore, no boto3 transfers


@pytest.fixture
def bucket(s3):
    name = f"chirp-it-media-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    yield name
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
        for stored in page.get("Contents", []):
            s3.delete_object(Bucket=name, Key=stored["Key"])
    s3.delete_bucket(Bucket=name)


@pytest.fixture
def store(services) -> DynamoMediaStore:
    return services.media_store  # the deployed media table, bound by the composition root


@pytest.fixture
def media(s3, bucket, store) -> MediaService:
    return MediaService(S3MediaObjects(s3, bucket), store)


@pytest.fixture
def pipeline(s3, bucket, store) -> Transcoder:
    return Transcoder(S3MediaObjects(s3, bucket), store)


def _photo(size: tuple[int, int] = (3000, 1500)) -> bytes:
    """A PNG carrying EXIF with a GPS position, as a phone might send it."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Phone"
    exif.get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitude] = (48.0, 51.0, 24.0)
    out = io.BytesIO()
    Image.new("RGB", size, (30, 144, 255)).save(out, format="PNG", exif=exif)
    return out.getvalue()


def _upload(media: MediaService, data: bytes, content_type: str = "image/png", user_id: str = "it-user") -> str:
    ticket = media.presign_upload(user_id, content_type, len(data))
    response = requests.put(ticket.upload_url, data=data, headers=ticket.headers, timeout=10)
    assert response.status_code == 200, response.text
    return ticket.key


def _outcome(media: MediaService, media_id: str) -> TranscodeResult | None:
    """The transcoding outcome recorded on the ticket (None: not processed, or no ticket)."""
    record = media.records([media_id]).get(media_id)
    return record.result if record is not None else None


def _read(s3, bucket: str, key: str) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def _media_objects(s3, bucket: str, media_id: str) -> dict[str, bytes]:
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"media/{media_id}/").get("Contents", [])
    return {stored["Key"]: _read(s3, bucket, stored["Key"]) for stored in listed}


def test_given_a_presigned_put_when_used_as_issued_then_the_upload_is_stored(s3, bucket, media):
    key = _upload(media, b"\x89PNG pretend")
    assert _read(s3, bucket, key) == b"\x89PNG pretend"
    assert s3.head_object(Bucket=bucket, Key=key)["ContentType"] == "image/png"


def test_given_a_presigned_put_when_tampered_with_then_it_is_refused(s3, bucket, media):
    ticket = media.presign_upload("it-user", "image/png", 1)
    other_key = ticket.upload_url.replace(ticket.key, f"uploads/someone-else/{ticket.media_id}")
    longer = ticket.upload_url.replace("X-Amz-Expires=900", "X-Amz-Expires=9000")
    assert longer != ticket.upload_url
    refused = [
        requests.put(other_key, data=b"x", headers=ticket.headers, timeout=10),
        requests.put(ticket.upload_url, data=b"x", headers={"Content-Type": "text/html"}, timeout=10),
        requests.put(longer, data=b"x", headers=ticket.headers, timeout=10),
    ]
    assert [response.status_code for response in refused] == [403, 403, 403]
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0


def test_given_a_presigned_put_when_the_body_is_larger_or_smaller_than_declared_then_s3_refuses_it(s3, bucket, media):
    ticket = media.presign_upload("it-user", "image/png", 10)
    content_type = {"Content-Type": "image/png"}  # requests sends the body's real Content-Length
    refused = [requests.put(ticket.upload_url, data=b"x" * n, headers=content_type, timeout=10) for n in (11, 9)]
    assert [response.status_code for response in refused] == [403, 403]
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0


def test_given_a_real_png_when_transcoded_then_its_webp_variants_are_bounded_and_clean(s3, bucket, media, pipeline):
    data = _photo()
    key = _upload(media, data)
    media_id = key.rsplit("/", 1)[1]
    assert _outcome(media, media_id) is None  # not processed yet

    result = pipeline.transcode(key)

    assert result.status == "ready"
    for name, size in (("orig", (3000, 1500)), ("medium", (680, 340)), ("thumb", (150, 150))):
        stored = s3.get_object(Bucket=bucket, Key=f"media/{media_id}/{name}.webp")
        assert stored["ContentType"] == "image/webp"
        image = Image.open(io.BytesIO(stored["Body"].read()))
        assert (image.format, image.size) == ("WEBP", size)
        assert not image.getexif()
        assert "exif" not in image.info
    meta = _outcome(media, media_id)
    assert meta == result
    meta = meta.model_dump(mode="json")
    assert meta["owner"] == "it-user"
    assert meta["source"] == {"format": "image/png", "width": 3000, "height": 1500, "size_bytes": len(data)}
    assert meta["blurhash"]
    record = media.records([media_id])[media_id]
    assert requests.get(media.variant_urls(record)["thumb"], timeout=10).content == _read(
        s3, bucket, f"media/{media_id}/thumb.webp"
    )


def test_given_text_uploaded_as_png_when_transcoded_then_it_is_rejected_with_a_reason(s3, bucket, media, pipeline):
    key = _upload(media, b"definitely not a picture", content_type="image/png")
    media_id = key.rsplit("/", 1)[1]

    result = pipeline.transcode(key)

    assert result.status == "rejected"
    meta = _outcome(media, media_id).model_dump(mode="json")
    assert meta["status"] == "rejected"
    assert "not a valid JPEG, PNG, WebP or GIF image" in meta["reason"]
    assert _media_objects(s3, bucket, media_id) == {}  # no variant


def test_given_an_upload_over_5_mib_when_transcoded_then_it_is_rejected_unread(s3, bucket, media, pipeline):
    ticket = media.presign_upload("it-user", "image/png", MAX_UPLOAD_BYTES)
    media_id, key = ticket.media_id, ticket.key
    s3.put_object(Bucket=bucket, Key=key, Body=b"\0" * (MAX_UPLOAD_BYTES + 1))  # the PUT cannot bound the size

    result = pipeline.transcode(key)

    assert result.status == "rejected"
    assert _outcome(media, media_id).reason == f"larger than {MAX_UPLOAD_BYTES} bytes ({MAX_UPLOAD_BYTES + 1})"


@pytest.mark.parametrize(("data", "objects"), [(_photo((640, 480)), 3), (b"junk", 0)], ids=["image", "junk"])
def test_given_an_upload_when_transcoded_twice_then_the_objects_are_the_same(
    s3, bucket, media, pipeline, data, objects
):
    key = _upload(media, data)
    media_id = key.rsplit("/", 1)[1]
    first_result = pipeline.transcode(key)
    first = _media_objects(s3, bucket, media_id)

    assert pipeline.transcode(key) == first_result
    assert _media_objects(s3, bucket, media_id) == first
    assert len(first) == objects
    assert _outcome(media, media_id) == first_result


def test_given_an_upload_without_a_ticket_when_transcoded_then_nothing_is_recorded(s3, bucket, media, pipeline):
    media_id = uuid.uuid4().hex  # never issued (or its ticket expired): nobody can attach it
    s3.put_object(Bucket=bucket, Key=f"uploads/it-user/{media_id}", Body=_photo((64, 64)))

    pipeline.transcode(f"uploads/it-user/{media_id}")

    assert _outcome(media, media_id) is None


def _ready_record(store: DynamoMediaStore, owner: str) -> str:
    media_id = uuid.uuid4().hex
    store.create(
        MediaRecord(media_id=media_id, owner=owner, content_type="image/png", size_bytes=1, created_at_ms=1),
        expires_at_s=2_000_000_000,
    )
    return media_id


def _tweet_with(services, author: str, media_ids: list[str]) -> Tweet:
    return Tweet(tweet_id=services.ids.next_id(), author_id=author, text="media", created_at_ms=1, media_ids=media_ids)


def test_given_media_when_tweets_are_written_with_them_then_each_is_attached_once_and_only_by_its_owner(
    services, store, make_user
):
    owner, thief = make_user(), make_user()
    first, second, third = (_ready_record(store, owner) for _ in range(3))
    tweet = _tweet_with(services, owner, [first, second])

    services.tweet_store.create(tweet)  # one transaction: the tweet, its count, both media attached
    refused = [
        _tweet_with(services, owner, [third, second]),  # second is taken: third is not attached either
        _tweet_with(services, thief, [third]),
        _tweet_with(services, owner, [uuid.uuid4().hex]),  # never issued
    ]
    for other in refused:
        with pytest.raises(MediaTaken):
            services.tweet_store.create(other)

    records = store.get_many([first, second, third])
    assert [records[m].tweet_id for m in (first, second, third)] == [tweet.tweet_id, tweet.tweet_id, None]
    assert [services.tweet_store.get(t.tweet_id) for t in refused] == [None, None, None]
    assert services.social_store.get_profile(owner).tweets_count == 1


def test_given_a_ticket_when_transcodes_start_then_tries_count_until_an_outcome_and_again_from_none(store):
    media_id = _ready_record(store, "it-user")

    tries = [store.start_try(media_id) for _ in range(3)]
    assert store.record_result(TranscodeResult(media_id=media_id, owner="it-user", status="rejected", reason="x"))
    after_outcome = store.get_many([media_id])[media_id].tries

    assert (tries, after_outcome, store.start_try(media_id)) == ([1, 2, 3], 0, 1)
    assert store.start_try(uuid.uuid4().hex) is None  # no ticket: nothing counted, nothing created


def test_given_a_record_when_alt_text_is_set_then_only_the_owner_before_attaching_may(services, store, make_user):
    owner = make_user()
    media_id = _ready_record(store, owner)

    assert not store.set_alt_text(media_id, "it-other", "not theirs")
    assert store.set_alt_text(media_id, owner, "a blue square")
    services.tweet_store.create(_tweet_with(services, owner, [media_id]))
    assert not store.set_alt_text(media_id, owner, "too late")

    assert store.get_many([media_id])[media_id].alt_text == "a blue square"


@pytest.fixture
def handlers(cloud_settings, bucket, monkeypatch):
    """Loads a transcoder function's handler as deployed, pointed at the test's bucket."""
    monkeypatch.setenv("MEDIA_BUCKET", bucket)
    get_settings.cache_clear()
    services.cache_clear()
    yield load_handler
    get_settings.cache_clear()
    services.cache_clear()


@pytest.fixture
def transcoder(handlers):
    return handlers("transcoder")


def _s3_event(bucket: str, keys: list[str]) -> dict:
    """What S3 sends: keys URL-encoded, '+' for a space."""
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": {"key": quote_plus(key, safe="/"), "size": 1, "eTag": "e", "sequencer": "0"},
                },
            }
            for key in keys
        ]
    }


def test_given_an_s3_event_when_handled_then_uploads_are_transcoded_and_other_keys_ignored(
    s3, bucket, media, transcoder
):
    good = _upload(media, _photo((500, 400)), user_id="user with spaces+plus")
    bad = _upload(media, b"not an image", user_id="it-user")
    assert "+" in _s3_event(bucket, [good])["Records"][0]["s3"]["object"]["key"]

    outcome = transcoder.lambda_handler(_s3_event(bucket, [good, bad, "media/whatever/orig.webp"]), CONTEXT)

    assert outcome == {"transcoded": 1, "rejected": 1, "ignored": 1}
    good_meta = _outcome(media, good.rsplit("/", 1)[1]).model_dump(mode="json")
    assert (good_meta["status"], good_meta["owner"]) == ("ready", "user with spaces+plus")
    assert _outcome(media, bad.rsplit("/", 1)[1]).status == "rejected"


def test_given_transcoded_variants_when_kept_then_s3_drops_their_unattached_tag(s3, bucket, media, pipeline):
    key = _upload(media, _photo((300, 200)))
    result = pipeline.transcode(key)
    keys = [variant.key for variant in result.variants.values()]
    assert {_tags(s3, bucket, k) for k in keys} == {(("chirp-attached", "no"),)}

    media.objects.keep(keys)

    assert {_tags(s3, bucket, k) for k in keys} == {()}


def _tags(s3, bucket: str, key: str) -> tuple:
    return tuple((t["Key"], t["Value"]) for t in s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"])


def test_given_an_s3_event_with_a_poison_video_when_handled_then_the_others_are_still_transcoded(
    s3, bucket, media, handlers, tmp_path
):
    clip = media_samples.video(tmp_path / "clip.mp4", 320, 240, 0.5).read_bytes()
    good, bad = _upload(media, clip, content_type="video/mp4"), _upload(media, b"\0" * 4000, content_type="video/mp4")

    outcome = handlers("video_transcoder").lambda_handler(_s3_event(bucket, [bad, good, "uploads/x/y"]), CONTEXT)

    assert outcome == {"transcoded": 1, "rejected": 1, "ignored": 1}
    assert _outcome(media, good.rsplit("/", 1)[1]).variants.keys() == {"360p", "poster"}
    assert "not a readable" in _outcome(media, bad.rsplit("/", 1)[1]).reason


def test_given_a_video_upload_when_transcoded_through_s3_then_its_renditions_are_stored_and_recorded(
    s3, bucket, media, store, tmp_path
):
    # Given a short video uploaded through its ticket, with the client the functions build (plain botocore)
    data = video(tmp_path / "clip.mp4", 640, 360, 0.5).read_bytes()
    key = _upload(media, data, content_type="video/mp4")
    media_id = key.rsplit("/", 1)[1]

    # When the video transcoder downloads, transcodes and uploads through S3
    result = VideoTranscoder(S3MediaObjects(s3, bucket), store).transcode(key)

    # Then the rendition and the poster are stored, and the ticket says ready
    assert (result.status, sorted(result.variants)) == ("ready", ["360p", "poster"])
    rendition = tmp_path / "360p.mp4"
    rendition.write_bytes(_read(s3, bucket, result.variants["360p"].key))
    assert decoded_frames(str(rendition))[1] == ["h264", "aac"]
    assert _outcome(media, media_id) == result
