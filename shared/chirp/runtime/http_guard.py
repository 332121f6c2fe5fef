"""The protection of every HTTP answer, in one place: the degradation level's refusals, the caller's rate limit,
and the headers that tell clients both.

It is a Powertools handler middleware (`lambda_handler_decorator`) around each HTTP function's entry point, so it
sees every request before routing and validation (an invalid request is counted like any other) and every
answer after (an error answer carries the limit state too). In order:

1. The level refuses the request outright (search from level 3, every write at level 4): 503 with Retry-After,
   before any work and without spending the caller's limit.
2. The caller's limit for the request's class (chirp.limits.classes): one Redis round trip; refused: 429 with
   Retry-After. The caller is the token's `sub`, or the client address on routes without a token.
3. The route answers; the limit fields and `Chirp-Degradation-Level` are added to whatever it answered.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module

from aws_lambda_powertools.middleware_factory import lambda_handler_decorator

from chirp.degradation.levels import HEADER as LEVEL_HEADER
from chirp.degradation.levels import Level, refusal
from chirp.limits.classes import endpoint_class
from chirp.limits.headers import REFUSED_STATUS, limit_headers, refusal_message
from chirp.limits.model import EndpointClass, Subject, Verdict
from chirp.limits.service import BREAKER_S, RateLimiter
from chirp.observability import logger, metrics
from chirp.runtime.snapstart import before_snapshot

# Every guarded request's rate limit needs redis-py: imported into a SnapStart snapshot (the REST API and discovery;
# its client is built after the restore, where its password, on AWS, is read).
before_snapshot(lambda: import_module("redis"))

# The response headers a browser may read (CORS), here and in every resolver's CORSConfig and at the gateway.
EXPOSED_HEADERS = (
    "Retry-After",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "RateLimit-Policy",
    "RateLimit",
    LEVEL_HEADER,
)


@dataclass(frozen=True)
class Admission:
    """The guard's answer before the route: a refusal to send as is, or headers to add to the route's answer."""

    headers: dict[str, str]
    refused: dict | None = None


def _caller(event: dict) -> Subject:
    context = event.get("requestContext") or {}
    claims = (context.get("authorizer") or {}).get("claims") or {}
    if claims.get("sub"):
        return Subject("user", claims["sub"])
    return Subject("ip", (context.get("identity") or {}).get("sourceIp") or "unknown")


def _answer(status: int, error: str, message: str, headers: dict[str, str]) -> dict:
    return {
        "statusCode": status,
        "headers": {
            "Content-Type": "application/json",
            "Access-Control-Allow-Origin": "*",
            "Access-Control-Expose-Headers": ",".join(EXPOSED_HEADERS),
            **headers,
        },
        "body": json.dumps({"error": error, "message": message}),
        "isBase64Encoded": False,
    }


class Guard:
    def __init__(self, limiter: Callable[[], RateLimiter], level: Callable[[], Level]):
        self.limiter, self.level = limiter, level

    def admit(self, event: dict) -> Admission:
        method = event.get("httpMethod", "GET")
        subject = _caller(event)
        endpoint = endpoint_class(
            method, event.get("resource") or event.get("path") or "/", authenticated=subject.kind == "user"
        )
        level = self.level()
        headers = {LEVEL_HEADER: str(level.value)}
        refused = refusal(level, method, is_search=endpoint is EndpointClass.SEARCH)
        if refused is not None:
            metrics.add_metric(name="DegradationRefusals", unit="Count", value=1)
            headers["Retry-After"] = str(refused.retry_after_s)
            return Admission(headers, _answer(503, "Unavailable", refused.message, headers))
        verdict = self.limiter().check(subject, endpoint)
        headers |= limit_headers(verdict)
        if verdict.allowed:
            return Admission(headers)
        return Admission(headers, self._refusal(verdict, headers))

    @staticmethod
    def _refusal(verdict: Verdict, headers: dict[str, str]) -> dict:
        if verdict.state is None:  # the counter is unreachable and this class fails closed
            message = "rate limits cannot be checked right now; retry shortly"
            return _answer(503, "Unavailable", message, {**headers, "Retry-After": str(math.ceil(BREAKER_S))})
        metrics.add_metric(name="RateLimited", unit="Count", value=1)
        logger.info("rate limited", extra={"class": verdict.endpoint_class.value, "limit": str(verdict.limit)})
        return _answer(REFUSED_STATUS, "TooManyRequests", refusal_message(verdict), headers)


def add_headers(response: dict, headers: dict[str, str]) -> dict:
    """Adds headers the response does not set already (case-insensitively), in the shape it uses."""
    multi = response.get("multiValueHeaders")
    present = {name.lower() for name in (response.get("headers") or {})} | {name.lower() for name in (multi or {})}
    for name, value in headers.items():
        if name.lower() in present:
            continue
        if multi is not None:
            multi[name] = [value]
        else:
            response.setdefault("headers", {})[name] = value
    return response


@lambda_handler_decorator
def protected(handler, event: dict, context, guard: Callable[[], Guard]):
    """Applies the guard to API Gateway requests; other events (a schedule) go straight to the handler."""
    if "httpMethod" not in event:
        return handler(event, context)
    admission = guard().admit(event)
    if admission.refused is not None:
        return admission.refused
    return add_headers(handler(event, context), admission.headers)
