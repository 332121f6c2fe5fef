"""Accounts, tweets, follows and home timelines through the deployed API (API Gateway -> Lambda)."""

from __future__ import annotations

from tests.e2e.conftest import eventually


def _home_ids(user, **params) -> list[int]:
    response = user.call("GET", "/timelines/home", params=params)
    assert response.status_code == 200, response.text
    return [entry["tweet"]["tweet_id"] for entry in response.json()["items"]]


def test_given_a_follower_when_the_author_posts_then_the_tweet_reaches_the_home_timeline(new_user):
    author, reader = new_user("author"), new_user("reader")
    assert reader.call("POST", f"/users/{author.user_id}/follow").status_code == 200
    posted = author.call("POST", "/tweets", json={"text": "hello #chirp from e2e"})
    assert posted.status_code == 201, posted.text
    tweet = posted.json()
    assert tweet["hashtags"] == ["chirp"]
    assert tweet["tweet_id"] in eventually(
        lambda: _home_ids(reader) if tweet["tweet_id"] in _home_ids(reader) else None
    )
    assert tweet["tweet_id"] in eventually(
        lambda: _home_ids(author) if tweet["tweet_id"] in _home_ids(author) else None
    )
    entry = reader.call("GET", "/timelines/home").json()["items"][0]
    assert entry["author"]["handle"] == author.handle


def test_given_existing_tweets_when_following_then_they_are_backfilled_and_unfollow_removes_them(new_user):
    author, reader = new_user("author"), new_user("reader")
    tweet_id = author.call("POST", "/tweets", json={"text": "before the follow"}).json()["tweet_id"]
    assert _home_ids(reader) == []  # makes the reader's timeline live
    reader.call("POST", f"/users/{author.user_id}/follow")
    assert tweet_id in _home_ids(reader)
    assert reader.call("GET", f"/users/{reader.user_id}/follows/{author.user_id}").json()["following"] is True
    reader.call("DELETE", f"/users/{author.user_id}/follow")
    assert tweet_id not in _home_ids(reader)


def test_given_a_deleted_tweet_when_reading_then_it_is_hidden_everywhere(new_user):
    author, reader = new_user("author"), new_user("reader")
    reader.call("POST", f"/users/{author.user_id}/follow")
    tweet_id = author.call("POST", "/tweets", json={"text": "soon gone"}).json()["tweet_id"]
    eventually(lambda: tweet_id in _home_ids(reader))
    assert reader.call("DELETE", f"/tweets/{tweet_id}").status_code == 403  # not the author
    assert author.call("DELETE", f"/tweets/{tweet_id}").status_code == 204
    assert tweet_id not in _home_ids(reader)
    assert tweet_id not in _home_ids(author)
    assert author.call("GET", f"/tweets/{tweet_id}").status_code == 404
    assert tweet_id not in [
        t["tweet_id"] for t in author.call("GET", f"/users/{author.user_id}/tweets").json()["items"]
    ]


def test_given_many_tweets_when_paging_the_user_timeline_then_no_gaps_or_repeats(new_user):
    author = new_user("pager")
    posted = [author.call("POST", "/tweets", json={"text": f"tweet {i}"}).json()["tweet_id"] for i in range(7)]
    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = author.call("GET", f"/users/{author.user_id}/tweets", params=params).json()
        seen += [t["tweet_id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(posted, reverse=True)


def test_given_bad_input_when_calling_the_api_then_4xx_with_a_json_reason(new_user, cloud_env):
    import requests

    user = new_user("bad")
    cases = {
        "281 chars": user.call("POST", "/tweets", json={"text": "x" * 281}),
        "empty": user.call("POST", "/tweets", json={"text": "   "}),
        "control character": user.call("POST", "/tweets", json={"text": "nul \x00 here"}),
        "unknown reply": user.call("POST", "/tweets", json={"text": "hi", "reply_to_id": 12345}),
        "bad cursor": user.call("GET", "/timelines/home", params={"cursor": "not-a-cursor"}),
        "tampered cursor": user.call("GET", f"/users/{user.user_id}/tweets", params={"cursor": "eyJhIjoxfQ=="}),
        "foreign cursor": user.call(
            "GET", f"/users/{user.user_id}/followers", params={"cursor": "eyJwayI6eyJTIjoieCJ9fQ=="}
        ),
        "self follow": user.call("POST", f"/users/{user.user_id}/follow"),
        "unknown user": user.call("POST", "/users/nobody-here/follow"),
        "unknown followee": user.call("GET", f"/users/{user.user_id}/follows/nobody-here"),
        "no body": user.call("POST", "/tweets", data="not json"),
        "not json": user.call(
            "POST", "/tweets", data='{"text": "hi"}', headers={"Content-Type": "multipart/form-data"}
        ),
    }
    for name, response in cases.items():
        assert 400 <= response.status_code < 500, (name, response.status_code, response.text)
        assert response.json(), name
    assert cases["unknown followee"].status_code == 404
    assert cases["not json"].status_code == 415
    assert cases["tampered cursor"].status_code == cases["foreign cursor"].status_code == 400
    assert requests.get(f"{cloud_env['CHIRP_API_URL']}/timelines/home", timeout=30).status_code == 401
    forged = requests.get(
        f"{cloud_env['CHIRP_API_URL']}/timelines/home", headers={"Authorization": f"Bearer {user.token}x"}, timeout=30
    )
    assert forged.status_code == 401


def test_given_cjk_text_when_posting_then_each_character_counts_once(new_user):
    user = new_user("cjk")
    assert user.call("POST", "/tweets", json={"text": "字" * 280}).status_code == 201
    assert user.call("POST", "/tweets", json={"text": "字" * 281}).status_code == 400


def test_given_an_idempotency_key_when_a_post_is_retried_then_one_tweet_is_stored(new_user):
    author = new_user("idem")
    headers = {"Idempotency-Key": "retry-1"}
    first = author.call("POST", "/tweets", json={"text": "exactly once"}, headers=headers)
    assert first.json()["like_count"] == 0
    new_user("liker").call("POST", f"/tweets/{first.json()['tweet_id']}/like")

    # Then the retry gets the first tweet back with its counts as they are now (it was liked since)
    def retried():
        again = author.call("POST", "/tweets", json={"text": "exactly once"}, headers=headers)
        return again if again.json()["like_count"] == 1 else None

    again = eventually(retried)
    assert first.status_code == again.status_code == 201
    assert first.json()["tweet_id"] == again.json()["tweet_id"]
    other = new_user("idem").call("POST", "/tweets", json={"text": "exactly once"}, headers=headers)
    assert other.json()["tweet_id"] != first.json()["tweet_id"]  # keys are per author
    assert author.call("GET", "/users/me").json()["tweets_count"] == 1


def test_given_64_bit_ids_when_answered_then_each_is_also_a_string_that_javascript_keeps_exactly(new_user):
    """Snowflake ids exceed 2**53: a JavaScript client reading the number rounds it; the string it can keep."""
    author, replier = new_user("author"), new_user("reader")
    tweet = author.call("POST", "/tweets", json={"text": "the id as a string"}).json()
    assert tweet["tweet_id"] > 2**53
    assert tweet["tweet_id_str"] == str(tweet["tweet_id"])
    reply = replier.call("POST", "/tweets", json={"text": "a reply", "reply_to_id": tweet["tweet_id"]}).json()
    assert reply["reply_to_id_str"] == str(tweet["tweet_id"])
    assert reply["quote_tweet_id_str"] is None
    assert author.call("GET", f"/tweets/{tweet['tweet_id']}").json()["tweet_id_str"] == tweet["tweet_id_str"]
    mentioned = eventually(lambda: author.call("GET", "/notifications").json()["items"])
    assert mentioned[0]["id_str"] == str(mentioned[0]["id"])
    assert mentioned[0]["tweet_id_str"] == str(reply["tweet_id"])
