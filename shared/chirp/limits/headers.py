"""The limit state as response header fields, on every answer:

- `X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset` as Mastodon sends them (Reset is the
  ISO 8601 time at which the whole limit is available again);
- the IETF draft's structured fields (draft-ietf-httpapi-ratelimit-headers): `RateLimit-Policy:
  "tweets";q=300;w=10800` (quota and window in seconds) and `RateLimit: "tweets";r=299;t=36` (remaining, and
  seconds until the quota is whole again);
- `Retry-After` (seconds) on a refusal.

When the counter could not be asked, only the policy is known: the Limit and Policy fields are sent, without
remaining or reset (a class that fails closed then answers 503 with its own Retry-After: chirp.runtime.http_guard).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from chirp.limits.model import LimitState, Verdict

REFUSED_STATUS = 429


def iso_time(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def retry_after_s(state: LimitState) -> int:
    """Whole seconds, rounded up, at least 1: a client that waits this long is accepted."""
    return max(1, math.ceil(state.retry_after_ms / 1000))


def limit_headers(verdict: Verdict) -> dict[str, str]:
    policy = verdict.endpoint_class.value
    headers = {
        "X-RateLimit-Limit": str(verdict.limit.count),
        "RateLimit-Policy": f'"{policy}";q={verdict.limit.count};w={verdict.limit.window_s}',
    }
    state = verdict.state
    if state is not None:
        reset_s = math.ceil(state.reset_after_ms / 1000)
        headers |= {
            "X-RateLimit-Remaining": str(state.remaining),
            "X-RateLimit-Reset": iso_time(state.now_ms + state.reset_after_ms),
            "RateLimit": f'"{policy}";r={state.remaining};t={reset_s}',
        }
        if not verdict.allowed:
            headers["Retry-After"] = str(retry_after_s(state))
    return headers


def refusal_message(verdict: Verdict) -> str:
    what = verdict.endpoint_class.value
    return (
        f"rate limit reached: {verdict.limit.count} {what} requests per {verdict.limit.window_s} s; "
        f"retry in {retry_after_s(verdict.state)} s"
    )
