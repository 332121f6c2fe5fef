"""Real time through the deployed WebSocket API: a connected client receives its followee's new tweet, a
notification and a deletion; celebrities' connected followers too; bad tokens and frames are refused."""

from __future__ import annotations

import time

import pytest
from websockets.exceptions import InvalidHandshake

from chirp.realtime.service import INDEX_CHECK_S
from infra.config import LOCAL
from localstack.push_client import PushClient, websocket_url


@pytest.fixture(scope="module")
def ws_url(cloud_env) -> str:
    return websocket_url(cloud_env)


def _is(event: str, tweet_id: int):
    def matches(frame: dict) -> bool:
        payload = frame["payload"]
        return frame["event"] == event and str(tweet_id) in (payload.get("tweet_id_str"), str(payload.get("id")))

    return matches


def test_given_a_connected_follower_when_followee_posts_mentions_and_deletes_then_all_three_arrive(new_user, ws_url):
    ann, bob = new_user("ann"), new_user("bob")
    assert bob.call("POST", f"/users/{ann.user_id}/follow").status_code == 200
    with PushClient.open(ws_url, bob.token) as client:
        tweet = ann.call("POST", "/tweets", json={"text": f"hello @{bob.handle}"}).json()

        update = client.wait_for(_is("update", tweet["tweet_id"]))
        assert update is not None
        assert update["stream"] == ["user"]
        assert update["payload"]["text"] == tweet["text"]
        assert update["payload"]["author_id"] == ann.user_id

        notification = client.wait_for(_is("notification", tweet["tweet_id"]))
        assert notification is not None
        assert notification["payload"]["kind"] == "mention"
        assert notification["payload"]["actor_id"] == ann.user_id

        assert ann.call("DELETE", f"/tweets/{tweet['tweet_id']}").status_code in (200, 204)
        deleted = client.wait_for(_is("delete", tweet["tweet_id"]))
        assert deleted == {"stream": ["user"], "event": "delete", "payload": deleted["payload"]}
        assert deleted["payload"]["tweet_id_str"] == str(tweet["tweet_id"])


def test_given_a_connected_follower_when_their_followee_retweets_and_undoes_it_then_both_arrive(new_user, ws_url):
    ann, bob, cat = new_user("ann"), new_user("bob"), new_user("cat")
    assert bob.call("POST", f"/users/{ann.user_id}/follow").status_code == 200
    original = cat.call("POST", "/tweets", json={"text": "worth a retweet"}).json()
    with PushClient.open(ws_url, bob.token) as client:
        retweeted = ann.call("POST", f"/tweets/{original['tweet_id']}/retweet")
        assert retweeted.status_code in (200, 201), retweeted.text

        update = client.wait_for(
            lambda frame: (
                frame["event"] == "update" and frame["payload"].get("retweet_of_id_str") == original["tweet_id_str"]
            )
        )
        assert update is not None, "the retweet never reached the follower's socket"
        assert update["payload"]["author_id"] == ann.user_id

        assert ann.call("DELETE", f"/tweets/{original['tweet_id']}/retweet").status_code in (200, 204)
        deleted = client.wait_for(_is("delete", int(update["payload"]["tweet_id_str"])))
        assert deleted is not None, "the undone retweet's delete never arrived"


def test_given_a_celebrity_when_posting_then_a_connected_follower_gets_it_and_a_stranger_does_not(new_user, ws_url):
    star = new_user("cel")
    followers = [new_user("fol") for _ in range(LOCAL.celebrity_threshold)]
    for follower in followers:
        assert follower.call("POST", f"/users/{star.user_id}/follow").status_code == 200
    stranger = new_user("str")
    with PushClient.open(ws_url, followers[-1].token) as fan, PushClient.open(ws_url, stranger.token) as other:
        tweet_id = star.call("POST", "/tweets", json={"text": "to my fans"}).json()["tweet_id"]

        assert fan.wait_for(_is("update", tweet_id)) is not None
        assert other.wait_for(_is("update", tweet_id), timeout_s=3) is None


def test_given_the_public_stream_when_anyone_posts_then_a_subscriber_gets_it(new_user, ws_url):
    author, reader = new_user("pub"), new_user("rdr")
    with PushClient.open(ws_url, reader.token, streams=("public:local",)) as client:
        tweet_id = author.call("POST", "/tweets", json={"text": "for everyone"}).json()["tweet_id"]
        frame = client.wait_for(_is("update", tweet_id))
        assert frame is not None
        assert frame["stream"] == ["public:local"]


@pytest.mark.parametrize("token", ["", "not-a-jwt", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."])
def test_given_no_or_a_forged_token_when_connecting_then_the_handshake_is_refused(ws_url, token):
    with pytest.raises(InvalidHandshake), PushClient.open(ws_url, token):
        pass


def test_given_a_connection_when_it_sends_bad_frames_then_each_answer_names_the_problem(new_user, ws_url):
    user = new_user("frm")
    with PushClient.open(ws_url, user.token) as client:
        client.send({"action": "subscribe", "streams": ["direct"]})
        assert client.next_event(10) == {
            "error": "BadRequest",
            "message": "unknown stream 'direct': use one of user, user:notification, public, public:local, "
            "public:media, public:local:media",
        }
        client.send({"action": "subscribe", "streams": "user"})
        assert client.next_event(10)["error"] == "BadRequest"
        client.send({"action": "subscribe", "streams": ["public:local"]})
        assert client.next_event(10) == {"subscribed": ["public:local"]}


def test_given_redis_flushed_while_a_follower_is_connected_when_the_followee_posts_then_the_push_still_arrives(
    new_user, ws_url, cloud_redis
):
    """The connected index is rebuilt from the connections table by the first push that looks for its marker after
    it was lost: a process looks at most every INDEX_CHECK_S."""
    ann, bob = new_user("fla"), new_user("flb")
    assert bob.call("POST", f"/users/{ann.user_id}/follow").status_code == 200
    with PushClient.open(ws_url, bob.token) as client:
        cloud_redis.flushdb()  # the index, its marker, everything (every master of a cluster)
        time.sleep(INDEX_CHECK_S + 0.5)

        tweet = ann.call("POST", "/tweets", json={"text": "after the flush"}).json()

        assert client.wait_for(_is("update", tweet["tweet_id"])) is not None, "the rebuilt index missed the follower"
