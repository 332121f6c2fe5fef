"""Each fault, what clients see during it, and that nothing is lost (the README's table is this file)."""

from __future__ import annotations

import base64
import json
import time
import uuid

from chirp.engagement.model import EngagementEvent, Kind
from tests.chaos.conftest import eventually, launcher


def _home_ids(user) -> list[int]:
    response = user.call("GET", "/timelines/home", params={"limit": 100})
    assert response.status_code == 200, response.text
    return [item["tweet"]["tweet_id"] for item in response.json()["items"]]


def _post(user, text: str) -> int:
    response = user.call("POST", "/tweets", json={"text": text})
    assert response.status_code == 201, response.text
    return response.json()["tweet_id"]


def _assert_unavailable(response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"].isdigit()
    assert set(response.json()) == {"error", "message"}
    assert "127.0.0.1" not in response.text  # nothing internal


def test_given_redis_flushed_when_a_celebrity_posts_then_followers_see_it_and_notifications_survive(services, new_user):
    celebrity = new_user("celb")
    followers = [new_user("fan") for _ in range(services.timelines.thresholds.celebrity)]
    for follower in followers:
        assert follower.call("POST", f"/users/{celebrity.user_id}/follow").status_code == 200
    mention = _post(followers[0], f"hello @{celebrity.handle}")

    def mentioned() -> bool:
        notes = celebrity.call("GET", "/notifications").json()["items"]
        return ("mention", mention) in {(n["kind"], n["tweet_id"]) for n in notes}

    assert eventually(mentioned, 30)  # the notifier is asynchronous; follows notify at once

    services.redis.flushall()  # everything Redis held

    tweet = _post(celebrity, "after the flush")
    for follower in followers[:3]:
        assert eventually(lambda f=follower: tweet in _home_ids(f), 30)
    assert mentioned()
    notes = celebrity.call("GET", "/notifications").json()["items"]
    assert {n["actor_id"] for n in notes if n["kind"] == "follow"} == {f.user_id for f in followers}


def test_given_redis_down_when_clients_call_then_503_with_retry_after_and_reads_of_dynamodb_still_work(
    new_user, stopped, redis_servers
):
    author, reader = new_user("rdwn"), new_user("rdwn")
    assert reader.call("POST", f"/users/{author.user_id}/follow").status_code == 200
    before = _post(author, "before the outage")
    kept = _post(author, "liked during the outage")
    assert eventually(lambda: before in _home_ids(reader), 30)

    for server in redis_servers:
        stopped(server)

    _assert_unavailable(reader.call("GET", "/timelines/home"))
    assert reader.call("GET", f"/tweets/{before}").status_code == 200  # DynamoDB alone
    # Likes and their counts are DynamoDB's: liking works, and a read counts it (the cache just misses).
    assert reader.call("POST", f"/tweets/{kept}/like").status_code == 200
    read = reader.call("GET", f"/tweets/{kept}").json()
    assert (read["like_count"], read["liked"]) == (1, True)
    assert reader.call("GET", f"/users/{author.user_id}").status_code == 200
    assert author.call("POST", "/tweets", json={"text": "during the outage"}).status_code == 201  # no Redis needed
    _assert_unavailable(author.call("DELETE", f"/tweets/{before}"))  # durable and announced; Redis's part failed
    assert reader.call("GET", f"/tweets/{before}").status_code == 404


def test_given_opensearch_down_when_tweets_are_posted_then_search_is_503_and_all_are_searchable_after(
    new_user, stopped
):
    author = new_user("osdn")
    tag = f"outage{uuid.uuid4().hex[:8]}"
    stopped("opensearch")

    posted = {_post(author, f"during the outage {i} #{tag}") for i in range(20)}
    _assert_unavailable(author.call("GET", "/search", params={"hashtag": tag}))

    launcher("start", "opensearch")
    started = time.monotonic()

    def found() -> set[int]:
        response = author.call("GET", "/search", params={"hashtag": tag, "limit": 100})
        return {item["tweet"]["tweet_id"] for item in response.json()["items"]} if response.ok else set()

    assert eventually(lambda: found() == posted, timeout_s=120, interval_s=2), found()
    print(f"searchable {time.monotonic() - started:.1f} s after OpenSearch answered again")


def test_given_a_replayed_stream_when_consumed_again_then_timelines_and_notifications_are_unchanged(
    services, cloud_env, new_user
):
    author, reader = new_user("rply"), new_user("rply")
    assert reader.call("POST", f"/users/{author.user_id}/follow").status_code == 200
    tweets = [_post(author, f"replayed {i} @{reader.handle}") for i in range(3)]
    assert eventually(lambda: set(tweets) <= set(_home_ids(reader)), 30)
    assert eventually(lambda: len(reader.call("GET", "/notifications").json()["items"]) == len(tweets), 30)
    home, notes = _home_ids(reader), reader.call("GET", "/notifications").json()["items"]

    kinesis = services.tweets.publisher.client
    for tweet_id in tweets:  # at-least-once: the same records again
        record = services.tweet_store.get(tweet_id)
        kinesis.put_record(
            StreamName=cloud_env["NEW_TWEETS_STREAM"], Data=record.model_dump_json().encode(), PartitionKey="replay"
        )
    time.sleep(5)  # consumers are a second or two behind when warm

    assert _home_ids(reader) == home
    assert reader.call("GET", "/notifications").json()["items"] == notes


def test_given_a_replayed_engagements_stream_when_consumed_again_then_counts_and_notifications_are_unchanged(
    services, cloud_env, new_user
):
    author, fans = new_user("eply"), [new_user("eply") for _ in range(2)]
    tweet_id = _post(author, "liked, then replayed")
    for fan in fans:
        assert fan.call("POST", f"/tweets/{tweet_id}/like").status_code == 200
        assert fan.call("POST", f"/tweets/{tweet_id}/retweet").status_code == 200

    def notes() -> list[dict]:
        return author.call("GET", "/notifications").json()["items"]

    assert eventually(lambda: {n["kind"]: n["count"] for n in notes()} == {"like": 2, "retweet": 2}, 30)
    before, counts = notes(), author.call("GET", f"/tweets/{tweet_id}").json()

    kinesis, stream = services.tweets.publisher.client, cloud_env["ENGAGEMENTS_STREAM"]
    for fan in fans:  # at-least-once: each fan's like event again, and an old like replayed after an unlike
        edge = services.engagement_store.edges([(fan.user_id, tweet_id)])[fan.user_id, tweet_id]
        event = EngagementEvent(
            kind=Kind.LIKE, user_id=fan.user_id, tweet_id=tweet_id, author_id=author.user_id, active=True,
            at_ms=int(time.time() * 1000) - 60_000, order=edge.like_order,
        )  # fmt: skip
        kinesis.put_record(StreamName=stream, Data=event.model_dump_json().encode(), PartitionKey=fan.user_id)
    time.sleep(5)  # the consumer is a second or two behind when warm

    assert notes() == before
    assert author.call("GET", f"/tweets/{tweet_id}").json() == counts


def test_given_poison_records_when_consumed_then_they_are_set_aside_and_later_tweets_flow(
    services, cloud_env, new_user
):
    author, reader = new_user("psn"), new_user("psn")
    assert reader.call("POST", f"/users/{author.user_id}/follow").status_code == 200
    kinesis, stream = services.tweets.publisher.client, cloud_env["NEW_TWEETS_STREAM"]
    huge = {"tweet_id": 1, "author_id": author.user_id, "text": "x" * 900_000, "created_at_ms": 1}
    mentions = {"tweet_id": 2, "author_id": author.user_id, "text": "hi", "created_at_ms": 1,
                "mentions": [f"u{i}" for i in range(60_000)]}  # fmt: skip
    sequences = {
        kinesis.put_record(StreamName=stream, Data=json.dumps(bad).encode(), PartitionKey="poison")["SequenceNumber"]
        for bad in (huge, mentions)
    }

    after = _post(author, "after the poison")
    assert eventually(lambda: after in _home_ids(reader), 30)

    sqs, queue = services.poison.client, cloud_env["CONSUMER_FAILURES_QUEUE_URL"]
    set_aside: set[str] = set()

    def drained() -> bool:
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        for message in messages:
            body = json.loads(message["Body"])
            if body.get("sequence") in sequences:
                set_aside.add(body["sequence"])
                assert body["reason"]
                assert base64.b64decode(body["data_base64"])
            sqs.delete_message(
                QueueUrl=cloud_env["CONSUMER_FAILURES_QUEUE_URL"], ReceiptHandle=message["ReceiptHandle"]
            )
        return set_aside == sequences

    assert eventually(drained, 60)
