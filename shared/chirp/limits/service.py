"""The rate limiter: one atomic check per request, against the caller's limit for the request's class.

Keys are `limit:{<subject>}:<class>`: the braces are a Redis Cluster hash tag, so every counter of one subject
lives in one slot (a check touches one key; a future check of several classes at once stays single-slot).

When Redis does not answer, the class's failure mode decides (classes.FAILURE_MODES), and the limiter stops
asking for BREAKER_S seconds: a request should not wait out connection timeouts to learn what the previous
one learned.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from chirp.limits.classes import FAILURE_MODES
from chirp.limits.model import EndpointClass, Limit, Subject, Verdict
from chirp.limits.ports import LimitStore, LimitStoreUnavailable, OverrideSource
from chirp.observability import logger

BREAKER_S = 5.0


def limit_key(subject: Subject, endpoint: EndpointClass) -> str:
    return f"limit:{{{subject.tag}}}:{endpoint.value}"


class RateLimiter:
    def __init__(
        self,
        store: LimitStore,
        tiers: dict[EndpointClass, Limit],
        overrides: OverrideSource,
        clock: Callable[[], float] = time.monotonic,
    ):
        missing = set(EndpointClass) - set(tiers)
        if missing:
            raise ValueError(f"no limit configured for {sorted(missing)}")
        self.store, self.tiers, self.overrides, self.clock = store, tiers, overrides, clock
        self._skip_until = 0.0

    def limit_for(self, subject: Subject, endpoint: EndpointClass) -> Limit:
        """The stage's tier, unless an operator set another for this user (for this class, or for all)."""
        if subject.kind != "user":
            return self.tiers[endpoint]
        raised = self.overrides.overrides(subject.id)
        return raised.get(endpoint) or raised.get(None) or self.tiers[endpoint]

    def check(self, subject: Subject, endpoint: EndpointClass) -> Verdict:
        limit = self.limit_for(subject, endpoint)
        if self.clock() < self._skip_until:
            return self._unknown(endpoint, limit)
        try:
            state = self.store.hit(limit_key(subject, endpoint), limit)
        except LimitStoreUnavailable as error:
            self._skip_until = self.clock() + BREAKER_S
            logger.warning("rate limits unavailable", extra={"error": str(error), "retry_in_s": BREAKER_S})
            return self._unknown(endpoint, limit)
        return Verdict(endpoint_class=endpoint, limit=limit, state=state, allowed=state.allowed)

    @staticmethod
    def _unknown(endpoint: EndpointClass, limit: Limit) -> Verdict:
        return Verdict(endpoint_class=endpoint, limit=limit, state=None, allowed=FAILURE_MODES[endpoint].fail_open)
