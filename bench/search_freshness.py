"""Search freshness through the deployed local cloud, over HTTP: how long after `POST /tweets` returns is the
tweet found by `GET /search` (API -> DynamoDB + Kinesis -> indexer Lambda -> OpenSearch refresh -> API)?

One author posts --posts tweets one after the other, each with a hashtag of its own; after each, GET /search
for that hashtag is polled every 20 ms (--timeout 10 s). The first --warmup posts are reported apart (a cold
indexer takes seconds). Baseline in the same run: one search round trip (a poll), and GET /health.

Usage: .venv/bin/python bench/search_freshness.py [--posts 200] [--warmup 3]
"""

from __future__ import annotations

import argparse
import time
import uuid

import cloud
import report
from stats import median, percentile

from localstack.api_client import Accounts

NAME = "search_freshness"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args()
    env = cloud.cloud_env()
    accounts = Accounts(env)
    author = accounts.create("fresh")
    # 200 posts and a search every 20 ms: far past the local tiers (30 posts and 60 searches a minute).
    accounts.raise_limits([author])
    run = uuid.uuid4().hex[:6]
    latencies, polls, failures = [], [], 0
    for i in range(args.warmup + args.posts):
        tag = f"fresh{run}n{i}"
        response = author.call("POST", "/tweets", json={"text": f"freshness probe #{tag}"})
        posted = time.perf_counter()
        if response.status_code != 201:
            failures += 1
            continue
        tweet_id = response.json()["tweet_id"]
        while True:
            started = time.perf_counter()
            found = author.call("GET", "/search", params={"hashtag": tag})
            polls.append((time.perf_counter() - started) * 1000)
            if found.status_code == 200 and any(e["tweet"]["tweet_id"] == tweet_id for e in found.json()["items"]):
                latencies.append((time.perf_counter() - posted) * 1000)
                break
            if time.perf_counter() - posted > args.timeout:
                failures += 1
                break
            time.sleep(0.02)
    accounts.restore_limits([author])
    warm, measured = latencies[: args.warmup], latencies[args.warmup :]
    poll = median(polls)
    figures = {
        "p50_ms": round(percentile(measured, 50), 1),
        "p95_ms": round(percentile(measured, 95), 1),
        "p99_ms": round(percentile(measured, 99), 1),
        "max_ms": round(max(measured), 1),
    }
    print(f"searchable after: {figures}; one search poll: {poll:.0f} ms; failures: {failures}")
    report.write_result(
        NAME,
        {
            "posts": len(measured),
            "failures": failures,
            "warmup_ms": [round(v) for v in warm],
            "search_poll_median_ms": round(poll, 1),
            **figures,
            "headline": [
                report.headline(
                    f"search freshness, POST /tweets returned -> found by GET /search ({len(measured)} posts)",
                    f"p50 {figures['p50_ms']:.0f} ms, p95 {figures['p95_ms']:.0f} ms, p99 {figures['p99_ms']:.0f} ms, "
                    f"max {figures['max_ms']:.0f} ms; {failures} failures",
                    f"one search poll: {poll:.0f} ms",
                )
            ],
        },
    )


if __name__ == "__main__":
    main()
