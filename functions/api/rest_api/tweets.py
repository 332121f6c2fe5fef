"""Posting, reading and deleting tweets: /tweets/..."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header

from chirp.composition import services
from chirp.engagement.model import PostView
from chirp.observability import tracer
from chirp.runtime import idempotent_post
from rest_api.caller import caller
from rest_api.schemas import NewTweet, TweetId, created

router = Router()
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=idempotent_post.KEY_MAX_LENGTH)]


@router.post("/tweets", responses=created(PostView))
@tracer.capture_method
def post_tweet(
    body: NewTweet,
    idempotency_key: IdempotencyKey = None,
) -> Response[PostView]:
    draft = idempotent_post.Draft(**body.model_dump())
    posted = idempotent_post.post(caller(router), draft, idempotency_key, router.lambda_context)
    view = services().engagement.post(posted.tweet, caller(router), just_written=posted.just_written)
    return Response(201, content_types.APPLICATION_JSON, view.model_dump())


@router.get("/tweets/<tweet_id>")
def get_tweet(tweet_id: TweetId) -> PostView:
    """The tweet with its counts and what the caller did to it; a retweet with the tweet it shows."""
    return services().engagement.post(services().tweets.get(tweet_id), caller(router))


@router.delete("/tweets/<tweet_id>", responses={204: {"description": "Deleted"}})
def delete_tweet(tweet_id: TweetId):  # no return model: 204 has no body
    services().tweets.delete(caller(router), tweet_id)
    return Response(204, body="")  # an empty string: the emulated gateway rejects a null body
