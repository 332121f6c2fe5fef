"""Schemathesis, driven by docs/openapi.json, against the deployed API: whatever a client sends, the answer
is never a server error and always matches the documented responses (status and JSON body)."""

import json
from pathlib import Path

import pytest

from tests.e2e.fuzzing import RUN_TIMEOUT_S, run_schemathesis

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


@pytest.mark.timeout(RUN_TIMEOUT_S + 60)
def test_given_generated_requests_to_every_operation_when_sent_then_no_5xx_and_every_answer_is_documented(
    new_user, cloud_env
):
    user = new_user("fz")
    checks = "not_a_server_error,response_schema_conformance,status_code_conformance"
    report = run_schemathesis(DOCUMENT, cloud_env["CHIRP_API_URL"], user.token, checks)
    operations = sum(len(methods) for methods in json.loads(DOCUMENT.read_text())["paths"].values())
    assert f"Tested: {operations}" in report  # every documented operation was exercised
