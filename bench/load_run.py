"""A bounded load run against the deployed local cloud, then the consistency auditor.

N simulated users post, follow, unfollow, delete and read through the HTTP API for at most M seconds
and at most R requests (loopback only), then the run waits for the fan-out to settle and audits every
participant's home timeline against DynamoDB. Exits non-zero on any error or any audit difference.

    .venv/bin/python bench/load_run.py [--users 8] [--seconds 30] [--max-requests 3000] [--spawn-rate 2] [--seed 7]

Users arrive at --spawn-rate per second, as with locust: MiniStack cold-starts one Lambda worker per
concurrent request, and a dozen cold starts at once on two cores took 30 s and more here.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "shared")]

from chirp.audit import TimelineAuditor  # noqa: E402
from chirp.service import build_services  # noqa: E402
from chirp.settings import Settings  # noqa: E402
from tests.conftest import read_cloud_env  # noqa: E402
from tests.e2e.client import Accounts, User  # noqa: E402

# The mix of one simulated user's actions, by weight (reads dominate, as on any social network).
MIX = {"read_home": 45, "post": 25, "follow": 12, "unfollow": 6, "delete": 4, "read_user": 8}
SETTLE_TIMEOUT_S = 60


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = {action: [] for action in MIX}
        self.errors: list[str] = []
        self.requests = 0

    def record(self, action: str, seconds: float, response, expected: tuple[int, ...]) -> None:
        with self.lock:
            self.requests += 1
            self.latencies[action].append(seconds)
            if response.status_code not in expected:
                self.errors.append(f"{action}: {response.status_code} {response.text[:200]}")

    def record_failure(self, action: str, error: Exception) -> None:
        """A request that got no answer (timeout, refused connection) is an error like any other."""
        with self.lock:
            self.requests += 1
            self.errors.append(f"{action}: {type(error).__name__}: {str(error)[:200]}")

    def record_crash(self, error: Exception) -> None:
        """A simulated user that died: an error of the run, though not a request."""
        with self.lock:
            self.errors.append(f"crashed: {type(error).__name__}: {str(error)[:200]}")


class SimulatedUser:
    def __init__(self, me: User, everyone: list[User], rng: random.Random, recorder: Recorder):
        self.me, self.everyone, self.rng, self.recorder = me, everyone, rng, recorder
        self.my_tweets: list[int] = []
        self.following: set[str] = set()

    def act(self) -> None:
        action = self.rng.choices(list(MIX), weights=list(MIX.values()))[0]
        others = [u.user_id for u in self.everyone if u.user_id != self.me.user_id]
        if action == "follow":
            target = self.rng.choice(others)
            self._call(action, "POST", f"/users/{target}/follow")
            self.following.add(target)
        elif action == "unfollow" and self.following:
            target = self.rng.choice(sorted(self.following))
            self._call(action, "DELETE", f"/users/{target}/follow")
            self.following.discard(target)
        elif action == "delete" and self.my_tweets:
            tweet_id = self.my_tweets.pop(self.rng.randrange(len(self.my_tweets)))
            self._call(action, "DELETE", f"/tweets/{tweet_id}", expected=(204,))
        elif action == "post":
            response = self._call(
                action, "POST", "/tweets", json={"text": f"load #{self.rng.randrange(20)}"}, expected=(201,)
            )
            if response is not None and response.status_code == 201:
                self.my_tweets.append(response.json()["tweet_id"])
        elif action == "read_user":
            self._call(action, "GET", f"/users/{self.rng.choice(others)}/tweets", params={"limit": 20})
        else:
            self._call("read_home", "GET", "/timelines/home", params={"limit": 20})

    def _call(self, action: str, method: str, path: str, expected=(200,), **kwargs) -> requests.Response | None:
        started = time.perf_counter()
        try:
            response = self.me.call(method, path, **kwargs)
        except requests.RequestException as error:
            self.recorder.record_failure(action, error)
            return None
        self.recorder.record(action, time.perf_counter() - started, response, expected)
        return response


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def settle(services) -> None:
    """Waits until no tweet awaits publishing and the fan-out pages queue is drained, then one consumer
    poll more: what the API accepted has been delivered."""
    sqs = services.feeds.pages.client
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while time.monotonic() < deadline:
        attributes = sqs.get_queue_attributes(
            QueueUrl=services.feeds.pages.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        queued = sum(int(value) for value in attributes.values())
        if queued == 0 and not list(services.tweets.store.pending_ids()):
            time.sleep(3)  # the stream consumer polls about once a second
            return
        time.sleep(0.5)
    raise RuntimeError(f"the fan-out did not settle within {SETTLE_TIMEOUT_S}s")


def run(users: int, seconds: float, max_requests: int, spawn_rate: float, seed: int) -> dict:
    env = read_cloud_env()
    os.environ.update(env)  # boto3 (credentials, endpoint) reads the same deployment as the API
    accounts = Accounts(env)
    people = [accounts.create("load") for _ in range(users)]
    recorder = Recorder()
    deadline = time.monotonic() + seconds

    def drive(index: int) -> None:
        simulated = SimulatedUser(people[index], people, random.Random(seed * 1000 + index), recorder)
        try:
            while time.monotonic() < deadline and recorder.requests < max_requests:
                simulated.act()
        except Exception as error:  # noqa: BLE001 - a user that dies must show in the report, not vanish
            recorder.record_crash(error)

    started = time.monotonic()
    threads = [threading.Thread(target=drive, args=(i,)) for i in range(users)]
    for index, thread in enumerate(threads):
        if index:
            time.sleep(1 / spawn_rate)
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started

    services = build_services(Settings.from_env(env))
    settle(services)
    feeds = services.feeds
    for person in people:  # a participant never read may have no live timeline: make it live, as a visit does
        feeds.home(person.user_id, cursor=None, limit=1)
    report = TimelineAuditor(feeds.cache, feeds.tweets, feeds.social).audit([p.user_id for p in people])
    every = [latency for latencies in recorder.latencies.values() for latency in latencies]
    return {
        "users": users,
        "spawn_rate": spawn_rate,
        "seconds": round(elapsed, 1),
        "requests": recorder.requests,
        "requests_per_s": round(recorder.requests / elapsed, 1),
        "errors": len(recorder.errors),
        "error_samples": recorder.errors[:5],
        "p50_ms": round(percentile(every, 0.50) * 1000, 1),
        "p99_ms": round(percentile(every, 0.99) * 1000, 1),
        "max_ms": round(max(every, default=0.0) * 1000, 1),
        "by_action": {
            action: {"count": len(v), "p50_ms": round(statistics.median(v) * 1000, 1) if v else None}
            for action, v in recorder.latencies.items()
        },
        "audit": {
            "timelines": report.users,
            "clean": report.clean,
            "findings": [f.__dict__ for f in report.findings[:5]],
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--max-requests", type=int, default=3000)
    parser.add_argument("--spawn-rate", type=float, default=2.0, help="users started per second")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "load_run.json")
    args = parser.parse_args(argv)
    if not 2 <= args.users <= 200:
        parser.error("--users must be 2..200")
    if not 0 < args.seconds <= 1800:
        parser.error("--seconds must be 1..1800")
    if args.max_requests < 1:
        parser.error("--max-requests must be at least 1")
    if not args.spawn_rate > 0 or (args.users - 1) / args.spawn_rate >= args.seconds:
        parser.error("--spawn-rate must be above 0 and start the last user before the run ends")
    result = run(args.users, args.seconds, args.max_requests, args.spawn_rate, args.seed)
    print(json.dumps(result, indent=2))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    return 0 if result["errors"] == 0 and result["audit"]["clean"] else 1


if __name__ == "__main__":
    sys.exit(main())
