"""What the limiter needs from the outside world: an atomic counter on a clock of its own that also holds each
caller's overrides (Redis), and where operators set those overrides (SSM Parameter Store), mirrored into the
counter's store every minute."""

from __future__ import annotations

from typing import Protocol

from chirp.limits.model import EndpointClass, Limit, LimitState, Subject

Overrides = dict[EndpointClass | None, Limit]  # by class; None: every class without its own


class LimitStoreUnavailable(Exception):
    """The counter did not answer (the store is down or unreachable): the class's failure mode decides."""


class LimitStore(Protocol):
    def hit(self, subject: Subject, endpoint: EndpointClass, tier: Limit) -> tuple[LimitState, Limit]:
        """Counts one request of `subject` in `endpoint` against its limit: the override mirrored for the subject
        (for this class, else for every class), else `tier`. Atomic, on the store's own clock, one round trip; a
        refused request is not counted. Returns the state and the limit applied. Raises LimitStoreUnavailable when
        the store does not answer."""
        ...

    def mirror_overrides(self, overrides: dict[str, Overrides]) -> int:
        """Makes the mirrored overrides exactly these (by user id): sets each, removes those no longer listed.
        Returns how many users have overrides now."""
        ...


class OverrideSource(Protocol):
    def all_overrides(self) -> dict[str, Overrides]:
        """Every user's overrides as operators set them (a few accounts: partners, load-test users)."""
        ...
