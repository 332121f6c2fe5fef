"""Kinesis consumer of the engagements stream: for each tweet liked or retweeted (or undone), sets its cached
counts to DynamoDB's sums, delivers each retweet through the hybrid fan-out (or takes it back), and updates the
author's aggregated like and retweet notifications; each retweet delivered or taken back is pushed to the
retweeter's connected followers, and each notification someone in the batch moved to the top to the author
(best effort: chirp.runtime.push).

A batch is grouped by tweet: a hot tweet's hundred likes are one count refresh and one notification update. Each
group reads the edges as they are now, so a replayed or reordered event changes nothing. A group that fails is
reported (partial batch response: its records, and those after them, come again); when every group failed (a
dependency is down) the invocation fails, so the whole batch is retried, also by the local poller, which ignores
partial responses. A poison record is set aside in the consumer failures queue with its reason, never retried.
"""

from __future__ import annotations

from collections.abc import Iterable

from aws_lambda_powertools.utilities.data_classes import KinesisStreamEvent
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from chirp.composition import services
from chirp.engagement.model import EngagementEvent
from chirp.engagement.record import parse_event
from chirp.observability import logger, metrics, tracer
from chirp.runtime.push import push_best_effort
from chirp.runtime.stream import parse_with

CONSUMER = "engagements"
Parsed = tuple[str, EngagementEvent]
"""A record's sequence number and the event it carries."""


def parse_records(records: Iterable[KinesisStreamRecord]) -> list[Parsed]:
    parsed = []
    for record in records:
        event = parse_with(record, CONSUMER, services().poison, parse_event)
        if event is not None:
            parsed.append((record.kinesis.sequence_number, event))
    return parsed


@tracer.capture_method
def apply_batch(parsed: list[Parsed]) -> dict:
    groups: dict[int, list[Parsed]] = {}
    for sequence, event in parsed:
        groups.setdefault(event.tweet_id, []).append((sequence, event))
    failed: set[str] = set()
    for tweet_id, group in groups.items():
        try:
            applied = services().engagement.apply([event for _, event in group])
        except Exception as error:  # noqa: BLE001 - reported: the group's records come again
            logger.exception("engagements of a tweet failed; their records are retried", extra={"tweet_id": tweet_id})
            failed.update(sequence for sequence, _ in group)
            last_error = error
            continue
        for retweet in applied.retweets:  # to the retweeter's connected followers, as a new entry or one taken back
            push = services().realtime.tweet_deleted if retweet.deleted else services().realtime.tweet_posted
            push_best_effort("retweet", lambda push=push, retweet=retweet: push(retweet), tweet_id=retweet.tweet_id)
        for recipient, notification in applied.notifications:  # the author's like or retweet notification
            notified = {recipient: notification}
            push_best_effort("notification", lambda n=notified: services().realtime.notified(n), tweet_id=tweet_id)
    metrics.add_metric(name="EngagementsApplied", unit="Count", value=len(parsed) - len(failed))
    if failed:
        metrics.add_metric(name="EngagementFailures", unit="Count", value=len(failed))
        if len(failed) == len(parsed):
            raise last_error
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence, _ in parsed if sequence in failed]}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    parsed = parse_records(KinesisStreamEvent(event).records)
    if not parsed:
        return {"batchItemFailures": []}
    return apply_batch(parsed)
