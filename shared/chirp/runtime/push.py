"""Pushing to connected clients from a stream consumer: best effort and after the durable work. A push that
cannot run (Redis down) is logged and counted, never failing the record; a retried record may push again
(clients tell events apart by id)."""

from __future__ import annotations

from collections.abc import Callable

from chirp.observability import logger, metrics
from chirp.realtime.model import Delivery


def push_best_effort(what: str, tweet_id: int, push: Callable[[], Delivery]) -> None:
    try:
        delivery = push()
    except Exception:  # noqa: BLE001 - best effort: the durable work is done, the record must not fail for it
        logger.exception("push failed", extra={"push": what, "tweet_id": tweet_id})
        metrics.add_metric(name="PushesFailed", unit="Count", value=1)
        return
    metrics.add_metric(name="PushesSent", unit="Count", value=delivery.sent)
    metrics.add_metric(name="PushConnectionsGone", unit="Count", value=delivery.gone)
    metrics.add_metric(name="PushesFailed", unit="Count", value=delivery.failed)
