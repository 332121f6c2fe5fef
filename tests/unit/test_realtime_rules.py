"""Real time's rules on fakes: who receives a new tweet, a deletion and a notification (every fan-out tier,
walking the smaller side), and delivery that survives gone, failing and slow connections."""

from __future__ import annotations

import threading

import pytest

from chirp.adapters.dynamodb.follow_graph import DynamoFollowGraph
from chirp.errors import InvalidInput, NotFound
from chirp.notifications.model import Notification
from chirp.realtime.model import MAX_HASHTAGS, Stream, Wire
from chirp.realtime.service import INDEX_CHECK_S, Realtime, parse_streams
from chirp.realtime.wire import ChirpFrames
from chirp.social.model import Relation
from chirp.tweets.model import Tweet
from tests.unit.fakes import FakeConnectedIndex, FakeConnectionStore, FakeGateway, FakeSocialStore, World


class Setup:
    def __init__(self, max_in_flight: int = 4, clock_ms=lambda: 1_000_000):
        self.world = World()
        self.social: FakeSocialStore = self.world.social_store
        self.store, self.index, self.gateway = FakeConnectionStore(), FakeConnectedIndex(), FakeGateway()
        self.realtime = Realtime(
            self.store,
            self.index,
            self.gateway,
            DynamoFollowGraph(self.social),
            {Wire.CHIRP: ChirpFrames()},
            max_in_flight=max_in_flight,
            clock_ms=clock_ms,
        )

    def connect(self, user_id: str, *streams: Stream) -> str:
        connection_id = f"c-{user_id}-{len(self.store.items)}"
        self.realtime.connect(connection_id, user_id, Wire.CHIRP, list(streams) or [Stream.USER])
        return connection_id

    def events(self, connection_id: str) -> list[tuple[str, str]]:
        return [(frame["event"], frame["stream"][0]) for frame in self.gateway.received[connection_id]]


def _tweet(author: str, tweet_id: int = 7) -> Tweet:
    return Tweet(tweet_id=tweet_id, author_id=author, text="hi", created_at_ms=1)


def test_given_connected_follower_and_stranger_when_author_posts_then_follower_and_author_get_the_update():
    s = Setup()
    s.world.users("ann", "bob", "cat")
    s.world.edge("bob", "ann")
    ann, bob, cat = s.connect("ann"), s.connect("bob"), s.connect("cat")

    delivery = s.realtime.tweet_posted(_tweet("ann"))

    assert s.events(bob) == [("update", "user")]
    assert s.events(ann) == [("update", "user")]
    assert s.events(cat) == []
    assert delivery.sent == 2
    assert s.gateway.received[bob][0]["payload"]["tweet_id_str"] == "7"


def test_given_follower_who_mutes_the_author_when_author_posts_then_nothing_is_pushed_to_them():
    s = Setup()
    s.world.users("ann", "bob")
    s.world.edge("bob", "ann")
    s.social.add_edge(Relation.MUTES, "bob", "ann", counted=False)
    bob = s.connect("bob")

    s.realtime.tweet_posted(_tweet("ann"))

    assert s.events(bob) == []


def test_given_celebrity_with_more_followers_than_connected_users_then_only_connected_users_are_checked():
    s = Setup()
    s.world.users("star", *(f"f{i}" for i in range(50)), "lurker")
    for i in range(50):
        s.world.edge(f"f{i}", "star")
    connected = [s.connect("f3"), s.connect("f9"), s.connect("lurker")]
    walked_followers = []
    s.social.all_sources_pages = lambda *args: walked_followers.append(args) or iter(())

    s.realtime.tweet_posted(_tweet("star"))

    assert walked_followers == []  # never walks the followers
    assert [len(s.events(c)) for c in connected] == [1, 1, 0]
    # One page of connected users: one batch check of follows, one of mutes among the connected followers.
    assert s.social.batch_checks == 2


def test_given_author_with_few_followers_then_their_pages_are_walked_not_the_connected_users():
    s = Setup()
    s.world.users("ann", "bob", *(f"u{i}" for i in range(20)))
    s.world.edge("bob", "ann")
    bob = s.connect("bob")
    for i in range(20):
        s.connect(f"u{i}")
    s.index.connected_user_pages = lambda page_size: pytest.fail("walked the connected users")

    s.realtime.tweet_posted(_tweet("ann"))

    assert s.events(bob) == [("update", "user")]


def test_given_public_stream_subscriber_when_anyone_posts_then_they_get_it_on_public_local():
    s = Setup()
    s.world.users("ann", "cat")
    cat = s.connect("cat", Stream.USER, Stream.PUBLIC_LOCAL)

    s.realtime.tweet_posted(_tweet("ann"))

    assert s.events(cat) == [("update", "public:local")]


def test_given_subscribers_of_public_and_public_local_when_anyone_posts_then_each_gets_it_on_each_stream_named():
    s = Setup()
    s.world.users("ann", "cat", "dan")
    cat, dan = s.connect("cat", Stream.PUBLIC), s.connect("dan", Stream.PUBLIC, Stream.PUBLIC_LOCAL)

    s.realtime.tweet_posted(_tweet("ann"))

    assert s.events(cat) == [("update", "public")]  # one instance: its public timeline is its local one
    assert s.events(dan) == [("update", "public"), ("update", "public:local")]  # one event per stream, as Mastodon


def test_given_media_stream_subscribers_when_tweets_with_and_without_media_are_posted_and_deleted_then_only_media():
    # Given cat on public:media and dan on public:local:media and public
    s = Setup()
    s.world.users("ann", "cat", "dan")
    cat, dan = s.connect("cat", Stream.PUBLIC_MEDIA), s.connect("dan", Stream.PUBLIC_LOCAL_MEDIA, Stream.PUBLIC)
    with_media = _tweet("ann").model_copy(update={"tweet_id": 8, "media_ids": ["m1"]})

    # When ann posts a text tweet and one with media, then deletes the one with media
    s.realtime.tweet_posted(_tweet("ann"))
    s.realtime.tweet_posted(with_media)
    s.realtime.tweet_deleted(with_media)

    # Then the media streams carry only the tweet with media, and its deletion
    assert s.events(cat) == [("update", "public:media"), ("delete", "public:media")]
    posted = [("update", "public"), ("update", "public"), ("update", "public:local:media")]
    assert s.events(dan) == [*posted, ("delete", "public"), ("delete", "public:local:media")]


def test_given_a_user_notification_connection_when_notified_and_a_followee_posts_then_it_gets_the_notification_only():
    s = Setup()
    s.world.users("ann", "bob")
    s.world.edge("bob", "ann")
    alerts, both = s.connect("bob", Stream.USER_NOTIFICATION), s.connect("bob", Stream.USER, Stream.USER_NOTIFICATION)

    s.realtime.notified({"bob": Notification(id=5, kind="mention", actor_id="ann", tweet_id=5, at_ms=1)})
    s.realtime.tweet_posted(_tweet("ann"))

    assert s.events(alerts) == [("notification", "user:notification")]
    assert s.events(both) == [("notification", "user"), ("notification", "user:notification"), ("update", "user")]


def _tagged(author: str, tweet_id: int, *hashtags: str) -> Tweet:
    return _tweet(author, tweet_id).model_copy(update={"hashtags": list(hashtags)})


def test_given_hashtag_followers_when_tweets_are_posted_and_deleted_then_each_gets_those_carrying_its_hashtags():
    s = Setup()
    s.world.users("ann", "cat", "dan")
    cat, dan = s.connect("cat"), s.connect("dan")
    s.realtime.subscribe(cat, [], [(Stream.HASHTAG, "cats")])
    s.realtime.subscribe(dan, [], [(Stream.HASHTAG, "cats"), (Stream.HASHTAG_LOCAL, "cats"), (Stream.HASHTAG, "dogs")])

    s.realtime.tweet_posted(_tagged("ann", 1, "cats", "dogs"))
    s.realtime.tweet_posted(_tagged("ann", 2, "birds"))
    s.realtime.tweet_posted(_tagged("ann", 3, "cats").model_copy(update={"retweet_of_id": 1}))  # no retweets, as public
    s.realtime.tweet_deleted(_tagged("ann", 1, "cats", "dogs"))

    streams = {c: [(f["event"], f["stream"]) for f in s.gateway.received[c]] for c in (cat, dan)}
    assert streams[cat] == [("update", ["hashtag", "cats"]), ("delete", ["hashtag", "cats"])]
    assert sorted(streams[dan]) == sorted(
        [
            (event, stream)
            for event in ("update", "delete")
            for stream in (["hashtag", "cats"], ["hashtag:local", "cats"], ["hashtag", "dogs"])
        ]
    )


def test_given_more_hashtags_than_a_connection_may_follow_when_subscribing_then_refused_and_unchanged():
    s = Setup()
    cat = s.connect("cat")

    with pytest.raises(InvalidInput, match=f"at most {MAX_HASHTAGS} hashtags"):
        s.realtime.subscribe(cat, [Stream.USER], [(Stream.HASHTAG, f"t{i}") for i in range(MAX_HASHTAGS + 1)])
    assert s.store.get(cat).hashtags == []


def test_given_a_chirp_client_when_it_names_a_hashtag_stream_then_refused_as_mastodons_only():
    with pytest.raises(InvalidInput, match="unknown stream 'hashtag'"):
        parse_streams(["hashtag"])


def test_given_a_retweet_when_pushed_then_the_retweeters_followers_get_it_and_the_public_stream_does_not():
    # Given a follower of the retweeter and a stranger on the public stream
    s = Setup()
    s.world.users("ann", "bob", "cat")
    s.world.edge("bob", "ann")
    bob, cat = s.connect("bob"), s.connect("cat", Stream.PUBLIC_LOCAL)

    # When ann's retweet is pushed, then it reaches bob's home stream only (public timelines show no retweets)
    s.realtime.tweet_posted(_tweet("ann", 77).model_copy(update={"text": "", "retweet_of_id": 5}))

    assert s.events(bob) == [("update", "user")]
    assert s.events(cat) == []


@pytest.mark.parametrize(
    ("parent_author", "on_public"),
    [("bob", False), ("ann", True), (None, False)],  # None: parent's author not kept
)
def test_given_a_reply_when_pushed_then_the_public_stream_gets_it_only_when_it_answers_its_author(
    parent_author, on_public
):
    # Given a follower of ann and a stranger on the public stream
    s = Setup()
    s.world.users("ann", "bob", "cat")
    s.world.edge("bob", "ann")
    bob, cat = s.connect("bob"), s.connect("cat", Stream.PUBLIC_LOCAL)

    # When ann's reply is pushed, then her followers get it; the public stream only when she answers herself
    s.realtime.tweet_posted(_tweet("ann").model_copy(update={"reply_to_id": 5, "reply_to_author_id": parent_author}))

    assert s.events(bob) == [("update", "user")]
    assert s.events(cat) == ([("update", "public:local")] if on_public else [])


def test_given_deleted_tweet_then_its_audience_gets_a_delete_with_the_id_only():
    s = Setup()
    s.world.users("ann", "bob")
    s.world.edge("bob", "ann")
    bob = s.connect("bob")

    s.realtime.tweet_deleted(_tweet("ann", 99))

    assert s.gateway.received[bob] == [
        {"stream": ["user"], "event": "delete", "payload": {"tweet_id": 99, "tweet_id_str": "99"}}
    ]


def test_given_notifications_then_each_goes_to_its_recipients_user_stream_connections_only():
    s = Setup()
    bob, bob_public, cat = s.connect("bob"), s.connect("bob", Stream.PUBLIC_LOCAL), s.connect("cat")
    mention = Notification(id=5, kind="mention", actor_id="ann", tweet_id=5, at_ms=1)

    s.realtime.notified({"bob": mention, "dan": mention})

    assert s.events(bob) == [("notification", "user")]
    assert s.events(bob_public) == []
    assert s.events(cat) == []
    assert s.gateway.received[bob][0]["payload"]["kind"] == "mention"


def test_given_gone_and_broken_connections_then_others_still_receive_and_the_gone_one_is_dropped():
    s = Setup()
    s.world.users("ann", "bob", "cat", "dan")
    for user in ("bob", "cat", "dan"):
        s.world.edge(user, "ann")
    bob, cat, dan = s.connect("bob"), s.connect("cat"), s.connect("dan")
    s.gateway.gone.add(bob)
    s.gateway.broken.add(cat)

    delivery = s.realtime.tweet_posted(_tweet("ann"))

    assert (delivery.sent, delivery.gone, delivery.failed) == (1, 1, 1)
    assert s.events(dan) == [("update", "user")]
    assert s.store.get(bob) is None
    assert "bob" not in s.index.by_user
    assert s.store.get(cat) is not None  # a failure that is not 410 keeps the connection


def test_given_one_stuck_client_when_pushing_then_the_others_are_delivered_meanwhile():
    s = Setup(max_in_flight=2)
    s.world.users("ann", *(f"u{i}" for i in range(6)))
    for i in range(6):
        s.world.edge(f"u{i}", "ann")
    ids = [s.connect(f"u{i}") for i in range(6)]
    s.gateway.stuck.add(ids[0])
    pushing = threading.Thread(target=s.realtime.tweet_posted, args=(_tweet("ann"),))

    pushing.start()
    others_done = all(_wait(lambda i=i: s.events(i)) for i in ids[1:])
    s.gateway.release.set()
    pushing.join(timeout=10)

    assert others_done
    assert s.events(ids[0]) == [("update", "user")]


def _wait(condition, timeout_s: float = 5.0) -> bool:
    done = threading.Event()
    for _ in range(int(timeout_s / 0.01)):
        if condition():
            return True
        done.wait(0.01)
    return False


def test_given_connection_when_it_subscribes_then_its_streams_are_replaced_and_disconnect_forgets_it():
    s = Setup()
    bob = s.connect("bob")

    connection = s.realtime.subscribe(bob, parse_streams(["public:local", "user", "user"]))
    assert connection.streams == [Stream.PUBLIC_LOCAL, Stream.USER]
    assert bob in s.index.public

    s.realtime.disconnect(bob)
    assert s.store.get(bob) is None
    assert bob not in s.index.public
    assert "bob" not in s.index.by_user


def test_given_connection_stored_then_it_expires_with_api_gateways_two_hour_limit():
    s = Setup()
    bob = s.connect("bob")
    assert s.store.items[bob][1] == 1_000 + 2 * 3600


@pytest.mark.parametrize("names", [["home"], [], ["user", "direct"]])
def test_given_unknown_or_no_stream_then_subscribing_is_refused_naming_the_problem(names):
    with pytest.raises(InvalidInput, match="stream"):
        parse_streams(names)


def test_given_unknown_connection_when_it_subscribes_then_not_found():
    with pytest.raises(NotFound):
        Setup().realtime.subscribe("nope", [Stream.USER])


# --- the connected index lost and rebuilt ---------------------------------------------------------------------


def test_given_redis_lost_the_index_when_a_tweet_is_pushed_then_it_is_rebuilt_from_the_table_once_and_delivered():
    s = Setup()
    s.world.users("ann", "bob")
    s.world.edge("bob", "ann")
    bob = s.connect("bob")
    s.index.lose_everything()

    s.realtime.tweet_posted(_tweet("ann", 7))
    s.realtime.tweet_posted(_tweet("ann", 8))

    assert [frame["payload"]["tweet_id"] for frame in s.gateway.received[bob]] == [7, 8]
    assert s.store.scans == 1, "the marker is back after the rebuild: the next push reads no table"


def test_given_connections_past_their_expiry_when_the_index_is_rebuilt_then_only_live_ones_come_back():
    s = Setup()
    s.world.users("ann", "bob", "cat")
    s.world.edge("bob", "ann")
    s.world.edge("cat", "ann")
    bob, cat = s.connect("bob"), s.connect("cat")
    connection, _ = s.store.items[cat]
    s.store.items[cat] = (connection, 999)  # expired: DynamoDB's TTL has not deleted it yet
    s.index.lose_everything()

    s.realtime.notified({"bob": Notification(id=5, kind="follow", actor_id="ann", at_ms=1)})
    s.realtime.tweet_posted(_tweet("ann"))

    assert s.events(bob) == [("notification", "user"), ("update", "user")]
    assert cat not in s.gateway.received


def test_given_another_worker_rebuilding_when_pushing_then_this_push_does_not_wait_nor_scan():
    s = Setup()
    s.world.users("ann")
    s.index.lose_everything()
    s.index.rebuilding = True  # another worker holds the rebuild's lock

    s.realtime.tweet_posted(_tweet("ann"))

    assert s.store.scans == 0


def test_given_pushes_within_seconds_when_each_looks_for_the_index_marker_then_a_process_looks_once_per_window():
    clock = {"ms": 1_000_000}
    s = Setup(clock_ms=lambda: clock["ms"])
    s.world.users("ann", "bob")
    s.world.edge("bob", "ann")
    bob = s.connect("bob")

    s.realtime.tweet_posted(_tweet("ann", 1))
    s.realtime.notified({"bob": Notification(id=5, kind="follow", actor_id="ann", at_ms=1)})
    assert s.index.marker_checks == 1, "one look at the marker for both pushes"

    s.index.lose_everything()
    clock["ms"] += INDEX_CHECK_S * 1000 - 1
    s.realtime.tweet_posted(_tweet("ann", 2))  # within the window: the loss is not seen yet
    clock["ms"] += 1
    s.realtime.tweet_posted(_tweet("ann", 3))  # the window over: rebuilt from the table, then delivered

    assert s.index.marker_checks == 2
    updates = [frame["payload"]["tweet_id"] for frame in s.gateway.received[bob] if frame["event"] == "update"]
    assert updates == [1, 3]
