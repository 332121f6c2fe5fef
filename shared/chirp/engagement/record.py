"""An engagement event as it travels on the engagements stream, bounded like any input: a record no event the API
writes could be is poison (set aside with its reason, never retried)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from chirp.engagement.model import EngagementEvent
from chirp.tweets.record import MAX_ID, PoisonRecord

MAX_EVENT_BYTES = 1024  # an event's JSON is a few hundred bytes (two ids of 128 characters at most)

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
UserId = Annotated[str, Field(min_length=1, max_length=128)]


class EventRecord(EngagementEvent):
    user_id: UserId
    tweet_id: Id
    author_id: UserId
    at_ms: Annotated[int, Field(ge=0, le=MAX_ID)]
    order: Id
    retweet_id: Id | None = None


def parse_event(data: bytes) -> EngagementEvent:
    """The event a stream record carries, or PoisonRecord naming what is wrong with it."""
    if len(data) > MAX_EVENT_BYTES:
        raise PoisonRecord(f"record of {len(data)} bytes; an engagement event's is at most {MAX_EVENT_BYTES}")
    try:
        record = EventRecord.model_validate_json(data)
    except ValueError as error:
        raise PoisonRecord(f"not an engagement event: {str(error)[:500]}") from error
    return EngagementEvent.model_validate(record.model_dump())
