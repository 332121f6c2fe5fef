"""Search, trends and notifications through the deployed stack (each fed by its own stream consumer)."""

from __future__ import annotations

import time
import uuid

from tests.e2e.conftest import eventually


def test_given_a_posted_tweet_when_searching_then_it_is_found_by_word_hashtag_and_author(new_user):
    author = new_user("srch")
    word, tag = f"w{uuid.uuid4().hex[:10]}", f"t{uuid.uuid4().hex[:10]}"
    tweet_id = author.call("POST", "/tweets", json={"text": f"{word} about #{tag}"}).json()["tweet_id"]

    def found(**params) -> list[int]:
        response = author.call("GET", "/search", params=params)
        assert response.status_code == 200, response.text
        return [entry["tweet"]["tweet_id"] for entry in response.json()["items"]]

    assert eventually(lambda: tweet_id in found(q=word))
    assert found(hashtag=tag) == [tweet_id]
    assert tweet_id in found(author=author.user_id)
    author.call("DELETE", f"/tweets/{tweet_id}")
    assert tweet_id not in found(q=word)
    assert author.call("GET", "/search").status_code == 400  # nothing to search for


def test_given_many_accounts_using_a_new_tag_when_asking_for_trends_then_it_trends(new_user):
    tag = f"trend{uuid.uuid4().hex[:8]}"
    for i, user in enumerate(new_user("trnd") for _ in range(6)):  # each in their own words: one text is spam
        assert user.call("POST", "/tweets", json={"text": f"#{tag} is everywhere, says voice {i}"}).status_code == 201

    def trending() -> list[str]:
        return [trend["hashtag"] for trend in new_reader.call("GET", "/trends", params={"limit": 50}).json()]

    new_reader = new_user("rdr")
    assert eventually(lambda: tag in trending())


def test_given_a_mention_a_reply_and_a_follow_when_listing_notifications_then_each_is_there_once(new_user):
    alice, bob = new_user("ali"), new_user("bob")
    bob.call("POST", f"/users/{alice.user_id}/follow")
    original = alice.call("POST", "/tweets", json={"text": "hello"}).json()["tweet_id"]
    mention = bob.call("POST", "/tweets", json={"text": f"hi @{alice.handle}"}).json()["tweet_id"]
    reply = bob.call("POST", "/tweets", json={"text": "a reply", "reply_to_id": original}).json()["tweet_id"]

    def kinds() -> list[tuple[str, int | None]]:
        items = alice.call("GET", "/notifications").json()["items"]
        return [(item["kind"], item["tweet_id"]) for item in items]

    assert eventually(lambda: len(kinds()) == 3)
    assert kinds() == [("reply", reply), ("mention", mention), ("follow", None)]


def test_given_many_accounts_posting_one_text_with_a_tag_when_asking_for_trends_then_it_does_not_trend(new_user):
    """Coordinated spam: past the first few accounts posting the same text within the hour, each counts as
    suspect, and suspect accounts never carry a tag to the minimum."""
    tag = f"spam{uuid.uuid4().hex[:8]}"
    for user in [new_user("spam") for _ in range(8)]:
        assert user.call("POST", "/tweets", json={"text": f"#{tag} BUY NOW"}).status_code == 201
    reader = new_user("rdr")
    time.sleep(5)  # the consumers are a second or two behind; the ranking is redone every two seconds locally
    assert tag not in [trend["hashtag"] for trend in reader.call("GET", "/trends", params={"limit": 50}).json()]
