"""Media: presigned uploads into uploads/{user}/{media_id}, transcoded into clean WebP variants under media/{media_id}/.

Uploaded bytes are untrusted whatever their claimed type: they are decoded by Pillow limited to the allowed
formats, and only their pixels are re-encoded (no EXIF, GPS or other metadata survives). Bad content is recorded
as rejected rather than raised, so it is never retried; the output is deterministic, so a redelivered event
rewrites the very same objects.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable

from chirp.errors import Conflict, Forbidden, InvalidInput, NotFound, Unprocessable
from chirp.media.model import (
    ALLOWED_TYPES,
    MAX_ALT_TEXT,
    MAX_GIF_BYTES,
    MAX_UPLOAD_BYTES,
    MAX_VIDEO_BYTES,
    PART_BYTES,
    TRANSCODE_TRIES,
    UNATTACHED_TTL_S,
    VIDEO_TYPES,
    MediaRecord,
    MediaView,
    TranscodeResult,
    UploadPart,
    UploadTicket,
    VariantView,
)
from chirp.media.ports import MediaObjects, MediaStore, PartsRefused

MAX_IMAGES = 4  # per tweet; a video or an animated GIF goes alone

_MEDIA_ID = re.compile(r"[0-9a-f]{32}")
UPLOAD_KEY = re.compile(r"uploads/(?P<owner>[^/]+)/(?P<media_id>[0-9a-f]{32})")
# Videos and animated GIFs land under a prefix of their own, which triggers the video transcoder instead.
VIDEO_KEY = re.compile(r"videos/(?P<owner>[^/]+)/(?P<media_id>[0-9a-f]{32})")


# The first bytes of each allowed type (WebP: a RIFF container whose form type is WEBP).
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def sniffed_type(data: bytes) -> str | None:
    """The allowed image type these bytes start like, or None."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((kind for signature, kind in _SIGNATURES if data.startswith(signature)), None)


def is_upload_key(key: str) -> bool:
    return UPLOAD_KEY.fullmatch(key) is not None


def is_video_key(key: str) -> bool:
    return VIDEO_KEY.fullmatch(key) is not None


def is_video_type(content_type: str) -> bool:
    """Transcoded as video: the video types, and GIFs (Twitter's animated GIFs are silent looping mp4s)."""
    return content_type in VIDEO_TYPES or content_type == "image/gif"


def upload_key(user_id: str, media_id: str, content_type: str) -> str:
    return f"{'videos' if is_video_type(content_type) else 'uploads'}/{user_id}/{media_id}"


def part_sizes(size_bytes: int) -> list[int]:
    """The sizes of a multipart upload's parts: PART_BYTES each, the last one what remains."""
    full, rest = divmod(size_bytes, PART_BYTES)
    return [PART_BYTES] * full + ([rest] if rest else [])


def given_up(store: MediaStore, media_id: str, owner: str) -> TranscodeResult | None:
    """Counts a transcode of the upload as started. After TRANSCODE_TRIES that recorded nothing (the transcoder
    crashed on it each time), records and returns its rejection instead of trying a third time."""
    tries = store.start_try(media_id)
    if tries is None or tries <= TRANSCODE_TRIES:
        return None
    reason = f"could not be transcoded: the transcoder failed on it {TRANSCODE_TRIES} times (out of memory or time)"
    result = TranscodeResult(media_id=media_id, owner=owner, status="rejected", reason=reason)
    store.record_result(result)
    return result


def max_upload_bytes(content_type: str) -> int:
    if content_type == "image/gif":
        return MAX_GIF_BYTES
    return MAX_VIDEO_BYTES if content_type in VIDEO_TYPES else MAX_UPLOAD_BYTES


def _check_media_id(media_id: str) -> None:
    if _MEDIA_ID.fullmatch(media_id) is None:
        raise InvalidInput(f"not a media id: {media_id!r}")


class MediaService:
    """Uploads and their status, for the API (no image library: that is the transcoder's)."""

    def __init__(
        self,
        objects: MediaObjects,
        store: MediaStore,
        url_ttl_s: int = 900,
        clock_ms: Callable[[], int] = lambda: int(time.time() * 1000),
        delivery_base_url: str = "",
    ):
        self.objects, self.store, self.url_ttl_s, self.clock_ms = objects, store, url_ttl_s, clock_ms
        # The CDN in front of the processed media (AWS); empty: none, so variants are handed out as presigned GETs.
        self.delivery_base_url = delivery_base_url

    def presign_upload(self, user_id: str, content_type: str, size_bytes: int) -> UploadTicket:
        content_type = content_type.lower()  # media types are case-insensitive; the signed one is returned
        self.check_upload(user_id, content_type, size_bytes)
        media_id = uuid.uuid4().hex
        key = upload_key(user_id, media_id, content_type)
        if size_bytes <= PART_BYTES:
            self._issue(media_id, user_id, content_type, size_bytes)
            return UploadTicket(
                media_id=media_id,
                key=key,
                upload_url=self.objects.upload_url(key, content_type, size_bytes, self.url_ttl_s),
                headers={"Content-Type": content_type, "Content-Length": str(size_bytes)},
                expires_in_s=self.url_ttl_s,
            )
        upload_id = self.objects.start_parts(key, content_type)
        self._issue(media_id, user_id, content_type, size_bytes, upload_id=upload_id)
        ttl_s = self.url_ttl_s * 4  # a large file takes a while
        return UploadTicket(
            media_id=media_id,
            key=key,
            method="MULTIPART",
            headers={"Content-Type": content_type},  # set once, by the upload's start: parts carry no type
            parts=[
                UploadPart(
                    part_number=number, url=self.objects.part_url(key, upload_id, number, size, ttl_s), size_bytes=size
                )
                for number, size in enumerate(part_sizes(size_bytes), start=1)
            ],
            expires_in_s=ttl_s,
        )

    def complete_upload(self, user_id: str, media_id: str, etags: dict[int, str]) -> MediaRecord:
        """Joins the parts of the owner's multipart upload: every part, numbered from 1, with the ETag S3 gave it."""
        record = self.get(user_id, media_id)
        if record.owner != user_id:
            raise Forbidden(f"media {media_id} belongs to another user")
        if record.upload_id is None or record.result is not None:
            raise Conflict(f"media {media_id} is not an upload in parts waiting to be completed")
        expected = len(part_sizes(record.size_bytes))
        if sorted(etags) != list(range(1, expected + 1)):
            raise InvalidInput(f"media {media_id} has parts 1 to {expected}; got {sorted(etags)}")
        try:
            self.objects.complete_parts(upload_key(user_id, media_id, record.content_type), record.upload_id, etags)
        except PartsRefused as error:
            raise Unprocessable(f"media {media_id}: S3 refused the parts ({error})") from error
        return record

    def store_upload(self, user_id: str, data: bytes, content_type: str | None) -> str:
        """Stores bytes a client sent through the API (not a presigned PUT) where a presigned upload lands, so
        they are transcoded the same way; returns the media id. Same limits as presign_upload. A client that
        names no image type (toot sends application/octet-stream) gets the type its bytes start with; the
        transcoder decodes them as untrusted either way."""
        if (content_type or "").lower() not in ALLOWED_TYPES:
            content_type = sniffed_type(data) or content_type or "application/octet-stream"
        self.check_upload(user_id, content_type, len(data))
        content_type = content_type.lower()
        media_id = uuid.uuid4().hex
        self._issue(media_id, user_id, content_type, len(data))
        self.objects.write(upload_key(user_id, media_id, content_type), data, content_type)
        return media_id

    def _issue(
        self, media_id: str, user_id: str, content_type: str, size_bytes: int, upload_id: str | None = None
    ) -> None:
        """Records a new media id before any byte can land under it (so an id never issued is unknown)."""
        now_ms = self.clock_ms()
        record = MediaRecord(
            media_id=media_id,
            owner=user_id,
            content_type=content_type,
            size_bytes=size_bytes,
            created_at_ms=now_ms,
            upload_id=upload_id,
        )
        self.store.create(record, expires_at_s=now_ms // 1000 + UNATTACHED_TTL_S)

    def check_upload(self, user_id: str, content_type: str, size_bytes: int) -> None:
        content_type = content_type.lower()
        if content_type not in ALLOWED_TYPES and content_type not in VIDEO_TYPES:
            allowed = ", ".join([*ALLOWED_TYPES, *VIDEO_TYPES])
            raise InvalidInput(f"content_type must be one of {allowed}; got {content_type!r}")
        limit = max_upload_bytes(content_type)
        if not 0 < size_bytes <= limit:
            raise InvalidInput(
                f"size_bytes of {content_type} must be between 1 and {limit} ({limit // 2**20} MiB); got {size_bytes}"
            )
        if not user_id or "/" in user_id:
            raise InvalidInput(f"not a user id: {user_id!r}")

    def get(self, viewer_id: str, media_id: str) -> MediaRecord:
        """A medium as `viewer_id` may see it: only its owner sees it until it is attached to a tweet."""
        _check_media_id(media_id)
        record = self.store.get_many([media_id]).get(media_id)
        if record is None or (record.tweet_id is None and record.owner != viewer_id):
            raise NotFound(f"media {media_id} not found")
        return record

    def set_alt_text(self, user_id: str, media_id: str, alt_text: str) -> MediaRecord:
        """The owner describes a medium for screen readers, before attaching it (the tweet shows it as it was)."""
        if len(alt_text) > MAX_ALT_TEXT:
            raise InvalidInput(f"alt_text is at most {MAX_ALT_TEXT} characters; got {len(alt_text)}")
        record = self.get(user_id, media_id)
        if record.owner != user_id:
            raise Forbidden(f"media {media_id} belongs to another user")
        if record.tweet_id is not None or not self.store.set_alt_text(media_id, user_id, alt_text):
            raise Conflict(f"media {media_id} is attached to a tweet already: its alt text is set before attaching")
        return record.model_copy(update={"alt_text": alt_text})

    def attachable(self, owner: str, media_ids: list[str]) -> list[str]:
        """The media a new tweet of `owner`'s may carry, in order and once each, or the refusal naming the first
        that may not: up to 4 images, or one video or GIF; each issued, the owner's, processed, not attached."""
        return list(self._attachable(owner, media_ids))

    def prepare(self, owner: str, media_ids: list[str]) -> list[str]:
        """The attachable media, as `attachable`, with their variants kept for good, in the same read: called last
        before the tweet's write claims them, so should that write fail they merely stay (an attached medium's
        variants are never deleted)."""
        records = self._attachable(owner, media_ids)
        self.objects.keep([v.key for r in records.values() for v in r.result.variants.values()])
        return list(records)

    def _attachable(self, owner: str, media_ids: list[str]) -> dict[str, MediaRecord]:
        media_ids = list(dict.fromkeys(media_ids))
        if len(media_ids) > MAX_IMAGES:
            raise InvalidInput(f"at most {MAX_IMAGES} images per tweet; got {len(media_ids)}")
        for media_id in media_ids:
            _check_media_id(media_id)
        records = self.store.get_many(media_ids) if media_ids else {}
        for media_id in media_ids:
            record = records.get(media_id)
            if record is None:
                raise Unprocessable(f"media {media_id} does not exist")
            if record.owner != owner:
                raise Forbidden(f"media {media_id} belongs to another user")
            if record.tweet_id is not None:
                raise Conflict(f"media {media_id} is attached to tweet {record.tweet_id} already")
            if record.result is None:
                raise Unprocessable(f"media {media_id} is still processing; retry in a moment")
            if record.result.status != "ready":
                raise Unprocessable(f"media {media_id} was rejected: {record.result.reason}")
            if len(media_ids) > 1 and _goes_alone(record):
                raise InvalidInput(f"media {media_id} is a video or GIF: it is attached alone")
        return {media_id: records[media_id] for media_id in media_ids}

    def records(self, media_ids: list[str]) -> dict[str, MediaRecord]:
        """The issued ones among these ids, in one batch read."""
        return self.store.get_many(media_ids) if media_ids else {}

    def variant_urls(self, record: MediaRecord) -> dict[str, str]:
        """Each variant's URL through the media delivery path, once it is ready: the CDN's where there is one (a
        variant's key never changes content, so its URL is cached for good), a presigned GET of the bucket
        otherwise."""
        result = record.result
        if result is None or result.status != "ready":
            return {}
        return {name: self._delivery_url(variant.key) for name, variant in result.variants.items()}

    def _delivery_url(self, key: str) -> str:
        if self.delivery_base_url:
            return f"{self.delivery_base_url}/{key}"
        return self.objects.download_url(key, self.url_ttl_s)

    def views(self, media_ids: list[str]) -> dict[str, MediaView]:
        """Attached media as tweets carry them, in one batch read; URLs as variant_urls gives them."""
        views = {}
        for media_id, record in self.records(media_ids).items():
            result, urls = record.result, self.variant_urls(record)
            if not urls or result.source is None:
                continue
            shown = {
                name: VariantView(url=urls[name], width=variant.width, height=variant.height)
                for name, variant in result.variants.items()
            }
            views[media_id] = MediaView(
                media_id=media_id,
                type=_view_type(result),
                alt_text=record.alt_text,
                width=result.source.width,
                height=result.source.height,
                blurhash=result.blurhash,
                duration_s=result.duration_s,
                poster=shown.pop("poster", None),
                variants=shown,
            )
        return views


def _goes_alone(record: MediaRecord) -> bool:
    return is_video_type(record.content_type)


def _view_type(result: TranscodeResult) -> str:
    if result.kind == "image":
        return "image"
    return "animated_gif" if result.source.format == "image/gif" else "video"
