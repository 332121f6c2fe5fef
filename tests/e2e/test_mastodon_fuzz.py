"""Schemathesis on the Mastodon-compatible API, driven by the community's OpenAPI description of Mastodon
(docs/mastodon-openapi/schema.json) narrowed to the operations Chirp serves (read from the Mastodon function's own
routes): whatever a client sends, the answer is never a server error. The bodies of valid answers are checked
against the same document by the client tests (tests/e2e/test_mastodon_clients.py); a generated request's refusal
is Chirp's 4xx in Mastodon's error shape, which the document does not list for every operation."""

import json
import os
import re
import subprocess
import sysconfig
from pathlib import Path

import pytest
from mastodon import Mastodon

from localstack.api_client import PASSWORD
from tests.conftest import load_handler
from tests.mastodon_openapi import DOCUMENT

EXAMPLES_PER_OPERATION = int(os.environ.get("CHIRP_FUZZ_EXAMPLES", "10"))
RUN_TIMEOUT_S = 420
SCOPES = ["read", "write", "follow", "push"]


def _shape(path: str) -> str:
    """A path with its parameters blanked: Chirp names them `<status_id>`, the document `{id}`."""
    return re.sub(r"<[^>]+>|\{[^}]+\}", "*", path)


def served_operation_ids() -> list[str]:
    """The document's operation ids of every route the Mastodon function serves."""
    routes = load_handler("mastodon").app
    served = {(route.method.lower(), _shape(route.path)) for route in routes._static_routes + routes._dynamic_routes}
    document = json.loads(DOCUMENT.read_text())
    return sorted(
        operation["operationId"]
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
        if (method, _shape(path)) in served
    )


@pytest.fixture(scope="module")
def token(cloud_env, new_user) -> str:
    base_url = cloud_env["CHIRP_MASTODON_URL"]
    client_id, secret = Mastodon.create_app("chirp-fuzz", scopes=SCOPES, api_base_url=base_url, request_timeout=60)
    client = Mastodon(client_id=client_id, client_secret=secret, api_base_url=base_url, request_timeout=60)
    return client.log_in(new_user("mfz").handle, PASSWORD, scopes=SCOPES, allow_http=True)


@pytest.mark.timeout(RUN_TIMEOUT_S + 60)
def test_given_generated_requests_to_every_served_mastodon_operation_when_sent_then_none_is_a_server_error(
    token, cloud_env
):
    operations = served_operation_ids()
    assert len(operations) >= 30, operations  # the routes were found in the document: nothing silently left out
    command = [
        str(Path(sysconfig.get_path("scripts")) / "st"),
        "run",
        str(DOCUMENT),
        "--url",
        cloud_env["CHIRP_MASTODON_URL"],
        "--header",
        f"Authorization: Bearer {token}",
        *(argument for operation_id in operations for argument in ("--include-operation-id", operation_id)),
        "--checks",
        "not_a_server_error",
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
    assert f"Tested: {len(operations)}" in run.stdout  # every served operation was exercised
