"""Kinesis consumer: indexes each new tweet in OpenSearch for search (one bulk request per batch).

At-least-once safe: a tweet's document id is its tweet id, so a replayed record overwrites the same
document. A poison record is set aside, never retried. The batch is written with ONE bulk request: the
records whose documents the bulk response rejects are reported (partial batch response). When the request
fails as a whole (the cluster is down) the invocation fails: the whole batch is retried, on AWS until the
records are older than the trigger's maximum age (then their pointer goes to the index failures queue, which
functions/search_repair redrives), and in the local cloud, whose poller ignores partial responses, until the
cluster is back. Either way the index converges.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING

from aws_lambda_powertools.utilities.data_classes import KinesisStreamEvent

from chirp.composition import services
from chirp.observability import logger, metrics, tracer
from chirp.runtime.stream import parse_tweet
from chirp.search.query import IndexingFailed
from chirp.tweets.model import Tweet

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from chirp.adapters.opensearch.tweet_index import TweetIndex

Parsed = tuple[str, Tweet]
"""A record's sequence number and the tweet it carries."""


@cache
def tweet_index() -> TweetIndex:
    """Built once per process, on first use (not at import: an OpenSearch outage at a cold start then fails
    that batch, reported and retried, instead of the whole init). The deploy creates the index
    (functions/search_schema); re-checking here means an index deleted by hand comes back with its mapping,
    where a bulk write alone would auto-create it with guessed ones."""
    index = services().tweet_index
    index.ensure_index()
    return index


def parse_records(records: Iterable[KinesisStreamRecord]) -> list[Parsed]:
    """Every readable tweet with its sequence number; poison records are set aside (chirp.runtime.stream)."""
    parsed = []
    for record in records:
        tweet = parse_tweet(record, "indexer", services().poison)
        if tweet is not None:
            parsed.append((record.kinesis.sequence_number, tweet))
    return parsed


def batch_item_failures(parsed: list[Parsed], failed_tweet_ids: Iterable[int]) -> dict:
    """The partial batch response: every record whose tweet failed (a tweet carried by several records of
    the batch fails them all), in batch order."""
    failed = set(failed_tweet_ids)
    return {"batchItemFailures": [{"itemIdentifier": seq} for seq, tweet in parsed if tweet.tweet_id in failed]}


@tracer.capture_method
def index_batch(parsed: list[Parsed]) -> dict:
    tweets = [tweet for _, tweet in parsed]
    try:
        tweet_index().index_tweets(tweets)
    except IndexingFailed as error:
        logger.error("tweets rejected by the index; their records are retried", extra={"error": str(error)})
        metrics.add_metric(name="IndexFailures", unit="Count", value=len(error.failed))
        return batch_item_failures(parsed, error.failed)
    except Exception:
        logger.exception("bulk indexing failed as a whole; the batch is retried")
        metrics.add_metric(name="IndexFailures", unit="Count", value=len(parsed))
        raise
    metrics.add_metric(name="TweetsIndexed", unit="Count", value=sum(not t.deleted for t in tweets))
    metrics.add_metric(name="TweetsUnindexed", unit="Count", value=sum(t.deleted for t in tweets))
    return {"batchItemFailures": []}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    parsed = parse_records(KinesisStreamEvent(event).records)
    if not parsed:
        return {"batchItemFailures": []}
    return index_batch(parsed)
