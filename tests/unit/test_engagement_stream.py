"""The engagements stream's records and consumers: events are bounded like input (poison set aside with its reason),
a batch is applied per tweet with partial failures reported, and the reply counter sees creations and deletions."""

from __future__ import annotations

import json

import pytest

from chirp.engagement.model import Applied, EngagementEvent, Kind
from chirp.engagement.record import MAX_EVENT_BYTES, parse_event
from chirp.notifications.model import Notification
from chirp.realtime.model import Delivery
from chirp.tweets.model import Tweet
from chirp.tweets.record import PoisonRecord
from tests.conftest import kinesis_event, load_handler
from tests.unit.test_stream_records import RecordingPoisonSink

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

LIKE = EngagementEvent(kind=Kind.LIKE, user_id="bob", tweet_id=100, author_id="ann", active=True, at_ms=1, order=2**60)


def _event(**changes) -> bytes:
    return json.dumps(LIKE.model_dump(mode="json") | changes).encode()


def test_given_an_event_as_the_api_publishes_it_when_parsed_then_it_is_the_same_event():
    assert parse_event(LIKE.model_dump_json().encode()) == LIKE
    retweet = LIKE.model_copy(update={"kind": Kind.RETWEET, "retweet_id": 2**60 + 1})
    assert parse_event(retweet.model_dump_json().encode()) == retweet


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (_event(user_id="x" * MAX_EVENT_BYTES), "bytes"),
        (_event(user_id="x" * 129), "user_id"),
        (_event(author_id=""), "author_id"),
        (_event(tweet_id=0), "tweet_id"),
        (_event(tweet_id=2**63), "tweet_id"),
        (_event(order=-5), "order"),
        (_event(retweet_id=0), "retweet_id"),
        (_event(kind="poke"), "kind"),
        (_event(active="sometimes"), "active"),
        (b"\xffnot json", "not an engagement event"),
    ],
)
def test_given_a_record_beyond_any_event_when_parsed_then_it_is_poison_naming_why(record, reason):
    with pytest.raises(PoisonRecord, match=reason):
        parse_event(record)


class RecordingEngagements:
    """What the consumer asks of chirp.engagement.rules.Engagements; `failing` tweets raise."""

    def __init__(self, failing: set[int] = frozenset()):
        self.applied: list[list[EngagementEvent]] = []
        self.counted: list[Tweet] = []
        self.failing = failing

    def apply(self, events: list[EngagementEvent]) -> Applied:
        """The retweet entries delivered (undone ones taken back, marked deleted), and a like notification to the
        author for each standing like, as the rules return them."""
        if events[0].tweet_id in self.failing:
            raise ConnectionError("Redis went away")
        self.applied.append(events)
        retweets = [
            Tweet(
                tweet_id=e.retweet_id,
                author_id=e.user_id,
                text="",
                created_at_ms=e.at_ms,
                retweet_of_id=e.tweet_id,
                deleted=not e.active,
            )
            for e in events
            if e.kind is Kind.RETWEET
        ]
        likes = [
            (e.author_id, Notification(id=e.order, kind="like", actor_id=e.user_id, tweet_id=e.tweet_id, at_ms=e.at_ms))
            for e in events
            if e.kind is Kind.LIKE and e.active
        ]
        return Applied(retweets=retweets, notifications=likes)

    def count_posted(self, tweet: Tweet) -> list[int]:
        self.counted.append(tweet)
        return [tweet.reply_to_id] if tweet.reply_to_id else []


class RecordingPushes:
    """What the consumer asks of chirp.realtime; `down` makes every push raise, as with Redis gone."""

    def __init__(self, down: bool = False):
        self.pushed: list[tuple[str, int]] = []
        self.down = down

    def _push(self, event: str, tweet: Tweet) -> Delivery:
        if self.down:
            raise ConnectionError("Redis went away")
        self.pushed.append((event, tweet.tweet_id))
        return Delivery(sent=1)

    def tweet_posted(self, tweet: Tweet) -> Delivery:
        return self._push("update", tweet)

    def tweet_deleted(self, tweet: Tweet) -> Delivery:
        return self._push("delete", tweet)

    def notified(self, notifications: dict[str, Notification]) -> Delivery:
        if self.down:
            raise ConnectionError("Redis went away")
        self.pushed.extend((f"notification to {user}", n.tweet_id) for user, n in notifications.items())
        return Delivery(sent=len(notifications))


class Services:
    def __init__(self, engagement: RecordingEngagements, realtime: RecordingPushes | None = None):
        self.engagement, self.poison = engagement, RecordingPoisonSink()
        self.realtime = realtime or RecordingPushes()


@pytest.fixture
def consumer(monkeypatch):
    handler = load_handler("engagements")

    def wired(engagement: RecordingEngagements) -> tuple:
        services = Services(engagement)
        monkeypatch.setattr(handler, "services", lambda: services)
        return handler.lambda_handler, services

    return wired


def _batch(*events: EngagementEvent | bytes) -> dict:
    return kinesis_event([e if isinstance(e, bytes) else e.model_dump_json().encode() for e in events])


def test_given_a_batch_when_consumed_then_each_tweets_events_are_applied_together_in_order(consumer, lambda_context):
    handler, services = consumer(RecordingEngagements())
    other = LIKE.model_copy(update={"tweet_id": 200, "user_id": "cat"})
    undone = LIKE.model_copy(update={"active": False, "order": 2**60 + 5})

    response = handler(_batch(LIKE, other, undone), lambda_context)

    assert response == {"batchItemFailures": []}
    assert services.engagement.applied == [[LIKE, undone], [other]]


def test_given_a_retweet_an_undone_one_and_a_like_when_consumed_then_clients_get_an_update_a_delete_and_a_notification(
    consumer, lambda_context
):
    handler, services = consumer(RecordingEngagements())
    retweet = LIKE.model_copy(update={"kind": Kind.RETWEET, "retweet_id": 2**60 + 1})
    undone = LIKE.model_copy(update={"kind": Kind.RETWEET, "user_id": "cat", "retweet_id": 2**60 + 2, "active": False})

    assert handler(_batch(retweet, undone, LIKE), lambda_context) == {"batchItemFailures": []}

    assert services.realtime.pushed == [
        ("update", 2**60 + 1),
        ("delete", 2**60 + 2),
        (f"notification to {LIKE.author_id}", LIKE.tweet_id),  # the like's aggregated notification, to the author
    ]


def test_given_pushes_failing_when_a_retweet_is_consumed_then_its_record_still_succeeds(monkeypatch, lambda_context):
    # Given Redis gone for the push only: the retweet was delivered, the push is best effort
    handler = load_handler("engagements")
    services = Services(RecordingEngagements(), RecordingPushes(down=True))
    monkeypatch.setattr(handler, "services", lambda: services)
    retweet = LIKE.model_copy(update={"kind": Kind.RETWEET, "retweet_id": 2**60 + 1})

    assert handler.lambda_handler(_batch(retweet), lambda_context) == {"batchItemFailures": []}
    assert services.engagement.applied == [[retweet]]


def test_given_poison_in_a_batch_when_consumed_then_it_is_set_aside_and_the_rest_applies(consumer, lambda_context):
    handler, services = consumer(RecordingEngagements())

    response = handler(_batch(_event(tweet_id=0), LIKE), lambda_context)

    assert response == {"batchItemFailures": []}  # poison is never retried: it would hold the shard
    assert services.engagement.applied == [[LIKE]]
    ((name, sequence, reason),) = services.poison.put_aside
    assert (name, sequence) == ("engagements", "1000")
    assert "tweet_id" in reason


def test_given_a_tweet_whose_events_fail_when_consumed_then_exactly_its_records_are_reported(consumer, lambda_context):
    handler, services = consumer(RecordingEngagements(failing={100}))
    other = LIKE.model_copy(update={"tweet_id": 200})

    response = handler(_batch(LIKE, other, LIKE.model_copy(update={"user_id": "dan"})), lambda_context)

    assert response == {"batchItemFailures": [{"itemIdentifier": "1000"}, {"itemIdentifier": "1002"}]}
    assert services.engagement.applied == [[other]]


def test_given_every_group_failing_when_consumed_then_the_invocation_fails_so_the_batch_comes_again(
    consumer, lambda_context
):
    handler, _ = consumer(RecordingEngagements(failing={100}))
    with pytest.raises(ConnectionError):
        handler(_batch(LIKE), lambda_context)


def test_given_only_poison_when_consumed_then_nothing_is_applied_or_failed(consumer, lambda_context):
    handler, services = consumer(RecordingEngagements())
    assert handler(_batch(b"{}"), lambda_context) == {"batchItemFailures": []}
    assert services.engagement.applied == []


def test_given_new_and_deleted_replies_when_counted_then_the_counter_sees_both(monkeypatch, lambda_context):
    handler = load_handler("tweet_counter")
    services = Services(RecordingEngagements())
    monkeypatch.setattr(handler, "services", lambda: services)
    reply = Tweet(tweet_id=101, author_id="bob", text="re", created_at_ms=1, reply_to_id=100)
    gone = reply.model_copy(update={"deleted": True})

    response = handler.lambda_handler(
        kinesis_event([reply.model_dump_json().encode(), gone.model_dump_json().encode()]), lambda_context
    )

    assert response == {"batchItemFailures": []}
    assert services.engagement.counted == [reply, gone]
