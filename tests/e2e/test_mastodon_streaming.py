"""Mastodon's streaming API through the deployed local cloud: a WebSocket on `<streaming_api>/api/v1/streaming`
(the host-root proxy tunnels it to the WebSocket API) with a Mastodon access token, as the Mastodon web app opens
it (the token as the subprotocol) and as Mastodon.py does (`stream_user` over its WebSocket handle). Payloads are
checked against Mastodon's OpenAPI document."""

from __future__ import annotations

import io
import json
import queue
import uuid

import pytest
from mastodon import Mastodon, StreamListener
from PIL import Image
from websockets.exceptions import InvalidHandshake
from websockets.sync.client import ClientConnection, connect

from localstack.api_client import PASSWORD
from tests.mastodon_openapi import entity_errors

SCOPES = ["read", "write", "follow", "push"]


@pytest.fixture(scope="module")
def base_url(cloud_env) -> str:
    return cloud_env["CHIRP_MASTODON_URL"]


@pytest.fixture(scope="module")
def app(base_url) -> tuple[str, str]:
    return Mastodon.create_app("chirp-streaming-e2e", scopes=SCOPES, api_base_url=base_url, request_timeout=60)


@pytest.fixture
def signed_in(app, base_url, new_user):
    def sign_in(prefix: str) -> tuple[Mastodon, object]:
        user = new_user(prefix)
        client = Mastodon(client_id=app[0], client_secret=app[1], api_base_url=base_url, request_timeout=60)
        client.log_in(user.handle, PASSWORD, scopes=SCOPES, allow_http=True)  # the local host root is plain HTTP
        return client, user

    return sign_in


def streaming_url(client: Mastodon) -> str:
    """Where the instance says its streaming API is (urls.streaming_api), as clients find it."""
    return f"{client.instance_v1()['urls']['streaming_api']}/api/v1/streaming"


def next_frame(socket: ClientConnection, matches, timeout_s: float = 30.0) -> dict | None:
    """The first frame for which `matches(frame)` holds, skipping others; None after the timeout."""
    try:
        while True:
            frame = json.loads(socket.recv(timeout=timeout_s))
            if matches(frame):
                return frame
    except TimeoutError:
        return None


def event(name: str, stream: str = "user"):
    return lambda frame: frame.get("event") == name and frame.get("stream") == [stream]


def is_update_of(frame: dict, status_id: str, stream: str) -> bool:
    return event("update", stream)(frame) and json.loads(frame["payload"])["id"] == status_id


def test_given_the_web_apps_socket_when_a_followee_posts_mentions_and_deletes_then_mastodon_events_arrive(signed_in):
    (ann, _), (bob, bob_user) = signed_in("msa"), signed_in("msb")
    bob.account_follow(ann.account_verify_credentials().id)
    # The Mastodon web app sends its token as the subprotocol; the answer must name it or a browser drops it.
    with connect(f"{streaming_url(bob)}?stream=user", subprotocols=[bob.access_token], open_timeout=15) as socket:
        assert socket.subprotocol == bob.access_token
        posted = ann.status_post(f"hello @{bob_user.handle} {uuid.uuid4().hex[:8]}")

        update = next_frame(socket, lambda f: event("update")(f) and json.loads(f["payload"])["id"] == posted.id)
        assert update is not None, "the followee's status never arrived"
        assert isinstance(update["payload"], str), "Mastodon sends the Status as a string of JSON"
        status = json.loads(update["payload"])
        assert entity_errors("Status", status) == []
        assert status["account"]["id"] == ann.account_verify_credentials().id
        assert status["url"].startswith(bob.api_base_url), "links are built on the instance URL the client used"

        notification = next_frame(socket, event("notification"))
        assert notification is not None, "the mention's notification never arrived"
        mention = json.loads(notification["payload"])
        assert entity_errors("Notification", mention) == []
        assert (mention["type"], mention["status"]["id"]) == ("mention", posted.id)

        ann.status_delete(posted.id)
        deleted = next_frame(socket, event("delete"))
        assert deleted == {"stream": ["user"], "event": "delete", "payload": posted.id}


def test_given_a_followee_who_reblogs_when_streaming_then_the_update_is_a_reblog_of_the_original(signed_in):
    (ann, ann_user), (bob, _), (cat, cat_user) = signed_in("msh"), signed_in("msi"), signed_in("msj")
    bob.account_follow(ann_user.user_id)
    original = cat.status_post(f"worth a reblog {uuid.uuid4().hex[:8]}")
    with connect(f"{streaming_url(bob)}?stream=user&access_token={bob.access_token}", open_timeout=15) as socket:
        ann.status_reblog(original.id)

        update = next_frame(socket, lambda f: event("update")(f) and json.loads(f["payload"])["reblog"] is not None)
        assert update is not None, "the followee's reblog never arrived"
        status = json.loads(update["payload"])
        assert entity_errors("Status", status) == []
        assert (status["account"]["id"], status["reblog"]["id"]) == (ann_user.user_id, original.id)
        assert status["reblog"]["account"]["id"] == cat_user.user_id


def test_given_the_public_local_stream_when_anyone_posts_then_a_subscriber_gets_it(signed_in):
    (author, _), (reader, _) = signed_in("msp"), signed_in("msr")
    url = f"{streaming_url(reader)}?stream=public:local&access_token={reader.access_token}"
    with connect(url, open_timeout=15) as socket:
        posted = author.status_post(f"for everyone {uuid.uuid4().hex[:8]}")
        frame = next_frame(socket, lambda f: is_update_of(f, posted.id, "public:local"))
        assert frame is not None, "the public status never reached the public:local stream"
        assert entity_errors("Status", json.loads(frame["payload"])) == []


def test_given_the_hashtag_stream_when_statuses_are_posted_then_only_those_carrying_it_arrive_named_with_it(signed_in):
    (author, _), (reader, _) = signed_in("msh"), signed_in("msi")
    tag = f"e2e{uuid.uuid4().hex[:8]}"
    url = f"{streaming_url(reader)}?stream=hashtag&tag={tag}&access_token={reader.access_token}"
    with connect(url, open_timeout=15) as socket:
        author.status_post(f"no hashtag {uuid.uuid4().hex[:8]}")
        tagged = author.status_post(f"about #{tag.upper()}")  # hashtags match whatever their case

        frame = next_frame(socket, lambda f: f.get("event") == "update")
        assert frame is not None, "the tagged status never reached the hashtag stream"
        assert frame["stream"] == ["hashtag", tag]
        assert json.loads(frame["payload"])["id"] == tagged.id, "only the status carrying the hashtag arrives"


def test_given_the_public_media_stream_when_statuses_with_and_without_media_are_posted_then_only_media_arrives(
    signed_in,
):
    (author, _), (reader, _) = signed_in("msm"), signed_in("msn")
    image = io.BytesIO()
    Image.new("RGB", (32, 24), "blue").save(image, format="PNG")
    medium = author.media_post(image.getvalue(), mime_type="image/png", synchronous=True)
    url = f"{streaming_url(reader)}?stream=public:media&access_token={reader.access_token}"
    with connect(url, open_timeout=15) as socket:
        author.status_post(f"text only {uuid.uuid4().hex[:8]}")
        pictured = author.status_post(f"a picture {uuid.uuid4().hex[:8]}", media_ids=[medium.id])

        frame = next_frame(socket, lambda f: f.get("event") == "update")
        assert frame is not None, "the status with media never reached the public:media stream"
        assert frame["stream"] == ["public:media"]
        status = json.loads(frame["payload"])
        assert status["id"] == pictured.id, "only the status carrying media arrives"
        assert entity_errors("Status", status) == []


def test_given_a_socket_when_it_subscribes_and_unsubscribes_then_it_gets_exactly_what_it_subscribed_to(signed_in):
    (author, _), (reader, _) = signed_in("msq"), signed_in("msu")
    with connect(streaming_url(reader), additional_headers={"Authorization": f"Bearer {reader.access_token}"}) as ws:
        ws.send(json.dumps({"type": "subscribe", "stream": "direct"}))
        assert json.loads(ws.recv(timeout=15)) == {"error": "Unknown stream type", "status": 400}
        ws.send(json.dumps({"type": "subscribe", "stream": "public:local"}))
        first = author.status_post(f"one {uuid.uuid4().hex[:8]}")
        assert next_frame(ws, lambda f: json.loads(f["payload"])["id"] == first.id) is not None
        ws.send(json.dumps({"type": "unsubscribe", "stream": "public:local"}))
        second = author.status_post(f"two {uuid.uuid4().hex[:8]}")
        assert next_frame(ws, lambda f: json.loads(f["payload"])["id"] == second.id, timeout_s=4) is None


def test_given_an_author_on_the_user_stream_when_followed_and_favourited_then_both_notifications_arrive(signed_in):
    (ann, ann_user), (bob, bob_user) = signed_in("msf"), signed_in("msg")
    posted = ann.status_post(f"like me {uuid.uuid4().hex[:8]}")
    with connect(f"{streaming_url(ann)}?stream=user&access_token={ann.access_token}", open_timeout=15) as socket:
        bob.account_follow(ann_user.user_id)  # raised in the follow's transaction, pushed by the API
        followed = next_frame(socket, event("notification"))
        assert followed is not None, "the follow's notification never arrived"
        follow = json.loads(followed["payload"])
        assert entity_errors("Notification", follow) == []
        assert (follow["type"], follow["account"]["id"]) == ("follow", bob_user.user_id)

        bob.status_favourite(posted.id)  # aggregated by the engagements consumer, pushed from there
        liked = next_frame(socket, event("notification"))
        assert liked is not None, "the favourite's notification never arrived"
        favourite = json.loads(liked["payload"])
        assert entity_errors("Notification", favourite) == []
        assert (favourite["type"], favourite["status"]["id"], favourite["account"]["id"]) == (
            "favourite",
            posted.id,
            bob_user.user_id,
        )


def test_given_the_notification_and_public_streams_when_followed_and_anyone_posts_then_each_arrives_on_its_own(
    signed_in,
):
    (ann, ann_user), (bob, _) = signed_in("msn"), signed_in("mso")
    url = f"{streaming_url(ann)}?stream=user:notification&access_token={ann.access_token}"
    with connect(url, open_timeout=15) as socket:
        socket.send(json.dumps({"type": "subscribe", "stream": "public"}))
        bob.account_follow(ann_user.user_id)
        followed = next_frame(socket, event("notification", "user:notification"))
        assert followed is not None, "the follow's notification never reached the user:notification stream"
        assert json.loads(followed["payload"])["type"] == "follow"

        public = None
        for _ in range(3):  # the subscribe frame is handled asynchronously: a post before it lands is not pushed
            posted = bob.status_post(f"to the public {uuid.uuid4().hex[:8]}")
            public = next_frame(socket, lambda f, id=posted.id: is_update_of(f, id, "public"), 10)
            if public is not None:
                break
        assert public is not None, "the public status never reached the public stream"


class Collected(StreamListener):
    def __init__(self):
        self.updates: queue.Queue = queue.Queue()

    def on_update(self, status) -> None:
        self.updates.put(status)


def test_given_mastodon_py_when_it_streams_the_user_stream_over_websocket_then_it_receives_a_followees_status(
    signed_in,
):
    (ann, _), (bob, _) = signed_in("mpa"), signed_in("mpb")
    bob.account_follow(ann.account_verify_credentials().id)
    listener = Collected()
    handle = bob.stream_open_websocket()
    try:
        bob.stream_user(listener, websocket_handle=handle)
        posted = None
        for _ in range(3):  # the subscribe frame is sent asynchronously: a post before it lands is not pushed
            posted = ann.status_post(f"to mastodon.py {uuid.uuid4().hex[:8]}")
            try:
                received = listener.updates.get(timeout=10)
                break
            except queue.Empty:
                continue
        else:
            pytest.fail("Mastodon.py's stream_user never received the followee's status")
        assert received.id == posted.id
        assert received.account.id == ann.account_verify_credentials().id
    finally:
        handle.close()


@pytest.mark.parametrize("token", ["not-a-token", ""])
def test_given_an_unknown_token_when_opening_the_streaming_api_then_the_handshake_is_refused(signed_in, token):
    client, _ = signed_in("msx")
    with pytest.raises(InvalidHandshake), connect(f"{streaming_url(client)}?stream=user&access_token={token}"):
        pass
