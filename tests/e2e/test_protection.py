"""Rate limits, degradation levels and the automatic controller through the deployed API.

Levels are set as an operator sets them (`python -m chirp.cli degrade N`, what `make degrade LEVEL=N` runs) and
handed back to the controller (`auto`) after each test; the functions read them within RUNTIME_CONFIG_TTL_S.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import boto3
import pytest

from chirp.adapters.redis.timeline_cache import deferred_key, timeline_key
from chirp.composition import build_services
from chirp.settings import Settings
from tests.conftest import ROOT
from tests.e2e.conftest import eventually

LIMIT_FIELDS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "RateLimit-Policy", "RateLimit")


def _aws(cloud_env, service: str):
    return boto3.client(
        service,
        endpoint_url=cloud_env["AWS_ENDPOINT_URL"],
        region_name=cloud_env["AWS_DEFAULT_REGION"],
        aws_access_key_id=cloud_env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=cloud_env["AWS_SECRET_ACCESS_KEY"],
    )


def _post(user, text: str):
    return user.call("POST", "/tweets", json={"text": text})


def _home_ids(user) -> list[int]:
    response = user.call("GET", "/timelines/home", params={"limit": 100})
    assert response.status_code == 200, response.text
    return [entry["tweet"]["tweet_id"] for entry in response.json()["items"]]


# --- rate limits ----------------------------------------------------------------------------------------------


def test_given_a_user_posting_fast_when_the_limit_is_crossed_then_429_with_the_headers_and_accepted_after_retry_after(
    new_user,
):
    author = new_user("lim")
    answers, started = [], time.monotonic()
    for i in range(100):  # the local tier is 30 a minute: crossed long before
        answers.append(_post(author, f"flood {i}"))
        if answers[-1].status_code != 201:
            break
    elapsed = time.monotonic() - started
    accepted, refused = answers[:-1], answers[-1]

    # A burst of 30, plus the one request given back every 2 s while posting (GCRA: no window resets at once).
    assert 30 <= len(accepted) <= 30 + math.ceil(elapsed / 2)
    remaining = [int(a.headers["X-RateLimit-Remaining"]) for a in accepted]
    assert remaining[0] == 29
    assert min(remaining) == 0
    assert all(a.headers["RateLimit-Policy"] == '"tweets";q=30;w=60' for a in accepted)
    assert refused.status_code == 429, refused.text
    assert set(refused.json()) == {"error", "message"}
    assert refused.json()["error"] == "TooManyRequests"
    assert all(field in refused.headers for field in (*LIMIT_FIELDS, "Retry-After"))
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert refused.headers["RateLimit"].startswith('"tweets";r=0;t=')
    reset = datetime.fromisoformat(refused.headers["X-RateLimit-Reset"].replace("Z", "+00:00"))
    assert timedelta(0) < reset - datetime.now(UTC) <= timedelta(seconds=61)
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 2  # one request back every 60 s / 30

    assert author.call("GET", "/users/me").status_code == 200  # other classes are untouched
    time.sleep(retry_after)
    again = _post(author, "after Retry-After")
    assert again.status_code == 201, again.text


def test_given_an_operator_override_when_a_user_posts_then_their_raised_limit_applies_to_them_only(new_user, accounts):
    raised, ordinary = new_user("rsd"), new_user("ord")
    accounts.raise_limits([raised], {"tweets": "5000/1h"})
    try:
        assert _post(raised, "raised").headers["RateLimit-Policy"] == '"tweets";q=5000;w=3600'
        assert _post(ordinary, "ordinary").headers["RateLimit-Policy"] == '"tweets";q=30;w=60'
    finally:
        accounts.restore_limits([raised])


# --- degradation levels ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def operator(cloud_env):
    """Sets the level with the operator's command and waits until the API says it; hands back at the end."""

    def degrade(level: str) -> None:
        command = [sys.executable, "-m", "chirp.cli", "degrade", level]
        env = {**os.environ, **cloud_env, "PYTHONPATH": str(ROOT / "shared")}
        subprocess.run(command, env=env, check=True, capture_output=True, timeout=60)
        time.sleep(float(cloud_env["RUNTIME_CONFIG_TTL_S"]) + 0.5)  # every warm function reads it again

    yield degrade
    degrade("auto")


@pytest.fixture(scope="module")
def cache(cloud_redis):
    return cloud_redis


@pytest.fixture(scope="module")
def services(cloud_env):
    os.environ.update({k: v for k, v in cloud_env.items() if k.startswith("AWS_")})
    return build_services(Settings.from_env(cloud_env))


def test_given_each_level_when_clients_call_then_every_answer_says_the_level(new_user, operator):
    user = new_user("lvl")
    for level in ("0", "2", "4", "0"):
        operator(level)
        assert user.call("GET", "/users/me").headers["Chirp-Degradation-Level"] == level
        trends = user.call("GET", "/trends")  # the discovery function too
        assert trends.status_code == 200, trends.text
        assert trends.headers["Chirp-Degradation-Level"] == level


def test_given_level_1_when_tagged_tweets_are_posted_then_trends_neither_count_them_nor_refresh(
    new_user, operator, cache
):
    operator("0")
    author = new_user("adv")
    before = author.call("GET", "/trends", params={"limit": 50}).json()
    operator("1")
    tag = f"adv{uuid.uuid4().hex[:10]}"
    tweet = _post(author, f"#{tag} while advisory").json()["tweet_id"]
    assert eventually(lambda: tweet in _searched(author, tag))  # the stream moved past it (indexed)...
    time.sleep(2)

    assert not _counted(cache, tag)  # ...and the trends consumer counted nothing
    assert author.call("GET", "/trends", params={"limit": 50}).json() == before  # the ranking kept, not recomputed
    operator("0")
    _post(author, f"#{tag} back to normal")
    assert eventually(lambda: _counted(cache, tag))


def _counted(cache, tag: str) -> bool:
    """The trends consumer counted the tag (chirp.adapters.redis.tag_counter keys its buckets by the tag)."""
    return any(cache.scan_iter(match=f"trend:{{{tag}}}:*", count=1000))


def _searched(user, tag: str) -> list[int]:
    response = user.call("GET", "/search", params={"hashtag": tag})
    return [e["tweet"]["tweet_id"] for e in response.json()["items"]] if response.ok else []


def test_given_level_2_when_a_lost_timeline_is_read_then_it_is_served_as_cached_and_rebuilt_once_back_at_0(
    new_user, operator, cache
):
    operator("0")
    author, reader = new_user("wau"), new_user("wrd")
    assert reader.call("POST", f"/users/{author.user_id}/follow").status_code == 200
    tweet = _post(author, "before the warning").json()["tweet_id"]
    assert eventually(lambda: tweet in _home_ids(reader))
    operator("2")
    cache.delete(timeline_key(reader.user_id))  # lost (evicted, expired)

    assert _home_ids(reader) == []  # served as Redis holds it: no rebuild from DynamoDB at level 2
    assert not cache.exists(timeline_key(reader.user_id))
    operator("0")
    assert _home_ids(reader) == [tweet]  # rebuilt on the first read after


def test_given_level_3_when_searching_then_503_clearly_and_trends_are_the_cached_ones(new_user, operator):
    user = new_user("crs")
    trends = user.call("GET", "/trends").json()
    operator("3")

    response = user.call("GET", "/search", params={"q": "anything"})

    assert response.status_code == 503
    assert "search is switched off" in response.json()["message"]
    assert response.headers["Retry-After"] == "60"
    assert user.call("GET", "/trends").json() == trends


def test_given_level_3_when_posting_then_fan_out_waits_readers_build_it_on_read_and_nothing_is_lost_after(
    new_user, operator, cache, services
):
    operator("0")
    author, reader = new_user("dfa"), new_user("dfr")
    assert reader.call("POST", f"/users/{author.user_id}/follow").status_code == 200
    _home_ids(reader), _home_ids(author)  # live timelines (rebuilt at level 0)
    operator("3")

    deferred = _post(author, "while fan-out is off").json()["tweet_id"]
    assert eventually(lambda: cache.zscore(deferred_key(author.user_id), deferred) is not None)  # consumed

    assert cache.zscore(timeline_key(reader.user_id), deferred) is None  # not pushed...
    assert deferred in _home_ids(reader)  # ...but built into the timeline on read
    assert cache.zscore(timeline_key(author.user_id), deferred) is not None  # its author sees it at once
    operator("0")
    after = _post(author, "fan-out is back").json()["tweet_id"]  # the next batch catches up first

    assert eventually(lambda: cache.zscore(timeline_key(reader.user_id), after) is not None)
    assert eventually(lambda: cache.zscore(timeline_key(reader.user_id), deferred) is not None)  # pushed late
    assert not cache.exists(deferred_key(author.user_id))
    report = services.auditor().audit([reader.user_id, author.user_id])
    assert report.clean, report.findings


def test_given_level_4_when_writing_then_503_with_retry_after_and_reads_still_work(new_user, operator):
    user = new_user("srv")
    operator("4")

    refused = _post(user, "read-only?")
    assert refused.status_code == 503
    assert "read-only" in refused.json()["message"]
    assert refused.headers["Retry-After"] == "60"
    assert refused.headers["Chirp-Degradation-Level"] == "4"
    assert user.call("POST", f"/users/{user.user_id}/mute").status_code == 503
    assert user.call("GET", "/users/me").status_code == 200
    assert user.call("GET", "/timelines/home").status_code == 200
    operator("0")
    assert _post(user, "writable again").status_code == 201


# --- the automatic controller ----------------------------------------------------------------------------------


def test_given_fed_metrics_when_the_controller_runs_then_it_raises_the_level_the_api_shows_it_and_it_calms_down(
    new_user, cloud_env, operator
):
    operator("auto")
    user = new_user("ctl")
    cloudwatch, functions = _aws(cloud_env, "cloudwatch"), _aws(cloud_env, "lambda")
    api = [{"Name": "ApiName", "Value": cloud_env["API_NAME"]}, {"Name": "Stage", "Value": cloud_env["API_STAGE"]}]
    # What API Gateway would publish under overload: 40 requests, a slow tail, 8 server errors (20%).
    cloudwatch.put_metric_data(
        Namespace="AWS/ApiGateway",
        MetricData=[
            {
                "MetricName": "Latency",
                "Dimensions": api,
                "Unit": "Milliseconds",
                "Values": [120.0, 6_500.0],
                "Counts": [39.0, 1.0],
            },
            {"MetricName": "Count", "Dimensions": api, "Unit": "Count", "Value": 40.0},
            {"MetricName": "5XXError", "Dimensions": api, "Unit": "Count", "Value": 8.0},
        ],
    )
    fed_at = time.monotonic()
    controller = next(
        f["FunctionName"]
        for f in functions.list_functions()["Functions"]
        if "degradationcontroller" in f["FunctionName"]
    )

    decided = _invoke(functions, controller)

    assert decided["auto"]["level"] == 3, decided  # 20% errors call for level 3 (p99 6.5 s too)
    assert decided["effective"] == 3
    assert eventually(lambda: user.call("GET", "/users/me").headers["Chirp-Degradation-Level"] == "3", 10)
    assert user.call("GET", "/search", params={"q": "x"}).status_code == 503

    # The signals age out of the controller's window; then it steps down one level per two calm runs.
    time.sleep(max(0.0, json.loads(cloud_env["CONTROLLER_TUNING"])["window_s"] + 2 - (time.monotonic() - fed_at)))
    levels = [_invoke(functions, controller)["auto"]["level"] for _ in range(8)]
    # Hysteresis: calm runs lower it one level at a time (the schedule's own runs may count among them).
    assert levels[0] >= 2, levels
    assert levels == sorted(levels, reverse=True), levels
    assert all(a - b <= 1 for a, b in pairwise(levels)), levels
    assert levels[-1] == 0, levels
    assert eventually(lambda: user.call("GET", "/users/me").headers["Chirp-Degradation-Level"] == "0", 10)


def _invoke(functions, name: str) -> dict:
    """One run of the controller; a throttle (the schedule's run holds its one slot) is retried."""
    for attempt in range(20):
        try:
            answer = functions.invoke(FunctionName=name, Payload=b"{}")
        except functions.exceptions.TooManyRequestsException:
            time.sleep(math.ldexp(0.1, min(attempt, 4)))
            continue
        payload = json.loads(answer["Payload"].read())
        assert "FunctionError" not in answer, payload
        return payload
    raise AssertionError("the controller stayed throttled")
