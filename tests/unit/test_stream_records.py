"""Stream records are input: consumers refuse what no stored tweet can be, and set it aside with its reason."""

from __future__ import annotations

import json

import pytest
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType

from chirp.runtime.stream import tweet_stream_handler
from chirp.tweets.model import Tweet
from chirp.tweets.record import MAX_ENTITIES, PoisonRecord, parse_record
from tests.conftest import kinesis_event

GOOD = Tweet(tweet_id=7, author_id="alice", text="hi #tag @bob", created_at_ms=1, hashtags=["tag"], mentions=["bob"])


def _record(**changes) -> bytes:
    return json.dumps(GOOD.model_dump() | changes).encode()


def test_given_a_tweet_as_the_api_publishes_it_when_parsed_then_it_is_the_same_tweet():
    assert parse_record(GOOD.model_dump_json().encode()) == GOOD


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (_record(text="x" * 900_000), "bytes"),  # 900 KB: far beyond any tweet
        (_record(mentions=[f"u{i}" for i in range(60_000)]), "bytes"),
        (_record(mentions=[f"u{i}" for i in range(MAX_ENTITIES + 1)]), "mentions"),
        (_record(hashtags=[f"t{i}" for i in range(MAX_ENTITIES + 1)]), "hashtags"),
        (_record(text="x" * 281), "text"),
        (_record(tweet_id=10**38), "tweet_id"),  # 39 digits: no 64-bit id
        (_record(tweet_id=0), "tweet_id"),
        (_record(reply_to_id=-1), "reply_to_id"),
        (_record(author_id=""), "author_id"),
        (b"\xffnot json", "not a tweet"),
    ],
)
def test_given_a_record_beyond_any_tweet_when_parsed_then_it_is_poison_naming_why(record, reason):
    with pytest.raises(PoisonRecord, match=reason):
        parse_record(record)


def _processor() -> BatchProcessor:
    return BatchProcessor(event_type=EventType.KinesisDataStreams, raise_on_entire_batch_failure=False)


class RecordingPoisonSink:
    def __init__(self):
        self.put_aside: list[tuple[str, str, str]] = []

    def put(self, consumer: str, sequence: str, reason: str, data: bytes) -> None:
        self.put_aside.append((consumer, sequence, reason))


def test_given_a_batch_with_poison_when_consumed_then_good_records_apply_and_poison_is_set_aside(lambda_context):
    sink, applied = RecordingPoisonSink(), []
    handler = tweet_stream_handler("notifier", applied.append, processor=_processor(), poison=lambda: sink)
    event = kinesis_event([_record(tweet_id=10**38), GOOD.model_dump_json().encode()])

    response = handler(event, lambda_context)

    assert response == {"batchItemFailures": []}  # poison is never retried: it would hold the shard
    assert applied == [GOOD]
    assert [(consumer, sequence) for consumer, sequence, _ in sink.put_aside] == [("notifier", "1000")]
    assert "tweet_id" in sink.put_aside[0][2]


def test_given_a_deletion_when_consumed_then_only_the_deletion_handler_sees_it(lambda_context):
    sink, applied, deleted = RecordingPoisonSink(), [], []
    handler = tweet_stream_handler(
        "fanout", applied.append, processor=_processor(), poison=lambda: sink, on_deleted=deleted.append
    )
    gone = GOOD.model_copy(update={"deleted": True})

    handler(kinesis_event([gone.model_dump_json().encode(), GOOD.model_dump_json().encode()]), lambda_context)

    assert (applied, deleted) == ([GOOD], [gone])
