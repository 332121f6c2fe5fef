"""The rate limiter: one atomic check per request, against the caller's limit for the request's class.

Counters live at `limit:{<subject>}:<class>` and a user's overrides at `limit:{<subject>}:overrides`: the braces
are a Redis Cluster hash tag, so one check reads the caller's override and updates its counter in one slot, in
one round trip. Overrides are set by operators in SSM and mirrored into Redis every minute (OverrideMirror), so
a request never waits on SSM.

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


def overrides_key(subject: Subject) -> str:
    return f"limit:{{{subject.tag}}}:overrides"


class RateLimiter:
    def __init__(
        self,
        store: LimitStore,
        tiers: dict[EndpointClass, Limit],
        clock: Callable[[], float] = time.monotonic,
    ):
        missing = set(EndpointClass) - set(tiers)
        if missing:
            raise ValueError(f"no limit configured for {sorted(missing)}")
        self.store, self.tiers, self.clock = store, tiers, clock
        self._skip_until = 0.0

    def check(self, subject: Subject, endpoint: EndpointClass) -> Verdict:
        tier = self.tiers[endpoint]
        if self.clock() < self._skip_until:
            return self._unknown(endpoint, tier)
        try:
            state, limit = self.store.hit(subject, endpoint, tier)
        except LimitStoreUnavailable as error:
            self._skip_until = self.clock() + BREAKER_S
            logger.warning("rate limits unavailable", extra={"error": str(error), "retry_in_s": BREAKER_S})
            return self._unknown(endpoint, tier)
        return Verdict(endpoint_class=endpoint, limit=limit, state=state, allowed=state.allowed)

    @staticmethod
    def _unknown(endpoint: EndpointClass, tier: Limit) -> Verdict:
        """The counter was not asked: the tier is the policy said (an override is unknown without Redis)."""
        return Verdict(endpoint_class=endpoint, limit=tier, state=None, allowed=FAILURE_MODES[endpoint].fail_open)


class OverrideMirror:
    """Copies the operators' overrides (SSM) next to the counters (Redis), where every check reads them."""

    def __init__(self, source: OverrideSource, store: LimitStore):
        self.source, self.store = source, store

    def run(self) -> int:
        return self.store.mirror_overrides(self.source.all_overrides())
