"""Accounts and the social graph: /api/v1/accounts/..., and whom the caller blocks and mutes."""

from functools import partial

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from chirp.composition import services
from chirp.errors import Forbidden, NotFound
from chirp.mastodon import entities
from chirp.social.model import Relation
from chirp.tweets.model import Tweet
from chirp.tweets.text import hashtag_named
from mastodon_api import paging
from mastodon_api.context import accounts_page, base_url, caller, domain, page_response, params, views

router = Router()
MAX_RELATIONSHIPS = 40


@router.get("/api/v1/accounts/verify_credentials")
def verify_credentials() -> dict:
    user_id = caller(router)
    if services().social_store.get_profile(user_id) is None:
        raise Forbidden("create your Chirp profile (POST /users on Chirp's API) before using a client")
    return views(router).account(user_id, credential=True)


@router.get("/api/v1/accounts/lookup")
def lookup() -> dict:
    acct = (params(router).get("acct") or "").strip().removeprefix("@")
    handle, _, host = acct.partition("@")
    if host and host.lower() != domain(router).lower():
        raise NotFound("Chirp knows only its own accounts")
    return entities.account(services().social.by_handle(handle), base_url(router))


@router.get("/api/v1/accounts/relationships")
def relationships() -> list:
    social, me = services().social, caller(router)
    ids = list(dict.fromkeys(params(router).list("id")))[:MAX_RELATIONSHIPS]
    known = social.profiles(ids)
    return [entities.relationship(other, social.relationship(me, other)) for other in ids if other in known]


@router.get("/api/v1/accounts/<account_id>")
def get_account(account_id: str) -> dict:
    return views(router).account(_user_id(account_id))


def _user_id(account_id: str) -> str:
    if not 1 <= len(account_id) <= 128:
        raise NotFound("Record not found")
    return account_id


@router.get("/api/v1/accounts/<account_id>/statuses")
def account_statuses(account_id: str) -> Response:
    request, user_id = params(router), _user_id(account_id)
    view, tweets = views(router), services().tweets
    if request.flag("pinned"):  # Chirp has no pinned statuses
        return page_response([], None)
    exclude_replies, exclude_reblogs = request.flag("exclude_replies"), request.flag("exclude_reblogs")
    # The profile's media and hashtag tabs: statuses that carry media, or the tag (a reblog carries neither).
    only_media, tagged = request.flag("only_media"), request.get("tagged")
    tag = hashtag_named(tagged) if tagged else None

    def shown(tweet: Tweet, parent_authors: dict[int, str]) -> bool:
        return not (
            # Without replies, as Mastodon's: but for the account's replies to itself (its threads).
            (exclude_replies and tweet.reply_to_id and parent_authors.get(tweet.reply_to_id) != user_id)
            or (exclude_reblogs and tweet.retweet_of_id is not None)
            or (only_media and not tweet.media_ids)
            or (tag and tag not in tweet.hashtags)
        )

    def fetch(before_id, count):
        items, more = tweets.user_timeline(user_id, cursor=None, limit=count, before_id=before_id)
        next_before = items[-1].tweet_id if items and more else None
        parent_authors = view.parent_authors(items if exclude_replies else [])  # once per page, read only if not kept
        return [t for t in items if shown(t, parent_authors)], next_before

    window = paging.window(request)
    found = paging.read_window(fetch, lambda t: t.tweet_id, window)
    statuses = view.posts(found)
    path = f"/api/v1/accounts/{account_id}/statuses"
    return page_response(statuses, paging.link_header(view.base, path, request.plain(), [s["id"] for s in statuses]))


@router.get("/api/v1/accounts/<account_id>/followers")
def followers(account_id: str) -> Response:
    return accounts_page(router, partial(services().social.followers, _user_id(account_id)))


@router.get("/api/v1/accounts/<account_id>/following")
def following(account_id: str) -> Response:
    return accounts_page(router, partial(services().social.following, _user_id(account_id)))


@router.get("/api/v1/blocks")
def blocks() -> Response:
    return accounts_page(router, partial(services().social.related, Relation.BLOCKS, caller(router)))


@router.get("/api/v1/mutes")
def mutes() -> Response:
    return accounts_page(router, partial(services().social.related, Relation.MUTES, caller(router)))


def _act(account_id: str, verb: str) -> dict:
    me, other = caller(router), _user_id(account_id)
    social = services().social
    getattr(social, verb)(me, other)
    return entities.relationship(other, social.relationship(me, other))


@router.post("/api/v1/accounts/<account_id>/follow")
def follow(account_id: str) -> dict:
    return _act(account_id, "follow")


@router.post("/api/v1/accounts/<account_id>/unfollow")
def unfollow(account_id: str) -> dict:
    return _act(account_id, "unfollow")


@router.post("/api/v1/accounts/<account_id>/block")
def block(account_id: str) -> dict:
    return _act(account_id, "block")


@router.post("/api/v1/accounts/<account_id>/unblock")
def unblock(account_id: str) -> dict:
    return _act(account_id, "unblock")


@router.post("/api/v1/accounts/<account_id>/mute")
def mute(account_id: str) -> dict:
    return _act(account_id, "mute")


@router.post("/api/v1/accounts/<account_id>/unmute")
def unmute(account_id: str) -> dict:
    return _act(account_id, "unmute")
