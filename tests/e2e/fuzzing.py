"""Schemathesis runs against the deployed APIs, bounded: a fixed seed, no examples replayed from earlier runs, a few
generated per operation (more with CHIRP_FUZZ_EXAMPLES), one worker, a time limit."""

import os
import subprocess
import sysconfig
from pathlib import Path

EXAMPLES_PER_OPERATION = int(os.environ.get("CHIRP_FUZZ_EXAMPLES", "10"))
RUN_TIMEOUT_S = 420


def run_schemathesis(document: Path, url: str, token: str, checks: str, *selection: str) -> str:
    """Runs the coverage and fuzzing phases of `document`'s operations (or those `selection`'s filters keep) against
    `url` as the token's holder; the report, once the run passed (an assertion error with its end otherwise)."""
    command = [
        str(Path(sysconfig.get_path("scripts")) / "st"),
        "run",
        str(document),
        "--url",
        url,
        "--header",
        f"Authorization: Bearer {token}",
        *selection,
        "--checks",
        checks,
        "--phases",
        "coverage,fuzzing",
        "--max-examples",
        str(EXAMPLES_PER_OPERATION),
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--seed",
        "1",
        "--generation-database",
        "none",
        "--no-color",
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    return run.stdout
