"""Mastodon's paging over Chirp's id-ordered reads (pure): max_id / since_id / min_id / limit, and the Link header
that points at the next (older) and previous (newer) page.

Chirp's reads page newest first below a cursor (an id). `max_id` is that cursor. `since_id` and `min_id` ask for
what is newer than an id: Chirp reads down from the newest (or from `max_id`) until it passes that id, at most
MAX_SCAN items; `since_id` keeps the newest `limit` of them, `min_id` the `limit` just above the id (the page a
client asks for when it catches up, oldest first by position, answered newest first like every page).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from chirp.errors import InvalidInput

DEFAULT_LIMIT = 20
MAX_LIMIT = 40  # Mastodon's bound for statuses and notifications
MAX_SCAN = 800  # items read at most to reach a since_id or min_id (a home timeline holds 800)
MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class Window:
    max_id: int | None = None
    since_id: int | None = None
    min_id: int | None = None
    limit: int = DEFAULT_LIMIT


def id_param(value: str | None, name: str) -> int | None:
    """A numeric id parameter; a non-numeric one matches nothing in Chirp (ids are numbers), so it is refused."""
    if value is None or value == "":
        return None
    if not (value.isascii() and value.isdigit()) or len(value) > 19 or int(value) > MAX_ID:
        raise InvalidInput(f"{name} must be a status or notification id", field=name)
    return int(value)


def limit_param(value: str | None, default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT) -> int:
    """Like Mastodon: a limit above the maximum is the maximum; a bad one is an error."""
    if value is None or value == "":
        return default
    if not (value.isascii() and value.isdigit()):
        raise InvalidInput("limit must be a positive integer", field="limit")
    return max(1, min(int(value), maximum))


def window(params, maximum: int = MAX_LIMIT) -> Window:
    return Window(
        max_id=id_param(params.get("max_id"), "max_id"),
        since_id=id_param(params.get("since_id"), "since_id"),
        min_id=id_param(params.get("min_id"), "min_id"),
        limit=limit_param(params.get("limit"), maximum=maximum),
    )


def read_window[T](
    fetch: Callable[[int | None, int], tuple[list[T], int | None]], key: Callable[[T], int], view: Window
) -> list[T]:
    """The items of the window, newest first. `fetch(before_id, count)` reads up to `count` items below
    `before_id` (None: from the newest), newest first, and says where the next read starts (None: no more)."""
    floor = max(view.since_id or 0, view.min_id or 0)
    if not floor:
        items, _ = fetch(view.max_id, view.limit)
        return items[: view.limit]
    newer: list[T] = []
    before, scanned = view.max_id, 0
    while scanned < MAX_SCAN:
        count = view.limit if view.min_id is None else min(100, MAX_SCAN - scanned)
        items, before_next = fetch(before, count)
        scanned += max(count, 1)
        above = [item for item in items if key(item) > floor]
        newer.extend(above)
        if len(above) < len(items) or before_next is None:
            break  # passed the floor, or nothing older
        if view.min_id is None and len(newer) >= view.limit:
            break  # since_id keeps the newest: enough
        before = before_next
    return newer[-view.limit :] if view.min_id is not None else newer[: view.limit]


def link_header(base: str, path: str, params: dict[str, str], ids: list[str], *, more: bool = True) -> str | None:
    """`Link: <...max_id=last>; rel="next", <...min_id=first>; rel="prev"` for a page of items whose ids are
    `ids` (newest first); None for an empty page. `params` are the request's other query parameters."""
    if not ids:
        return None
    kept = {k: v for k, v in params.items() if k not in ("max_id", "since_id", "min_id")}
    links = []
    if more:
        links.append(f'<{base}{path}?{urlencode({**kept, "max_id": ids[-1]})}>; rel="next"')
    links.append(f'<{base}{path}?{urlencode({**kept, "min_id": ids[0]})}>; rel="prev"')
    return ", ".join(links)


def cursor_link_header(base: str, path: str, params: dict[str, str], next_cursor: str | None) -> str | None:
    """The Link header of a page whose next page is an opaque cursor (followers, following): next only."""
    if not next_cursor:
        return None
    kept = {k: v for k, v in params.items() if k not in ("max_id", "since_id", "min_id")}
    return f'<{base}{path}?{urlencode({**kept, "max_id": next_cursor})}>; rel="next"'
