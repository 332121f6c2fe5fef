"""What the benchmarks print and write: console tables and `bench/results/<name>.json` with its headline rows
(bench/run_all.py gathers those into bench/results/summary.md and the README's table)."""

from __future__ import annotations

import json
import os
import platform
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from paths import RESULTS, ROOT


def fmt_int(value: float) -> str:
    return f"{value:,.0f}"


def table(headers: list[str], rows: list[list[Any]]) -> str:
    """A plain-text table for the console."""
    cells = [[str(c) for c in row] for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def command_for(name: str) -> str:
    return f".venv/bin/python bench/{name}.py"


def headline(figure: str, value: str, compared_with: str) -> dict[str, str]:
    """One row of bench/results/summary.md."""
    return {"figure": figure, "value": value, "compared_with": compared_with}


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}


def write_result(name: str, data: dict[str, Any]) -> Path:
    """Writes bench/results/<name>.json (atomically) with the command (as run, with its options) and machine, and
    returns its path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    document = {
        "benchmark": name,
        "command": " ".join([command_for(name), *map(shlex.quote, sys.argv[1:])]),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        **data,
    }
    path = RESULTS / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(document, indent=2) + "\n")
    tmp.replace(path)
    print(f"\nwrote {path.relative_to(ROOT)}")
    return path
