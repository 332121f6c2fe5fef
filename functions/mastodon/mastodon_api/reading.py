"""What a user reads: home, public and hashtag timelines, favourites, bookmarks, search, notifications, trends, and
where they stopped reading (markers)."""

from collections.abc import Callable

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from chirp.composition import services
from chirp.markers.model import TIMELINES
from chirp.mastodon import entities
from chirp.notifications.model import Notification
from chirp.notifications.service import MAX_UNREAD
from chirp.tweets.text import hashtags as hashtags_in
from mastodon_api import paging
from mastodon_api.context import base_url, caller, domain, page_response, params, views

router = Router()
# Mastodon's notification types -> Chirp's kinds.
NOTIFICATION_KINDS = {
    "mention": ("mention", "reply"),
    "quote": ("quote",),
    "follow": ("follow",),
    "favourite": ("like",),
    "reblog": ("retweet",),
}


def _next_before(page) -> int | None:
    return int(page.next_cursor) if page.next_cursor else None


def _timeline(fetch) -> Response:
    request, view = params(router), views(router)
    entries = paging.read_window(fetch, lambda e: e.entry_id, paging.window(request))
    statuses = view.entries(entries)
    path = router.current_event.path.rstrip("/")
    return page_response(statuses, paging.link_header(view.base, path, request.plain(), [s["id"] for s in statuses]))


@router.get("/api/v1/timelines/home")
def home() -> Response:
    user_id, timelines = caller(router), services().timelines

    def fetch(before_id, count):
        page = timelines.home(user_id, cursor=str(before_id) if before_id else None, limit=min(count, 100))
        return page.items, _next_before(page)

    return _timeline(fetch)


@router.get("/api/v1/timelines/public")
def public_timeline() -> Response:
    """Every public status but replies to someone else, newest first. Chirp is one instance and federates with none:
    `local` changes nothing, and `remote` finds nothing."""
    request, viewer, search = params(router), caller(router), services().search
    if request.flag("remote"):
        return page_response([], None)
    only_media, hidden = request.flag("only_media"), search.hidden_once(viewer)  # read once for all the pages

    def fetch(before_id, count):
        cursor = str(before_id) if before_id else None
        page = search.public_timeline(
            viewer_id=viewer, cursor=cursor, limit=min(count, 100), only_media=only_media, hidden=hidden
        )
        return page.items, _next_before(page)

    return _timeline(fetch)


@router.get("/api/v1/favourites")
def favourites() -> Response:
    """What the caller favourited (liked), most recently first; the next page's cursor travels as `max_id`."""
    return _statuses_page(services().engagement.liked_tweets)


@router.get("/api/v1/bookmarks")
def bookmarks() -> Response:
    """What the caller bookmarked, most recently first; the next page's cursor travels as `max_id`."""
    return _statuses_page(services().engagement.bookmarked_tweets)


def _statuses_page(read) -> Response:
    """One page of the caller's statuses that `read` lists by cursor, with its Link header."""
    request, view = params(router), views(router)
    found, next_cursor = read(
        caller(router), cursor=request.get("max_id"), limit=paging.limit_param(request.get("limit"))
    )
    path = router.current_event.path.rstrip("/")
    return page_response(view.posts(found), paging.cursor_link_header(view.base, path, request.plain(), next_cursor))


@router.get("/api/v1/timelines/tag/<hashtag>")
def tag_timeline(hashtag: str) -> Response:
    """The public statuses carrying the hashtag, newest first, less those of whom the caller blocks or mutes and of
    who blocks the caller (as Mastodon's tag timelines)."""
    search, viewer = services().search, caller(router)
    hidden = search.hidden_once(viewer)  # read once for all the pages

    def fetch(before_id, count):
        cursor = str(before_id) if before_id else None
        page = search.search(
            None,
            hashtag=hashtag,
            author_id=None,
            cursor=cursor,
            limit=min(count, 100),
            viewer_id=viewer,
            hidden=hidden,
        )
        return page.items, _next_before(page)

    return _timeline(fetch)


def _handle(q: str, ours: str) -> str | None:
    acct = q.strip().removeprefix("@")
    handle, _, host = acct.partition("@")
    return handle if handle and (not host or host.lower() == ours.lower()) else None


@router.get("/api/v2/search")
def search() -> dict:
    request, view = params(router), views(router)
    q = (request.get("q") or "").strip()
    kind = request.get("type")
    limit = paging.limit_param(request.get("limit"))
    offset = request.get("offset") or "0"
    first_page = offset in ("", "0") and not request.get("max_id")
    result = {"accounts": [], "statuses": [], "hashtags": []}
    if not q:
        return result
    if kind in (None, "", "accounts") and first_page:
        handle = _handle(q, domain(router))
        profiles = services().social.by_handles([handle]) if handle else {}
        result["accounts"] = [entities.account(p, view.base) for p in profiles.values()]
    tags = hashtags_in(q if q.startswith("#") else f"#{q}")
    if kind in (None, "", "hashtags") and first_page and len(tags) == 1 and q.lstrip("#").lower() == tags[0]:
        used = services().search.search(None, hashtag=tags[0], author_id=None, cursor=None, limit=1)
        result["hashtags"] = [entities.tag(tags[0], view.base)] if used.items else []
    if kind in (None, "", "statuses"):
        hashtag = tags[0] if q.startswith("#") and len(tags) == 1 and q[1:].lower() == tags[0] else None
        text = None if hashtag else q
        max_id = paging.id_param(request.get("max_id"), "max_id")
        page = services().search.search(
            text,
            hashtag=hashtag,
            author_id=request.get("account_id"),
            cursor=str(max_id) if max_id else None,
            limit=limit,
            viewer_id=caller(router),  # not the tweets of whom the caller blocks or mutes
        )
        result["statuses"] = view.entries(page.items)
    return result


def _of_types(request) -> Callable[[Notification], bool]:
    """Whether a notification is of the `types[]` asked (any, when none is) and of none of `exclude_types[]`."""
    wanted = {kind for t in request.list("types") for kind in NOTIFICATION_KINDS.get(t, ())}
    excluded = {kind for t in request.list("exclude_types") for kind in NOTIFICATION_KINDS.get(t, ())}
    return lambda n: (not wanted or n.kind in wanted) and n.kind not in excluded


@router.get("/api/v1/notifications")
def notifications() -> Response:
    request, user_id = params(router), caller(router)
    view, notes, of_types = views(router), services().notifications, _of_types(request)

    def fetch(before_id, count):
        page = notes.page(user_id, cursor=str(before_id) if before_id else None, limit=min(count, 100))
        return [n for n in page.items if of_types(n)], _next_before(page)

    found: list[Notification] = paging.read_window(fetch, lambda n: n.id, paging.window(request, maximum=80))
    items = view.notifications(found)
    link = paging.link_header(view.base, "/api/v1/notifications", request.plain(), [i["id"] for i in items])
    return page_response(items, link)


@router.get("/api/v1/notifications/unread_count")
def unread_count() -> dict:
    """How many notifications came since the notifications marker (all of them, without one), of `types[]` and
    none of `exclude_types[]`, counted up to `limit` (default 100, at most 1000): apps show it as a badge."""
    request, user_id = params(router), caller(router)
    marker = services().markers.read(user_id, ["notifications"]).get("notifications")
    count = services().notifications.unread_count(
        user_id,
        read_up_to=marker.last_read_id if marker else None,
        limit=paging.limit_param(request.get("limit"), default=100, maximum=MAX_UNREAD),
        counted=_of_types(request),
    )
    return {"count": count}


@router.get("/api/v1/trends/tags")
def trending_tags() -> list:
    limit = paging.limit_param(params(router).get("limit"), default=10, maximum=20)
    trends = services().trends
    return [entities.trend_tag(t, base_url(router), trends.clock_ms()) for t in trends.top(limit)]


@router.get("/api/v1/trends")
def trends_v1() -> list:
    """The deprecated name of /api/v1/trends/tags, still asked by older clients."""
    return trending_tags()


@router.get("/api/v1/markers")
def markers() -> dict:
    """The caller's reading positions of the timelines named in `timeline[]` (none named: none)."""
    found = services().markers.read(caller(router), params(router).list("timeline"))
    return {timeline: entities.marker(marker) for timeline, marker in found.items()}


@router.post("/api/v1/markers")
def save_markers() -> dict:
    """Saves `home[last_read_id]` and/or `notifications[last_read_id]`; answers the markers saved."""
    request = params(router)
    given = {t: paging.id_param(request.get(f"{t}[last_read_id]"), f"{t}[last_read_id]") for t in TIMELINES}
    saved = services().markers.save(caller(router), {t: i for t, i in given.items() if i is not None})
    return {timeline: entities.marker(marker) for timeline, marker in saved.items()}
