"""Profiles and the social graph: /users/..."""

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router

from chirp.composition import services
from chirp.engagement.model import PostPage
from chirp.observability import tracer
from chirp.social.model import Profile, UserPage
from rest_api.caller import caller
from rest_api.schemas import Hidden, NewProfile, PageCursor, PageLimit, Relation, UserId, created

router = Router()


@router.post("/users", responses=created(Profile))
@tracer.capture_method
def create_profile(body: NewProfile) -> Response[Profile]:
    profile = services().social.create_profile(caller(router), body.handle, body.display_name)
    return Response(201, content_types.APPLICATION_JSON, profile.model_dump())


@router.get("/users/<user_id>")
def get_profile(user_id: UserId) -> Profile:
    return services().social.profile(caller(router) if user_id == "me" else user_id)


@router.post("/users/<user_id>/follow")
def follow(user_id: UserId) -> Relation:
    services().social.follow(caller(router), user_id)
    return Relation(follower_id=caller(router), followee_id=user_id, following=True)


@router.delete("/users/<user_id>/follow")
def unfollow(user_id: UserId) -> Relation:
    services().social.unfollow(caller(router), user_id)
    return Relation(follower_id=caller(router), followee_id=user_id, following=False)


def _hide(verb: str, target_id: str) -> Hidden:
    """block / unblock / mute / unmute: the relation and its new state follow from the verb."""
    getattr(services().social, verb)(caller(router), target_id)
    relation = verb.removeprefix("un")
    return Hidden(user_id=caller(router), target_id=target_id, relation=relation, active=verb == relation)


@router.post("/users/<user_id>/block")
def block(user_id: UserId) -> Hidden:
    return _hide("block", user_id)


@router.delete("/users/<user_id>/block")
def unblock(user_id: UserId) -> Hidden:
    return _hide("unblock", user_id)


@router.post("/users/<user_id>/mute")
def mute(user_id: UserId) -> Hidden:
    return _hide("mute", user_id)


@router.delete("/users/<user_id>/mute")
def unmute(user_id: UserId) -> Hidden:
    return _hide("unmute", user_id)


@router.get("/users/<user_id>/follows/<other_id>")
def does_follow(user_id: UserId, other_id: UserId) -> Relation:
    following = services().social.follows(user_id, other_id)
    return Relation(follower_id=user_id, followee_id=other_id, following=following)


@router.get("/users/<user_id>/followers")
def followers(user_id: UserId, cursor: PageCursor = None, limit: PageLimit = 20) -> UserPage:
    return services().social.followers(user_id, cursor=cursor, limit=limit)


@router.get("/users/<user_id>/following")
def following(user_id: UserId, cursor: PageCursor = None, limit: PageLimit = 20) -> UserPage:
    return services().social.following(user_id, cursor=cursor, limit=limit)


@router.get("/users/<user_id>/tweets")
def user_tweets(user_id: UserId, cursor: PageCursor = None, limit: PageLimit = 20) -> PostPage:
    """The user's tweets and retweets, newest first, with their counts (a retweet carries the tweet it shows)."""
    items, next_cursor = services().tweets.user_timeline(user_id, cursor=cursor, limit=limit)
    return PostPage(items=services().engagement.posts(items, caller(router)), next_cursor=next_cursor)
