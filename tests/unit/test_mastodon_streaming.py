"""Mastodon's streaming API on the push machinery, on fakes: a connection that speaks Mastodon receives Mastodon's
frames (payloads as strings of JSON, a deletion's the id) rendered once per base URL, next to Chirp's own; and the
frames a Mastodon client sends (subscribe, unsubscribe) within its token's scopes."""

from __future__ import annotations

import json

import pytest

from chirp.adapters.dynamodb.follow_graph import DynamoFollowGraph
from chirp.errors import Forbidden, InvalidInput
from chirp.mastodon.streaming import MastodonFrames, check_scopes, subscription
from chirp.notifications.model import Notification
from chirp.realtime.model import Stream, Wire
from chirp.realtime.service import Realtime
from chirp.realtime.wire import ChirpFrames
from chirp.tweets.model import Tweet
from tests.unit.fakes import FakeConnectedIndex, FakeConnectionStore, FakeGateway, World

SOCIAL = "https://social.example.com"


class FakeViews:
    """Stands for chirp.mastodon.views.Views (whose entities tests/unit/test_mastodon_entities.py checks): records
    each rendering; a notification whose actor is `gone` renders nothing, as Views leaves it out."""

    def __init__(self, base_url: str, renders: list[str]):
        self.base_url, self.renders = base_url, renders

    def posts(self, tweets: list[Tweet]) -> list[dict]:
        self.renders.append(self.base_url)
        return [{"id": str(t.tweet_id), "url": f"{self.base_url}/@ann/{t.tweet_id}"} for t in tweets]

    def notifications(self, found: list[Notification]) -> list[dict]:
        return [{"id": str(n.id), "type": "mention"} for n in found if n.actor_id != "gone"]


class Setup:
    def __init__(self):
        self.world = World()
        self.world.users("ann", "bob", "cat")
        self.world.edge("bob", "ann")
        self.world.edge("cat", "ann")
        self.renders: list[str] = []
        self.store, self.gateway = FakeConnectionStore(), FakeGateway()
        self.realtime = Realtime(
            self.store,
            FakeConnectedIndex(),
            self.gateway,
            DynamoFollowGraph(self.world.social_store),
            {Wire.CHIRP: ChirpFrames(), Wire.MASTODON: MastodonFrames(lambda base: FakeViews(base, self.renders))},
            clock_ms=lambda: 1_000_000,
        )

    def connect(
        self, user_id: str, wire: Wire, *streams: Stream, base_url: str = SOCIAL, scopes: tuple[str, ...] = ("read",)
    ) -> str:
        connection_id = f"c-{user_id}-{len(self.store.items)}"
        streams = list(streams) or [Stream.USER]
        self.realtime.connect(connection_id, user_id, wire, streams, base_url=base_url, scopes=scopes)
        return connection_id

    def frames(self, connection_id: str) -> list[dict]:
        return self.gateway.received[connection_id]


def _tweet(tweet_id: int = 2**62 + 7) -> Tweet:
    return Tweet(tweet_id=tweet_id, author_id="ann", text="hi", created_at_ms=1)


def test_given_a_mastodon_and_a_chirp_follower_when_the_author_posts_then_each_gets_its_protocols_frame():
    s = Setup()
    mastodon, chirp = s.connect("bob", Wire.MASTODON), s.connect("cat", Wire.CHIRP)

    delivery = s.realtime.tweet_posted(_tweet())

    (frame,) = s.frames(mastodon)
    assert (frame["stream"], frame["event"]) == (["user"], "update")
    assert isinstance(frame["payload"], str), "Mastodon sends the entity as a string of JSON"
    assert json.loads(frame["payload"]) == {"id": str(2**62 + 7), "url": f"{SOCIAL}/@ann/{2**62 + 7}"}
    (chirp_frame,) = s.frames(chirp)
    assert chirp_frame["payload"]["tweet_id_str"] == str(2**62 + 7)
    assert delivery.sent == 2


def test_given_many_mastodon_connections_when_a_tweet_is_pushed_then_it_is_rendered_once_per_base_url():
    s = Setup()
    s.connect("bob", Wire.MASTODON)
    s.connect("cat", Wire.MASTODON)
    s.connect("cat", Wire.MASTODON, base_url="http://127.0.0.1:4641")

    s.realtime.tweet_posted(_tweet())

    assert sorted(s.renders) == ["http://127.0.0.1:4641", SOCIAL]


def test_given_a_mastodon_connection_on_the_public_stream_when_anyone_posts_then_the_frame_names_that_stream():
    s = Setup()
    reader = s.connect("cat", Wire.MASTODON, Stream.PUBLIC_LOCAL)
    s.world.users("dan")

    s.realtime.tweet_posted(Tweet(tweet_id=9, author_id="dan", text="for all", created_at_ms=1))

    assert [(f["stream"], f["event"]) for f in s.frames(reader)] == [(["public:local"], "update")]


def test_given_a_mastodon_follower_when_a_tweet_is_deleted_then_the_payload_is_the_status_id_as_a_string():
    s = Setup()
    bob = s.connect("bob", Wire.MASTODON)

    s.realtime.tweet_deleted(_tweet())

    assert s.frames(bob) == [{"stream": ["user"], "event": "delete", "payload": str(2**62 + 7)}]
    assert s.renders == [], "a deletion renders no status"


def test_given_a_mastodon_recipient_when_notified_then_the_notification_is_a_string_and_a_gone_actor_sends_none():
    s = Setup()
    bob, cat = s.connect("bob", Wire.MASTODON), s.connect("cat", Wire.MASTODON)
    mention = Notification(id=5, kind="mention", actor_id="ann", tweet_id=5, at_ms=1)
    orphan = Notification(id=6, kind="follow", actor_id="gone", at_ms=1)

    delivery = s.realtime.notified({"bob": mention, "cat": orphan})

    (frame,) = s.frames(bob)
    assert (frame["stream"], frame["event"]) == (["user"], "notification")
    assert json.loads(frame["payload"]) == {"id": "5", "type": "mention"}
    assert s.gateway.received.get(cat, []) == []
    assert delivery.sent == 1


def test_given_a_token_that_may_not_read_notifications_when_notified_then_its_user_stream_gets_none():
    s = Setup()
    statuses_only = s.connect("bob", Wire.MASTODON, scopes=("read:statuses",))
    granular = s.connect("bob", Wire.MASTODON, scopes=("read:statuses", "read:notifications"))

    s.realtime.notified({"bob": Notification(id=5, kind="mention", actor_id="ann", tweet_id=5, at_ms=1)})
    s.realtime.tweet_posted(_tweet())

    assert [f["event"] for f in s.frames(statuses_only)] == ["update"], "statuses, as Mastodon streams them, only"
    assert [f["event"] for f in s.frames(granular)] == ["notification", "update"]


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ({"type": "subscribe", "stream": "user"}, (True, Stream.USER, None)),
        ({"type": "unsubscribe", "stream": "public:local"}, (False, Stream.PUBLIC_LOCAL, None)),
        ({"type": "subscribe", "stream": ["public:local"]}, (True, Stream.PUBLIC_LOCAL, None)),  # Mastodon's firstParam
        ({"type": "subscribe", "stream": "public"}, (True, Stream.PUBLIC, None)),
        ({"type": "subscribe", "stream": "public:local:media"}, (True, Stream.PUBLIC_LOCAL_MEDIA, None)),
        ({"type": "subscribe", "stream": "user:notification"}, (True, Stream.USER_NOTIFICATION, None)),
        ({"type": "subscribe", "stream": "hashtag", "tag": "#Cats"}, (True, Stream.HASHTAG, "cats")),
        ({"type": "unsubscribe", "stream": "hashtag:local", "tag": "ねこ"}, (False, Stream.HASHTAG_LOCAL, "ねこ")),
        ({"type": "subscribe", "stream": "user", "tag": "ignored"}, (True, Stream.USER, None)),
    ],
)
def test_given_a_mastodon_clients_frame_when_read_then_it_names_what_to_change(message, expected):
    assert subscription(message) == expected


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ({"type": "subscribe", "stream": "direct"}, "Unknown stream type"),
        ({"type": "subscribe"}, "Unknown stream type"),
        ({"type": "subscribe", "stream": "hashtag"}, "No tag for stream provided"),
        ({"type": "subscribe", "stream": "hashtag", "tag": 7}, "No tag for stream provided"),
        ({"type": "subscribe", "stream": "hashtag", "tag": "not one"}, "is not a hashtag"),
        ({"type": "ping"}, "send {"),
        (["subscribe"], "send {"),
    ],
)
def test_given_a_frame_chirp_cannot_serve_when_read_then_the_error_says_why(message, error):
    with pytest.raises(InvalidInput, match=error.replace("{", r"\{")):
        subscription(message)


def test_given_a_token_without_read_when_subscribing_to_user_then_refused_but_public_is_allowed():
    with pytest.raises(Forbidden):
        check_scopes(Stream.USER, ["write"])
    check_scopes(Stream.USER, ["read:statuses"])
    check_scopes(Stream.USER, ["read"])
    check_scopes(Stream.PUBLIC_LOCAL, ["write"])  # public streams need no scope, as Mastodon's
    check_scopes(Stream.PUBLIC, ["write"])
    check_scopes(Stream.PUBLIC_MEDIA, ["write"])
    check_scopes(Stream.PUBLIC_LOCAL_MEDIA, ["write"])


def test_given_a_token_that_may_not_read_notifications_when_subscribing_to_user_notification_then_refused():
    with pytest.raises(Forbidden):
        check_scopes(Stream.USER_NOTIFICATION, ["read:statuses"])
    check_scopes(Stream.USER_NOTIFICATION, ["read:notifications"])
    check_scopes(Stream.USER_NOTIFICATION, ["read"])


def test_given_a_mastodon_connection_on_a_hashtag_when_tweets_are_posted_then_only_those_carrying_it_arrive_named():
    s = Setup()
    s.world.users("dan")
    reader = s.connect("dan", Wire.MASTODON)  # nothing but the hashtag
    s.realtime.subscribe(reader, [], [(Stream.HASHTAG, "cats")])

    s.realtime.tweet_posted(Tweet(tweet_id=9, author_id="ann", text="#cats", created_at_ms=1, hashtags=["cats"]))
    s.realtime.tweet_posted(Tweet(tweet_id=10, author_id="ann", text="#dogs", created_at_ms=1, hashtags=["dogs"]))

    assert [(f["stream"], json.loads(f["payload"])["id"]) for f in s.frames(reader)] == [(["hashtag", "cats"], "9")]
