"""The Chirp REST API: profiles, follows, tweets and timelines. Thin: parse, call the domain, shape."""

from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from chirp.errors import ChirpError
from chirp.ids import IdGenerationError
from chirp.models import Profile, TimelinePage, Tweet, UserPage
from chirp.observability import logger, metrics, tracer
from chirp.service import services

app = APIGatewayRestResolver(enable_validation=True)


class NewProfile(BaseModel):
    handle: str = Field(min_length=1, max_length=64)
    display_name: str = Field(min_length=1, max_length=200)


class NewTweet(BaseModel):
    text: str = Field(max_length=5000)  # the 280-character rule is the domain's (after NFC)
    reply_to_id: int | None = Field(default=None, ge=1)
    quote_tweet_id: int | None = Field(default=None, ge=1)


class TweetPage(BaseModel):
    items: list[Tweet]
    next_cursor: str | None = None


class Relation(BaseModel):
    follower_id: str
    followee_id: str
    following: bool


def _error(status: int, error: str, message: str) -> Response:
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body={"error": error, "message": message}
    )


@app.exception_handler(ChirpError)
def domain_error(error: ChirpError) -> Response:
    return _error(error.status, type(error).__name__, str(error))


@app.exception_handler(RequestValidationError)
def invalid_request(error: RequestValidationError) -> Response:
    problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()]
    return _error(400, "InvalidInput", "; ".join(problems))


@app.exception_handler(IdGenerationError)
def ids_unavailable(error: IdGenerationError) -> Response:
    logger.error("cannot issue tweet ids", extra={"reason": str(error)})
    return _error(503, "Unavailable", "tweet ids cannot be issued right now; retry shortly")


def caller() -> str:
    """The authenticated user: the `sub` claim the Cognito authorizer verified. Never from the body."""
    return app.current_event.request_context.authorizer.claims["sub"]


@app.post("/users")
@tracer.capture_method
def create_profile(body: NewProfile) -> Response[Profile]:
    profile = services().graph.create_profile(caller(), body.handle, body.display_name)
    return Response(201, content_types.APPLICATION_JSON, profile.model_dump())


@app.get("/users/<user_id>")
def get_profile(user_id: str) -> Profile:
    return services().graph.profile(caller() if user_id == "me" else user_id)


@app.post("/users/<user_id>/follow")
def follow(user_id: str) -> Relation:
    services().graph.follow(caller(), user_id)
    return Relation(follower_id=caller(), followee_id=user_id, following=True)


@app.delete("/users/<user_id>/follow")
def unfollow(user_id: str) -> Relation:
    services().graph.unfollow(caller(), user_id)
    return Relation(follower_id=caller(), followee_id=user_id, following=False)


@app.get("/users/<user_id>/follows/<other_id>")
def does_follow(user_id: str, other_id: str) -> Relation:
    return Relation(follower_id=user_id, followee_id=other_id, following=services().graph.follows(user_id, other_id))


@app.get("/users/<user_id>/followers")
def followers(
    user_id: str, cursor: Annotated[str | None, Query()] = None, limit: Annotated[int, Query(ge=1, le=100)] = 20
) -> UserPage:
    return services().graph.followers(user_id, cursor=cursor, limit=limit)


@app.get("/users/<user_id>/following")
def following(
    user_id: str, cursor: Annotated[str | None, Query()] = None, limit: Annotated[int, Query(ge=1, le=100)] = 20
) -> UserPage:
    return services().graph.following(user_id, cursor=cursor, limit=limit)


@app.get("/users/<user_id>/tweets")
def user_tweets(
    user_id: str, cursor: Annotated[str | None, Query()] = None, limit: Annotated[int, Query(ge=1, le=100)] = 20
) -> TweetPage:
    items, next_cursor = services().tweets.user_timeline(user_id, cursor=cursor, limit=limit)
    return TweetPage(items=items, next_cursor=next_cursor)


@app.post("/tweets")
@tracer.capture_method
def post_tweet(body: NewTweet) -> Response[Tweet]:
    tweet = services().tweets.post(caller(), body.text, body.reply_to_id, body.quote_tweet_id)
    metrics.add_metric(name="TweetsPosted", unit="Count", value=1)
    return Response(201, content_types.APPLICATION_JSON, tweet.model_dump())


@app.get("/tweets/<tweet_id>")
def get_tweet(tweet_id: int) -> Tweet:
    return services().tweets.get(tweet_id)


@app.delete("/tweets/<tweet_id>")
def delete_tweet(tweet_id: int):  # no return model: 204 has no body
    services().tweets.delete(caller(), tweet_id)
    return Response(204, body="")  # an empty string: the emulated gateway rejects a null body


@app.get("/timelines/home")
@tracer.capture_method
def home_timeline(
    cursor: Annotated[str | None, Query()] = None, limit: Annotated[int, Query(ge=1, le=100)] = 20
) -> TimelinePage:
    return services().feeds.home(caller(), cursor=cursor, limit=limit)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
