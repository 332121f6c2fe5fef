"""Load shedding by priority, shown: a core group posts and reads home timelines while a flood group hammers
GET /search, against the deployed local cloud. Three runs of --seconds each:

1. core alone (the baseline);
2. core + search flood, as deployed: search and trends run in the discovery function, whose reserved
   concurrency (the stage's discovery_concurrency) caps how many run at once; the API keeps its own;
3. core + search flood without that cap (discovery's reserved concurrency removed for the run, then put back):
   what the split alone does not protect.

Core users act back to back (a quarter posts, the rest home reads), wait out a Retry-After (or a bare throttle,
one second) and retry up to three times, as bench/load_run.py does; an answer still refused after that, or none,
is an error. Flood users search back to back; a refused search (the function throttled) is tried again after the
throttle's one second. A refusal runs no function: on AWS the gateway answers it at no cost to Chirp's compute,
but here the emulator's gateway (and its token check) runs on the same two cores as everything else, so a flood
that re-sent at once would measure the emulator rather than the reservation. Every participant's rate limits are
raised for the run (SSM overrides): what is measured is the concurrency, not the per-user limits. Writes
bench/results/shedding.json and the README's shedding table.

Usage: .venv/bin/python bench/shedding.py [--core 6] [--flood 12] [--seconds 60]
"""

from __future__ import annotations

import argparse
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import cloud
import paths
import report
import requests
from load_run import retry_after_s, warm_up
from report import table
from stats import median, percentile

from localstack.api_client import Accounts, User

NAME = "shedding"
MAX_RETRIES = 3
FLOOD_PAUSE_S = 1.0  # after a refusal, as the throttle says (AWS: Retry-After 1; locally a bare 429)
README_START, README_END = "<!-- shedding:start -->", "<!-- shedding:end -->"


class Group:
    """Answers of one group of users in one run."""

    def __init__(self):
        self.lock = threading.Lock()
        self.latencies_ms: dict[str, list[float]] = {}
        self.statuses: dict[str, int] = {}
        self.errors: list[str] = []
        self.retries = 0

    def record(self, action: str, ms: float, status: int | str, ok: bool, detail: str = "") -> None:
        with self.lock:
            self.latencies_ms.setdefault(action, []).append(ms)
            self.statuses[str(status)] = self.statuses.get(str(status), 0) + 1
            if not ok:
                self.errors.append(f"{action}: {status} {detail[:120]}")

    def summary(self, seconds: float) -> dict:
        every = [ms for values in self.latencies_ms.values() for ms in values]
        requests_made = len(every)
        return {
            "requests": requests_made,
            "requests_per_s": round(requests_made / seconds, 1),
            "errors": len(self.errors),
            "error_rate": round(len(self.errors) / requests_made, 4) if requests_made else None,
            "error_samples": self.errors[:5],
            "retried": self.retries,
            "statuses": dict(sorted(self.statuses.items())),
            "p50_ms": round(percentile(every, 50), 1) if every else None,
            "p99_ms": round(percentile(every, 99), 1) if every else None,
            "by_action": {
                action: {"count": len(v), "p50_ms": round(median(v), 1), "p99_ms": round(percentile(v, 99), 1)}
                for action, v in sorted(self.latencies_ms.items())
            },
        }


def core_user(me: User, rng: random.Random, group: Group, until: float) -> None:
    while time.monotonic() < until:
        post = rng.random() < 0.25
        action, method, path = ("post", "POST", "/tweets") if post else ("home", "GET", "/timelines/home")
        kwargs = {"json": {"text": f"shedding #{rng.randrange(10)}"}} if post else {"params": {"limit": 20}}
        expected = 201 if post else 200
        for attempt in range(MAX_RETRIES + 1):
            started = time.perf_counter()
            try:
                response = me.call(method, path, **kwargs)
            except requests.RequestException as error:
                group.record(action, (time.perf_counter() - started) * 1000, type(error).__name__, False, str(error))
                break
            wait = retry_after_s(response)
            if wait is not None and attempt < MAX_RETRIES:
                with group.lock:
                    group.retries += 1
                time.sleep(wait)
                continue
            ms = (time.perf_counter() - started) * 1000
            group.record(action, ms, response.status_code, response.status_code == expected, response.text)
            break


def flood_user(me: User, rng: random.Random, group: Group, until: float) -> None:
    while time.monotonic() < until:
        started = time.perf_counter()
        try:
            response = me.call("GET", "/search", params={"q": "shedding", "limit": 20})
        except requests.RequestException as error:
            group.record("search", (time.perf_counter() - started) * 1000, type(error).__name__, False, str(error))
            continue
        ms = (time.perf_counter() - started) * 1000
        group.record("search", ms, response.status_code, response.status_code == 200, response.text)
        if response.status_code != 200:
            time.sleep(FLOOD_PAUSE_S)


def one_run(core: list[User], flood: list[User], seconds: float, seed: int) -> dict:
    core_group, flood_group = Group(), Group()
    until = time.monotonic() + seconds
    threads = [
        threading.Thread(target=core_user, args=(user, random.Random(seed + i), core_group, until))
        for i, user in enumerate(core)
    ] + [
        threading.Thread(target=flood_user, args=(user, random.Random(seed + 100 + i), flood_group, until))
        for i, user in enumerate(flood)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    return {"seconds": round(elapsed, 1), "core": core_group.summary(elapsed), "flood": flood_group.summary(elapsed)}


class DiscoveryConcurrency:
    """The discovery function's reserved concurrency, removed for a run and put back after."""

    def __init__(self, accounts: Accounts):
        self.functions = accounts._client("lambda")
        self.name = next(
            f["FunctionName"]
            for f in self.functions.list_functions()["Functions"]
            if "Functionsdiscovery" in f["FunctionName"]
        )
        self.reserved = self.functions.get_function_concurrency(FunctionName=self.name).get(
            "ReservedConcurrentExecutions"
        )

    def remove(self) -> None:
        self.functions.delete_function_concurrency(FunctionName=self.name)

    def restore(self) -> None:
        if self.reserved is not None:
            self.functions.put_function_concurrency(FunctionName=self.name, ReservedConcurrentExecutions=self.reserved)


def markdown(runs: dict[str, dict], reserved: int | None) -> str:
    rows = [
        "| run | core group (posts + home reads): requests, error rate | core p50 / p99 | "
        "flood (GET /search): served / refused | served search p50 |",
        "|---|---|---|---|---|",
    ]
    for label, run in runs.items():
        core, flood = run["core"], run["flood"]
        served = flood["statuses"].get("200", 0)
        refused = flood["requests"] - served
        rows.append(
            f"| {label} | {core['requests']:,} ({core['requests_per_s']}/s), {core['error_rate']:.2%} | "
            f"{core['p50_ms']:,.0f} / {core['p99_ms']:,.0f} ms | "
            + (f"{served:,} / {refused:,} | {flood['by_action']['search']['p50_ms']:,.0f} ms |" if flood["requests"]
               else "- | - |")
        )  # fmt: skip
    return "\n".join(rows) + (f"\n\nDiscovery's reserved concurrency as deployed: {reserved}.\n")


def update_readme(text: str) -> None:
    readme = paths.ROOT / "README.md"
    content = readme.read_text()
    if README_START not in content:
        return
    start, end = content.index(README_START) + len(README_START), content.index(README_END)
    readme.write_text(f"{content[:start]}\n{text}{content[end:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--core", type=int, default=6, help="users posting and reading home timelines")
    parser.add_argument("--flood", type=int, default=16, help="users hammering search")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    env = cloud.cloud_env()
    cloud.cloud_settings()  # the process environment points boto3 at the local cloud
    accounts = Accounts(env)
    with ThreadPoolExecutor(max_workers=4) as pool:
        core = list(pool.map(lambda _: accounts.create("shc"), range(args.core)))
        flood = list(pool.map(lambda _: accounts.create("shf"), range(args.flood)))
    for user in core:  # each follows the others: home timelines have something to read
        for other in core:
            if other is not user:
                user.call("POST", f"/users/{other.user_id}/follow")
    accounts.raise_limits(core + flood)
    discovery = DiscoveryConcurrency(accounts)
    runs: dict[str, dict] = {}
    try:
        warm_up(core)
        for user in core[:2]:
            user.call("POST", "/tweets", json={"text": "shedding warm-up"})
        for user in flood[: discovery.reserved or 3]:
            user.call("GET", "/search", params={"q": "shedding"})
        plan = (
            ("core alone", [], False),
            ("core + search flood (discovery reserved)", flood, False),
            ("core + search flood, no reservation", flood, True),
        )
        for i, (label, flooding, unreserved) in enumerate(plan):
            if unreserved:
                discovery.remove()
            try:
                print(f"run {i + 1}/{len(plan)}: {label}, {args.seconds:.0f} s", flush=True)
                runs[label] = one_run(core, flooding, args.seconds, args.seed + i)
            finally:
                if unreserved:
                    discovery.restore()
            time.sleep(5)  # the stream consumers catch up between runs
    finally:
        discovery.restore()
        accounts.restore_limits(core + flood)

    print()
    print(
        table(
            ["run", "core req", "core errors", "core p50 ms", "core p99 ms", "flood req", "flood served"],
            [
                [label, r["core"]["requests"], r["core"]["errors"], r["core"]["p50_ms"], r["core"]["p99_ms"],
                 r["flood"]["requests"], r["flood"]["statuses"].get("200", 0)]
                for label, r in runs.items()
            ],
        )
    )  # fmt: skip
    text = markdown(runs, discovery.reserved)
    update_readme(text)
    baseline, flooded = runs["core alone"]["core"], runs["core + search flood (discovery reserved)"]["core"]
    unreserved = runs["core + search flood, no reservation"]["core"]
    report.write_result(
        NAME,
        {
            "core_users": args.core,
            "flood_users": args.flood,
            "seconds": args.seconds,
            "discovery_reserved_concurrency": discovery.reserved,
            "runs": runs,
            "headline": [
                report.headline(
                    f"load shedding: {args.core} users posting and reading home while {args.flood} hammer search "
                    f"({args.seconds:.0f} s each)",
                    f"core p99 {flooded['p99_ms']:,.0f} ms, errors {flooded['error_rate']:.2%} with discovery capped "
                    f"at {discovery.reserved}; {unreserved['p99_ms']:,.0f} ms, {unreserved['error_rate']:.2%} "
                    "without the cap",
                    f"core alone: p99 {baseline['p99_ms']:,.0f} ms, errors {baseline['error_rate']:.2%}",
                )
            ],
        },
    )


if __name__ == "__main__":
    main()
