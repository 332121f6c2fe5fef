"""The Chirp REST API: profiles, follows, tweets and timelines. Thin: parse, call the domain, shape."""

import json
from collections.abc import Callable
from functools import cache
from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import PydanticSerializer
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from chirp.adapters.clients import aws_client, tweet_index
from chirp.errors import ChirpError
from chirp.ids import IdGenerationError
from chirp.media import MediaService, UploadTicket
from chirp.models import Profile, TimelinePage, Tweet, UserPage
from chirp.notifications import NotificationPage
from chirp.observability import logger, metrics, tracer
from chirp.search import TweetIndex
from chirp.service import services
from chirp.settings import get_settings
from chirp.trends import Trend

app = APIGatewayRestResolver(enable_validation=True)
# The `next_cursor` of an earlier page; the ones this API returns are far shorter.
PageCursor = Annotated[str | None, Query(max_length=512)]
PageLimit = Annotated[int, Query(ge=1, le=100)]


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


def _created(model: type[BaseModel]) -> dict:
    """The OpenAPI answer of a route that creates: 201 with `model` (the resolver would say 200)."""
    return {201: {"description": "Created", "content": {"application/json": {"model": model}}}}


def _error(status: int, error: str, message: str) -> Response:
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body={"error": error, "message": message}
    )


@app.exception_handler(ChirpError)
def domain_error(error: ChirpError) -> Response:
    return _error(error.status, type(error).__name__, str(error))


@app.not_found
def no_such_route(_: Exception) -> Response:
    """A path the gateway routed here that no route matches (an id with characters no route takes)."""
    return _error(404, "NotFound", f"no such resource: {app.current_event.http_method} {app.current_event.path}")


@app.exception_handler(RequestValidationError)
def invalid_request(error: RequestValidationError) -> Response:
    problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()]
    return _error(400, "InvalidInput", "; ".join(problems))


UNSUPPORTED_MEDIA_TYPE = 415, "UnsupportedMediaType", "send the body as application/json"


@app.exception_handler(RequestUnsupportedContentType)
def unsupported_content_type(_: RequestUnsupportedContentType) -> Response:
    return _error(*UNSUPPORTED_MEDIA_TYPE)


@app.exception_handler(IdGenerationError)
def ids_unavailable(error: IdGenerationError) -> Response:
    logger.error("cannot issue tweet ids", extra={"reason": str(error)})
    return _error(503, "Unavailable", "tweet ids cannot be issued right now; retry shortly")


def caller() -> str:
    """The authenticated user: the `sub` claim the Cognito authorizer verified. Never from the body."""
    return app.current_event.request_context.authorizer.claims["sub"]


@app.post("/users", responses=_created(Profile))
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


class Hidden(BaseModel):
    user_id: str
    target_id: str
    relation: str
    active: bool


def _hide(verb: str, target_id: str) -> Hidden:
    """block / unblock / mute / unmute: the relation and its new state follow from the verb."""
    getattr(services().graph, verb)(caller(), target_id)
    relation = verb.removeprefix("un")
    return Hidden(user_id=caller(), target_id=target_id, relation=relation, active=verb == relation)


@app.post("/users/<user_id>/block")
def block(user_id: str) -> Hidden:
    return _hide("block", user_id)


@app.delete("/users/<user_id>/block")
def unblock(user_id: str) -> Hidden:
    return _hide("unblock", user_id)


@app.post("/users/<user_id>/mute")
def mute(user_id: str) -> Hidden:
    return _hide("mute", user_id)


@app.delete("/users/<user_id>/mute")
def unmute(user_id: str) -> Hidden:
    return _hide("unmute", user_id)


@app.get("/users/<user_id>/follows/<other_id>")
def does_follow(user_id: str, other_id: str) -> Relation:
    return Relation(follower_id=user_id, followee_id=other_id, following=services().graph.follows(user_id, other_id))


@app.get("/users/<user_id>/followers")
def followers(user_id: str, cursor: PageCursor = None, limit: PageLimit = 20) -> UserPage:
    return services().graph.followers(user_id, cursor=cursor, limit=limit)


@app.get("/users/<user_id>/following")
def following(user_id: str, cursor: PageCursor = None, limit: PageLimit = 20) -> UserPage:
    return services().graph.following(user_id, cursor=cursor, limit=limit)


@app.get("/users/<user_id>/tweets")
def user_tweets(user_id: str, cursor: PageCursor = None, limit: PageLimit = 20) -> TweetPage:
    items, next_cursor = services().tweets.user_timeline(user_id, cursor=cursor, limit=limit)
    return TweetPage(items=items, next_cursor=next_cursor)


class PostRequest(BaseModel):
    author_id: str
    idempotency_key: str
    tweet: NewTweet


@cache
def _post_once() -> tuple[IdempotencyConfig, Callable[..., Tweet]]:
    """POST /tweets made idempotent per (author, Idempotency-Key): a client retrying after a lost
    response gets the first tweet back instead of posting it twice. Built on first use: the
    persistence layer needs this environment's table and region."""
    config = IdempotencyConfig(event_key_jmespath="[author_id, idempotency_key]", expires_after_seconds=24 * 3600)
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


def _post(author_id: str, body: NewTweet) -> Tweet:
    tweet = services().tweets.post(author_id, body.text, body.reply_to_id, body.quote_tweet_id)
    metrics.add_metric(name="TweetsPosted", unit="Count", value=1)
    return tweet


@app.post("/tweets", responses=_created(Tweet))
@tracer.capture_method
def post_tweet(
    body: NewTweet,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=128)] = None,
) -> Response[Tweet]:
    if idempotency_key:
        request = PostRequest(author_id=caller(), idempotency_key=idempotency_key, tweet=body)
        config, post_once = _post_once()
        config.register_lambda_context(app.lambda_context)  # bounds the in-progress record by this invocation
        tweet = post_once(request=request)
    else:
        tweet = _post(caller(), body)
    return Response(201, content_types.APPLICATION_JSON, tweet.model_dump())


@app.get("/tweets/<tweet_id>")
def get_tweet(tweet_id: int) -> Tweet:
    return services().tweets.get(tweet_id)


@app.delete("/tweets/<tweet_id>", responses={204: {"description": "Deleted"}})
def delete_tweet(tweet_id: int):  # no return model: 204 has no body
    services().tweets.delete(caller(), tweet_id)
    return Response(204, body="")  # an empty string: the emulated gateway rejects a null body


class NewUpload(BaseModel):
    content_type: str = Field(min_length=1, max_length=100)
    size_bytes: int = Field(ge=1)


class MediaStatus(BaseModel):
    media_id: str
    status: str
    reason: str | None = None
    urls: dict[str, str] = Field(default_factory=dict)


@app.post("/media", responses=_created(UploadTicket))
def create_upload(body: NewUpload) -> Response[UploadTicket]:
    """A presigned PUT: the client uploads straight to S3; the transcoder picks the object up."""
    ticket = media().presign_upload(caller(), body.content_type, body.size_bytes)
    return Response(201, content_types.APPLICATION_JSON, ticket.model_dump())


@app.get("/media/<media_id>")
def media_status(media_id: str) -> MediaStatus:
    meta = media().status(media_id)
    if meta is None:
        return MediaStatus(media_id=media_id, status="processing")
    urls = {name: media().presign_download(media_id, name) for name in meta.get("variants", {})}
    return MediaStatus(media_id=media_id, status=meta["status"], reason=meta.get("reason"), urls=urls)


@cache
def media() -> MediaService:
    settings = get_settings()
    return MediaService(aws_client("s3", settings), settings.media_bucket)


@app.get("/notifications")
def notifications(cursor: PageCursor = None, limit: PageLimit = 20) -> NotificationPage:
    return services().notifications.page(caller(), cursor=cursor, limit=limit)


@cache
def tweet_search() -> TweetIndex:
    return tweet_index(get_settings())  # the deploy creates the index (functions/search_schema), not the API


@app.get("/search")
def search(
    q: Annotated[str | None, Query(max_length=500)] = None,
    hashtag: Annotated[str | None, Query(max_length=100)] = None,
    author: Annotated[str | None, Query(max_length=128)] = None,
    cursor: PageCursor = None,
    limit: PageLimit = 20,
) -> TimelinePage:
    page = tweet_search().search(q, hashtag=hashtag, author_id=author, limit=limit, cursor=cursor)
    # Hydration drops tweets deleted since they were indexed; the cursor still comes from the index.
    return TimelinePage(items=services().feeds.hydrate(page.tweet_ids), next_cursor=page.next_cursor)


@app.get("/trends")
def trends(limit: Annotated[int, Query(ge=1, le=50)] = 10) -> list[Trend]:
    return services().trends.top(limit)


@app.get("/timelines/home")
@tracer.capture_method
def home_timeline(cursor: PageCursor = None, limit: PageLimit = 20) -> TimelinePage:
    return services().feeds.home(caller(), cursor=cursor, limit=limit)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return unsupported_media_type(event) or app.resolve(event, context)


def unsupported_media_type(event: dict) -> dict | None:
    """Bodies are JSON only: a body declared as anything else is answered 415 here, where the resolver would
    parse it as a form instead (and raise on a multipart type without a boundary: a 502). A JSON type is
    passed on lower-cased: media types are case-insensitive, the resolver's check is not."""
    headers = event.get("headers") or {}
    name = next((name for name in headers if name.lower() == "content-type"), None)
    media_type = (headers.get(name) or "application/json").split(";")[0].strip().lower()
    if media_type == "application/json":
        if name is not None:
            headers[name] = headers[name].lower()
        return None
    if not event.get("body"):
        return None
    status, error, message = UNSUPPORTED_MEDIA_TYPE
    body = {"error": error, "message": f"{message}, not {media_type!r}"}
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}
