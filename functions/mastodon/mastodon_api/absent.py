"""What Chirp has none of, answered as an instance that has none, so that the clients which ask at start (Tusky, Elk,
Phanpy, the Mastodon apps) carry on; and the preferences every Chirp user has. Creating any of them is not served
(404): nothing is accepted that Chirp would not keep."""

from aws_lambda_powertools.event_handler.api_gateway import Router

from chirp.mastodon import entities

router = Router()

NONE_HERE = (
    "/api/v1/lists",
    # Keyword filters (blocks and mutes hide authors): v2's only; v1's are deprecated since Mastodon 4.0 (and the
    # OpenAPI document describes their answer as one filter, not a list).
    "/api/v2/filters",
    "/api/v1/announcements",
    "/api/v1/follow_requests",  # no account is locked: every follow is accepted
    "/api/v1/conversations",  # no direct messages: every status is public
    "/api/v1/followed_tags",
)


def _none() -> list:
    return []


for path in NONE_HERE:
    router.get(path)(_none)


@router.get("/api/v1/preferences")
def preferences() -> dict:
    return entities.preferences()
