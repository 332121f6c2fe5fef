"""The load run's pure parts, without any server: its arguments and bounds, how it waits for the stream
consumers to settle, and the benchmarks' percentiles it reports."""

import itertools
import math
import random

import pytest

from chirp.tweets.text import hashtags, mentions
from tests.conftest import load_bench


@pytest.fixture(scope="module")
def load_run():
    return load_bench("load_run")


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        (["--spawn-rate", "0"], "--spawn-rate"),
        (["--users", "20", "--spawn-rate", "1", "--seconds", "10"], "--spawn-rate"),  # the last arrives at 19 s
        (["--max-requests", "0"], "--max-requests"),
        (["--users", "1"], "--users"),
        (["--seconds", "0"], "--seconds"),
    ],
)
def test_given_arguments_that_cannot_run_when_started_then_it_exits_2_naming_the_flag(
    load_run, arguments, named, capsys
):
    with pytest.raises(SystemExit) as exit_info:
        load_run.main(arguments)
    assert exit_info.value.code == 2
    (message,) = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert named in message
    assert all(flag not in message for flag in ("--users", "--seconds", "--max-requests") if flag != named)


def test_given_a_user_that_crashed_when_recorded_then_it_is_an_error_but_not_a_request(load_run):
    recorder = load_run.Recorder()
    recorder.record_crash(RuntimeError("boom"))
    assert recorder.requests == 0
    assert recorder.errors == ["crashed: RuntimeError: boom"]


# --- the request bound --------------------------------------------------------------------------------------


def test_given_no_max_requests_when_sizing_a_run_then_the_bound_grows_with_users_and_seconds(load_run):
    base = load_run.default_max_requests(4, 20)
    assert load_run.default_max_requests(8, 20) == 2 * base
    assert load_run.default_max_requests(4, 40) == 2 * base
    assert load_run.default_max_requests(2, 0.01) >= 1


def test_given_the_run_a_fixed_cap_cut_short_when_sized_by_default_then_time_ends_it(load_run):
    # 30 users for 120 s stopped at 81 s on a fixed cap of 3,000 requests: 37 requests per second.
    assert load_run.default_max_requests(30, 120) > 3000 * 120 / 81 * 4


CLEAN = {"errors": 0, "settle": {"settled": True}, "audit": {"clean": True}}


def _capture_run(load_run, monkeypatch, tmp_path, argv: list[str], result: dict = CLEAN, code: int = 0) -> dict:
    captured = {}

    def fake_run(env, users, seconds, max_requests, spawn_rate, seed):
        captured.update(users=users, seconds=seconds, max_requests=max_requests)
        return result

    monkeypatch.setattr(load_run, "read_cloud_env", lambda: {})
    monkeypatch.setattr(load_run, "run", fake_run)
    assert load_run.main([*argv, "--output", str(tmp_path / "load_run.json")]) == code
    return captured


def test_given_no_max_requests_flag_when_started_then_the_run_gets_the_scaled_default(load_run, monkeypatch, tmp_path):
    captured = _capture_run(load_run, monkeypatch, tmp_path, ["--users", "30", "--seconds", "120"])
    assert captured["max_requests"] == load_run.default_max_requests(30, 120)


def test_given_a_max_requests_flag_when_started_then_it_is_the_bound(load_run, monkeypatch, tmp_path):
    captured = _capture_run(load_run, monkeypatch, tmp_path, ["--max-requests", "50"])
    assert captured["max_requests"] == 50


@pytest.mark.parametrize(
    "failed",
    [{"errors": 1}, {"settle": {"settled": False, "error": "not within 120 s: indexer"}}, {"audit": {"clean": False}}],
)
def test_given_an_error_an_unsettled_stream_or_an_audit_finding_when_the_run_ends_then_it_exits_1(
    load_run, monkeypatch, tmp_path, failed
):
    _capture_run(load_run, monkeypatch, tmp_path, [], result={**CLEAN, **failed}, code=1)


def test_given_no_cloud_env_when_started_then_it_exits_1_naming_make_dev(load_run, monkeypatch, capsys):
    def missing():
        raise FileNotFoundError("the local cloud is not running (.local/cloud.env missing): run `make dev` first")

    monkeypatch.setattr(load_run, "read_cloud_env", missing)
    with pytest.raises(SystemExit) as exit_info:
        load_run.main([])
    assert exit_info.value.code == 1
    assert "make dev" in capsys.readouterr().err


@pytest.mark.parametrize(("made", "bound", "reason"), [(99, 100, "time"), (100, 100, "max-requests")])
def test_given_requests_made_when_the_run_ended_then_the_bound_that_ended_it_is_named(load_run, made, bound, reason):
    assert load_run.stopped_by(made, bound) == reason


# --- settling -----------------------------------------------------------------------------------------------


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_given_consumers_catching_up_at_different_times_when_waiting_then_each_ones_delay_is_returned(load_run):
    clock = FakeClock()
    ready_at = {"fanout": 100.5, "indexer": 102.0, "notifier": 100.0, "trends": 101.0}
    asked = {name: 0 for name in ready_at}

    def check(name):
        def ask() -> bool:
            asked[name] += 1
            return clock.now >= ready_at[name]

        return ask

    seen = load_run.wait_until(
        {name: check(name) for name in ready_at}, timeout_s=10, interval_s=0.5, clock=clock, sleep=clock.sleep
    )
    assert seen == {"fanout": 0.5, "indexer": 2.0, "notifier": 0.0, "trends": 1.0}
    assert asked == {"fanout": 2, "indexer": 5, "notifier": 1, "trends": 3}  # never asked again once caught up


def test_given_a_consumer_that_never_catches_up_when_waiting_then_the_timeout_names_it_alone(load_run):
    clock = FakeClock()
    checks = {"fanout": lambda: True, "indexer": lambda: False, "trends": lambda: clock.now > 150}
    with pytest.raises(TimeoutError) as error:
        load_run.wait_until(checks, timeout_s=5, interval_s=1, clock=clock, sleep=clock.sleep)
    assert str(error.value) == "not within 5 s: indexer, trends"
    assert clock.now == 105


def test_given_no_time_left_when_waiting_then_each_check_is_still_asked_once(load_run):
    clock = FakeClock()
    assert load_run.wait_until({"outbox": lambda: True}, timeout_s=0, clock=clock, sleep=clock.sleep) == {"outbox": 0}


def test_given_the_marker_text_when_the_app_parses_it_then_it_carries_its_hashtag_and_mentions_the_reader(load_run):
    text = load_run.marker_text("settle0123456789ab", "seen0a1b2c3d4e5")
    assert hashtags(text) == ["settle0123456789ab"]
    assert mentions(text) == ["seen0a1b2c3d4e5"]
    assert len(text) <= 280


def test_given_api_pages_when_reading_their_tweet_ids_then_follows_without_a_tweet_are_left_out(load_run):
    home = {"items": [{"tweet": {"tweet_id": 3}}, {"tweet": {"tweet_id": 1}}], "next_cursor": None}
    notifications = {"items": [{"kind": "mention", "tweet_id": 7}, {"kind": "follow", "tweet_id": None}]}
    assert load_run.timeline_tweet_ids(home) == [3, 1]
    assert load_run.notification_tweet_ids(notifications) == [7]
    assert load_run.timeline_tweet_ids({"items": []}) == []


def test_given_one_shard_and_one_mapping_per_probed_consumer_when_checked_then_the_run_may_settle(load_run):
    consumers = ("fanout", "indexer", "notifier", "trends", "tweet_counter")
    load_run.check_stream(1, [f"Chirp-local-{name}" for name in consumers])
    load_run.check_stream(1, ["Chirp-local-engagements"], load_run.ENGAGEMENT_CONSUMERS, "engagements")


@pytest.mark.parametrize(
    ("shards", "consumers", "named"),
    [
        (2, ["fanout", "indexer", "notifier", "trends", "tweet_counter"], "2 open shards"),
        (1, ["fanout", "indexer", "notifier", "trends", "tweet_counter", "archiver"], "archiver"),
        (1, ["fanout", "indexer", "notifier", "trends"], "4 enabled consumers"),
    ],
)
def test_given_a_stream_one_marker_cannot_settle_when_checked_then_the_run_refuses_it(
    load_run, shards, consumers, named
):
    with pytest.raises(RuntimeError, match=named):
        load_run.check_stream(shards, consumers)


# --- percentiles (bench/stats.py, which the load run reports with) ------------------------------------------


def _closest_ranks(values: list[float], p: float) -> float:
    """The benchmarks' former hand-written percentile: linear between closest ranks (numpy's default)."""
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def test_given_samples_when_taking_percentiles_then_they_interpolate_between_closest_ranks():
    stats = load_bench("stats")
    assert stats.percentile([4, 1, 3, 2], 50) == 2.5
    assert stats.percentile([1, 2, 3, 4], 99) == pytest.approx(3.97)
    assert stats.percentile([1, 2, 3, 4], 0) == 1
    assert stats.percentile([1, 2, 3, 4], 100) == 4
    assert stats.percentile([7.0], 99) == 7.0
    assert math.isnan(stats.percentile([], 50))
    rng = random.Random(3)
    for size in (2, 3, 10, 200):
        values = [rng.expovariate(1) for _ in range(size)]
        for p in (1, 5, 25, 50, 75, 95, 99, 99.9, 12.5):
            assert stats.percentile(values, p) == pytest.approx(_closest_ranks(values, p), rel=1e-12)


def test_given_a_percentile_outside_0_to_100_when_asked_then_it_is_refused():
    with pytest.raises(ValueError, match=r"within 0\.\.100"):
        load_bench("stats").percentile([1, 2], 101)


class _Answer:
    def __init__(self, status: int, headers: dict[str, str] | None = None):
        self.status_code, self.headers = status, headers or {}


@pytest.mark.parametrize(
    ("status", "headers", "wait"),
    [
        (429, {"Retry-After": "7"}, 7.0),  # a rate limit: as long as it says
        (503, {"Retry-After": "60"}, 60.0),  # a degradation level or a dependency
        (429, {}, 1.0),  # the local cloud's throttle of a function at its reserved concurrency: no header
        (503, {}, None),  # says nothing about retrying: an error
        (200, {"Retry-After": "3"}, None),
        (409, {"Retry-After": "1"}, None),  # a racing Idempotency-Key is the test's to judge, not retried
    ],
)
def test_given_an_answer_when_judged_then_the_load_run_waits_as_it_says_before_retrying(
    load_run, status, headers, wait
):
    assert load_run.retry_after_s(_Answer(status, headers)) == wait


def test_given_answers_saying_retry_later_when_called_then_it_waits_retries_and_counts_the_retries(
    load_run, monkeypatch
):
    answers = [_Answer(429, {"Retry-After": "2"}), _Answer(429, {"Retry-After": "2"}), _Answer(201)]
    slept: list[float] = []
    monkeypatch.setattr(load_run.time, "sleep", slept.append)
    me = type("Me", (), {"call": lambda self, *a, **k: answers.pop(0)})()
    recorder = load_run.Recorder()
    simulated = load_run.SimulatedUser(me, [], random.Random(1), recorder)

    response = simulated._call("post", "POST", "/tweets", expected=(201,))

    assert response.status_code == 201
    assert slept == [2.0, 2.0]
    assert recorder.retried == {"429": 2}
    assert (recorder.requests, recorder.errors) == (1, [])


def test_given_functions_timed_in_turn_then_each_gets_its_own_median_each_round_calls_each_once_in_a_new_order(
    monkeypatch,
):
    stats = load_bench("stats")
    clock, calls = [0.0], []

    def taking(name: str, seconds: float):
        def call():
            calls.append(name)
            clock[0] += seconds

        return call

    monkeypatch.setattr(stats.time, "perf_counter", lambda: clock[0])

    medians = stats.interleaved_medians([taking("a", 1.0), taking("b", 3.0), taking("c", 5.0)], 60)

    assert medians == [1.0, 3.0, 5.0]
    rounds = [calls[at : at + 3] for at in range(0, len(calls), 3)]
    assert len(rounds) == 60
    assert all(sorted(r) == ["a", "b", "c"] for r in rounds)
    # Then no fn always follows the same one: each is called right after each other fn
    followed = {(before, after) for before, after in itertools.pairwise(calls) if before != after}
    assert followed == {(x, y) for x in "abc" for y in "abc" if x != y}
