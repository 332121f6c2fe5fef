"""Transcoding an upload into its variants, recorded on its ticket (the transcoder function; Pillow is imported here
only).

Uploaded bytes are untrusted: bad content is recorded as rejected rather than raised, so it is never retried;
the output is deterministic, so a redelivered event rewrites the very same objects.
"""

from __future__ import annotations

from chirp.errors import InvalidInput
from chirp.media.images import Encoded, UnusableImage, render
from chirp.media.model import MAX_UPLOAD_BYTES, Source, TranscodeResult, Variant
from chirp.media.ports import MediaObjects, MediaStore
from chirp.media.service import UPLOAD_KEY, given_up


class Transcoder:
    def __init__(self, objects: MediaObjects, store: MediaStore):
        self.objects, self.store = objects, store

    def transcode(self, key: str) -> TranscodeResult:
        """Turns the upload at `key` into its variants and records the outcome on its ticket (none for a ticket
        never issued or expired: nothing can attach it). Raises only when storage fails."""
        match = UPLOAD_KEY.fullmatch(key)
        if match is None:
            raise InvalidInput(f"not an upload key: {key!r}")
        owner, media_id = match["owner"], match["media_id"]
        if (abandoned := given_up(self.store, media_id, owner)) is not None:
            return abandoned
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
                blurhash=rendition.blurhash,
            )
        # Recorded last: once the ticket says ready, every variant it names can be read.
        self.store.record_result(result)
        return result

    def _put_variant(self, media_id: str, name: str, encoded: Encoded) -> Variant:
        key = f"media/{media_id}/{name}.webp"
        self.objects.write(key, encoded.data, "image/webp", unattached=True)
        return Variant(key=key, width=encoded.width, height=encoded.height, size_bytes=len(encoded.data))
