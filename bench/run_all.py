"""Runs every benchmark in sequence, each in its own process, then writes bench/results/summary.md: a table of
their headline figures, each with the baseline it was compared with in the same run and the command that
produced it (the README includes it). A benchmark that fails is reported and the others still run.

Usage: .venv/bin/python bench/run_all.py [name ...]   (needs `make dev`; a few minutes on two cores)

With names, only those benchmarks run; the summary still lists every benchmark, from its latest result file.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import paths
import report

BENCHMARKS = (
    "fanout_throughput",
    "home_read",
    "engaged_home",
    "hot_likes",
    "delivery_latency",
    "cold_start",
    "write_costs",
    "snowflake",
    "trends_replay",
    "search_freshness",
    "push_latency",
    "rate_limiter",
    "shedding",
    "media_image",
    "media_video",
)


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def summary(outcomes: dict[str, dict]) -> str:
    lines = [
        "# Chirp benchmarks",
        "",
        "Measured against the local cloud (`make dev`) by `.venv/bin/python bench/run_all.py`; each figure's",
        "baseline was measured in the same run. Timings depend on the machine; counts (round trips, commands,",
        "calls) do not. Details: `bench/results/<benchmark>.json`.",
        "",
        "| figure | value | compared with (same run) | command |",
        "|---|---|---|---|",
    ]
    machines = set()
    for name, outcome in outcomes.items():
        result = outcome["result"]
        command = f"`{result['command'] if result else report.command_for(name)}`"
        if outcome["returncode"] != 0 or result is None:
            lines.append(f"| {name} | **failed** (exit code {outcome['returncode']}) | - | {command} |")
            continue
        machines.add(f"{result['machine']['cpus']} CPUs, Python {result['machine']['python']}")
        for row in result.get("headline", []):
            lines.append(f"| {cell(row['figure'])} | {cell(row['value'])} | {cell(row['compared_with'])} | {command} |")
    measured = time.strftime("%Y-%m-%d", time.gmtime())
    lines += ["", f"Measured {measured} on {', '.join(sorted(machines)) or 'this machine'}, loopback only."]
    return "\n".join(lines) + "\n"


README_START, README_END = "<!-- bench:start -->", "<!-- bench:end -->"


def update_readme(table: str) -> None:
    """Keeps the README's figures those of the latest run: the text between its two markers."""
    readme = paths.ROOT / "README.md"
    text = readme.read_text()
    start, end = text.index(README_START) + len(README_START), text.index(README_END)
    body = table.split("\n", 2)[2].strip()  # without the summary's own title
    readme.write_text(f"{text[:start]}\n{body}\n{text[end:]}")


def main(argv: list[str] | None = None) -> None:
    chosen = sys.argv[1:] if argv is None else argv
    unknown = set(chosen) - set(BENCHMARKS)
    if unknown:
        sys.exit(f"no such benchmark: {', '.join(sorted(unknown))} (known: {', '.join(BENCHMARKS)})")
    outcomes: dict[str, dict] = {}
    for name in BENCHMARKS:
        path = paths.RESULTS / f"{name}.json"
        if chosen and name not in chosen:  # not run: its latest result stands
            result = json.loads(path.read_text()) if path.exists() else None
            outcomes[name] = {"returncode": 0 if result else 1, "seconds": 0.0, "result": result, "ran": False}
            continue
        before = path.stat().st_mtime if path.exists() else None
        print(f"\n=== {report.command_for(name)}", flush=True)
        started = time.perf_counter()
        done = subprocess.run([sys.executable, str(paths.ROOT / "bench" / f"{name}.py")], cwd=paths.ROOT, check=False)
        elapsed = time.perf_counter() - started
        fresh = path.exists() and path.stat().st_mtime != before
        result = json.loads(path.read_text()) if done.returncode == 0 and fresh else None
        outcomes[name] = {"returncode": done.returncode, "seconds": round(elapsed, 1), "result": result, "ran": True}
        print(f"=== {name}: exit code {done.returncode} in {elapsed:.0f} s", flush=True)

    path = paths.RESULTS / "summary.md"
    path.write_text(summary(outcomes))
    update_readme(path.read_text())
    print(f"\nwrote {path.relative_to(paths.ROOT)} and the README's table\n")
    print(path.read_text())
    for name, outcome in outcomes.items():
        verdict = "ok" if outcome["returncode"] == 0 else "FAILED"
        print(f"{name}: {verdict} ({outcome['seconds']} s)" if outcome["ran"] else f"{name}: {verdict} (not run)")
    if any(outcome["returncode"] != 0 for outcome in outcomes.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
