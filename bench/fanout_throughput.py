"""Fan-out throughput: one tweet delivered to N followers (N = 100 ... 100,000) through the real push code,
RedisTimelineCache.push in pages of timelines.rules.FOLLOWER_PAGE (what Timelines.push_page does per page),
against the local cloud's real redis-server, compared in the same run with `redis-benchmark` pipelined ZADD on
the same server. Also: the celebrity tier (one RedisTimelineCache.push_celebrity per tweet, whatever N), and the
Redis round trips and commands of a delivery (machine-independent).

Followers' timelines are live (sentinel "live" scored +inf) and full: each holds between 800 ids and the
high-water mark (800 + TRIM_SLACK), spread evenly over that range, so pushes trim as often as in production
(a timeline is trimmed back to 800 once a push takes it past the mark). A full timeline takes ~100 KB of Redis
memory, so at most --pool distinct
timelines are created (default 10,000 = ~1 GB); a larger N goes round that pool again with a newer tweet
id per round, so every write still adds a new newest id, as for distinct followers.

Synthetic data lives in Redis database 14 and is deleted at the end.
Usage: .venv/bin/python bench/fanout_throughput.py [--runs 5] [--pool 10000]
"""

from __future__ import annotations

import argparse
import math
import re
import shutil
import subprocess
import time

import cloud
import counting
import report
import stats
from report import fmt_int, table
from stats import median

from chirp.adapters.redis.timeline_cache import SENTINEL, TRIM_SLACK, RedisTimelineCache, celebrity_key, timeline_key
from chirp.ids.snowflake import SnowflakeGenerator
from chirp.timelines.rules import CELEBRITY_RECENT, FOLLOWER_PAGE, MAX_ITEMS

NAME = "fanout_throughput"
SIZES = (100, 1_000, 10_000, 100_000)
PAGE_SIZES = (1, 500, FOLLOWER_PAGE)  # one page of followers
CELEBRITY_TWEETS = 200  # push_celebrity calls timed per N and run, in rounds over the N (noise spreads evenly)
CELEBRITY_ROUNDS = 10
BENCHMARK_REQUESTS = 200_000
BENCHMARK_PIPELINE = 64


def deliveries(n: int, followers: list[str], tweet_ids: list[int]) -> list[tuple[int, list[str]]]:
    """The (tweet id, page of followers) pushes of delivering to n followers taken from the pool in order;
    round r over the pool uses tweet_ids[r]."""
    pool = len(followers)
    pages = []
    for start in range(0, n, FOLLOWER_PAGE):
        offset, round_ = start % pool, start // pool
        size = min(FOLLOWER_PAGE, n - start, pool - offset)
        pages.append((tweet_ids[round_], followers[offset : offset + size]))
    return pages


def deliver(cache: RedisTimelineCache, pages: list[tuple[int, list[str]]]) -> int:
    return sum(cache.push(tweet_id, page) for tweet_id, page in pages)


def redis_benchmark_zadd(host: str, port: int, key: str) -> float:
    """Requests/second of redis-benchmark's pipelined `ZADD key score member` on the same server."""
    cmd = [
        "redis-benchmark", "-h", host, "-p", str(port), "--dbnum", str(cloud.BENCH_DB),
        "-n", str(BENCHMARK_REQUESTS), "-P", str(BENCHMARK_PIPELINE), "-r", "100000", "-q",
        "ZADD", key, "__rand_int__", "__rand_int__",
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=120)
    found = re.findall(r"([\d.]+) requests per second", done.stdout.replace("\r", "\n"))
    if done.returncode != 0 or not found:
        raise SystemExit(f"redis-benchmark failed: {done.stdout[-500:]} {done.stderr[-500:]}")
    return float(found[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=stats.RUNS)
    parser.add_argument(
        "--pool", type=int, default=10_000, help=f"distinct follower timelines (multiple of {FOLLOWER_PAGE})"
    )
    args = parser.parse_args()
    if args.pool % FOLLOWER_PAGE:
        raise SystemExit(f"--pool must be a multiple of FOLLOWER_PAGE ({FOLLOWER_PAGE})")
    if not shutil.which("redis-benchmark"):
        raise SystemExit("redis-benchmark not found (Debian/Ubuntu: apt-get install redis-tools)")

    settings = cloud.cloud_settings()
    client = cloud.bench_redis(settings)
    cache = RedisTimelineCache(client, max_items=MAX_ITEMS, ttl_s=settings.inactive_after_s)
    tag = cloud.run_tag()
    prefix = f"bench-{tag}"
    followers = [f"{prefix}-f{i}" for i in range(args.pool)]
    celebrity = f"{prefix}-celebrity"
    templates = [timeline_key(f"{prefix}-template{extra}") for extra in range(TRIM_SLACK + 1)]
    zadd_key = f"{prefix}:redis-benchmark-zadd"
    ids = SnowflakeGenerator(datacenter_id=31, worker_id=31)  # its own slot: these ids never leave DB 14
    print(
        f"redis-server {cloud.redis_version(client)} at {settings.redis_host}:{settings.redis_port}, "
        f"database {cloud.BENCH_DB} ({client.dbsize()} keys before), run tag {tag}"
    )

    try:
        # Full, live timelines: 800 to 800 + TRIM_SLACK ids older than any tweet pushed below (follower i holds
        # 800 + i mod (TRIM_SLACK + 1)), plus the sentinel; copied server-side.
        started = time.perf_counter()
        memory_before = client.info("memory")["used_memory"]
        oldest = ids.next_id()
        for extra, template in enumerate(templates):
            held = range(1, MAX_ITEMS + extra + 1)
            client.zadd(template, {SENTINEL: math.inf, **{str(oldest - i): oldest - i for i in held}})
        for start in range(0, args.pool, 1000):
            with client.pipeline(transaction=False) as pipe:
                for i, follower in enumerate(followers[start : start + 1000], start):
                    pipe.copy(templates[i % len(templates)], timeline_key(follower))
                pipe.execute()
        client.zadd(celebrity_key(celebrity), {str(oldest - i): oldest - i for i in range(1, CELEBRITY_RECENT + 1)})
        memory = client.info("memory")["used_memory"] - memory_before
        print(
            f"prepared {fmt_int(args.pool)} live timelines of {MAX_ITEMS}-{MAX_ITEMS + TRIM_SLACK} ids (+ sentinel) in "
            f"{time.perf_counter() - started:.1f} s, {memory / 2**20:,.0f} MiB"
        )

        # Machine-independent counts (not timed): one delivery per N, and one page of PAGE_SIZES followers.
        def counted(n: int) -> dict[str, int]:
            pages = deliveries(n, followers, [ids.next_id() for _ in range(math.ceil(n / args.pool))])
            deliver(cache, pages[:1])  # warm: connection checked, script loaded
            pages = deliveries(n, followers, [ids.next_id() for _ in range(math.ceil(n / args.pool))])
            with counting.redis_round_trips(client) as counts:
                pushed = deliver(cache, pages)
            return {**counts, "pushed": pushed}

        page_counts = [{"followers": n, **counted(n)} for n in PAGE_SIZES]
        delivery_counts = {n: counted(n) for n in SIZES}
        for n, counts in delivery_counts.items():
            if counts["pushed"] != n:
                raise SystemExit(f"delivery to {n} followers reached {counts['pushed']} live timelines")

        # Timed: every run delivers to each N, then runs redis-benchmark on the same server.
        push_s = {n: [] for n in SIZES}
        celebrity_s = {n: [] for n in SIZES}
        zadd_rps = []
        for run in range(args.runs):
            for n in SIZES:
                pages = deliveries(n, followers, [ids.next_id() for _ in range(math.ceil(n / args.pool))])
                seconds, pushed = stats.timed(lambda pages=pages: deliver(cache, pages))
                if pushed != n:
                    raise SystemExit(f"delivery to {n} followers reached {pushed} live timelines")
                push_s[n].append(seconds)
            # The celebrity tier for the same N: a tweet is one push_celebrity, whatever the followers.
            samples = {n: [] for n in SIZES}
            for _ in range(CELEBRITY_ROUNDS):
                for n in SIZES:
                    samples[n] += stats.samples_per_call(
                        lambda: cache.push_celebrity(celebrity, ids.next_id(), CELEBRITY_RECENT),
                        CELEBRITY_TWEETS // CELEBRITY_ROUNDS,
                    )
            for n in SIZES:
                celebrity_s[n].append(median(samples[n]))
            client.unlink(zadd_key)
            zadd_rps.append(redis_benchmark_zadd(settings.redis_host, settings.redis_port, zadd_key))
            print(
                f"run {run + 1}/{args.runs}: "
                + ", ".join(f"N={fmt_int(n)} {push_s[n][-1] * 1000:,.1f} ms" for n in SIZES)
                + f"; redis-benchmark ZADD {fmt_int(zadd_rps[-1])}/s"
            )
        with counting.redis_round_trips(client) as celebrity_counts:
            cache.push_celebrity(celebrity, ids.next_id(), CELEBRITY_RECENT)
    finally:
        keys = [*templates, celebrity_key(celebrity), zadd_key, *(timeline_key(f) for f in followers)]
        deleted = cloud.unlink(client, keys) + cloud.delete_matching(client, f"*{prefix}*")
        print(f"cleaned up: {fmt_int(deleted)} keys deleted from database {cloud.BENCH_DB}")

    baseline = median(zadd_rps)
    rows, results = [], []
    for n in SIZES:
        seconds = median(push_s[n])
        writes = n / seconds
        counts = delivery_counts[n]
        result = {
            "followers": n,
            "distinct_timelines": min(n, args.pool),
            "median_ms": round(seconds * 1000, 3),
            "runs_ms": [round(s * 1000, 3) for s in push_s[n]],
            "us_per_follower": round(seconds / n * 1e6, 3),
            "timeline_writes_per_s": round(writes),
            "ratio_to_redis_benchmark_zadd": round(writes / baseline, 4),
            "round_trips": counts["round_trips"],
            "redis_commands": counts["commands"],
            "celebrity_tier_median_us": round(median(celebrity_s[n]) * 1e6, 1),
        }
        results.append(result)
        rows.append([
            fmt_int(n), f"{result['median_ms']:,.1f}", f"{result['us_per_follower']:.2f}", fmt_int(writes),
            f"{result['ratio_to_redis_benchmark_zadd']:.3f}", counts["round_trips"], fmt_int(counts["commands"]),
            f"{result['celebrity_tier_median_us']:.0f}",
        ])  # fmt: skip

    largest = results[-1]
    growth = largest["median_ms"] / results[0]["median_ms"]
    celebrity_us = [r["celebrity_tier_median_us"] for r in results]
    celebrity_spread = max(celebrity_us) / min(celebrity_us)
    print(f"\nbaseline (same run): redis-benchmark -P {BENCHMARK_PIPELINE} ZADD = {fmt_int(baseline)} requests/s")
    print(f"medians of {args.runs} runs; one delivery = one tweet pushed to N live, full timelines\n")
    print(
        table(
            [
                "N followers", "push ms", "us/follower", "writes/s", "x ZADD/s",
                "round trips", "Redis cmds", "celebrity us",
            ],
            rows,
        )
    )  # fmt: skip
    print(
        f"\npush tier: {SIZES[-1] // SIZES[0]:,}x the followers took {growth:,.0f}x the time "
        f"({results[0]['us_per_follower']:.1f} -> {largest['us_per_follower']:.1f} us per follower); "
        f"celebrity tier: {celebrity_counts['round_trips']} round trip, {celebrity_counts['commands']} commands "
        f"per tweet at every N, max/min time across N = {celebrity_spread:.2f}"
    )
    per_follower = (largest["redis_commands"] - largest["round_trips"]) / largest["followers"]
    print(
        f"commands per delivery = one script call (EVALSHA) per page of {FOLLOWER_PAGE} + {per_follower:.2f} per "
        f"follower inside it; one page of {' / '.join(fmt_int(n) for n in PAGE_SIZES)} followers: "
        + " / ".join(f"{c['round_trips']} rt, {c['commands']} cmds" for c in page_counts)
    )

    at = next(r for r in results if r["followers"] == min(args.pool, 10_000))
    reused = f" ({fmt_int(args.pool)} distinct timelines, reused)" if largest["followers"] > args.pool else ""
    report.write_result(
        NAME,
        {
            "baseline": {
                "what": f"redis-benchmark -n {BENCHMARK_REQUESTS} -P {BENCHMARK_PIPELINE} -r 100000 "
                "ZADD key __rand_int__ __rand_int__ (same server, database 14, same run)",
                "median_requests_per_s": round(baseline),
                "runs_requests_per_s": [round(r) for r in zadd_rps],
            },
            "follower_page": FOLLOWER_PAGE,
            "timeline_max_items": MAX_ITEMS,
            "timeline_trimmed_above": MAX_ITEMS + TRIM_SLACK,
            "pool_of_distinct_timelines": args.pool,
            "runs": args.runs,
            "deliveries": results,
            "page_counts": page_counts,
            "celebrity_tier": {
                "round_trips": celebrity_counts["round_trips"],
                "redis_commands": celebrity_counts["commands"],
                "max_over_min_time_across_n": round(celebrity_spread, 3),
            },
            "headline": [
                report.headline(
                    f"fan-out of one tweet to {fmt_int(at['followers'])} followers",
                    f"{at['median_ms']:,.0f} ms, {fmt_int(at['timeline_writes_per_s'])} timeline writes/s = "
                    f"{at['ratio_to_redis_benchmark_zadd']:.2f}x redis-benchmark ZADD; "
                    f"{at['round_trips']} round trips, {fmt_int(at['redis_commands'])} Redis commands",
                    f"redis-benchmark -P {BENCHMARK_PIPELINE} ZADD: {fmt_int(baseline)} requests/s",
                ),
                report.headline(
                    f"fan-out of one tweet to {fmt_int(largest['followers'])} followers{reused}",
                    f"{largest['median_ms']:,.0f} ms ({growth:,.0f}x the time of {fmt_int(SIZES[0])} followers); "
                    f"{largest['round_trips']} round trips",
                    f"{fmt_int(SIZES[0])} followers: {results[0]['median_ms']:,.2f} ms",
                ),
                report.headline(
                    "celebrity tier, one tweet (push_celebrity), N = 100 ... 100,000",
                    f"{median(celebrity_us):,.0f} us per tweet (max/min across N: {celebrity_spread:.2f}); "
                    f"{celebrity_counts['round_trips']} round trip, {celebrity_counts['commands']} commands at every N",
                    f"push tier at {fmt_int(largest['followers'])} followers: {largest['median_ms']:,.0f} ms",
                ),
            ],
        },
    )


if __name__ == "__main__":
    main()
