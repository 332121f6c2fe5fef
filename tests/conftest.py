"""Shared test fixtures: where the local cloud answers (written by `make dev` to .local/cloud.env)."""

from __future__ import annotations

import base64
import importlib.util
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
CLOUD_ENV = Path(os.environ.get("CHIRP_LOCAL_DIR", ROOT / ".local")) / "cloud.env"


def read_cloud_env() -> dict[str, str]:
    if not CLOUD_ENV.exists():
        pytest.fail(f"the local cloud is not running ({CLOUD_ENV} missing): run `make dev` first", pytrace=False)
    values = {}
    for line in CLOUD_ENV.read_text().splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        values[key] = value
    return values


@pytest.fixture(scope="session")
def cloud_env() -> dict[str, str]:
    return read_cloud_env()


def load_handler(function_name: str) -> ModuleType:
    """Imports functions/<name>/handler.py under a unique module name (every handler is 'handler')."""
    path = ROOT / "functions" / function_name / "handler.py"
    module_name = f"chirp_function_{function_name}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


@dataclass
class FakeLambdaContext:
    """The attributes Powertools reads from a Lambda context."""

    function_name: str = "test"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:000000000000:function:test"
    aws_request_id: str = "req-1"


def kinesis_event(payloads: list[bytes]) -> dict:
    """A Kinesis event as the stream's event source mapping delivers it (one shard, numbered records)."""
    return {
        "Records": [
            {
                "eventSource": "aws:kinesis",
                "eventID": f"shardId-000000000000:{i}",
                "eventName": "aws:kinesis:record",
                "awsRegion": "us-east-1",
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": "p",
                    "sequenceNumber": str(1000 + i),
                    "approximateArrivalTimestamp": 1.0,
                    "data": base64.b64encode(payload).decode(),
                },
            }
            for i, payload in enumerate(payloads)
        ]
    }
