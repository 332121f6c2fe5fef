"""Media rules without S3: what may be uploaded, the resize maths and the decoding of untrusted bytes."""

from __future__ import annotations

import io
import struct
import zlib
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from botocore.config import Config
from PIL import ExifTags, Image, ImageCms

from chirp.adapters.s3.media_objects import S3MediaObjects
from chirp.errors import InvalidInput
from chirp.media.images import UnusableImage, fit_within, render
from chirp.media.model import MAX_UPLOAD_BYTES
from chirp.media.service import MediaService, is_upload_key
from tests.unit.fakes import FakeMediaStore

MEDIA_ID = "0123456789abcdef0123456789abcdef"


def _s3(signature_version: str | None = "s3v4"):
    """A real client that never connects: presigning happens offline."""
    return boto3.client(
        "s3",
        region_name="us-east-1",
        endpoint_url="http://s3.test",
        aws_access_key_id="key",
        aws_secret_access_key="secret",
        config=Config(signature_version=signature_version),
    )


@pytest.fixture
def media() -> MediaService:
    return MediaService(S3MediaObjects(_s3(), "bucket"), FakeMediaStore(), url_ttl_s=600)


def _encode(image: Image.Image, fmt: str, **params) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **params)
    return out.getvalue()


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width` x `height`: what a decompression bomb looks like before decoding."""
    data = bytearray(_encode(Image.new("L", (1, 1)), "PNG"))
    data[16:24] = struct.pack(">II", width, height)  # IHDR data follows the signature, length and type
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def _decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.parametrize(
    ("size", "longest", "expected"),
    [
        ((4000, 3000), 2048, (2048, 1536)),
        ((3000, 4000), 320, (240, 320)),
        ((800, 600), 2048, (800, 600)),  # never enlarged
        ((2048, 10), 2048, (2048, 10)),
        ((10_000, 1), 320, (320, 1)),  # never rounded down to nothing
        ((333, 1000), 320, (107, 320)),
    ],
)
def test_given_a_size_when_fitted_then_the_longest_side_is_bounded_and_the_aspect_kept(size, longest, expected):
    assert fit_within(*size, longest) == expected


def test_given_an_allowed_image_when_presigned_then_the_ticket_binds_key_type_size_and_expiry(media):
    ticket = media.presign_upload("user-1", "image/PNG", 1234)
    assert ticket.key == f"uploads/user-1/{ticket.media_id}"
    assert len(ticket.media_id) == 32
    assert ticket.method == "PUT"
    assert ticket.headers == {"Content-Type": "image/png", "Content-Length": "1234"}
    assert ticket.expires_in_s == 600
    url = urlsplit(ticket.upload_url)
    query = parse_qs(url.query)
    assert url.path == f"/bucket/{ticket.key}"
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Expires"] == ["600"]
    # Signed headers are what S3 checks before storing a byte: another type or length fails the signature.
    assert {"content-type", "content-length"} <= set(query["X-Amz-SignedHeaders"][0].split(";"))


def test_given_two_uploads_when_presigned_then_their_media_ids_differ(media):
    assert media.presign_upload("u", "image/jpeg", 1).media_id != media.presign_upload("u", "image/jpeg", 1).media_id


@pytest.mark.parametrize("content_type", ["image/svg+xml", "text/plain", "image/bmp", "image/png; charset=x", ""])
def test_given_a_type_not_allowed_when_presigned_then_it_is_invalid_input(media, content_type):
    with pytest.raises(InvalidInput, match="content_type must be one of image/jpeg, image/png"):
        media.presign_upload("user-1", content_type, 100)


@pytest.mark.parametrize(
    ("content_type", "size_bytes", "limit"),
    [
        ("image/png", 0, "5242880"),
        ("image/png", -1, "5242880"),
        ("image/png", MAX_UPLOAD_BYTES + 1, "5242880"),
        ("image/gif", 15 * 2**20 + 1, "15728640"),  # an animated GIF: Twitter's 15 MiB
        ("video/mp4", 512 * 2**20 + 1, "536870912"),  # a video: 512 MiB
    ],
)
def test_given_a_size_out_of_bounds_when_presigned_then_it_is_invalid_input(media, content_type, size_bytes, limit):
    with pytest.raises(InvalidInput, match=f"size_bytes of {content_type} must be between 1 and {limit}"):
        media.presign_upload("user-1", content_type, size_bytes)


@pytest.mark.parametrize("content_type", ["video/mp4", "video/quicktime", "video/webm", "image/gif"])
def test_given_a_video_or_gif_when_presigned_then_it_lands_under_videos_for_the_video_transcoder(media, content_type):
    ticket = media.presign_upload("user-1", content_type, 1000)
    assert ticket.key == f"videos/user-1/{ticket.media_id}"


def test_given_the_largest_allowed_size_when_presigned_then_it_is_accepted(media):
    assert media.presign_upload("user-1", "image/gif", MAX_UPLOAD_BYTES).headers == {
        "Content-Type": "image/gif",
        "Content-Length": str(MAX_UPLOAD_BYTES),
    }


@pytest.mark.parametrize("user_id", ["", "a/b"])
def test_given_a_user_id_that_would_break_the_key_when_presigned_then_it_is_invalid_input(media, user_id):
    with pytest.raises(InvalidInput, match="not a user id"):
        media.presign_upload(user_id, "image/png", 100)


def test_given_a_client_without_sigv4_when_presigning_then_it_refuses_to_hand_out_sigv2_urls():
    with pytest.raises(RuntimeError, match="signature_version='s3v4'"):
        MediaService(S3MediaObjects(_s3(signature_version=None), "bucket"), FakeMediaStore()).presign_upload(
            "u", "image/png", 1
        )


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (f"uploads/user-1/{MEDIA_ID}", True),
        (f"uploads/user 1/{MEDIA_ID}", True),
        (f"media/{MEDIA_ID}/orig.webp", False),
        (f"uploads/user-1/{MEDIA_ID}/extra", False),
        ("uploads/user-1/not-an-id", False),
        (f"uploads//{MEDIA_ID}", False),
    ],
)
def test_given_a_key_when_checked_then_only_uploads_are_recognised(key, expected):
    assert is_upload_key(key) is expected


def test_given_a_large_image_when_rendered_then_orig_medium_and_a_square_thumb_are_webp_within_their_bounds():
    rendition = render(_encode(Image.new("RGB", (5000, 2500), (10, 120, 200)), "PNG"))
    assert (rendition.source_format, rendition.width, rendition.height) == ("image/png", 5000, 2500)
    sizes = {}
    for name, variant in rendition.variants.items():
        decoded = _decoded(variant.data)
        assert decoded.format == "WEBP"
        assert decoded.size == (variant.width, variant.height)
        sizes[name] = decoded.size
    assert sizes == {"orig": (4096, 2048), "medium": (680, 340), "thumb": (150, 150)}


def test_given_a_small_image_when_rendered_then_it_is_not_enlarged():
    rendition = render(_encode(Image.new("RGB", (100, 50)), "JPEG"))
    assert _decoded(rendition.variants["orig"].data).size == (100, 50)
    assert _decoded(rendition.variants["medium"].data).size == (100, 50)
    assert _decoded(rendition.variants["thumb"].data).size == (50, 50)  # the centre square, as large as it gets


def test_given_an_image_when_rendered_then_its_blurhash_decodes_to_its_colours():
    import blurhash

    left_red_right_blue = Image.new("RGB", (400, 200), (230, 20, 20))
    left_red_right_blue.paste((20, 20, 230), (200, 0, 400, 200))
    rendition = render(_encode(left_red_right_blue, "PNG"))
    assert len(rendition.blurhash) == 4 + 2 * 4 * 3  # header and DC, then two characters per AC component
    pixels = blurhash.decode(rendition.blurhash, 8, 4)
    left, right = pixels[2][0], pixels[2][7]
    assert left[0] > 150 > left[2]
    assert right[2] > 150 > right[0]


def test_given_a_photo_with_orientation_and_gps_when_rendered_then_it_is_upright_and_without_metadata():
    stored = Image.new("RGB", (40, 20), (255, 0, 0))
    stored.paste((0, 0, 255), (20, 0, 40, 20))  # left red, right blue, as stored by the camera
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # display rotated 90 degrees clockwise
    exif[ExifTags.Base.Make] = "Phone"
    exif.get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitude] = (48.0, 51.0, 24.0)
    rendition = render(_encode(stored, "JPEG", exif=exif, quality=95))
    large = _decoded(rendition.variants["orig"].data)
    assert large.size == (20, 40)
    top, bottom = large.getpixel((10, 5)), large.getpixel((10, 35))
    assert top[0] > 200 > top[2]  # the stored left (red) is now on top
    assert bottom[2] > 200 > bottom[0]
    for variant in rendition.variants.values():
        decoded = _decoded(variant.data)
        assert not decoded.getexif()
        assert not {"exif", "xmp", "icc_profile"} & decoded.info.keys()


def test_given_a_transparent_gif_when_rendered_then_transparency_survives():
    image = Image.new("P", (10, 10), 0)
    image.putpalette([255, 255, 255, 0, 0, 0])
    rendition = render(_encode(image, "GIF", transparency=0))
    large = _decoded(rendition.variants["orig"].data)
    assert rendition.source_format == "image/gif"
    assert large.mode == "RGBA"
    assert large.getpixel((0, 0))[3] == 0


def test_given_an_image_with_a_colour_profile_when_rendered_then_the_profile_is_not_kept():
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    rendition = render(_encode(Image.new("RGB", (8, 8), (0, 200, 0)), "PNG", icc_profile=srgb))
    large = _decoded(rendition.variants["orig"].data)
    assert "icc_profile" not in large.info
    assert large.getpixel((4, 4))[1] > 190


def test_given_a_broken_colour_profile_when_rendered_then_the_image_is_still_usable():
    rendition = render(_encode(Image.new("RGB", (8, 8)), "PNG", icc_profile=b"not a profile"))
    assert _decoded(rendition.variants["thumb"].data).size == (8, 8)


@pytest.mark.parametrize(
    "data",
    [
        b"just some text, uploaded as image/png",
        b"",
        _encode(Image.new("RGB", (8, 8)), "BMP"),  # a real image, of a format not allowed
        _encode(Image.effect_noise((200, 200), 64), "PNG")[:2000],  # truncated
    ],
    ids=["text", "empty", "bmp", "truncated"],
)
def test_given_bytes_that_are_not_an_allowed_image_when_rendered_then_they_are_unusable(data):
    with pytest.raises(UnusableImage, match="not a valid JPEG, PNG, WebP or GIF image"):
        render(data)


@pytest.mark.parametrize(("width", "height"), [(8000, 5001), (20_000, 20_000)])  # above 40 MP; above 80 MP
def test_given_a_decompression_bomb_when_rendered_then_it_is_refused_before_decoding(width, height):
    with pytest.raises(UnusableImage, match="more than 40000000 pixels"):
        render(_png_claiming(width, height))


def test_given_bytes_without_a_declared_type_when_sniffed_then_the_image_type_they_start_like():
    from chirp.media.service import sniffed_type

    assert sniffed_type(b"\x89PNG\r\n\x1a\n....") == "image/png"
    assert sniffed_type(b"\xff\xd8\xff\xe0") == "image/jpeg"
    assert sniffed_type(b"GIF89a") == "image/gif"
    assert sniffed_type(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert sniffed_type(b"%PDF-1.7") is None
