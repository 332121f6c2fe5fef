"""Opaque page cursors: DynamoDB's last evaluated key as url-safe base64 JSON.

A cursor comes back from the client, so it is checked like any input: its shape here, and DynamoDB's
verdict on the key (a key of another query or table) is the caller's error too, never a server error.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable

from pynamodb.exceptions import QueryError
from pynamodb.pagination import ResultIterator

from chirp.errors import InvalidInput
from chirp.observability import logger

NOT_OURS = "cursor is not one this API returned"
_KEY_TYPES = ("S", "N")  # every key attribute of our tables and indexes is a string or a number
_MAX_KEY_ATTRIBUTES = 4  # a table key and an index key: four attributes at most
_MAX_KEY_CHARS = 2048


def encode_cursor(last_key: dict | None) -> str | None:
    """The key as url-safe base64 without its `=` padding: a cursor travels in URLs (Mastodon's Link header), and a
    client that keeps a percent-escaped `%3D` from one sends it back escaped again (Mastodon.py's fetch_next)."""
    if not last_key:
        return None
    return base64.urlsafe_b64encode(json.dumps(last_key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict | None:
    """The start key a cursor carries: key attribute names mapped to DynamoDB values ({"S": ...} or
    {"N": ...}). Raises InvalidInput for anything else."""
    if not cursor:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError) as error:  # deep nesting: recursion
        raise InvalidInput(NOT_OURS) from error
    if not isinstance(value, dict) or not 1 <= len(value) <= _MAX_KEY_ATTRIBUTES:
        raise InvalidInput(NOT_OURS)
    for attribute in value.values():
        if not (isinstance(attribute, dict) and len(attribute) == 1):
            raise InvalidInput(NOT_OURS)
        ((kind, text),) = attribute.items()
        if kind not in _KEY_TYPES or not isinstance(text, str) or not 0 < len(text) <= _MAX_KEY_CHARS:
            raise InvalidInput(NOT_OURS)
    return value


def query_page[Item](
    query: Callable[[dict | None], ResultIterator[Item]], cursor: str | None
) -> tuple[list[Item], str | None]:
    """Runs `query(start_key)` (a pynamodb query, which runs lazily) for one page from the cursor; returns the
    items and the next page's cursor. DynamoDB refusing the start key is InvalidInput."""
    start_key = decode_cursor(cursor)
    results = query(start_key)
    try:
        items = list(results)
    except QueryError as error:
        if start_key is not None and error.cause_response_code == "ValidationException":
            # Logged: the refusal is the client's error, unless a bug of ours hides behind it.
            logger.info("start key refused", extra={"start_key": start_key, "reason": error.cause_response_message})
            raise InvalidInput(NOT_OURS) from error
        raise
    return items, encode_cursor(results.last_evaluated_key)
