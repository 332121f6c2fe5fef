"""What the limiter needs from the outside world: an atomic counter on a clock of its own (Redis), and the
per-user overrides operators set (SSM Parameter Store)."""

from __future__ import annotations

from typing import Protocol

from chirp.limits.model import EndpointClass, Limit, LimitState


class LimitStoreUnavailable(Exception):
    """The counter did not answer (the store is down or unreachable): the class's failure mode decides."""


class LimitStore(Protocol):
    def hit(self, key: str, limit: Limit) -> LimitState:
        """Counts one request against `limit` under `key`, atomically and on the store's own clock, in one round
        trip; a refused request is not counted. Raises LimitStoreUnavailable when the store does not answer."""
        ...


class OverrideSource(Protocol):
    def overrides(self, user_id: str) -> dict[EndpointClass | None, Limit]:
        """The limits an operator raised (or lowered) for this user, by class; the key None applies to every
        class the user has no class-specific override for. Empty for almost everybody."""
        ...
