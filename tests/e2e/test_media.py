"""Media through the deployed stack: presigned upload straight to S3, the S3-triggered transcoder, results."""

from __future__ import annotations

import io

import requests
from PIL import Image

from tests.e2e.conftest import eventually


def _png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_given_a_presigned_upload_when_the_image_lands_then_it_is_transcoded_into_webp_variants(new_user):
    user = new_user("med")
    data = _png(3000, 1000)
    ticket = user.call("POST", "/media", json={"content_type": "image/png", "size_bytes": len(data)})
    assert ticket.status_code == 201, ticket.text
    ticket = ticket.json()
    uploaded = requests.put(ticket["upload_url"], data=data, headers=ticket["headers"], timeout=30)
    assert uploaded.status_code == 200, uploaded.text

    def ready():
        status = user.call("GET", f"/media/{ticket['media_id']}").json()
        return status if status["status"] != "processing" else None

    status = eventually(ready, timeout_s=30)
    assert status["status"] == "ready", status
    thumb = Image.open(io.BytesIO(requests.get(status["urls"]["thumb"], timeout=30).content))
    assert thumb.format == "WEBP"
    assert max(thumb.size) == 320


def test_given_a_bad_upload_request_when_asking_for_a_url_then_4xx(new_user):
    user = new_user("med")
    assert user.call("POST", "/media", json={"content_type": "application/x-sh", "size_bytes": 10}).status_code == 400
    assert user.call("POST", "/media", json={"content_type": "image/png", "size_bytes": 50 << 20}).status_code == 400
