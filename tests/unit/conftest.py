from __future__ import annotations

import pytest

from chirp.composition import services
from chirp.degradation.levels import Level
from chirp.limits.model import parse_limits
from chirp.limits.service import RateLimiter
from chirp.settings import DEFAULT_RATE_LIMITS
from tests.conftest import FakeLambdaContext
from tests.unit.fakes import FakeClock, FakeLimitStore


@pytest.fixture(autouse=True)
def guard_on_fakes(monkeypatch):
    """Handlers loaded in unit tests go through their guard (chirp.runtime.http_guard) with an in-memory limiter
    and level, never a Redis or an SSM this machine may have. Tests change `guard_on_fakes.level` or the store."""

    class Protection:
        level = Level.NORMAL
        store = FakeLimitStore(FakeClock())
        limiter = RateLimiter(store, parse_limits(DEFAULT_RATE_LIMITS), clock=lambda: 0.0)

    monkeypatch.setattr(services(), "limiter", Protection.limiter, raising=False)
    monkeypatch.setattr(services(), "level", lambda: Protection.level, raising=False)
    return Protection


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


@pytest.fixture
def api_event():
    """An API Gateway REST (v1) proxy event, as the deployed API sends it."""

    def build(method: str, path: str, body: str | None = None, claims: dict | None = None) -> dict:
        return {
            "resource": path,
            "path": path,
            "httpMethod": method,
            "headers": {"Content-Type": "application/json"},
            "multiValueHeaders": {},
            "queryStringParameters": None,
            "multiValueQueryStringParameters": None,
            "pathParameters": None,
            "body": body,
            "isBase64Encoded": False,
            "requestContext": {
                "requestId": "req-1",
                "stage": "v1",
                "httpMethod": method,
                "path": f"/v1{path}",
                "authorizer": {"claims": claims} if claims else None,
            },
        }

    return build
