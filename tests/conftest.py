"""Shared test fixtures: where the local cloud answers (written by `make dev` to .local/cloud.env), Lambda
contexts and events, handlers loaded by path."""

from __future__ import annotations

import base64
import importlib.util
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

from localstack.cloud_env import read_cloud_env  # tests/integration import it from here too

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def cloud_env() -> dict[str, str]:
    """The local cloud's variables (.local/cloud.env, written by `make dev`); fails the test, naming `make dev`,
    when the cloud is not running."""
    try:
        return read_cloud_env()
    except FileNotFoundError as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def cloud_redis(cloud_env):
    """The local cloud's Redis as the app reaches it: one server, or the cluster (REDIS_CLUSTER) keys route in."""
    from chirp.adapters.redis.client import redis_client
    from chirp.settings import Settings

    return redis_client(Settings.from_env(cloud_env))


def load_handler(function_name: str, module: str = "handler") -> ModuleType:
    """Imports functions/<name>/<module>.py (default handler.py) under a unique module name (most entry points are
    'handler')."""
    path = ROOT / "functions" / function_name / f"{module}.py"
    if str(path.parent) not in sys.path:  # as in Lambda, the function's folder is importable (its own modules)
        sys.path.append(str(path.parent))
    module_name = f"chirp_function_{function_name}_{module}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def eventually[T](check: Callable[[], T], timeout_s: float = 30.0, interval_s: float = 0.25) -> T:
    """Polls until check() returns a truthy value (asynchronous consumers), or gives up with the last value."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval_s)


def load_bench(name: str) -> ModuleType:
    """bench/<name>.py, loaded by path, with bench/ importable as the benchmarks expect (it is not a package)."""
    if str(ROOT / "bench") not in sys.path:
        sys.path.append(str(ROOT / "bench"))
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class FakeLambdaContext:
    """The attributes Powertools reads from a Lambda context."""

    function_name: str = "test"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:000000000000:function:test"
    aws_request_id: str = "req-1"
    remaining_time_ms: int = 900_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_time_ms


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
