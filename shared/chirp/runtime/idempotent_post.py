"""Posting a tweet once per (author, Idempotency-Key), for every API that posts (Chirp's and Mastodon's): a
client retrying after a lost answer gets the first tweet back instead of posting it twice, and the same key
with another body is refused rather than answered with a tweet it did not ask for."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from functools import cache
from typing import TYPE_CHECKING, NamedTuple

from pydantic import BaseModel, Field

from chirp.composition import services
from chirp.errors import Conflict, Unprocessable
from chirp.observability import metrics
from chirp.settings import get_settings
from chirp.tweets.model import Tweet

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig
    from aws_lambda_powertools.utilities.typing import LambdaContext

KEY_MAX_LENGTH = 128
# Whether the idempotent function ran in this request (False: Powertools returned an earlier request's tweet).
_WROTE: ContextVar[bool] = ContextVar("wrote", default=False)


class Draft(BaseModel):
    """What a client asks to post, whichever API it speaks."""

    text: str
    reply_to_id: int | None = None
    quote_tweet_id: int | None = None
    media_ids: list[str] = Field(default_factory=list)


class PostInProgress(Conflict):
    """A retry racing the first request with the same key: the first is still running; retry for its result."""


class Posted(NamedTuple):
    tweet: Tweet
    just_written: bool  # by this request; False: an earlier request's tweet, returned for its Idempotency-Key


class _KeyedDraft(BaseModel):
    author_id: str
    idempotency_key: str
    draft: Draft


def post(author_id: str, draft: Draft, idempotency_key: str | None, lambda_context: LambdaContext) -> Posted:
    if not idempotency_key:
        return Posted(_post(author_id, draft), just_written=True)
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    config, post_once = _post_once()
    config.register_lambda_context(lambda_context)  # bounds the in-progress record by this invocation
    wrote = _WROTE.set(False)
    try:
        tweet = post_once(request=_KeyedDraft(author_id=author_id, idempotency_key=idempotency_key, draft=draft))
        return Posted(tweet, just_written=_WROTE.get())
    except IdempotencyAlreadyInProgressError as error:
        raise PostInProgress("a request with this Idempotency-Key is in progress; retry to get its result") from error
    except IdempotencyValidationError as error:
        message = "this Idempotency-Key was used with a different body; use a new key for a new post"
        raise Unprocessable(message) from error
    finally:
        _WROTE.reset(wrote)


def _post(author_id: str, draft: Draft) -> Tweet:
    tweet = services().tweets.post(author_id, draft.text, draft.reply_to_id, draft.quote_tweet_id, draft.media_ids)
    metrics.add_metric(name="TweetsPosted", unit="Count", value=1)
    return tweet


@cache
def _post_once() -> tuple[IdempotencyConfig, Callable[..., Tweet]]:
    """Built on first use: the persistence layer needs this environment's table and region, and Powertools'
    idempotency imports boto3 (with s3transfer), which no cold start should pay for a header most posts lack."""
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )
    from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import PydanticSerializer

    config = IdempotencyConfig(
        event_key_jmespath="[author_id, idempotency_key]",
        payload_validation_jmespath="draft",
        expires_after_seconds=24 * 3600,
    )
    persistence = DynamoDBPersistenceLayer(table_name=get_settings().idempotency_table)

    @idempotent_function(
        data_keyword_argument="request",
        config=config,
        persistence_store=persistence,
        output_serializer=PydanticSerializer(Tweet),
    )
    def post_once(request: _KeyedDraft) -> Tweet:
        _WROTE.set(True)
        return _post(request.author_id, request.draft)

    return config, post_once
