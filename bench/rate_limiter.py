"""What a rate limit check costs per request, against the local cloud's redis-server (database 14, the
benchmarks' own):

- RateLimiter.check: the GCRA script (chirp.adapters.redis.rate_limits), accepted and refused;
- the whole guard of an HTTP request (chirp.runtime.http_guard.Guard.admit: class, cached level, check, headers);
- counts per check: Redis round trips and the commands the server ran (the script's included).

Compared in the same run with a Redis PING on the same connection (the floor of any round trip) and with a whole
authenticated API request (GET /users/me through API Gateway and Lambda) for scale.

Usage: .venv/bin/python bench/rate_limiter.py [--checks 5000] [--requests 200]
"""

from __future__ import annotations

import argparse
import time

import cloud
import counting
import report
from report import table
from stats import RUNS, median, percentile

from chirp.adapters.redis.rate_limits import RedisLimitStore
from chirp.degradation.levels import Level
from chirp.limits.model import EndpointClass, Subject, parse_limits
from chirp.limits.service import RateLimiter
from chirp.runtime.http_guard import Guard
from chirp.settings import DEFAULT_RATE_LIMITS
from localstack.api_client import Accounts

NAME = "rate_limiter"


def per_call_us(fn, calls: int) -> list[float]:
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1_000_000)
    return samples


def summary(samples: list[float]) -> dict[str, float]:
    return {"p50": round(percentile(samples, 50), 1), "p99": round(percentile(samples, 99), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=2000, help="checks per run (at most 2,000 with 5 runs)")
    parser.add_argument("--requests", type=int, default=200, help="API requests for scale")
    args = parser.parse_args()

    env = cloud.cloud_env()
    settings = cloud.cloud_settings()
    client = cloud.bench_redis(settings)
    tag = cloud.run_tag()

    # Accepted checks find their key (a client that keeps sending): ten clients that each may send 10,000 an hour;
    # refused checks, a client that sent its one request of the hour.
    tiers = parse_limits({**DEFAULT_RATE_LIMITS, "home": "10000/1h", "tweets": "1/1h"})
    limiter = RateLimiter(RedisLimitStore(client), tiers)
    guard = Guard(limiter=lambda: limiter, level=lambda: Level.NORMAL)
    subjects = [Subject("user", f"bench-{tag}-{i}") for i in range(10)]
    event = {
        "httpMethod": "GET",
        "resource": "/timelines/home",
        "path": "/timelines/home",
        "requestContext": {"authorizer": {"claims": {"sub": subjects[0].id}}},
    }
    refused_subject = Subject("user", f"bench-{tag}-refused")
    limiter.check(refused_subject, EndpointClass.TWEETS)  # its one request of the hour: every later one is refused

    runs: dict[str, list[float]] = {"ping": [], "accepted": [], "refused": [], "guard": []}
    try:
        client.ping()  # the connection, and the script loaded, before any timing
        limiter.check(subjects[0], EndpointClass.HOME)
        for run in range(RUNS):
            runs["ping"] += per_call_us(client.ping, args.checks)
            index = iter(range(10**9))
            runs["accepted"] += per_call_us(
                lambda index=index: limiter.check(subjects[next(index) % 10], EndpointClass.HOME), args.checks
            )
            runs["refused"] += per_call_us(lambda: limiter.check(refused_subject, EndpointClass.TWEETS), args.checks)
            runs["guard"] += per_call_us(lambda: guard.admit(event), args.checks)
            print(f"run {run + 1}/{RUNS}: accepted check p50 {median(runs['accepted']):.0f} us")
        assert not limiter.check(refused_subject, EndpointClass.TWEETS).allowed
        with counting.redis_round_trips(client) as counted:
            limiter.check(subjects[1], EndpointClass.HOME)
        limiter.check(subjects[2], EndpointClass.HOME)  # on a pooled connection again (MONITOR took one)
        with counting.recorded_requests() as sent:
            limiter.check(subjects[2], EndpointClass.HOME)
        described = counting.describe_requests(sent)
    finally:
        deleted = cloud.delete_matching(client, f"limit:{{user:bench-{tag}-*")

    api_ms = api_request_ms(env, args.requests)
    stats = {name: summary(samples) for name, samples in runs.items()}
    ping, accepted = stats["ping"]["p50"], stats["accepted"]["p50"]
    print()
    print(
        table(
            ["per request", "p50 us", "p99 us", "p50 / PING"],
            [[name, s["p50"], s["p99"], f"{s['p50'] / ping:.2f}x"] for name, s in stats.items()],
        )
    )
    print(
        f"\none check: {counted['round_trips']} round trip ({', '.join(described)}), {counted['commands']} commands "
        f"run by redis-server; GET /users/me through the API: p50 {api_ms['p50']:.1f} ms "
        f"(the check is {accepted / 1000 / api_ms['p50']:.1%} of it); {deleted} keys deleted"
    )
    report.write_result(
        NAME,
        {
            "checks_per_run": args.checks,
            "runs": RUNS,
            "per_request_us": stats,
            "round_trips_per_check": counted["round_trips"],
            "server_commands_per_check": counted["commands"],
            "request": described,
            "api_request_ms": api_ms,
            "headline": [
                report.headline(
                    "rate limit check per request (GCRA script on Redis's clock; accepted / refused / whole guard)",
                    f"p50 {accepted:.0f} / {stats['refused']['p50']:.0f} / {stats['guard']['p50']:.0f} us, p99 "
                    f"{stats['accepted']['p99']:.0f} us = {accepted / ping:.2f}x a PING; "
                    f"{counted['round_trips']} round trip, {counted['commands']} Redis commands "
                    f"({accepted / 1000 / api_ms['p50']:.1%} of an API request)",
                    f"PING, same connection: p50 {ping:.0f} us; GET /users/me through the API: p50 "
                    f"{api_ms['p50']:.1f} ms",
                ),
            ],
        },
    )


def api_request_ms(env: dict[str, str], count: int) -> dict[str, float]:
    """GET /users/me through API Gateway and Lambda (guard included), for a user whose limits are raised."""
    from delivery_latency import cleanup

    accounts = Accounts(env)
    user = accounts.create("rlb")
    try:
        accounts.raise_limits([user])
        user.call("GET", "/users/me")
        samples = []
        for _ in range(count):
            started = time.perf_counter()
            response = user.call("GET", "/users/me")
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.text
    finally:
        accounts.restore_limits([user])
        cleanup(env, accounts.cognito, cloud.cloud_settings(), [(user.handle, user.user_id)], [])
    return {"p50": round(percentile(samples, 50), 2), "p99": round(percentile(samples, 99), 2)}


if __name__ == "__main__":
    main()
