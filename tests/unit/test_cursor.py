"""Page cursors come back from clients: anything but a key this API could have returned is InvalidInput."""

import base64
import json

import pytest

from chirp.adapters.dynamodb.cursor import decode_cursor, encode_cursor
from chirp.errors import InvalidInput


def _cursor(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


def test_given_a_last_evaluated_key_when_encoded_then_it_decodes_to_the_same_key():
    key = {"author_id": {"S": "alice"}, "tweet_id": {"N": "1862214412800000000"}}
    assert decode_cursor(encode_cursor(key)) == key


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
