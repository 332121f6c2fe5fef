"""Media: presigned uploads into uploads/{user}/{media_id}, transcoded into clean WebP variants under media/{media_id}/.

Uploaded bytes are untrusted whatever their claimed type: they are decoded by Pillow limited to the allowed
formats, and only their pixels are re-encoded (no EXIF, GPS or other metadata survives). Bad content is recorded
as rejected rather than raised, so it is never retried; the output is deterministic, so a redelivered event
rewrites the very same objects.
"""

from __future__ import annotations

import re
import uuid

from chirp.errors import InvalidInput
from chirp.media.model import ALLOWED_TYPES, MAX_UPLOAD_BYTES, VARIANTS, TranscodeResult, UploadTicket
from chirp.media.ports import MediaObjects

_MEDIA_ID = re.compile(r"[0-9a-f]{32}")
UPLOAD_KEY = re.compile(r"uploads/(?P<owner>[^/]+)/(?P<media_id>[0-9a-f]{32})")


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


def _check_media_id(media_id: str) -> None:
    if _MEDIA_ID.fullmatch(media_id) is None:
        raise InvalidInput(f"not a media id: {media_id!r}")


class MediaService:
    """Uploads and their status, for the API (no image library: that is the transcoder's)."""

    def __init__(self, objects: MediaObjects, url_ttl_s: int = 900):
        self.objects, self.url_ttl_s = objects, url_ttl_s

    def presign_upload(self, user_id: str, content_type: str, size_bytes: int) -> UploadTicket:
        content_type = content_type.lower()  # media types are case-insensitive; the signed one is returned
        self.check_upload(user_id, content_type, size_bytes)
        media_id = uuid.uuid4().hex
        key = f"uploads/{user_id}/{media_id}"
        return UploadTicket(
            media_id=media_id,
            key=key,
            upload_url=self.objects.upload_url(key, content_type, self.url_ttl_s),
            headers={"Content-Type": content_type},
            expires_in_s=self.url_ttl_s,
        )

    def store_upload(self, user_id: str, data: bytes, content_type: str | None) -> str:
        """Stores bytes a client sent through the API (not a presigned PUT) where a presigned upload lands, so
        they are transcoded the same way; returns the media id. Same limits as presign_upload. A client that
        names no image type (toot sends application/octet-stream) gets the type its bytes start with; the
        transcoder decodes them as untrusted either way."""
        if (content_type or "").lower() not in ALLOWED_TYPES:
            content_type = sniffed_type(data) or content_type or "application/octet-stream"
        self.check_upload(user_id, content_type, len(data))
        media_id = uuid.uuid4().hex
        self.objects.write(f"uploads/{user_id}/{media_id}", data, content_type.lower())
        return media_id

    def check_upload(self, user_id: str, content_type: str, size_bytes: int) -> None:
        if content_type.lower() not in ALLOWED_TYPES:
            raise InvalidInput(f"content_type must be one of {', '.join(ALLOWED_TYPES)}; got {content_type!r}")
        if not 0 < size_bytes <= MAX_UPLOAD_BYTES:
            raise InvalidInput(f"size_bytes must be between 1 and {MAX_UPLOAD_BYTES} (5 MiB); got {size_bytes}")
        if not user_id or "/" in user_id:
            raise InvalidInput(f"not a user id: {user_id!r}")

    def presign_download(self, media_id: str, variant: str) -> str:
        _check_media_id(media_id)
        if variant not in VARIANTS:
            raise InvalidInput(f"variant must be one of {', '.join(VARIANTS)}; got {variant!r}")
        return self.objects.download_url(f"media/{media_id}/{variant}.webp", self.url_ttl_s)

    def status(self, media_id: str) -> TranscodeResult | None:
        """The outcome of a processed upload, None while it is not processed yet."""
        _check_media_id(media_id)
        stored = self.objects.read(f"media/{media_id}/meta.json", max_bytes=MAX_UPLOAD_BYTES)
        return TranscodeResult.model_validate_json(stored.data) if stored is not None and stored.data else None
