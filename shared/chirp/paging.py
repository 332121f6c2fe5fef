"""Page parameters every paged read shares: the limit and the id cursor of id-ordered pages."""

from __future__ import annotations

from chirp.errors import InvalidInput

MAX_PAGE = 100
_MAX_LONG = 2**63 - 1


def check_limit(limit: int, maximum: int = MAX_PAGE) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= maximum:
        raise InvalidInput(f"limit must be between 1 and {maximum}")


def parse_id_cursor(cursor: str | None) -> int | None:
    """The id cursors of id-ordered pages (home timeline, search, notifications): a positive 64-bit id."""
    if cursor is None or cursor == "":
        return None
    if not (cursor.isascii() and cursor.isdigit()) or len(cursor) > 19 or int(cursor) > _MAX_LONG:
        raise InvalidInput("cursor must be a tweet id returned as next_cursor")
    return int(cursor)
