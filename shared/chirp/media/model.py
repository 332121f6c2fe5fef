"""What the media API hands out and what transcoding records."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

ALLOWED_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/gif": "GIF"}  # -> Pillow
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# Video (and animated GIF, which becomes a silent mp4) as Twitter takes it: up to 512 MiB and 140 seconds.
VIDEO_TYPES = ("video/mp4", "video/quicktime", "video/webm")
MAX_VIDEO_BYTES = 512 * 1024 * 1024
MAX_GIF_BYTES = 15 * 1024 * 1024  # Twitter's limit for an animated GIF
MAX_VIDEO_SECONDS = 140
RENDITIONS = {
    "360p": 360,
    "720p": 720,
    "1080p": 1080,
}  # name -> short side; 360p always, the others if the source has it
MAX_ALT_TEXT = 1_500  # characters, as Twitter allows
# A ticket, and an upload never attached to a tweet, is forgotten after a day (DynamoDB's TTL deletes the record).
UNATTACHED_TTL_S = 24 * 3600
# ...and so are its variants: the transcoders tag them so, the bucket's lifecycle rule deletes what still has the
# tag after a day, and attaching removes it.
UNATTACHED_TAG = ("chirp-attached", "no")
# name -> longest side, largest first (each is cut from the previous): the original size up to 4096 px (Twitter's
# `orig`, and within WebP's 16,383), a 680 px medium, and a 150 x 150 square thumbnail (cropped to the centre).
VARIANTS = {"orig": 4096, "medium": 680, "thumb": 150}
SQUARE_VARIANTS = {"thumb"}


# S3 invokes a transcoder asynchronously, and Lambda retries a failed invocation twice (its default, which
# tests/infra holds the stacks to): an upload on which the transcoder crashed twice (out of memory or of time:
# nothing recorded either time) is not tried again; the last invocation records its rejection, so its ticket never
# stays processing.
TRANSCODE_TRIES = 2

# A file larger than one part goes up in parts (S3's multipart upload): each part is its own presigned PUT, so a
# 512 MiB video survives a dropped connection part by part. 8 MiB is above S3's 5 MiB minimum part.
PART_BYTES = 8 * 1024 * 1024


class UploadPart(BaseModel):
    """One part of a multipart upload: PUT exactly size_bytes to url, keep the ETag header S3 answers."""

    part_number: int
    url: str
    size_bytes: int


class UploadTicket(BaseModel):
    """What a client needs to upload its file. PUT: the whole file to upload_url with exactly these headers (the
    declared type and size are signed, so S3 refuses another body before storing it). MULTIPART: each part to its
    URL (each part's length signed the same way), then POST /media/{media_id}/complete with the ETags."""

    media_id: str
    key: str
    method: Literal["PUT", "MULTIPART"] = "PUT"
    upload_url: str | None = None
    headers: dict[str, str]
    parts: list[UploadPart] = Field(default_factory=list)
    expires_in_s: int


class Variant(BaseModel):
    key: str
    width: int
    height: int
    size_bytes: int


class Source(BaseModel):
    format: str  # the content type found in the bytes, not the one claimed at upload
    width: int
    height: int
    size_bytes: int


class TranscodeResult(BaseModel):
    """The outcome of one upload, recorded on its ticket (MediaRecord.result)."""

    media_id: str
    owner: str
    status: Literal["ready", "rejected"]
    reason: str | None = None
    kind: Literal["image", "video"] = "image"
    source: Source | None = None
    # Images: orig, medium, thumb (WebP). Videos: 360p, 720p, 1080p (those the source has; mp4) and poster (WebP).
    variants: dict[str, Variant] = Field(default_factory=dict)
    blurhash: str | None = None  # a placeholder a client paints while the image (or the poster) loads
    duration_s: float | None = None  # videos


class MediaRecord(BaseModel):
    """One issued media id: who may upload to it, what they declared, its transcoding outcome once processed,
    its alt text, and the tweet it is attached to (at most one, for ever)."""

    media_id: str
    owner: str
    content_type: str
    size_bytes: int
    created_at_ms: int
    alt_text: str | None = None
    tweet_id: int | None = None
    result: TranscodeResult | None = None
    upload_id: str | None = None  # S3's id of its multipart upload, until completed
    tries: int = 0  # transcodes started since its last recorded outcome

    @property
    def status(self) -> Literal["processing", "ready", "rejected"]:
        return self.result.status if self.result is not None else "processing"


class VariantView(BaseModel):
    url: str
    width: int
    height: int


class MediaView(BaseModel):
    """An attachment as every tweet shape carries it: URLs through the media delivery path, never the upload."""

    media_id: str
    type: Literal["image", "video", "animated_gif"] = "image"  # an animated GIF is shown as a silent looping mp4
    alt_text: str | None = None
    width: int
    height: int
    blurhash: str | None = None
    variants: dict[str, VariantView]
    duration_s: float | None = None
    poster: VariantView | None = None  # videos: the first frame
