"""Snowflake id throughput: ids/second of SnowflakeGenerator.next_id on one thread, and of LeasedSnowflake
holding a real worker lease in the local cloud's DynamoDB (the app's DynamoWorkerLease, on a lease table of
the benchmark's own, created for the run and deleted at the end: the deployment's slots are never taken),
against the layout's limit of 4,096 ids per millisecond per worker (4,096,000/s). Also the DynamoDB calls per
id (the lease is taken once, renewed every half TTL) and the most ids issued within one millisecond.

Usage: .venv/bin/python bench/snowflake.py [--runs 5] [--ids 500000]
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections.abc import Callable

import cloud
import counting
import report
import stats
from report import fmt_int, table
from stats import median

from chirp.adapters.dynamodb.tables import LeaseItem, bind_tables
from chirp.adapters.dynamodb.worker_lease import DynamoWorkerLease
from chirp.ids.snowflake import MAX_SEQUENCE, LeasedSnowflake, SnowflakeGenerator, parse

NAME = "snowflake"
LIMIT_PER_S = (MAX_SEQUENCE + 1) * 1000  # 4,096 ids per ms


def ids_per_s(next_id: Callable[[], int], count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        next_id()
    return count / (time.perf_counter() - started)


def check(next_id: Callable[[], int], count: int = 100_000) -> int:
    """Ids strictly increase; returns the most ids issued within one millisecond."""
    ids = [next_id() for _ in range(count)]
    if not all(a < b for a, b in itertools.pairwise(ids)):
        raise SystemExit("ids are not strictly increasing")
    return max(parse(i)[3] for i in ids) + 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=stats.RUNS)
    parser.add_argument("--ids", type=int, default=500_000, help="ids timed per run")
    args = parser.parse_args()

    settings = cloud.cloud_settings()
    lease_table = f"bench-{cloud.run_tag()}-leases"
    bind_tables(settings.model_copy(update={"leases_table": lease_table}))  # LeaseItem on the benchmark's own table
    LeaseItem.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    plain = SnowflakeGenerator(datacenter_id=0, worker_id=0)
    lease = DynamoWorkerLease()
    leased = LeasedSnowflake(lease)
    rates: dict[str, list[float]] = {"SnowflakeGenerator": [], "LeasedSnowflake": []}
    try:
        with counting.aws_calls() as acquire_calls:
            leased.next_id()  # takes the lease
        print(
            f"leased slot {leased.slot} in DynamoDB table {lease_table} at {settings.aws_endpoint_url} "
            f"({counting.dynamodb_total(acquire_calls)} DynamoDB calls)"
        )
        burst = {"SnowflakeGenerator": check(plain.next_id), "LeasedSnowflake": check(leased.next_id)}
        trips = {}
        for run in range(args.runs):
            rates["SnowflakeGenerator"].append(ids_per_s(plain.next_id, args.ids))
            with counting.aws_calls() as calls:
                rates["LeasedSnowflake"].append(ids_per_s(leased.next_id, args.ids))
            trips[run] = counting.dynamodb_total(calls)
            print(f"run {run + 1}/{args.runs}: " + ", ".join(f"{k} {fmt_int(v[-1])}/s" for k, v in rates.items()))
    finally:
        try:
            print(f"lease released: {lease.release()}")
        finally:
            LeaseItem.delete_table()
            print(f"deleted table {lease_table}")

    rows, results = [], {}
    for name, values in rates.items():
        rate = median(values)
        results[name] = {
            "median_ids_per_s": round(rate),
            "runs_ids_per_s": [round(v) for v in values],
            "ratio_to_layout_limit": round(rate / LIMIT_PER_S, 4),
            "max_ids_in_one_ms": burst[name],
            "us_per_id": round(1e6 / rate, 3),
        }
        rows.append([name, fmt_int(rate), f"{1e6 / rate:.2f}", f"{rate / LIMIT_PER_S:.3f}", fmt_int(burst[name])])
    total_ids = args.ids * args.runs
    results["LeasedSnowflake"]["dynamodb_calls"] = sum(trips.values())
    results["LeasedSnowflake"]["dynamodb_calls_to_acquire"] = counting.dynamodb_total(acquire_calls)
    results["LeasedSnowflake"]["ids_timed"] = total_ids
    print(f"\nbaseline: the layout's limit, 4,096 ids per ms per worker = {fmt_int(LIMIT_PER_S)}/s")
    print(f"medians of {args.runs} runs of {fmt_int(args.ids)} ids, one thread\n")
    print(table(["generator", "ids/s", "us/id", "x limit", "max ids in one ms"], rows))
    print(
        f"\nLeasedSnowflake: {sum(trips.values())} DynamoDB calls for {fmt_int(total_ids)} ids "
        "(the lease is renewed once half its TTL has passed)"
    )
    plain_r, leased_r = results["SnowflakeGenerator"], results["LeasedSnowflake"]
    report.write_result(
        NAME,
        {
            "baseline": {"what": "the layout's limit: 4,096 ids per ms per worker", "ids_per_s": LIMIT_PER_S},
            "runs": args.runs,
            "ids_per_run": args.ids,
            "threads": 1,
            "results": results,
            "headline": [
                report.headline(
                    "snowflake ids, one thread (SnowflakeGenerator / LeasedSnowflake with a DynamoDB lease)",
                    f"{fmt_int(plain_r['median_ids_per_s'])} / {fmt_int(leased_r['median_ids_per_s'])} ids/s = "
                    f"{plain_r['ratio_to_layout_limit']:.2f} / {leased_r['ratio_to_layout_limit']:.2f}x the limit; "
                    f"{leased_r['dynamodb_calls']} DynamoDB calls for {fmt_int(total_ids)} leased ids",
                    f"layout limit: {fmt_int(LIMIT_PER_S)} ids/s per worker",
                ),
            ],
        },
    )


if __name__ == "__main__":
    main()
