"""Media records against fakes: who sees a ticket, alt text, expiry, and media hydrated on every tweet shape."""

from __future__ import annotations

import pytest

from chirp.errors import Conflict, Forbidden, InvalidInput, NotFound, Unprocessable
from chirp.media.model import (
    MAX_ALT_TEXT,
    PART_BYTES,
    TRANSCODE_TRIES,
    UNATTACHED_TTL_S,
    Source,
    TranscodeResult,
    Variant,
)
from chirp.media.service import MediaService
from chirp.timelines.model import TimelineEntry, TimelinePage
from tests.unit.fakes import World


@pytest.fixture
def world() -> World:
    world = World()
    world.users("ann", "bob")
    return world


def _ready(world, owner: str = "ann") -> str:
    media_id = world.media.presign_upload(owner, "image/jpeg", 1000).media_id
    world.media_store.record_result(
        TranscodeResult(
            media_id=media_id,
            owner=owner,
            status="ready",
            source=Source(format="image/jpeg", width=4000, height=3000, size_bytes=1000),
            variants={
                "large": Variant(key=f"media/{media_id}/large.webp", width=2048, height=1536, size_bytes=500),
                "thumb": Variant(key=f"media/{media_id}/thumb.webp", width=320, height=240, size_bytes=50),
            },
        )
    )
    return media_id


def _ready_video(world, owner: str = "ann") -> str:
    media_id = world.media.presign_upload(owner, "video/mp4", 1000).media_id
    world.media_store.record_result(
        TranscodeResult(
            media_id=media_id,
            owner=owner,
            status="ready",
            kind="video",
            source=Source(format="video/mp4", width=1280, height=720, size_bytes=1000),
            variants={
                "360p": Variant(key=f"media/{media_id}/360p.mp4", width=640, height=360, size_bytes=9),
                "poster": Variant(key=f"media/{media_id}/poster.webp", width=1280, height=720, size_bytes=9),
            },
            duration_s=12.5,
        )
    )
    return media_id


CDN = "https://d111111abcdef8.cloudfront.net"


def test_given_a_delivery_base_url_when_variants_are_asked_then_they_are_cdn_urls_of_their_keys(world):
    media_id = _ready(world)
    delivered = MediaService(world.media_objects, world.media_store, delivery_base_url=CDN)
    record = delivered.get("ann", media_id)
    assert delivered.variant_urls(record) == {
        "large": f"{CDN}/media/{media_id}/large.webp",
        "thumb": f"{CDN}/media/{media_id}/thumb.webp",
    }


def test_given_a_delivery_base_url_when_a_video_is_shown_then_its_poster_and_renditions_come_from_the_cdn(world):
    media_id = _ready_video(world)
    delivered = MediaService(world.media_objects, world.media_store, delivery_base_url=CDN)
    shown = delivered.views([media_id])[media_id]
    assert shown.poster.url == f"{CDN}/media/{media_id}/poster.webp"
    assert shown.variants["360p"].url == f"{CDN}/media/{media_id}/360p.mp4"


def test_given_no_delivery_base_url_when_variants_are_asked_then_they_are_presigned_gets(world):
    media_id = _ready_video(world)
    record = world.media.get("ann", media_id)
    ttl = world.media.url_ttl_s
    assert world.media.variant_urls(record) == {
        "360p": world.media_objects.download_url(f"media/{media_id}/360p.mp4", ttl),
        "poster": world.media_objects.download_url(f"media/{media_id}/poster.webp", ttl),
    }


def test_given_an_id_never_issued_when_its_status_is_asked_then_not_found(world):
    with pytest.raises(NotFound):
        world.media.get("ann", "f" * 32)


def test_given_a_ticket_when_its_owner_asks_then_processing_and_others_get_not_found(world):
    media_id = world.media.presign_upload("ann", "image/png", 10).media_id
    assert world.media.get("ann", media_id).status == "processing"
    with pytest.raises(NotFound):
        world.media.get("bob", media_id)


def test_given_a_ticket_when_issued_then_it_expires_a_day_later_unless_attached(world):
    media_id = world.media.presign_upload("ann", "image/png", 10).media_id
    assert world.media_store.expires_at[media_id] == world.clock() // 1000 + UNATTACHED_TTL_S


def test_given_attached_media_when_anyone_asks_then_they_see_it(world):
    media_id = _ready(world)
    tweet = world.tweets.post("ann", "a picture", media_ids=[media_id])
    assert world.media.get("bob", media_id).tweet_id == tweet.tweet_id


def test_given_alt_text_when_the_owner_sets_it_before_attaching_then_the_tweet_shows_it(world):
    media_id = _ready(world)
    world.media.set_alt_text("ann", media_id, "a red square")
    tweet = world.tweets.post("ann", "a picture", media_ids=[media_id])
    [shown] = world.engagement.post(tweet, "bob").media
    assert shown.alt_text == "a red square"


@pytest.mark.parametrize(
    ("who", "alt_text", "attach_first", "error"),
    [
        ("ann", "x" * (MAX_ALT_TEXT + 1), False, InvalidInput),
        ("bob", "mine now", False, NotFound),  # not attached: others do not even see it
        ("bob", "mine now", True, Forbidden),  # attached: seen, but not theirs
        ("ann", "too late", True, Conflict),
    ],
)
def test_given_alt_text_that_may_not_be_set_when_setting_then_refused(world, who, alt_text, attach_first, error):
    media_id = _ready(world)
    if attach_first:
        world.tweets.post("ann", "a picture", media_ids=[media_id])
    with pytest.raises(error):
        world.media.set_alt_text(who, media_id, alt_text)
    assert world.media_store.records[media_id].alt_text is None


def test_given_the_longest_alt_text_when_set_then_accepted(world):
    media_id = _ready(world)
    assert world.media.set_alt_text("ann", media_id, "x" * MAX_ALT_TEXT).alt_text == "x" * MAX_ALT_TEXT


def test_given_tweets_with_media_when_a_timeline_page_is_shown_then_each_carries_its_media_from_one_batch_read(
    world,
):
    tweets = [world.tweets.post("ann", f"picture {i}", media_ids=[_ready(world), _ready(world)]) for i in range(3)]
    reads_before = world.media_store.batch_reads
    page = world.engagement.timeline(
        TimelinePage(items=[TimelineEntry(entry_id=t.tweet_id, tweet=t) for t in tweets]), "bob"
    )
    assert world.media_store.batch_reads == reads_before + 1
    for entry, tweet in zip(page.items, tweets, strict=True):
        assert [m.media_id for m in entry.tweet.media] == tweet.media_ids
        shown = entry.tweet.media[0]
        assert (shown.type, shown.width, shown.height) == ("image", 4000, 3000)
        assert shown.variants["thumb"].width == 320
        assert shown.variants["thumb"].url.startswith(f"https://media.test/media/{shown.media_id}/thumb.webp")
        assert "uploads/" not in shown.variants["large"].url  # variants only, never the raw upload


def test_given_a_tweet_with_media_when_read_alone_or_as_a_retweet_then_the_media_is_shown_both_times(world):
    tweet = world.tweets.post("ann", "a picture", media_ids=[_ready(world)])
    retweet = world.tweet_store.get(world.engagement.retweet("bob", tweet.tweet_id).retweet_id)
    assert len(world.engagement.post(tweet, "bob").media) == 1
    [shown] = world.engagement.posts([retweet], "bob")
    assert [m.media_id for m in shown.retweeted_tweet.media] == tweet.media_ids


def test_given_a_video_larger_than_a_part_when_presigned_then_parts_with_signed_sizes_that_add_up(world):
    size = 2 * PART_BYTES + 1000
    ticket = world.media.presign_upload("ann", "video/mp4", size)
    assert (ticket.method, ticket.upload_url) == ("MULTIPART", None)
    assert [(p.part_number, p.size_bytes) for p in ticket.parts] == [(1, PART_BYTES), (2, PART_BYTES), (3, 1000)]
    assert all(f"size={p.size_bytes}" in p.url for p in ticket.parts)
    assert world.media_store.records[ticket.media_id].upload_id in world.media_objects.started


def test_given_every_part_uploaded_when_completed_then_s3_joins_them_once(world):
    ticket = world.media.presign_upload("ann", "video/mp4", PART_BYTES + 1)
    upload_id = world.media_store.records[ticket.media_id].upload_id
    world.media.complete_upload("ann", ticket.media_id, {1: "etag-1", 2: "etag-2"})
    assert world.media_objects.completed == {upload_id: ticket.key}


@pytest.mark.parametrize(
    ("who", "etags", "error"),
    [
        ("bob", {1: "etag-1", 2: "etag-2"}, NotFound),  # not theirs: not even seen
        ("ann", {1: "etag-1"}, InvalidInput),  # a part missing
        ("ann", {1: "etag-1", 2: "etag-2", 3: "etag-3"}, InvalidInput),  # a part too many
        ("ann", {1: "etag-1", 2: "changed"}, Unprocessable),  # S3 refuses: not the part it holds
    ],
)
def test_given_parts_that_do_not_match_when_completed_then_refused_and_nothing_joined(world, who, etags, error):
    ticket = world.media.presign_upload("ann", "video/mp4", PART_BYTES + 1)
    with pytest.raises(error):
        world.media.complete_upload(who, ticket.media_id, etags)
    assert world.media_objects.completed == {}


def test_given_a_single_put_ticket_when_completed_then_conflict(world):
    ticket = world.media.presign_upload("ann", "video/mp4", 1000)
    with pytest.raises(Conflict):
        world.media.complete_upload("ann", ticket.media_id, {1: "etag-1"})


def test_given_transcoded_images_when_one_is_attached_then_only_its_variants_lose_the_unattached_mark(world):
    from chirp.media.transcoding import Transcoder

    def transcoded() -> tuple[str, set[str]]:
        data = _png_bytes()
        ticket = world.media.presign_upload("ann", "image/png", len(data))
        world.media_objects.objects[ticket.key] = data
        result = Transcoder(world.media_objects, world.media_store).transcode(ticket.key)
        return ticket.media_id, {v.key for v in result.variants.values()}

    (attached, attached_keys), (_, left_keys) = transcoded(), transcoded()
    assert attached_keys | left_keys <= world.media_objects.unattached  # written tagged for the lifecycle rule

    world.tweets.post("ann", "one picture", media_ids=[attached])

    assert not attached_keys & world.media_objects.unattached  # kept
    assert left_keys <= world.media_objects.unattached  # deleted after a day unless attached before


def _crashing_reads(world, monkeypatch, crashes: int) -> None:
    """The transcoder's first `crashes` reads of an upload kill its invocation, as running out of memory does."""
    read, left = world.media_objects.read, iter(range(crashes))

    def crash_then_read(key: str, *, max_bytes: int):
        if next(left, None) is not None:
            raise MemoryError("Runtime exited with error: signal: killed")
        return read(key, max_bytes=max_bytes)

    monkeypatch.setattr(world.media_objects, "read", crash_then_read)


def _transcoded_after_crashes(world, monkeypatch, crashes: int):
    """Lambda's async invocations of the transcoder for one upload: each crash is retried, up to twice."""
    from chirp.media.transcoding import Transcoder

    data = _png_bytes()
    ticket = world.media.presign_upload("ann", "image/png", len(data))
    world.media_objects.objects[ticket.key] = data
    _crashing_reads(world, monkeypatch, crashes)
    transcoder = Transcoder(world.media_objects, world.media_store)
    for _ in range(crashes):
        with pytest.raises(MemoryError):
            transcoder.transcode(ticket.key)
    return ticket.media_id, transcoder.transcode(ticket.key)


def test_given_an_upload_the_transcoder_crashed_on_once_when_retried_then_it_is_transcoded(world, monkeypatch):
    media_id, result = _transcoded_after_crashes(world, monkeypatch, crashes=1)

    assert result.status == "ready"
    assert world.media_store.records[media_id].status == "ready"


def test_given_an_upload_the_transcoder_crashed_on_twice_when_invoked_again_then_rejected_not_left_processing(
    world, monkeypatch
):
    # Given two invocations killed before recording anything (Lambda retries an async invocation twice)
    media_id, result = _transcoded_after_crashes(world, monkeypatch, crashes=TRANSCODE_TRIES)

    # Then the last invocation records the rejection without a third try (which would crash the same way)
    assert (result.status, result.reason) == (
        "rejected",
        "could not be transcoded: the transcoder failed on it 2 times (out of memory or time)",
    )
    assert world.media.get("ann", media_id).status == "rejected"
    assert not [key for key in world.media_objects.objects if key.startswith("media/")]


def test_given_a_transcoded_upload_when_its_event_is_redelivered_again_and_again_then_it_is_transcoded_each_time(
    world,
):
    # Given an outcome recorded: the tries count again from none after it
    from chirp.media.transcoding import Transcoder

    data = _png_bytes()
    ticket = world.media.presign_upload("ann", "image/png", len(data))
    world.media_objects.objects[ticket.key] = data
    transcoder = Transcoder(world.media_objects, world.media_store)

    results = [transcoder.transcode(ticket.key).status for _ in range(TRANSCODE_TRIES + 2)]

    assert results == ["ready"] * (TRANSCODE_TRIES + 2)
    assert world.media_store.records[ticket.media_id].tries == 0


def test_given_an_upload_never_issued_when_transcoded_then_no_try_is_counted_and_nothing_recorded(world):
    from chirp.media.transcoding import Transcoder

    key = "uploads/ann/" + "0" * 32
    world.media_objects.objects[key] = _png_bytes()

    result = Transcoder(world.media_objects, world.media_store).transcode(key)

    assert result.status == "ready"  # written, but no ticket names it: nothing can attach it
    assert world.media_store.records == {}


def _png_bytes() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (300, 200), (10, 20, 30)).save(out, format="PNG")
    return out.getvalue()


def test_given_a_fresh_composition_root_when_the_media_store_is_built_first_then_it_uses_the_deployed_table():
    from chirp.adapters.dynamodb.tables import MediaItem
    from chirp.composition import build_services
    from chirp.settings import Settings

    settings = Settings.from_env({"MEDIA_TABLE": "Chirp-unit-MediaTable", "AWS_REGION": "us-east-1"})
    assert build_services(settings).media_store is not None  # the transcoders build no other DynamoDB store
    assert MediaItem.Meta.table_name == "Chirp-unit-MediaTable"
