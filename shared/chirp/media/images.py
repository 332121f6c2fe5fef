"""Images: untrusted bytes decoded by Pillow (limited to the allowed formats) into clean WebP variants.

Only pixels are re-encoded: no EXIF, GPS or other metadata survives; the output is deterministic.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageCms, ImageOps

from chirp.media.model import ALLOWED_TYPES, VARIANTS

MAX_PIXELS = 40_000_000
WEBP_QUALITY = 80

# Pillow warns above this many pixels when opening an image and refuses twice as many; render() turns the
# warning into a rejection, so nothing larger is ever decoded (a few KB of PNG can expand to gigabytes).
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

_FORMAT_TYPES = {pillow_format: content_type for content_type, pillow_format in ALLOWED_TYPES.items()}
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


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
