"""Who calls and how they reached us: the user and scopes the token authorizer vouched for, the request's
parameters, and the public base URL of this API (a host root: links and entity URLs are built on it)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router

from chirp.oauth.service import allows
from chirp.runtime.forwarded import public_base_url
from chirp.social.model import UserPage
from mastodon_api import paging
from mastodon_api.errors import error_response
from mastodon_api.params import Params, request_params

# What a request needs of its token's scopes (Mastodon's rule: reading needs read, changing write; follow
# actions take follow too).
FOLLOW_ACTIONS = ("/follow", "/unfollow", "/block", "/unblock", "/mute", "/unmute")


def authorizer(router: Router) -> dict:
    return router.current_event.raw_event.get("requestContext", {}).get("authorizer") or {}


def caller(router: Router) -> str:
    """The user the token authorizer vouched for (principalId); routes that need a token are not reached
    without one."""
    return authorizer(router)["principalId"]


def params(router: Router) -> Params:
    """The request's parameters, read once per request."""
    event = router.current_event.raw_event
    cached = event.get("__chirp_params")
    if cached is None:
        cached = event["__chirp_params"] = request_params(event)
    return cached


def base_url(router: Router) -> str:
    """This API's public root as the client reached it."""
    return public_base_url(router.current_event.headers)


def views(router: Router):
    """The entity views for this request: its base URL, and its caller as the viewer (None on public routes)."""
    from chirp.mastodon.views import Views

    return Views(base_url(router), authorizer(router).get("principalId"))


def domain(router: Router) -> str:
    return base_url(router).split("://", 1)[1]


@cache
def _needed_scope(method: str, path: str) -> tuple[str, ...]:
    if method == "GET":
        return ("read",)
    if path.startswith("/api/v1/accounts/") and path.endswith(FOLLOW_ACTIONS):
        return ("write", "follow")
    return ("write",)


def scope_check(app, next_middleware) -> Response:
    """Middleware: a token whose scopes do not cover the request answers 403, as Mastodon does."""
    context = app.current_event.raw_event.get("requestContext", {}).get("authorizer") or {}
    if "principalId" in context:
        granted = (context.get("scopes") or "").split()
        needed = _needed_scope(app.current_event.http_method, app.current_event.path.rstrip("/"))
        if not any(allows(granted, scope) for scope in needed):
            return error_response(403, "This action is outside the authorized scopes")
    return next_middleware(app)


def page_response(items: list[dict], link: str | None) -> Response:
    """A page as Mastodon answers one: its items, the pages around it in the Link header."""
    return Response(200, content_types.APPLICATION_JSON, items, headers={"Link": link} if link else None)


def accounts_page(router: Router, read: Callable[..., UserPage]) -> Response:
    """A page of accounts (followers, who favourited a status, blocks...): `read(cursor=, limit=)` names them; the
    next page's opaque cursor travels as Mastodon's `max_id`, in the Link header."""
    request = params(router)
    limit = paging.limit_param(request.get("limit"), default=40, maximum=80)
    page = read(cursor=request.get("max_id"), limit=limit)
    view = views(router)
    path = router.current_event.path.rstrip("/")
    link = paging.cursor_link_header(view.base, path, request.plain(), page.next_cursor)
    return page_response(view.accounts(page.user_ids), link)
