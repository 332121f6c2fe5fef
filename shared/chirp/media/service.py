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
from chirp.media.images import ALLOWED_TYPES, MAX_UPLOAD_BYTES, VARIANTS, Encoded, UnusableImage, render
from chirp.media.model import Source, TranscodeResult, UploadTicket, Variant
from chirp.media.ports import MediaObjects

_MEDIA_ID = re.compile(r"[0-9a-f]{32}")
_UPLOAD_KEY = re.compile(r"uploads/(?P<owner>[^/]+)/(?P<media_id>[0-9a-f]{32})")


def is_upload_key(key: str) -> bool:
    return _UPLOAD_KEY.fullmatch(key) is not None


def _check_media_id(media_id: str) -> None:
    if _MEDIA_ID.fullmatch(media_id) is None:
        raise InvalidInput(f"not a media id: {media_id!r}")


class MediaService:
    def __init__(self, objects: MediaObjects, url_ttl_s: int = 900):
        self.objects, self.url_ttl_s = objects, url_ttl_s

    def presign_upload(self, user_id: str, content_type: str, size_bytes: int) -> UploadTicket:
        content_type = content_type.lower()  # media types are case-insensitive; the signed one is returned
        if content_type not in ALLOWED_TYPES:
            raise InvalidInput(f"content_type must be one of {', '.join(ALLOWED_TYPES)}; got {content_type!r}")
        if not 0 < size_bytes <= MAX_UPLOAD_BYTES:
            raise InvalidInput(f"size_bytes must be between 1 and {MAX_UPLOAD_BYTES} (5 MiB); got {size_bytes}")
        if not user_id or "/" in user_id:
            raise InvalidInput(f"not a user id: {user_id!r}")
        media_id = uuid.uuid4().hex
        key = f"uploads/{user_id}/{media_id}"
        return UploadTicket(
            media_id=media_id,
            key=key,
            upload_url=self.objects.upload_url(key, content_type, self.url_ttl_s),
            headers={"Content-Type": content_type},
            expires_in_s=self.url_ttl_s,
        )

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

    def transcode(self, key: str) -> TranscodeResult:
        """Turns the upload at `key` into its variants and meta.json. Raises only when storage fails."""
        match = _UPLOAD_KEY.fullmatch(key)
        if match is None:
            raise InvalidInput(f"not an upload key: {key!r}")
        owner, media_id = match["owner"], match["media_id"]
        # The presigned PUT cannot bound the size: a larger upload is refused before it is downloaded.
        stored = self.objects.read(key, max_bytes=MAX_UPLOAD_BYTES)
        if stored is None:
            raise InvalidInput(f"no upload at {key!r}")
        try:
            if stored.data is None:
                raise UnusableImage(f"larger than {MAX_UPLOAD_BYTES} bytes ({stored.size})")
            rendition = render(stored.data)
        except UnusableImage as error:
            result = TranscodeResult(media_id=media_id, owner=owner, status="rejected", reason=str(error))
        else:
            result = TranscodeResult(
                media_id=media_id,
                owner=owner,
                status="ready",
                source=Source(
                    format=rendition.source_format,
                    width=rendition.width,
                    height=rendition.height,
                    size_bytes=stored.size,
                ),
                variants={
                    name: self._put_variant(media_id, name, encoded) for name, encoded in rendition.variants.items()
                },
            )
        # Written last: once meta.json says ready, every variant it names can be read.
        self.objects.write(f"media/{media_id}/meta.json", result.model_dump_json().encode(), "application/json")
        return result

    def _put_variant(self, media_id: str, name: str, encoded: Encoded) -> Variant:
        key = f"media/{media_id}/{name}.webp"
        self.objects.write(key, encoded.data, "image/webp")
        return Variant(key=key, width=encoded.width, height=encoded.height, size_bytes=len(encoded.data))
