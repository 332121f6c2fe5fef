"""What a function's cold start imports: each handler is imported in a fresh interpreter laid out as Lambda lays
it out (the shared layer's package and the function's own folder importable), and what it loaded is checked.
Module presence, not time: the figures are bench/cold_start.py's."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

FUNCTIONS = sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "handler.py").exists())
# Powertools' batch utility imports these, for type hints only, when pydantic is loaded before it (about 25 ms).
PARSER = "aws_lambda_powertools.utilities.parser"
BATCH_CONSUMERS = {"fanout", "fanout_worker", "notifier", "search_repair", "trends", "tweet_counter"}


def modules_loaded_by(function: str) -> set[str]:
    loader = "import json, sys; import handler; print(json.dumps(sorted(sys.modules)))"
    path = os.pathsep.join([str(ROOT / "shared"), str(ROOT / "functions" / function)])
    done = subprocess.run(
        [sys.executable, "-c", loader],
        cwd=ROOT / "functions" / function,
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return set(json.loads(done.stdout))


def test_every_function_has_a_handler_to_check():
    assert len(FUNCTIONS) >= 19


@pytest.mark.parametrize("function", FUNCTIONS)
def test_given_a_function_when_its_handler_is_imported_then_powertools_parser_models_are_not(function):
    loaded = modules_loaded_by(function)

    assert "handler" in loaded
    assert not {m for m in loaded if m == PARSER or m.startswith(PARSER + ".")}
    if function in BATCH_CONSUMERS:  # not vacuous: both the batch utility and pydantic are loaded
        assert {"aws_lambda_powertools.utilities.batch", "pydantic"} <= loaded
