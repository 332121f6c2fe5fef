"""Schemathesis, driven by docs/openapi.json, against the deployed API: whatever a client sends, the answer
is never a server error and always matches the documented responses (status and JSON body)."""

import json
import os
import subprocess
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "docs" / "openapi.json"
# Bounded: a fixed seed, no examples replayed from earlier runs, and a few generated per operation (under a
# thousand requests with the coverage phase's); more with the variable.
EXAMPLES_PER_OPERATION = int(os.environ.get("CHIRP_FUZZ_EXAMPLES", "10"))
RUN_TIMEOUT_S = 420


@pytest.mark.timeout(RUN_TIMEOUT_S + 60)
def test_given_generated_requests_to_every_operation_when_sent_then_no_5xx_and_every_answer_is_documented(
    new_user, cloud_env
):
    user = new_user("fz")
    command = [
        str(Path(sysconfig.get_path("scripts")) / "st"),
        "run",
        str(DOCUMENT),
        "--url",
        cloud_env["CHIRP_API_URL"],
        "--header",
        f"Authorization: Bearer {user.token}",
        "--checks",
        "not_a_server_error,response_schema_conformance,status_code_conformance",
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
    operations = sum(len(methods) for methods in json.loads(DOCUMENT.read_text())["paths"].values())
    assert f"Tested: {operations}" in run.stdout  # every documented operation was exercised
