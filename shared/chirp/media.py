"""Media: presigned uploads into uploads/{user}/{media_id}, transcoded into clean WebP variants under media/{media_id}/.

Uploaded bytes are untrusted whatever their claimed type: they are decoded by Pillow limited to the allowed
formats, and only their pixels are re-encoded (no EXIF, GPS or other metadata survives). Bad content is recorded
as rejected rather than raised, so it is never retried; the output is deterministic, so a redelivered event
rewrites the very same objects.
"""

from __future__ import annotations

import io
import json
import re
import uuid
import warnings
from dataclasses import dataclass
from typing import Any, Literal

from PIL import Image, ImageCms, ImageOps
from pydantic import BaseModel, Field

from chirp.errors import InvalidInput

ALLOWED_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/gif": "GIF"}
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000
VARIANTS = {"large": 2048, "thumb": 320}  # name -> longest side, largest first (each is cut from the previous)
WEBP_QUALITY = 80

# Pillow warns above this many pixels when opening an image and refuses twice as many; render() turns the
# warning into a rejection, so nothing larger is ever decoded (a few KB of PNG can expand to gigabytes).
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

_MEDIA_ID = re.compile(r"[0-9a-f]{32}")
_UPLOAD_KEY = re.compile(r"uploads/(?P<owner>[^/]+)/(?P<media_id>[0-9a-f]{32})")
_FORMAT_TYPES = {pillow_format: content_type for content_type, pillow_format in ALLOWED_TYPES.items()}
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


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


class UnusableImage(ValueError):
    """The bytes are not an image this service accepts; the message is the reason recorded."""


@dataclass(frozen=True)
class Encoded:
    data: bytes
    width: int
    height: int


@dataclass(frozen=True)
class Rendition:
    source_format: str
    width: int
    height: int
    variants: dict[str, Encoded]


def is_upload_key(key: str) -> bool:
    return _UPLOAD_KEY.fullmatch(key) is not None


def fit_within(width: int, height: int, longest: int) -> tuple[int, int]:
    """The size scaled down (never up) so that its longest side is at most `longest`, aspect ratio kept."""
    scale = longest / max(width, height)
    if scale >= 1:
        return width, height
    return max(1, round(width * scale)), max(1, round(height * scale))


def render(data: bytes) -> Rendition:
    """Decodes untrusted bytes into every variant, upright and in sRGB, or raises UnusableImage saying why."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(ALLOWED_TYPES.values())) as image:
                image.load()  # decode everything now: truncated or corrupt data fails here
                source_format, icc_profile = image.format, image.info.get("icc_profile")
                upright = _to_srgb(ImageOps.exif_transpose(image), icc_profile)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
        raise UnusableImage(f"more than {MAX_PIXELS} pixels") from error
    except Exception as error:  # only Pillow runs here, on untrusted bytes: any failure is theirs
        raise UnusableImage(f"not a valid JPEG, PNG, WebP or GIF image ({type(error).__name__})") from error
    variants, current = {}, upright
    for name, longest in VARIANTS.items():
        current = current.resize(fit_within(*current.size, longest), Image.Resampling.LANCZOS, reducing_gap=3.0)
        variants[name] = _webp(current)
    return Rendition(_FORMAT_TYPES[source_format], upright.width, upright.height, variants)


def _to_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """RGB(A) pixels in sRGB. The colour profile is dropped with the rest of the metadata, so colours are
    converted first (a Display P3 photo would otherwise look washed out)."""
    mode = "RGBA" if image.has_transparency_data else "RGB"
    if icc_profile:
        source = image if image.mode in ("RGB", "RGBA", "CMYK", "L") else image.convert(mode)
        try:
            return ImageCms.profileToProfile(
                source, ImageCms.ImageCmsProfile(io.BytesIO(icc_profile)), _SRGB, outputMode=mode
            )
        except (OSError, ImageCms.PyCMSError):  # unreadable profile; or one it cannot apply
            pass  # keep the pixels as they are rather than lose the image
    return image.convert(mode)


def _webp(image: Image.Image) -> Encoded:
    out = io.BytesIO()
    # Only pixels are written: Pillow's WebP writer adds EXIF, XMP or ICC data only when passed explicitly.
    image.save(out, format="WEBP", quality=WEBP_QUALITY)
    return Encoded(out.getvalue(), image.width, image.height)


def _check_media_id(media_id: str) -> None:
    if _MEDIA_ID.fullmatch(media_id) is None:
        raise InvalidInput(f"not a media id: {media_id!r}")


class MediaService:
    def __init__(self, s3_client: Any, bucket: str, url_ttl_s: int = 900):
        self.s3, self.bucket, self.url_ttl_s = s3_client, bucket, url_ttl_s

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
        url = self._presign("put_object", {"Bucket": self.bucket, "Key": key, "ContentType": content_type})
        return UploadTicket(
            media_id=media_id,
            key=key,
            upload_url=url,
            headers={"Content-Type": content_type},
            expires_in_s=self.url_ttl_s,
        )

    def presign_download(self, media_id: str, variant: str) -> str:
        _check_media_id(media_id)
        if variant not in VARIANTS:
            raise InvalidInput(f"variant must be one of {', '.join(VARIANTS)}; got {variant!r}")
        return self._presign("get_object", {"Bucket": self.bucket, "Key": f"media/{media_id}/{variant}.webp"})

    def status(self, media_id: str) -> dict | None:
        """meta.json of a processed upload (see TranscodeResult), None while it is not processed yet."""
        _check_media_id(media_id)
        try:
            stored = self.s3.get_object(Bucket=self.bucket, Key=f"media/{media_id}/meta.json")
        except self.s3.exceptions.NoSuchKey:
            return None
        return json.loads(stored["Body"].read())

    def transcode(self, key: str) -> TranscodeResult:
        """Turns the upload at `key` into its variants and meta.json. Raises only when S3 fails."""
        match = _UPLOAD_KEY.fullmatch(key)
        if match is None:
            raise InvalidInput(f"not an upload key: {key!r}")
        owner, media_id = match["owner"], match["media_id"]
        stored = self.s3.get_object(Bucket=self.bucket, Key=key)
        size = stored["ContentLength"]
        try:
            if size > MAX_UPLOAD_BYTES:  # the presigned PUT cannot bound the size: refuse before downloading
                stored["Body"].close()
                raise UnusableImage(f"larger than {MAX_UPLOAD_BYTES} bytes ({size})")
            rendition = render(stored["Body"].read())
        except UnusableImage as error:
            result = TranscodeResult(media_id=media_id, owner=owner, status="rejected", reason=str(error))
        else:
            result = TranscodeResult(
                media_id=media_id,
                owner=owner,
                status="ready",
                source=Source(
                    format=rendition.source_format, width=rendition.width, height=rendition.height, size_bytes=size
                ),
                variants={
                    name: self._put_variant(media_id, name, encoded) for name, encoded in rendition.variants.items()
                },
            )
        # Written last: once meta.json says ready, every variant it names can be read.
        self.s3.put_object(
            Bucket=self.bucket,
            Key=f"media/{media_id}/meta.json",
            Body=result.model_dump_json().encode(),
            ContentType="application/json",
        )
        return result

    def _put_variant(self, media_id: str, name: str, encoded: Encoded) -> Variant:
        key = f"media/{media_id}/{name}.webp"
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=encoded.data, ContentType="image/webp")
        return Variant(key=key, width=encoded.width, height=encoded.height, size_bytes=len(encoded.data))

    def _presign(self, operation: str, params: dict[str, str]) -> str:
        url = self.s3.generate_presigned_url(operation, Params=params, ExpiresIn=self.url_ttl_s)
        # Unless its client asks for SigV4, botocore presigns us-east-1 URLs with the deprecated SigV2 (which the
        # local cloud does not even check): refuse to hand such URLs out.
        if "X-Amz-Signature=" not in url:
            raise RuntimeError("presigned URLs need an S3 client built with Config(signature_version='s3v4')")
        return url
