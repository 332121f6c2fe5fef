"""Statuses: posting (JSON or form, Idempotency-Key, replies, media), reading, deleting, threads, favourites and
reblogs and who made them, and bookmarks."""

from functools import partial

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from chirp.composition import services
from chirp.engagement.model import Kind
from chirp.errors import InvalidInput, NotFound, Unprocessable
from chirp.observability import metrics, tracer
from chirp.runtime import idempotent_post
from mastodon_api import paging
from mastodon_api.context import accounts_page, caller, params, views

router = Router()
VISIBLE = ("public", "unlisted")  # every Chirp status is public; "unlisted" is honoured as public
MAX_ANCESTORS = 40
MAX_DESCENDANTS = 60
DESCENDANT_DEPTH = 4


def _new_status() -> idempotent_post.Draft:
    request = params(router)
    if request.get("poll[options][]") or request.list("poll[options]") or request.get("poll"):
        raise Unprocessable("Chirp has no polls")
    if request.get("scheduled_at"):
        raise Unprocessable("Chirp does not schedule statuses")
    if (request.get("spoiler_text") or "").strip():
        raise Unprocessable("Chirp has no content warnings (spoiler_text)")
    visibility = request.get("visibility") or "public"
    if visibility not in VISIBLE:
        raise Unprocessable(f"every Chirp status is public: visibility {visibility[:20]!r} is not supported")
    reply_to = request.get("in_reply_to_id")
    in_reply_to_id = paging.id_param(reply_to, "in_reply_to_id") if reply_to else None
    text = request.get("status") or ""
    if not text.strip():
        raise InvalidInput("Validation failed: Text can't be blank")
    return idempotent_post.Draft(text=text, reply_to_id=in_reply_to_id, media_ids=request.list("media_ids"))


@router.post("/api/v1/statuses")
@tracer.capture_method
def post_status() -> dict:
    status, author = _new_status(), caller(router)
    key = router.current_event.headers.get("Idempotency-Key") or router.current_event.headers.get("idempotency-key")
    if key and len(key) > idempotent_post.KEY_MAX_LENGTH:
        raise InvalidInput(f"Idempotency-Key is at most {idempotent_post.KEY_MAX_LENGTH} characters")
    tweet, just_written = idempotent_post.post(author, status, key, router.lambda_context)
    return views(router).posted(tweet, just_written=just_written)  # Mastodon answers 200, not 201


def _status_id(status_id: str) -> int:
    try:
        return paging.id_param(status_id, "id")
    except InvalidInput as error:
        raise NotFound("Record not found") from error


@router.get("/api/v1/statuses/<status_id>")
def get_status(status_id: str) -> dict:
    return views(router).status(_status_id(status_id))


@router.delete("/api/v1/statuses/<status_id>")
def delete_status(status_id: str) -> dict:
    tweet_id, tweets, view = _status_id(status_id), services().tweets, views(router)
    rendered = view.posted(tweets.get(tweet_id), with_source=True)  # before: a deleted tweet is no longer read
    tweets.delete(caller(router), tweet_id)
    return rendered


@router.get("/api/v1/statuses/<status_id>/context")
def context(status_id: str) -> dict:
    tweet_id, tweets, view = _status_id(status_id), services().tweets, views(router)
    tweet = tweets.get(tweet_id)
    if tweet.retweet_of_id is not None:  # a reblog's thread is its original's
        tweet = tweets.get(tweet.retweet_of_id)
    ancestors = []
    parent_id = tweet.reply_to_id
    while parent_id is not None and len(ancestors) < MAX_ANCESTORS:
        try:
            parent = tweets.get(parent_id)
        except NotFound:
            break
        ancestors.append(parent)
        parent_id = parent.reply_to_id
    descendants: list[int] = []
    level = [tweet.tweet_id]
    for _ in range(DESCENDANT_DEPTH):
        if not level or len(descendants) >= MAX_DESCENDANTS:
            break
        level = services().search.replies(level, limit=MAX_DESCENDANTS - len(descendants))
        descendants.extend(level)
    entries = services().timelines.hydrate(sorted(set(descendants)))
    return {"ancestors": view.posts(list(reversed(ancestors))), "descendants": view.entries(entries)}


# --- favourites and reblogs: Chirp's likes and retweets (chirp.engagement), idempotent as Mastodon's -------------


@router.post("/api/v1/statuses/<status_id>/favourite")
def favourite(status_id: str) -> dict:
    state = services().engagement.like(caller(router), _status_id(status_id))
    metrics.add_metric(name="Likes", unit="Count", value=1)
    return views(router).status(state.tweet_id)


@router.post("/api/v1/statuses/<status_id>/unfavourite")
def unfavourite(status_id: str) -> dict:
    state = services().engagement.unlike(caller(router), _status_id(status_id))
    return views(router).status(state.tweet_id)


@router.get("/api/v1/statuses/<status_id>/favourited_by")
def favourited_by(status_id: str) -> Response:
    return accounts_page(router, partial(services().engagement.engagers, Kind.LIKE, _status_id(status_id)))


@router.get("/api/v1/statuses/<status_id>/reblogged_by")
def reblogged_by(status_id: str) -> Response:
    return accounts_page(router, partial(services().engagement.engagers, Kind.RETWEET, _status_id(status_id)))


@router.post("/api/v1/statuses/<status_id>/bookmark")
def bookmark(status_id: str) -> dict:
    state = services().engagement.bookmark(caller(router), _status_id(status_id))
    return views(router).status(state.tweet_id)


@router.post("/api/v1/statuses/<status_id>/unbookmark")
def unbookmark(status_id: str) -> dict:
    state = services().engagement.unbookmark(caller(router), _status_id(status_id))
    return views(router).status(state.tweet_id)


@router.post("/api/v1/statuses/<status_id>/reblog")
def reblog(status_id: str) -> dict:
    """The reblog itself (Mastodon's answer): a status of the caller's that shows the original."""
    visibility = params(router).get("visibility") or "public"
    if visibility not in VISIBLE:
        raise Unprocessable(f"every Chirp status is public: visibility {visibility[:20]!r} is not supported")
    state = services().engagement.retweet(caller(router), _status_id(status_id))
    metrics.add_metric(name="Retweets", unit="Count", value=1)
    if state.retweet_id is None:  # undone meanwhile by a racing request: answer the original
        return views(router).status(state.tweet_id)
    return views(router).status(state.retweet_id)


@router.post("/api/v1/statuses/<status_id>/unreblog")
def unreblog(status_id: str) -> dict:
    """The original status, no longer reblogged by the caller."""
    state = services().engagement.unretweet(caller(router), _status_id(status_id))
    return views(router).status(state.tweet_id)
