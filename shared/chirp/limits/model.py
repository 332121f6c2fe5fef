"""What a rate limit is, and what one check of it answers.

A limit is written `count/window`, e.g. `300/3h` (300 requests per 3 hours) or `180/15m`; windows are
seconds (s), minutes (m), hours (h) or days (d). It is enforced as GCRA (the generic cell rate algorithm):
a client may send `count` requests at once, then one more every `window / count` seconds, so a limit
never resets all at once and the answer says exactly when the next request will be accepted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

UNITS_S = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")


class EndpointClass(StrEnum):
    """Routes counted together against one limit (the limit's policy name in the RateLimit fields)."""

    TWEETS = "tweets"  # POST /tweets
    LIKES = "likes"  # liking and unliking tweets
    FOLLOWS = "follows"  # following and unfollowing
    HOME = "home"  # GET /timelines/home
    SEARCH = "search"  # GET /search
    DEFAULT = "default"  # every other route that needs a token
    ANONYMOUS = "anonymous"  # routes without a token, counted per client IP


@dataclass(frozen=True)
class Limit:
    count: int
    window_s: int

    def __post_init__(self):
        if self.count < 1 or self.window_s < 1:
            raise ValueError(f"a limit needs at least 1 request per at least 1 s, not {self.count}/{self.window_s}s")

    @classmethod
    def parse(cls, spec: str) -> Limit:
        """`300/3h` -> Limit(300, 10800); a bare unit means one of it (`150/h`)."""
        match = _SPEC.match(spec)
        if not match:
            raise ValueError(f"not a limit: {spec!r} (write count/window, e.g. 300/3h, 180/15m)")
        count, amount, unit = match.groups()
        return cls(int(count), int(amount or 1) * UNITS_S[unit])

    @property
    def interval_ms(self) -> float:
        """The steady rate: one request per this many milliseconds once the burst is spent."""
        return self.window_s * 1000 / self.count

    def __str__(self) -> str:
        for unit, seconds in sorted(UNITS_S.items(), key=lambda item: -item[1]):
            if self.window_s % seconds == 0:
                return f"{self.count}/{self.window_s // seconds}{unit}"
        raise AssertionError("every window is a whole number of seconds")


def parse_limits(specs: dict[str, str]) -> dict[EndpointClass, Limit]:
    """A table of limits by class name, e.g. a stage's tiers; an unknown class is refused (a typo would
    otherwise leave a class on its default without a word)."""
    return {EndpointClass(name): Limit.parse(spec) for name, spec in specs.items()}


@dataclass(frozen=True)
class Subject:
    """Who is counted: a user (by the token's sub) or, on routes without a token, a client address."""

    kind: str  # "user" or "ip"
    id: str

    @property
    def tag(self) -> str:
        return f"{self.kind}:{self.id}"


@dataclass(frozen=True)
class LimitState:
    """One atomic check of a limit, timed by the store's clock."""

    allowed: bool
    remaining: int  # requests that would be accepted right now, after this one
    reset_after_ms: int  # until the limit is whole again (every request of the burst available)
    retry_after_ms: int  # refused: until a request will be accepted; 0 when allowed
    now_ms: int  # the store's clock when it decided


@dataclass(frozen=True)
class Verdict:
    """What the API tells a client about one request: its class, the limit that applies, and the state of it.
    `state` is None when the store could not be asked (then `allowed` says whether the class fails open)."""

    endpoint_class: EndpointClass
    limit: Limit
    state: LimitState | None
    allowed: bool
