"""The new-tweets stream, as its consumers read it: one record = one Tweet as JSON. A tweet published
again with deleted=true announces its deletion (the indexer acts on it; the others ignore it).

A poison record (one no consumer can ever apply: unparsable, or beyond the bounds of any tweet) is sent to
the consumer failures queue with its reason, counted, and not failed: failing it would only have it retried
until it expires, holding its shard. Any other failure is raised for that record alone, so the batch
processor reports it as a partial failure and the rest of the batch goes through.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from chirp.observability import logger, metrics, tracer
from chirp.tweets.model import Tweet
from chirp.tweets.record import PoisonRecord, parse_record

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch import BatchProcessor
    from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext


class PoisonSink(Protocol):
    def put(self, consumer: str, sequence: str, reason: str, data: bytes) -> None: ...


def parse_with[T](
    record: KinesisStreamRecord, consumer: str, poison: PoisonSink, parse: Callable[[bytes], T]
) -> T | None:
    """What the record carries, parsed by `parse`; None for a poison record (`parse` raised PoisonRecord), which
    goes to the failures queue with its reason."""
    data = record.kinesis.data_as_bytes()
    try:
        return parse(data)
    except PoisonRecord as error:
        sequence = record.kinesis.sequence_number
        logger.error("poison record set aside", extra={"sequence": sequence, "reason": str(error)})
        metrics.add_metric(name="PoisonRecords", unit="Count", value=1)
        poison.put(consumer, sequence, str(error), data)
        return None


def parse_tweet(record: KinesisStreamRecord, consumer: str, poison: PoisonSink) -> Tweet | None:
    """The record's tweet; None for a poison record, which goes to the failures queue with its reason."""
    return parse_with(record, consumer, poison, parse_record)


def tweet_stream_handler(
    consumer: str,
    apply: Callable[[Tweet], object],
    *,
    processor: BatchProcessor,
    poison: Callable[[], PoisonSink],
    on_deleted: Callable[[Tweet], object] | None = None,
    after_batch: Callable[[], object] | None = None,
) -> Callable[[dict, LambdaContext], dict]:
    """The Lambda entry point of a per-tweet stream consumer: `apply` runs on each new (parsable, not deleted)
    tweet, `on_deleted` (if given) on each deletion, `after_batch` (if given) once the batch is processed (its
    failure fails nothing of the batch: it is logged); partial batch responses through `processor` (a Kinesis
    BatchProcessor); the one Logger/Tracer/Metrics set of the service.

    The consumer's handler module builds the processor: importing Powertools' batch utility there, among the
    third-party imports, loads it before chirp.settings loads pydantic, and then the utility does not import its
    parser's pydantic models (it wants them only for type hints when pydantic is loaded): about 25 ms of each
    cold start (tests/unit/test_cold_imports.py)."""
    # Imported here: the parsing above serves consumers that batch their records themselves (the indexer), and
    # Powertools' batch utility costs their cold start about 100 ms.
    from aws_lambda_powertools.utilities.batch import process_partial_response

    traced_apply = tracer.capture_method(apply)

    def handle(record: KinesisStreamRecord) -> None:
        tweet = parse_tweet(record, consumer, poison())
        if tweet is None:
            return
        if not tweet.deleted:
            traced_apply(tweet)
        elif on_deleted is not None:
            on_deleted(tweet)

    @logger.inject_lambda_context
    @tracer.capture_lambda_handler
    @metrics.log_metrics
    def lambda_handler(event: dict, context: LambdaContext) -> dict:
        response = process_partial_response(event=event, record_handler=handle, processor=processor, context=context)
        if after_batch is not None:
            try:
                after_batch()
            except Exception:  # noqa: BLE001 - the batch's records are done; this work is retried on the next call
                logger.exception("after-batch work failed", extra={"consumer": consumer})
        return response

    return lambda_handler
