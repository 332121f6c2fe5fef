"""Kinesis consumer of new tweets: raises mention and reply notifications (idempotent: deterministic members), and
pushes to connected clients (chirp.realtime) each new tweet and each deletion, to those whose home timeline shows
it and to the public stream, and each notification to its recipient.

Pushing is best effort and after the durable work: a push that cannot run (Redis down) is logged and counted,
never failing the record; a retried record may push again (clients tell events apart by id)."""

from collections.abc import Callable

from chirp.composition import services
from chirp.observability import logger, metrics
from chirp.realtime.model import Delivery
from chirp.runtime.stream import tweet_stream_handler
from chirp.tweets.model import Tweet


def _push(what: str, tweet: Tweet, push: Callable[[], Delivery]) -> None:
    try:
        delivery = push()
    except Exception:  # noqa: BLE001 - best effort: the durable work is done, the record must not fail for it
        logger.exception("push failed", extra={"push": what, "tweet_id": tweet.tweet_id})
        metrics.add_metric(name="PushesFailed", unit="Count", value=1)
        return
    metrics.add_metric(name="PushesSent", unit="Count", value=delivery.sent)
    metrics.add_metric(name="PushConnectionsGone", unit="Count", value=delivery.gone)
    metrics.add_metric(name="PushesFailed", unit="Count", value=delivery.failed)


def on_tweet(tweet: Tweet) -> None:
    raised = services().notifications.raise_for_tweet(tweet)
    metrics.add_metric(name="NotificationsRaised", unit="Count", value=len(raised))
    _push("update", tweet, lambda: services().realtime.tweet_posted(tweet))
    if raised:
        _push("notification", tweet, lambda: services().realtime.notified(raised))


def on_deleted(tweet: Tweet) -> None:
    _push("delete", tweet, lambda: services().realtime.tweet_deleted(tweet))


lambda_handler = tweet_stream_handler("notifier", on_tweet, poison=lambda: services().poison, on_deleted=on_deleted)
