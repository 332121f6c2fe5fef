"""A bounded load run against the deployed local cloud, then the consistency auditor.

N simulated users post, follow, unfollow, delete, read, like, unlike, retweet and unretweet through the HTTP API
for at most M seconds and at most R requests (loopback only), then the run settles (every consumer of the
new-tweets and engagements streams has processed everything the API accepted) and audits every participant's
home timeline against DynamoDB, and the like and retweet counts of their tweets against their edges.
Exits non-zero on any error or any audit difference.

The participants' rate limits are raised for the run (SSM overrides, as an operator raises them: the run measures
the system, not the limits), and a client told to wait (429 or 503 with Retry-After, or a function throttled by
its reserved concurrency) waits as told and retries, up to MAX_RETRIES times: only then is the answer an error.

    .venv/bin/python bench/load_run.py [--users 8] [--seconds 30] [--max-requests R] [--spawn-rate 2] [--seed 7]

--max-requests defaults to REQUESTS_PER_USER_S (20) per user and second of the run, four times what the local
cloud served here (about 5 per user and second on two cores): time ends a default run, and the result says
which bound did (`stopped_by`).

Users arrive at --spawn-rate per second, as with locust: MiniStack cold-starts one Lambda worker per
concurrent request, and a dozen cold starts at once on two cores took 30 s and more here.

Settling: once no tweet and no engagement event awaits publishing (both outboxes are empty), a probe author
posts a marker tweet (a reply to the probe's own first tweet), and the probe reader likes it; the run waits until
each stream consumer shows it: the fan-out in the home timeline of a probe reader who follows the author (a
timeline made live before the load, so only the fan-out can put it there), the indexer in search by the
marker's own hashtag, the notifier as a mention in the reader's notifications, trends as that hashtag's counted use
in Redis, the reply counter as the first tweet's reply count, and the engagements consumer as the author's like
notification of the marker. MiniStack's event source mappings read each shard in order and move past a batch
only when the function returned without error, so a consumer that shows the marker has processed every record
put before it. That holds within one shard: the run refuses a stream with more than one (the local stage has
one), and one with another number of enabled consumers than it probes. Last, the fan-out's page queue (SQS, the
popular tier, retweets included) must be empty.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import requests

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(BENCH), str(ROOT), str(ROOT / "shared")]

from stats import median, percentile  # noqa: E402

from localstack.api_client import Accounts, User  # noqa: E402
from localstack.cloud_env import read_cloud_env  # noqa: E402

# The mix of one simulated user's actions, by weight (reads dominate, as on any social network).
MIX = {
    "read_home": 40,
    "post": 20,
    "follow": 10,
    "unfollow": 5,
    "delete": 4,
    "read_user": 7,
    "like": 8,
    "unlike": 2,
    "retweet": 3,
    "unretweet": 1,
}
SEEN_KEPT = 50  # the tweets a simulated user remembers having read, to like and retweet
REQUESTS_PER_USER_S = 20  # the default --max-requests per user and second
MAX_RETRIES = 3  # answers that say "retry later" are retried this many times before counting as errors
RETRY_STATUSES = (429, 503)
WARM_UP_TIMEOUT_S = 180
SETTLE_TIMEOUT_S = 120  # straight after a deploy, every consumer cold-starts and works through the whole run
# The consumers of the new-tweets stream, each with the effect of a tweet that settle() waits for.
CONSUMERS = ("fanout", "indexer", "notifier", "trends", "tweet_counter")
# The consumers of the engagements stream, likewise.
ENGAGEMENT_CONSUMERS = ("engagements",)


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = {action: [] for action in MIX}
        self.errors: list[str] = []
        self.requests = 0
        self.retried: dict[str, int] = {}  # answers that said "retry later", by status, waited out and retried

    def record(self, action: str, seconds: float, response, expected: tuple[int, ...]) -> None:
        with self.lock:
            self.requests += 1
            self.latencies[action].append(seconds)
            if response.status_code not in expected:
                self.errors.append(f"{action}: {response.status_code} {response.text[:200]}")

    def record_retry(self, status: int) -> None:
        with self.lock:
            self.retried[str(status)] = self.retried.get(str(status), 0) + 1

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
        self.seen: list[int] = []  # tweets read lately (shown in a timeline), to like and retweet
        self.liked: set[int] = set()
        self.retweeted: set[int] = set()

    def act(self) -> None:
        action = self.rng.choices(list(MIX), weights=list(MIX.values()))[0]
        others = [u.user_id for u in self.everyone if u.user_id != self.me.user_id]
        if action in ("like", "retweet") and self.seen:
            tweet_id = self.rng.choice(self.seen)
            # 404: deleted since it was read; the act is idempotent, so a repeat is a 200 like the first.
            response = self._call(action, "POST", f"/tweets/{tweet_id}/{action}", expected=(200, 404))
            if response is not None and response.status_code == 200:
                (self.liked if action == "like" else self.retweeted).add(response.json()["tweet_id"])
        elif action in ("unlike", "unretweet") and (self.liked if action == "unlike" else self.retweeted):
            done = self.liked if action == "unlike" else self.retweeted
            tweet_id = self.rng.choice(sorted(done))
            self._call(action, "DELETE", f"/tweets/{tweet_id}/{action.removeprefix('un')}")
            done.discard(tweet_id)
        elif action == "follow":
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
            response = self._call(action, "GET", f"/users/{self.rng.choice(others)}/tweets", params={"limit": 20})
            if response is not None and response.status_code == 200:
                self._saw([t["tweet_id"] for t in response.json()["items"]])
        else:
            response = self._call("read_home", "GET", "/timelines/home", params={"limit": 20})
            if response is not None and response.status_code == 200:
                self._saw(timeline_tweet_ids(response.json()))

    def _saw(self, tweet_ids: list[int]) -> None:
        self.seen = (tweet_ids + self.seen)[:SEEN_KEPT]

    def _call(self, action: str, method: str, path: str, expected=(200,), **kwargs) -> requests.Response | None:
        for attempt in range(MAX_RETRIES + 1):
            started = time.perf_counter()
            try:
                response = self.me.call(method, path, **kwargs)
            except requests.RequestException as error:
                self.recorder.record_failure(action, error)
                return None
            wait = retry_after_s(response)
            if wait is None or attempt == MAX_RETRIES:
                break
            self.recorder.record_retry(response.status_code)
            time.sleep(wait)
        self.recorder.record(action, time.perf_counter() - started, response, expected)
        return response


def retry_after_s(response: requests.Response) -> float | None:
    """How long an answer says to wait before retrying, or None if it does not say so. A 429 or 503 names it in
    Retry-After; a function throttled at its reserved concurrency is a bare 429 from the local cloud (AWS: a 503
    from the gateway, with Retry-After), taken as one second."""
    if response.status_code not in RETRY_STATUSES:
        return None
    value = response.headers.get("Retry-After")
    if value is None:
        return 1.0 if response.status_code == 429 else None
    return float(value) if value.replace(".", "", 1).isdigit() else 1.0


def default_max_requests(users: int, seconds: float) -> int:
    """The request bound of a run without --max-requests: it grows with users and seconds, so that it is time
    that ends the run (a fixed bound once stopped a 30-user, 120 s run at 81 s)."""
    return max(1, math.ceil(users * seconds * REQUESTS_PER_USER_S))


def stopped_by(requests_made: int, max_requests: int) -> str:
    return "max-requests" if requests_made >= max_requests else "time"


# --- settling ---------------------------------------------------------------------------------------------


def wait_until(
    checks: dict[str, Callable[[], bool]],
    timeout_s: float,
    *,
    interval_s: float = 0.25,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, float]:
    """Polls each check until it has returned True once (it is not asked again), and returns the seconds each
    took. Raises TimeoutError naming those that did not within timeout_s (every check is asked at least once)."""
    started = clock()
    done: dict[str, float] = {}
    while True:
        for name, check in checks.items():
            if name not in done and check():
                done[name] = clock() - started
        if len(done) == len(checks):
            return done
        if clock() - started >= timeout_s:
            pending = [name for name in checks if name not in done]
            raise TimeoutError(f"not within {timeout_s:.0f} s: {', '.join(pending)}")
        sleep(interval_s)


def marker_text(tag: str, reader_handle: str) -> str:
    """The marker tweet: a hashtag of its own (indexer, trends) and a mention of the probe reader (notifier)."""
    return f"load run settled? #{tag} @{reader_handle}"


def timeline_tweet_ids(payload: dict) -> list[int]:
    """The tweet ids of a page of GET /timelines/home or GET /search."""
    return [entry["tweet"]["tweet_id"] for entry in payload.get("items", [])]


def notification_tweet_ids(payload: dict) -> list[int]:
    """The tweet ids of a page of GET /notifications (a follow has none)."""
    return [item["tweet_id"] for item in payload.get("items", []) if item.get("tweet_id") is not None]


def check_stream(
    open_shards: int, consumers: list[str], probed: tuple[str, ...] = CONSUMERS, stream: str = "new-tweets"
) -> None:
    """Refuses a stream the marker cannot settle: more than one shard (records are ordered within a shard
    only), or another number of enabled consumers than the ones it probes (one check each)."""
    if open_shards != 1:
        raise RuntimeError(
            f"the {stream} stream has {open_shards} open shards: settling with one marker needs exactly one"
        )
    if len(consumers) != len(probed):
        raise RuntimeError(
            f"the {stream} stream has {len(consumers)} enabled consumers ({', '.join(sorted(consumers))}); "
            f"settle() probes {len(probed)} ({', '.join(probed)}): give a new one its check in "
            "SettleProbe.post_marker"
        )


def aws(env: dict[str, str], service: str):
    return boto3.client(
        service,
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )


def stream_consumers(env: dict[str, str], output: str = "NewTweetsStream") -> tuple[int, list[dict]]:
    """A stream's open shards and its enabled event source mappings (by its stack output: the new-tweets stream by
    default)."""
    summary = aws(env, "kinesis").describe_stream_summary(StreamName=env[f"CHIRP_OUTPUT_{output}"])
    summary = summary["StreamDescriptionSummary"]
    pages = aws(env, "lambda").get_paginator("list_event_source_mappings")
    mappings = [
        mapping
        for page in pages.paginate(EventSourceArn=summary["StreamARN"])
        for mapping in page["EventSourceMappings"]
        if mapping.get("State", "Enabled") == "Enabled"
    ]
    return summary["OpenShardCount"], mappings


def function_name(mapping: dict) -> str:
    return mapping["FunctionArn"].rsplit(":function:", 1)[-1]


class SettleProbe:
    """The marker's author and its reader (who follows the author and whose timeline is live), created before
    the load so that settling does not wait for sign-ups."""

    def __init__(self, env: dict[str, str], accounts: Accounts):
        self.author, self.reader = accounts.create("mark"), accounts.create("seen")
        _expect(self.reader.call("POST", f"/users/{self.author.user_id}/follow"), 200, "the probe reader's follow")
        # Markers reply to this tweet: the reply counter shows each as one more reply.
        response = self.author.call("POST", "/tweets", json={"text": "settle markers reply here"})
        _expect(response, 201, "the probe's first tweet")
        self.parent, self.markers = response.json()["tweet_id"], 0
        # The fan-out pushes to live timelines only; a read makes the reader's live, and later reads are then
        # answered from Redis (an absent timeline would be rebuilt from DynamoDB, marker included).
        _expect(self.reader.call("GET", "/timelines/home", params={"limit": 1}), 200, "the probe reader's read")
        from chirp.adapters.redis.client import redis_client  # the app's: one server, or every node of a cluster
        from chirp.settings import Settings

        self.redis = redis_client(Settings.from_env(env))

    def post_marker(self) -> tuple[int, dict[str, Callable[[], bool]]]:
        """Posts the marker; returns its id and, for each consumer, whether the marker shows in its effect."""
        tag = f"settle{uuid.uuid4().hex[:12]}"
        body = {"text": marker_text(tag, self.reader.handle), "reply_to_id": self.parent}
        response = self.author.call("POST", "/tweets", json=body)
        _expect(response, 201, "the marker tweet")
        marker = response.json()["tweet_id"]
        self.markers += 1
        _expect(self.reader.call("POST", f"/tweets/{marker}/like"), 200, "the marker's like")

        def shows(user: User, path: str, ids: Callable[[dict], list[int]], **params) -> bool:
            try:
                response = user.call("GET", path, params=params)
            except requests.RequestException:  # no answer this time (a cold start, say): ask again
                return False
            return response.status_code == 200 and marker in ids(response.json())

        def replies_counted() -> bool:
            try:
                response = self.author.call("GET", f"/tweets/{self.parent}")
            except requests.RequestException:
                return False
            return response.status_code == 200 and response.json()["reply_count"] >= self.markers

        def liked() -> list[int]:
            try:
                response = self.author.call("GET", "/notifications")
            except requests.RequestException:
                return []
            items = response.json()["items"] if response.status_code == 200 else []
            return [n["tweet_id"] for n in items if n["kind"] == "like"]

        checks = {
            "fanout": lambda: shows(self.reader, "/timelines/home", timeline_tweet_ids, limit=20),
            "indexer": lambda: shows(self.author, "/search", timeline_tweet_ids, hashtag=tag),
            "notifier": lambda: shows(self.reader, "/notifications", notification_tweet_ids),
            "trends": lambda: any(self.redis.scan_iter(match=f"trend:{{{tag}}}:*", count=1000)),
            "tweet_counter": replies_counted,
            "engagements": lambda: marker in liked(),
        }
        return marker, checks


def _expect(response: requests.Response, status: int, what: str) -> None:
    if response.status_code != status:
        raise RuntimeError(f"{what} answered {response.status_code}: {response.text[:200]}")


def settle(env: dict[str, str], probe: SettleProbe, timeout_s: float = SETTLE_TIMEOUT_S) -> dict:
    """Waits until what the API accepted has gone through every stream consumer and the fan-out's page queue;
    returns how long it took, and how long after the marker each consumer showed it."""
    started = time.monotonic()

    def remaining() -> float:
        return max(0.0, timeout_s - (time.monotonic() - started))

    dynamodb, sqs = aws(env, "dynamodb"), aws(env, "sqs")

    def outbox_empty() -> bool:  # the sparse `outbox` index holds the tweets whose publish is not confirmed
        scanned = dynamodb.scan(TableName=env["CHIRP_OUTPUT_TweetsTable"], IndexName="outbox", Select="COUNT")
        return scanned["Count"] == 0 and "LastEvaluatedKey" not in scanned

    def engagement_outbox_empty() -> bool:  # events recorded whose publish is not confirmed, in 16 partitions
        from chirp.adapters.dynamodb.engagement_store import OUTBOX_SHARDS

        return not any(
            dynamodb.query(
                TableName=env["CHIRP_OUTPUT_EngagementsTable"],
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": f"OUTBOX#{shard}"}},
                Select="COUNT",
                Limit=1,
            )["Count"]
            for shard in range(OUTBOX_SHARDS)
        )

    wait_until(
        {
            "outbox (tweets not yet on the stream)": outbox_empty,
            "engagement outbox (events not yet on the stream)": engagement_outbox_empty,
        },
        remaining(),
    )
    marker, checks = probe.post_marker()
    try:
        seen = wait_until(checks, remaining())
    except TimeoutError as error:
        _, mappings = stream_consumers(env)
        states = ", ".join(f"{function_name(m)}: {m.get('LastProcessingResult', '?')}" for m in mappings)
        raise TimeoutError(f"marker tweet {marker} not shown {error} (mappings: {states})") from None
    queue_url = env.get("CHIRP_OUTPUT_FanoutQueueUrl")
    if queue_url:  # the fan-out hands a popular author's follower pages to fanout_worker through this queue

        def queue_empty() -> bool:
            attributes = sqs.get_queue_attributes(
                QueueUrl=queue_url,
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
            return sum(int(value) for value in attributes.values()) == 0

        wait_until({"fan-out page queue": queue_empty}, remaining())
    return {
        "seconds": round(time.monotonic() - started, 1),
        "marker_seen_after_s": {name: round(seen[name], 1) for name in (*CONSUMERS, *ENGAGEMENT_CONSUMERS)},
    }


def audit(env: dict[str, str], people: list[User]):
    """The auditor's report on every participant's home timeline, and on the counts of their tweets."""
    from chirp.composition import build_services
    from chirp.settings import Settings

    services = build_services(Settings.from_env(env))
    for person in people:  # a participant never read may have no live timeline: make it live, as a visit does
        services.timelines.home(person.user_id, cursor=None, limit=1)
    return services.auditor().audit([p.user_id for p in people])


def warm_up(people: list[User], timeout_s: float = WARM_UP_TIMEOUT_S) -> None:
    """One request per user, all at once, until all answer: the local cloud starts one API worker per concurrent
    request, and cold starts that overlap on two cores would otherwise be measured as the load's latency (or
    time out). On AWS they run on separate hardware; here they compete for the same two cores."""

    def answered(person: User) -> bool:
        try:
            return person.call("GET", "/users/me").status_code == 200
        except requests.RequestException:
            return False

    deadline = time.monotonic() + timeout_s
    with ThreadPoolExecutor(max_workers=len(people)) as pool:
        while not all(pool.map(answered, people)):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the API did not answer {len(people)} concurrent users within {timeout_s:.0f} s")


def run(env: dict[str, str], users: int, seconds: float, max_requests: int, spawn_rate: float, seed: int) -> dict:
    os.environ.update(env)  # boto3 (credentials, endpoint) reads the same deployment as the API
    shards, mappings = stream_consumers(env)
    check_stream(shards, [function_name(m) for m in mappings])  # before the load: a run that cannot settle fails fast
    shards, mappings = stream_consumers(env, "EngagementsStream")
    check_stream(shards, [function_name(m) for m in mappings], ENGAGEMENT_CONSUMERS, "engagements")
    accounts = Accounts(env)
    people = [accounts.create("load") for _ in range(users)]
    probe = SettleProbe(env, accounts)
    raised = [*people, probe.author, probe.reader]
    accounts.raise_limits(raised)
    try:
        return _drive(env, people, probe, seconds, max_requests, spawn_rate, seed)
    finally:
        accounts.restore_limits(raised)


def _drive(env, people: list[User], probe: SettleProbe, seconds, max_requests, spawn_rate, seed) -> dict:
    users = len(people)
    warm_up(people)
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

    try:
        settled = {"settled": True, **settle(env, probe)}
    except TimeoutError as error:  # reported, and the run fails; the audit still says what it finds
        settled = {"settled": False, "error": str(error)}
    report = audit(env, people)
    every = [latency for latencies in recorder.latencies.values() for latency in latencies]
    return {
        "users": users,
        "spawn_rate": spawn_rate,
        "seconds": round(elapsed, 1),
        "max_requests": max_requests,
        "stopped_by": stopped_by(recorder.requests, max_requests),
        "requests": recorder.requests,
        "requests_per_s": round(recorder.requests / elapsed, 1),
        "errors": len(recorder.errors),
        "error_samples": recorder.errors[:5],
        "retried_after_waiting": recorder.retried,
        "p50_ms": round(percentile(every, 50) * 1000, 1) if every else None,
        "p99_ms": round(percentile(every, 99) * 1000, 1) if every else None,
        "max_ms": round(max(every, default=0.0) * 1000, 1),
        "by_action": {
            action: {"count": len(v), "p50_ms": round(median(v) * 1000, 1) if v else None}
            for action, v in recorder.latencies.items()
        },
        "settle": settled,
        "audit": {
            "timelines": report.users,
            "tweets_counted": report.tweets_counted,
            "clean": report.clean,
            "findings": [f.__dict__ for f in report.findings[:5]],
            "count_findings": [f.__dict__ for f in report.count_findings[:5]],
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument(
        "--max-requests", type=int, help=f"default: {REQUESTS_PER_USER_S} per user and second (users x seconds x 20)"
    )
    parser.add_argument("--spawn-rate", type=float, default=2.0, help="users started per second")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "load_run.json")
    args = parser.parse_args(argv)
    if not 2 <= args.users <= 200:
        parser.error("--users must be 2..200")
    if not 0 < args.seconds <= 1800:
        parser.error("--seconds must be 1..1800")
    if args.max_requests is not None and args.max_requests < 1:
        parser.error("--max-requests must be at least 1")
    if not args.spawn_rate > 0 or (args.users - 1) / args.spawn_rate >= args.seconds:
        parser.error("--spawn-rate must be above 0 and start the last user before the run ends")
    max_requests = args.max_requests or default_max_requests(args.users, args.seconds)
    try:
        env = read_cloud_env()
    except FileNotFoundError as error:
        parser.exit(1, f"{error}\n")
    result = run(env, args.users, args.seconds, max_requests, args.spawn_rate, args.seed)
    print(json.dumps(result, indent=2))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    return 0 if result["errors"] == 0 and result["settle"]["settled"] and result["audit"]["clean"] else 1


if __name__ == "__main__":
    sys.exit(main())
