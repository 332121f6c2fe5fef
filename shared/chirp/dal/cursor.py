"""Opaque page cursors: DynamoDB's last evaluated key as url-safe base64 JSON."""

from __future__ import annotations

import base64
import binascii
import json

from chirp.errors import InvalidInput

_MAX_LONG = 2**63 - 1


def parse_id_cursor(cursor: str | None) -> int | None:
    """The id cursors of id-ordered pages (home timeline, search, notifications): a positive 64-bit id."""
    if cursor is None or cursor == "":
        return None
    if not (cursor.isascii() and cursor.isdigit()) or len(cursor) > 19 or int(cursor) > _MAX_LONG:
        raise InvalidInput("cursor must be a tweet id returned as next_cursor")
    return int(cursor)


def encode_cursor(last_key: dict | None) -> str | None:
    if not last_key:
        return None
    return base64.urlsafe_b64encode(json.dumps(last_key, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str | None) -> dict | None:
    if not cursor:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise InvalidInput("cursor is not one this API returned") from error
    if not isinstance(value, dict):
        raise InvalidInput("cursor is not one this API returned")
    return value
