"""What the fuzzer missed, through the deployed API: racing retries, reused keys, extreme sizes. Every answer
is a 4xx with the API's `{error, message}` body or a success, never a 5xx."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor


def _assert_error_shape(response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "message"}
    return body


def test_given_concurrent_posts_with_one_idempotency_key_when_they_race_then_one_tweet_and_no_5xx(new_user):
    author = new_user("race")
    headers = {"Idempotency-Key": "race-1"}

    def post(_: int):
        return author.call("POST", "/tweets", json={"text": "raced"}, headers=headers)

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(post, range(8)))

    statuses = sorted({a.status_code for a in answers})
    assert set(statuses) <= {201, 409}, [a.text for a in answers]
    for conflict in (a for a in answers if a.status_code == 409):
        assert conflict.headers["Retry-After"] == "1"
        _assert_error_shape(conflict, 409)
    created = {a.json()["tweet_id"] for a in answers if a.status_code == 201}
    assert len(created) == 1  # every success is the first tweet
    retried = author.call("POST", "/tweets", json={"text": "raced"}, headers=headers)  # after the race: the result
    assert retried.status_code == 201
    assert retried.json()["tweet_id"] in created
    assert author.call("GET", "/users/me").json()["tweets_count"] == 1


def test_given_a_reused_idempotency_key_with_another_body_when_posted_then_422_not_the_first_tweet(new_user):
    author = new_user("reuse")
    headers = {"Idempotency-Key": "reuse-1"}
    assert author.call("POST", "/tweets", json={"text": "first"}, headers=headers).status_code == 201

    second = author.call("POST", "/tweets", json={"text": "something else"}, headers=headers)

    assert "Idempotency-Key" in _assert_error_shape(second, 422)["message"]


def test_given_extreme_path_ids_when_requested_then_400_naming_the_parameter(new_user):
    user = new_user("path")
    for path in ("/tweets/" + "9" * 39, "/users/" + "x" * 3000, "/users/" + "x" * 3000 + "/followers"):
        body = _assert_error_shape(user.call("GET", path), 400)
        assert "tweet_id" in body["message"] or "user_id" in body["message"]


def test_given_a_body_nested_ten_thousand_deep_when_posted_then_a_4xx(new_user):
    user = new_user("deep")
    response = user.call(
        "POST", "/tweets", data="[" * 10_000 + "]" * 10_000, headers={"Content-Type": "application/json"}
    )
    assert 400 <= response.status_code < 500
