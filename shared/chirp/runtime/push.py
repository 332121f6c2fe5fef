"""Pushing to connected clients: best effort and after the durable work (a stream consumer's record, a follow). A
push that cannot run (Redis down) is logged and counted, never failing the record or the request; a retried record
may push again (clients tell events apart by id)."""

from __future__ import annotations

from collections.abc import Callable

from chirp.observability import logger, metrics
from chirp.realtime.model import Delivery


def push_best_effort(what: str, push: Callable[[], Delivery], **context: object) -> None:
    """`context` names what was pushed in the log (a tweet id, a user)."""
    try:
        delivery = push()
    except Exception:  # noqa: BLE001 - best effort: the durable work is done, the record must not fail for it
        logger.exception("push failed", extra={"push": what, **context})
        metrics.add_metric(name="PushesFailed", unit="Count", value=1)
        return
    metrics.add_metric(name="PushesSent", unit="Count", value=delivery.sent)
    metrics.add_metric(name="PushConnectionsGone", unit="Count", value=delivery.gone)
    metrics.add_metric(name="PushesFailed", unit="Count", value=delivery.failed)
