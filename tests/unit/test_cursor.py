"""Page cursors come back from clients: anything but a key this API could have returned is InvalidInput."""

import base64
import json
import re

import pytest

from chirp.adapters.dynamodb.cursor import decode_cursor, encode_cursor
from chirp.errors import InvalidInput


def _cursor(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


def test_given_a_last_evaluated_key_when_encoded_then_it_decodes_to_the_same_key():
    key = {"author_id": {"S": "alice"}, "tweet_id": {"N": "1862214412800000000"}}
    assert decode_cursor(encode_cursor(key)) == key


@pytest.mark.parametrize("length", range(1, 7))  # every remainder of base64's 3-byte groups: 0, 1 or 2 pad characters
def test_given_any_key_when_encoded_then_the_cursor_needs_no_escaping_in_a_url_and_decodes(length):
    """Mastodon.py's fetch_next sends back a Link header's max_id still percent-escaped (`%3D` for a `=`), escaped
    once more: a cursor must be made of characters no URL escapes."""
    key = {"pk": {"S": "u" * length}, "sk": {"N": "7"}}
    cursor = encode_cursor(key)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", cursor), cursor
    assert decode_cursor(cursor) == key


def test_given_a_padded_cursor_from_before_when_decoded_then_it_is_still_the_key():
    key = {"pk": {"S": "u"}, "sk": {"N": "7"}}
    padded = base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode()
    assert padded.endswith("=")
    assert decode_cursor(padded) == key


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64!",
        _cursor([1, 2]),
        _cursor({}),
        _cursor({"a": 1}),  # a bare value, not a DynamoDB attribute value
        _cursor({"pk": 1}),
        _cursor({"pk": {"S": 1}}),
        _cursor({"pk": {"BOOL": True}}),
        _cursor({"pk": {"S": "a", "N": "1"}}),
        _cursor({"pk": {"S": ""}}),
        _cursor({"pk": {"S": "x" * 3000}}),
        _cursor({f"k{i}": {"S": "x"} for i in range(5)}),
        base64.urlsafe_b64encode(b"[" * 5000).decode(),  # nesting deep enough to exhaust the parser's recursion
    ],
)
def test_given_a_cursor_this_api_never_returned_when_decoded_then_it_is_invalid_input(cursor):
    with pytest.raises(InvalidInput, match="cursor"):
        decode_cursor(cursor)
