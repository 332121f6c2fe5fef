"""A short load run through the deployed API, audited afterwards: no errors, no inconsistency."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_given_a_short_mixed_load_when_it_settles_then_no_request_failed_and_every_timeline_audits_clean(tmp_path):
    output = tmp_path / "load_run.json"
    command = [sys.executable, str(ROOT / "bench" / "load_run.py"), "--users", "4", "--seconds", "15"]
    run = subprocess.run(
        [*command, "--seed", "11", "--output", str(output)],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    result = json.loads(output.read_text())
    assert result["requests"] > 0
    assert result["errors"] == 0
    assert result["audit"]["clean"]
    assert result["audit"]["timelines"] == 4
