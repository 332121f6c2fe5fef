"""Request and response bodies of the REST API that are not domain models, and shared parameter types."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel, Field

# The `next_cursor` of an earlier page; the ones this API returns are far shorter.
PageCursor = Annotated[str | None, Query(max_length=512)]
PageLimit = Annotated[int, Query(ge=1, le=100)]
# Path parameters are bounded like any input: nothing unbounded reaches DynamoDB (whose key limits would
# otherwise answer a 5xx naming the table).
TweetId = Annotated[int, Path(ge=1, lt=2**63)]  # an exclusive power of two: exact in JSON Schema too
UserId = Annotated[str, Path(min_length=1, max_length=128)]
MediaId = Annotated[str, Path(min_length=1, max_length=64)]


def created(model: type[BaseModel]) -> dict:
    """The OpenAPI answer of a route that creates: 201 with `model` (the resolver would say 200)."""
    return {201: {"description": "Created", "content": {"application/json": {"model": model}}}}


class NewProfile(BaseModel):
    handle: str = Field(min_length=1, max_length=64)
    display_name: str = Field(min_length=1, max_length=200)


class NewTweet(BaseModel):
    text: str = Field(max_length=5000)  # the 280-character rule is the domain's (after NFC)
    reply_to_id: int | None = Field(default=None, ge=1)
    quote_tweet_id: int | None = Field(default=None, ge=1)
    # Processed uploads of the author's (POST /media, then GET /media/{id} until ready), at most 4.
    media_ids: list[str] = Field(default_factory=list, max_length=4)


class Relation(BaseModel):
    follower_id: str
    followee_id: str
    following: bool


class Hidden(BaseModel):
    user_id: str
    target_id: str
    relation: str
    active: bool


class NewUpload(BaseModel):
    content_type: str = Field(min_length=1, max_length=100)
    size_bytes: int = Field(ge=1)


class MediaStatus(BaseModel):
    media_id: str
    status: str  # processing, ready or rejected
    reason: str | None = None  # why it was rejected
    urls: dict[str, str] = Field(default_factory=dict)  # variant name -> its delivery URL, once ready
    alt_text: str | None = None
    tweet_id: int | None = None  # the tweet it is attached to


class PartDone(BaseModel):
    part_number: int = Field(ge=1, le=10_000)
    etag: str = Field(min_length=1, max_length=128)  # the ETag header S3 answered the part's PUT with


class CompleteUpload(BaseModel):
    parts: list[PartDone] = Field(min_length=1, max_length=10_000)


class MediaUpdate(BaseModel):
    alt_text: str = Field(max_length=10_000)  # the 1,500-character rule is the domain's
