"""Images: untrusted bytes decoded by Pillow (limited to the allowed formats) into clean WebP variants.

Only pixels are re-encoded: no EXIF, GPS or other metadata survives; the output is deterministic.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import blurhash
from PIL import Image, ImageCms, ImageOps

from chirp.media.model import ALLOWED_TYPES, SQUARE_VARIANTS, VARIANTS

MAX_PIXELS = 40_000_000
WEBP_QUALITY = 80
# Mastodon's components; the hash only holds 4 x 3 cosines, so a 32 px copy gives the same hash as the full image
# at a thousandth of the (pure-Python) work.
BLURHASH_COMPONENTS = (4, 3)
BLURHASH_SOURCE_PX = 32

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
    blurhash: str


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
        if name in SQUARE_VARIANTS:  # the centre square, never enlarged
            side = min(longest, *current.size)
            variants[name] = _webp(ImageOps.fit(current, (side, side), Image.Resampling.LANCZOS))
            continue
        current = current.resize(fit_within(*current.size, longest), Image.Resampling.LANCZOS, reducing_gap=3.0)
        variants[name] = _webp(current)
    return Rendition(_FORMAT_TYPES[source_format], upright.width, upright.height, variants, blurhash_of(current))


def blurhash_of(image: Image.Image) -> str:
    """The image's BlurHash, from a small copy of it."""
    small = image.convert("RGB")
    small.thumbnail((BLURHASH_SOURCE_PX, BLURHASH_SOURCE_PX), Image.Resampling.BOX)
    pixels = list(small.get_flattened_data())
    rows = [pixels[y * small.width : (y + 1) * small.width] for y in range(small.height)]
    return blurhash.encode(rows, *BLURHASH_COMPONENTS)


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
