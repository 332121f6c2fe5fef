"""Delivery latency through the deployed local cloud, over HTTP: how long after `POST /tweets` returns does
the tweet appear in a follower's `GET /timelines/home` (API Gateway -> Lambda -> DynamoDB + Kinesis ->
fan-out Lambda -> Redis -> API Gateway -> Lambda)?

Creates an author and a follower (Cognito users + POST /users, as tests/e2e do), makes the follower's
timeline live (one read, as an active user's would be), follows, then posts --posts tweets one after the
other; after each, polls the follower's home timeline every 10 ms (--timeout 10 s). The resolution is that
of a poll: one GET /timelines/home, whose own latency is printed; finer, a thread watches the follower's
timeline in Redis (read-only ZSCORE every millisecond) for when the asynchronous fan-out wrote it.
The first --warmup posts are reported apart: a fan-out consumer that starts cold (after a deployment, or
after cold_start.py) takes seconds. Baseline in the same run: GET /health.
Both users' rate limits are raised for the run (SSM overrides). Deletes the users, their tweets and their Redis
keys at the end.

Usage: .venv/bin/python bench/delivery_latency.py [--posts 200] [--warmup 3]
"""

from __future__ import annotations

import argparse
import contextlib
import math
import threading
import time

import cloud
import report
import requests
from report import table
from stats import RUNS, median, percentile

from chirp.adapters.dynamodb.social_store import PROFILE, user_key
from chirp.adapters.dynamodb.tables import SocialItem, TweetItem, bind_tables
from chirp.adapters.redis.timeline_cache import timeline_key
from localstack.api_client import Accounts, User

NAME = "delivery_latency"
HEALTH_CALLS = 10  # before and again after the posts


def home_ids(user: User) -> tuple[bool, list[int]]:
    response = user.call("GET", "/timelines/home", params={"limit": 20})
    if response.status_code != 200:
        return False, []
    return True, [entry["tweet"]["tweet_id"] for entry in response.json()["items"]]


def health_ms(session: requests.Session, api: str) -> list[float]:
    samples = []
    for _ in range(HEALTH_CALLS):
        started = time.perf_counter()
        response = session.get(f"{api}/health", timeout=30)
        samples.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            print(f"warning: GET /health answered {response.status_code}: {response.text[:200]}")
    return samples


class RedisWatcher(threading.Thread):
    """Finer than the HTTP polls: notes when the tweet reaches the follower's timeline in Redis (ZSCORE every
    millisecond on the app's database, read-only), i.e. when the asynchronous fan-out has written it."""

    def __init__(self, client, timeline: str):
        super().__init__(daemon=True)
        self.client, self.timeline = client, timeline
        self.target: tuple[int, float] | None = None
        self.arrived: dict[int, float] = {}  # tweet id -> ms after POST returned (0: already there)
        self.stop = threading.Event()

    def watch(self, tweet_id: int, posted: float) -> None:
        self.target = (tweet_id, posted)

    def run(self) -> None:
        while not self.stop.is_set():
            target = self.target
            if target and target[0] not in self.arrived and self.client.zscore(self.timeline, target[0]) is not None:
                self.arrived[target[0]] = max(0.0, (time.perf_counter() - target[1]) * 1000)
            time.sleep(0.001)


def cleanup(env, cognito, settings, users: list[tuple[str, str | None]], tweet_ids: list[int]) -> None:
    pool = env["CHIRP_OUTPUT_UserPoolId"]
    for handle, _ in users:
        with contextlib.suppress(cognito.exceptions.UserNotFoundException):
            cognito.admin_delete_user(UserPoolId=pool, Username=handle)
    subs = [sub for _, sub in users if sub]
    bind_tables(settings)
    with TweetItem.batch_write() as batch:
        for tweet_id in tweet_ids:
            batch.delete(TweetItem(tweet_id=tweet_id))
    with SocialItem.batch_write() as batch:
        for handle, sub in users:
            batch.delete(SocialItem(pk=f"HANDLE#{handle.lower()}", sk="HANDLE"))
            if sub:
                batch.delete(SocialItem(pk=user_key(sub), sk=PROFILE))
                for other in subs:
                    batch.delete(SocialItem(pk=user_key(sub), sk=f"FOLLOWS#{other}"))
    app_redis = cloud.bench_redis(settings, db=0)  # the deployed app's database: only these users' keys
    deleted = cloud.unlink(app_redis, [f"tweet:{t}" for t in tweet_ids])
    for sub in subs:
        deleted += cloud.delete_matching(app_redis, f"*{sub}*")
    print(
        f"cleaned up: {len(users)} Cognito users, their profiles, follow and {len(tweet_ids)} tweets in DynamoDB, "
        f"{deleted} Redis keys"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=3, help="posts delivered first, reported apart")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for each delivery")
    parser.add_argument("--interval", type=float, default=0.01, help="seconds between polls")
    parser.add_argument("--batches", type=int, default=RUNS, help="p50 reported per batch of posts too")
    args = parser.parse_args()

    env = cloud.cloud_env()
    settings = cloud.cloud_settings()
    api = env["CHIRP_API_URL"].rstrip("/")
    env["CHIRP_API_URL"] = api
    accounts = Accounts(env)
    cognito = accounts.cognito
    session = requests.Session()
    users: list[tuple[str, str | None]] = []
    tweet_ids: list[int] = []
    latencies_ms: list[float] = []
    per_post: list[dict] = []
    post_ms, poll_ms, failures = [], [], []
    warmup: list[dict] = []
    try:
        health = health_ms(session, api)
        author, follower = accounts.create("dla"), accounts.create("dlf")
        users += [(author.handle, author.user_id), (follower.handle, follower.user_id)]
        accounts.raise_limits([author, follower])  # 200 posts and a poll every 10 ms: far past the local tiers
        ok, _ = home_ids(follower)  # the follower is active: a live timeline, which fan-out writes to
        followed = follower.call("POST", f"/users/{author.user_id}/follow")
        if not ok or followed.status_code != 200:
            raise SystemExit(f"setup failed: follow answered {followed.status_code}: {followed.text}")
        print(f"author {author.handle}, follower {follower.handle}; {args.posts} posts against {api}")
        watcher = RedisWatcher(cloud.bench_redis(settings, db=0), timeline_key(follower.user_id))
        watcher.start()

        def deliver(i: int, text: str) -> dict:
            """Posts, then polls the follower's home timeline until the tweet is there (or times out)."""
            started = time.perf_counter()
            response = author.call("POST", "/tweets", json={"text": text})
            posted = time.perf_counter()
            if response.status_code != 201:
                return {"post": i, "error": f"POST /tweets {response.status_code}: {response.text[:200]}"}
            tweet_id = response.json()["tweet_id"]
            tweet_ids.append(tweet_id)
            watcher.watch(tweet_id, posted)
            polls, polls_ms = 0, []
            while True:
                poll_started = time.perf_counter()
                _, ids = home_ids(follower)
                now = time.perf_counter()
                polls += 1
                polls_ms.append((now - poll_started) * 1000)
                if tweet_id in ids:
                    break
                if now - posted > args.timeout:
                    return {"post": i, "tweet_id": tweet_id, "error": f"not delivered in {args.timeout} s"}
                time.sleep(args.interval)
            return {
                "post": i,
                "tweet_id": tweet_id,
                "ms": round((now - posted) * 1000, 2),
                "polls": polls,
                "post_ms": (posted - started) * 1000,
                "polls_ms": polls_ms,
            }

        # Unmeasured first posts: a fan-out consumer started cold (after a deployment, or cold_start.py's
        # configuration changes) takes seconds; those are cold starts, reported apart.
        warmup = [deliver(-1 - i, f"delivery benchmark warm-up {i}") for i in range(args.warmup)]
        print("warm-up deliveries: " + ", ".join(f"{w['ms']:,.0f} ms" if "ms" in w else w["error"] for w in warmup))
        for i in range(args.posts):
            record = deliver(i, f"delivery benchmark {i} of {args.posts}")
            if "error" in record:
                failures.append(record)
                continue
            post_ms.append(record.pop("post_ms"))
            poll_ms.extend(record.pop("polls_ms"))
            latencies_ms.append(record["ms"])
            per_post.append(record)
            if (i + 1) % 50 == 0:
                print(f"  {i + 1} posts, p50 so far {median(latencies_ms):.0f} ms")
        watcher.stop.set()
        health += health_ms(session, api)
    finally:
        cleanup(env, cognito, settings, users, tweet_ids)
        accounts.restore_limits([User(user_id=sub, handle=h, token="", api=api) for h, sub in users if sub])

    if not latencies_ms:
        raise SystemExit(f"no tweet was delivered; failures: {failures[:3]}")
    n = len(per_post)
    batches = [per_post[b * n // args.batches : (b + 1) * n // args.batches] for b in range(args.batches)]
    batch_p50 = [round(median(p["ms"] for p in batch), 1) for batch in batches if batch]
    size = n // args.batches
    stats = {
        "p50": percentile(latencies_ms, 50),
        "p95": percentile(latencies_ms, 95),
        "p99": percentile(latencies_ms, 99),
        "max": max(latencies_ms),
    }
    health_median = median(health)
    in_redis = [watcher.arrived[p["tweet_id"]] for p in per_post if p["tweet_id"] in watcher.arrived]
    redis_stats = {k: percentile(in_redis, p) for k, p in (("p50", 50), ("p95", 95), ("p99", 99))} if in_redis else {}
    first_poll = sum(1 for p in per_post if p["polls"] == 1) / len(per_post)
    print(f"\nbaseline (same run): GET /health round trip, median of {len(health)} = {health_median:.1f} ms\n")
    print(
        table(
            ["delivered", "failures", "p50 ms", "p95 ms", "p99 ms", "max ms", "p50 / health"],
            [[
                len(latencies_ms), len(failures), *(f"{stats[k]:.1f}" for k in ("p50", "p95", "p99", "max")),
                f"{stats['p50'] / health_median:.1f}x",
            ]],
        )
    )  # fmt: skip
    print(
        f"\nPOST /tweets median {median(post_ms):.1f} ms; one poll (GET /timelines/home) median "
        f"{median(poll_ms):.1f} ms; polls per delivery median {median(p['polls'] for p in per_post):.0f}, "
        f"{first_poll:.0%} found on the first poll; p50 per batch of {size}: {batch_p50}"
    )
    if redis_stats:
        print(
            "finer: in the follower's Redis timeline (ZSCORE every 1 ms) after POST returned: "
            + ", ".join(f"{k} {v:.1f} ms" for k, v in redis_stats.items())
            + f" ({sum(1 for v in in_redis if v == 0)} of {len(in_redis)} already there when POST returned)"
        )
    report.write_result(
        NAME,
        {
            "baseline": {
                "what": "GET /health round trip (same run, same session)",
                "median_ms": round(health_median, 2),
            },
            "posts": args.posts,
            "warmup_posts_ms": [w.get("ms") for w in warmup],
            "poll_interval_s": args.interval,
            "timeout_s": args.timeout,
            "delivered": len(latencies_ms),
            "failures": len(failures),
            "failure_details": failures[:20],
            "slowest": [
                {**p, "in_redis_ms": round(watcher.arrived.get(p["tweet_id"], math.nan), 2)}
                for p in sorted(per_post, key=lambda p: -p["ms"])[:5]
            ],
            "latency_ms": {k: round(v, 2) for k, v in stats.items()},
            "p50_per_batch_ms": batch_p50,
            "post_tweets_median_ms": round(median(post_ms), 2),
            "poll_median_ms": round(median(poll_ms), 2),
            "polls_per_delivery_median": median(p["polls"] for p in per_post),
            "found_on_first_poll": round(first_poll, 3),
            "in_redis_after_post_ms": {k: round(v, 2) for k, v in redis_stats.items()},
            "in_redis_when_post_returned": sum(1 for v in in_redis if v == 0),
            "headline": [
                report.headline(
                    f"delivery latency, POST /tweets returned -> in the follower's GET /timelines/home "
                    f"({args.posts} posts)",
                    f"p50 {stats['p50']:.0f} ms, p95 {stats['p95']:.0f} ms, p99 {stats['p99']:.0f} ms, "
                    f"max {stats['max']:.0f} ms; {len(failures)} failures; in Redis after p50 "
                    f"{redis_stats.get('p50', math.nan):.1f} ms; first {len(warmup)} posts (warm-up, apart): "
                    + ", ".join(f"{w['ms']:,.0f}" if "ms" in w else "failed" for w in warmup)
                    + " ms",
                    f"GET /health: {health_median:.0f} ms (p50 = {stats['p50'] / health_median:.1f}x); "
                    f"one poll: {median(poll_ms):.0f} ms",
                ),
            ],
        },
    )


if __name__ == "__main__":
    main()
