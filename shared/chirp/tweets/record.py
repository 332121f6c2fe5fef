"""A tweet as it travels on the new-tweets stream, bounded like any input: consumers never trust a record
more than the API trusts a request. What no tweet the API stores can exceed is refused here."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from chirp.tweets.model import MAX_MEDIA, Tweet
from chirp.tweets.text import MAX_CHARS

MAX_ID = 2**63 - 1
# A hashtag or a mention takes at least two characters ('#a', '@a'): no text holds more than this many.
MAX_ENTITIES = MAX_CHARS // 2
MAX_RECORD_BYTES = 16 * 1024  # a tweet's JSON is a few KB at most (280 code points of up to 4 bytes, entities)

Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class TweetRecord(Tweet):
    tweet_id: Id
    author_id: Annotated[str, Field(min_length=1, max_length=128)]
    text: Annotated[str, Field(max_length=MAX_CHARS)]
    created_at_ms: Annotated[int, Field(ge=0, le=MAX_ID)]
    reply_to_id: Id | None = None
    quote_tweet_id: Id | None = None
    retweet_of_id: Id | None = None
    hashtags: Annotated[list[Annotated[str, Field(max_length=100)]], Field(max_length=MAX_ENTITIES)] = []
    mentions: Annotated[list[Annotated[str, Field(max_length=15)]], Field(max_length=MAX_ENTITIES)] = []
    media_ids: Annotated[list[Annotated[str, Field(max_length=32)]], Field(max_length=MAX_MEDIA)] = []


class PoisonRecord(ValueError):
    """A record no consumer can ever apply; the message says why."""


def parse_record(data: bytes) -> Tweet:
    """The tweet a stream record carries, or PoisonRecord naming what is wrong with it."""
    if len(data) > MAX_RECORD_BYTES:
        raise PoisonRecord(f"record of {len(data)} bytes; a tweet's is at most {MAX_RECORD_BYTES}")
    try:
        record = TweetRecord.model_validate_json(data)
    except ValueError as error:  # pydantic's ValidationError included
        raise PoisonRecord(f"not a tweet: {str(error)[:500]}") from error
    return Tweet.model_validate(record.model_dump())
