"""Mastodon's paging over Chirp's newest-first reads, its parameters (query, JSON, form, multipart), and its Link
header."""

from __future__ import annotations

import base64
import json
import sys

import pytest

from chirp.errors import InvalidInput
from tests.conftest import ROOT

sys.path.append(str(ROOT / "functions" / "mastodon"))
from mastodon_api import paging
from mastodon_api.params import request_params

IDS = list(range(100, 0, -1))  # a timeline: ids 100 (newest) down to 1


def fetch(before_id, count):
    """Chirp's read: up to `count` ids below `before_id`, newest first, and where the next read starts."""
    below = [i for i in IDS if before_id is None or i < before_id][:count]
    return below, (below[-1] if len(below) == count and below[-1] > 1 else None)


def read(**window) -> list[int]:
    return paging.read_window(fetch, lambda i: i, paging.Window(**window))


def test_given_no_bounds_when_read_then_the_newest_page():
    assert read(limit=3) == [100, 99, 98]


def test_given_max_id_when_read_then_the_page_below_it():
    assert read(max_id=50, limit=3) == [49, 48, 47]


def test_given_since_id_when_read_then_the_newest_items_above_it():
    assert read(since_id=95, limit=3) == [100, 99, 98]
    assert read(since_id=98, limit=5) == [100, 99]


def test_given_min_id_when_read_then_the_items_just_above_it_newest_first():
    assert read(min_id=10, limit=3) == [13, 12, 11]
    assert read(min_id=97, limit=5) == [100, 99, 98]


def test_given_max_id_and_min_id_when_read_then_between_them():
    assert read(max_id=50, min_id=40, limit=3) == [43, 42, 41]
    assert read(max_id=50, since_id=40, limit=3) == [49, 48, 47]


def test_given_a_page_when_linked_then_next_is_older_and_prev_newer_with_other_parameters_kept():
    link = paging.link_header("https://x.example", "/api/v1/timelines/home", {"limit": "2", "max_id": "9"}, ["8", "7"])
    assert link == (
        '<https://x.example/api/v1/timelines/home?limit=2&max_id=7>; rel="next", '
        '<https://x.example/api/v1/timelines/home?limit=2&min_id=8>; rel="prev"'
    )
    assert paging.link_header("https://x.example", "/p", {}, []) is None


@pytest.mark.parametrize("value", ["abc", "-1", "1" * 20, str(2**63)])
def test_given_a_bad_id_parameter_when_read_then_it_is_refused(value):
    with pytest.raises(InvalidInput):
        paging.id_param(value, "max_id")


def test_given_limits_when_read_then_like_mastodon_too_large_is_the_maximum():
    assert paging.limit_param(None) == 20
    assert paging.limit_param("500") == 40
    assert paging.limit_param("0") == 1
    with pytest.raises(InvalidInput):
        paging.limit_param("ten")


def test_given_a_form_when_read_then_arrays_and_booleans_are_mastodons():
    event = {
        "headers": {"Content-Type": "application/x-www-form-urlencoded"},
        "body": "status=hi%20there&media_ids%5B%5D=a&media_ids%5B%5D=b&sensitive=0",
        "queryStringParameters": {"x": "1"},
    }
    params = request_params(event)
    assert params.get("status") == "hi there"
    assert params.list("media_ids") == ["a", "b"]
    assert params.flag("sensitive") is False
    assert params.get("x") == "1"


def test_given_json_when_read_then_lists_and_booleans_too():
    body = {"status": "hi", "media_ids": ["a"], "sensitive": False, "poll": None}
    params = request_params({"headers": {"content-type": "application/json"}, "body": json.dumps(body)})
    assert params.list("media_ids") == ["a"]
    assert params.flag("sensitive") is False
    assert params.get("poll") is None


def test_given_multipart_bytes_when_read_then_the_file_is_intact():
    png = bytes(range(256)) * 4 + b"\r\n--not-the-boundary\r\n"
    boundary = "XyZ123"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="description"\r\n\r\na cat\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="cat.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + png
        + f"\r\n--{boundary}--\r\n".encode()
    )
    event = {
        "headers": {"Content-Type": f"multipart/form-data; boundary={boundary}"},
        "body": base64.b64encode(body).decode(),
        "isBase64Encoded": True,
    }
    params = request_params(event)
    assert params.get("description") == "a cat"
    upload = params.files["file"]
    assert (upload.filename, upload.content_type, upload.data) == ("cat.png", "image/png", png)


def test_given_an_unknown_body_type_when_read_then_it_is_refused():
    with pytest.raises(InvalidInput):
        request_params({"headers": {"Content-Type": "text/plain"}, "body": "hi"})
