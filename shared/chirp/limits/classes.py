"""Which endpoint class a request is counted in, and what each class does when its counter cannot be reached.

Routes are matched by method and path template (API Gateway's `resource`, e.g. `/users/{user_id}/follow`);
a route listed nowhere is in DEFAULT. A request without a token is counted per client address in ANONYMOUS,
whatever its route.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from chirp.limits.model import EndpointClass

# (methods, path template, class). `{name}` matches one path segment; a trailing `?` makes the character before
# it optional. Likes are listed for the routes the engagement work adds (POST/DELETE /tweets/{id}/like[s]): the
# class and its tiers exist now and apply as soon as those routes do.
ROUTES: tuple[tuple[frozenset[str], str, EndpointClass], ...] = (
    (frozenset({"POST"}), "/tweets", EndpointClass.TWEETS),
    (frozenset({"POST", "DELETE"}), "/tweets/{tweet_id}/likes?", EndpointClass.LIKES),
    (frozenset({"POST", "DELETE"}), "/users/{user_id}/follow", EndpointClass.FOLLOWS),
    (frozenset({"GET"}), "/timelines/home", EndpointClass.HOME),
    (frozenset({"GET"}), "/search", EndpointClass.SEARCH),
)


@dataclass(frozen=True)
class FailureMode:
    """What a class does when Redis (its counter) does not answer: let requests through (open) or refuse them
    with 503 (closed), and why."""

    fail_open: bool
    reason: str


FAILURE_MODES: dict[EndpointClass, FailureMode] = {
    EndpointClass.TWEETS: FailureMode(
        True,
        "posting is durable in DynamoDB and needs no Redis (the chaos suite posts through a Redis outage); "
        "meanwhile the gateway's stage throttle and the API's reserved concurrency bound abuse",
    ),
    EndpointClass.LIKES: FailureMode(True, "a like is a DynamoDB write, as posting is"),
    EndpointClass.FOLLOWS: FailureMode(
        False,
        "a follow needs Redis for the follower's timeline anyway, and follow churn is the classic spam: "
        "refused whole rather than stored in DynamoDB and then failed half-way",
    ),
    EndpointClass.HOME: FailureMode(True, "moot: home timelines live in Redis, so the read answers 503 by itself"),
    EndpointClass.SEARCH: FailureMode(
        False, "the costliest query on a shared cluster and the scraper's favourite: never unmetered"
    ),
    EndpointClass.DEFAULT: FailureMode(
        True, "tweets, profiles and notifications are read from DynamoDB and must keep working without Redis"
    ),
    EndpointClass.ANONYMOUS: FailureMode(True, "GET /health must answer to report that Redis is down"),
}


@cache
def _pattern(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(template).replace(r"\?", "?")) + "$")


def endpoint_class(method: str, path: str, *, authenticated: bool) -> EndpointClass:
    """The class of a request by its method and path (a template such as `/tweets/{tweet_id}`, or a concrete
    path)."""
    if not authenticated:
        return EndpointClass.ANONYMOUS
    for methods, template, endpoint in ROUTES:
        if method.upper() in methods and _pattern(template).match(path):
            return endpoint
    return EndpointClass.DEFAULT
