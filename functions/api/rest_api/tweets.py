"""Posting, reading and deleting tweets: /tweets/..."""

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header
from pydantic import BaseModel

from chirp.composition import services
from chirp.engagement.model import PostView
from chirp.errors import Unprocessable
from chirp.observability import metrics, tracer
from chirp.settings import get_settings
from chirp.tweets.model import Tweet
from rest_api.caller import caller
from rest_api.errors import RequestInProgress
from rest_api.schemas import NewTweet, TweetId, created

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

router = Router()


class PostRequest(BaseModel):
    author_id: str
    idempotency_key: str
    tweet: NewTweet


@cache
def _post_once() -> tuple["IdempotencyConfig", Callable[..., Tweet]]:
    """POST /tweets made idempotent per (author, Idempotency-Key): a client retrying after a lost
    response gets the first tweet back instead of posting it twice. Built on first use: the
    persistence layer needs this environment's table and region, and Powertools' idempotency imports boto3
    (with s3transfer), which no cold start should pay for a header most posts do not carry."""
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )
    from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import PydanticSerializer

    config = IdempotencyConfig(
        event_key_jmespath="[author_id, idempotency_key]",
        payload_validation_jmespath="tweet",  # the same key with another body is refused, not answered silently
        expires_after_seconds=24 * 3600,
    )
    persistence = DynamoDBPersistenceLayer(table_name=get_settings().idempotency_table)

    @idempotent_function(
        data_keyword_argument="request",
        config=config,
        persistence_store=persistence,
        output_serializer=PydanticSerializer(Tweet),
    )
    def post_once(request: PostRequest) -> Tweet:
        return _post(request.author_id, request.tweet)

    return config, post_once


def _post_with_key(request: PostRequest) -> Tweet:
    """The first tweet of this key, posted now or before."""
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    config, post_once = _post_once()
    config.register_lambda_context(router.lambda_context)  # bounds the in-progress record by this invocation
    try:
        return post_once(request=request)
    except IdempotencyAlreadyInProgressError as error:
        message = "a request with this Idempotency-Key is in progress; retry to get its result"
        raise RequestInProgress(message) from error
    except IdempotencyValidationError as error:
        message = "this Idempotency-Key was used with a different body; use a new key for a new tweet"
        raise Unprocessable(message) from error


def _post(author_id: str, body: NewTweet) -> Tweet:
    tweet = services().tweets.post(author_id, body.text, body.reply_to_id, body.quote_tweet_id, body.media_ids)
    metrics.add_metric(name="TweetsPosted", unit="Count", value=1)
    return tweet


@router.post("/tweets", responses=created(PostView))
@tracer.capture_method
def post_tweet(
    body: NewTweet,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=128)] = None,
) -> Response[PostView]:
    if idempotency_key:
        request = PostRequest(author_id=caller(router), idempotency_key=idempotency_key, tweet=body)
        tweet = _post_with_key(request)
    else:
        tweet = _post(caller(router), body)
    view = services().engagement.post(tweet, caller(router))  # an Idempotency-Key retry: counts as they are now
    return Response(201, content_types.APPLICATION_JSON, view.model_dump())


@router.get("/tweets/<tweet_id>")
def get_tweet(tweet_id: TweetId) -> PostView:
    """The tweet with its counts and what the caller did to it; a retweet with the tweet it shows."""
    return services().engagement.post(services().tweets.get(tweet_id), caller(router))


@router.delete("/tweets/<tweet_id>", responses={204: {"description": "Deleted"}})
def delete_tweet(tweet_id: TweetId):  # no return model: 204 has no body
    services().tweets.delete(caller(router), tweet_id)
    return Response(204, body="")  # an empty string: the emulated gateway rejects a null body
