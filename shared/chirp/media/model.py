"""What the media API hands out and what transcoding records."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

ALLOWED_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/gif": "GIF"}  # -> Pillow
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
VARIANTS = {"large": 2048, "thumb": 320}  # name -> longest side, largest first (each is cut from the previous)


class UploadTicket(BaseModel):
    """What a client needs to PUT its file: the URL is valid only with exactly these headers."""

    media_id: str
    key: str
    upload_url: str
    method: Literal["PUT"] = "PUT"
    headers: dict[str, str]
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
    """The outcome of one upload; also the content of media/{media_id}/meta.json."""

    media_id: str
    owner: str
    status: Literal["ready", "rejected"]
    reason: str | None = None
    source: Source | None = None
    variants: dict[str, Variant] = Field(default_factory=dict)
