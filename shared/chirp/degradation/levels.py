"""The five degradation levels and what each switches off. Levels are cumulative: each does what the one below
does, and more.

- 0 normal: everything runs.
- 1 advisory: non-essential work stops: trends stop counting hashtags and stop refreshing (GET /trends serves the
  ranking computed last).
- 2 warning: home timelines are served as Redis holds them: a lost or expired timeline is not rebuilt from
  DynamoDB, and followed celebrities' tweets are not merged in.
- 3 critical: fan-out on write stops: a new tweet waits in its author's deferred set and readers pull it in
  (timelines are built on read) until fan-out resumes and pushes it; search answers 503.
- 4 survival: read-only: every write answers 503 with Retry-After.

Nothing is lost across a change: pending tweets are pushed once fan-out is back, timelines not rebuilt are
rebuilt on the first read after, celebrity tweets stay in their pull sets. Only hashtag counts of tweets posted
from level 1 on are never made (trends are derived and best effort).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from chirp.observability import logger

HEADER = "Chirp-Degradation-Level"
# How long a client refused by a level should wait: levels change on the controller's minute-scale period.
REFUSAL_RETRY_AFTER_S = 60


class Level(IntEnum):
    NORMAL = 0
    ADVISORY = 1
    WARNING = 2
    CRITICAL = 3
    SURVIVAL = 4

    @classmethod
    def parse(cls, value: object) -> Level:
        """A level from its number or name (`3`, `"3"`, `"critical"`); anything else is refused."""
        text = str(value).strip().lower()
        if text.isdigit() and int(text) in iter(cls):
            return cls(int(text))
        by_name = {level.name.lower(): level for level in cls}
        if text in by_name:
            return by_name[text]
        raise ValueError(f"not a degradation level: {value!r} (0-4 or {', '.join(by_name)})")


class Feature(StrEnum):
    TRENDS_RECORDING = "trends_recording"  # the trends consumer counts hashtags
    TRENDS_REFRESH = "trends_refresh"  # GET /trends recomputes the list when it is older than its refresh period
    TIMELINE_REBUILD = "timeline_rebuild"  # a home read rebuilds a lost or expired timeline from DynamoDB
    CELEBRITY_MERGE = "celebrity_merge"  # a home read merges followed celebrities' tweets in
    FANOUT_ON_WRITE = "fanout_on_write"  # the fan-out consumer pushes new tweets into followers' timelines
    SEARCH = "search"  # GET /search
    WRITES = "writes"  # every request that changes something (any method but GET, HEAD, OPTIONS)


# The level from which each feature is off.
OFF_FROM: dict[Feature, Level] = {
    Feature.TRENDS_RECORDING: Level.ADVISORY,
    Feature.TRENDS_REFRESH: Level.ADVISORY,
    Feature.TIMELINE_REBUILD: Level.WARNING,
    Feature.CELEBRITY_MERGE: Level.WARNING,
    Feature.FANOUT_ON_WRITE: Level.CRITICAL,
    Feature.SEARCH: Level.CRITICAL,
    Feature.WRITES: Level.SURVIVAL,
}
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def enabled(feature: Feature, level: Level) -> bool:
    return level < OFF_FROM[feature]


@dataclass(frozen=True)
class Refusal:
    """An HTTP request the level refuses: 503 with this message and Retry-After."""

    message: str
    retry_after_s: int = REFUSAL_RETRY_AFTER_S


def refusal(level: Level, method: str, *, is_search: bool) -> Refusal | None:
    """Whether the level refuses a request outright (the API answers 503), before any work."""
    if method.upper() not in READ_METHODS and not enabled(Feature.WRITES, level):
        return Refusal(f"Chirp is read-only for now (degradation level {level.value}, {level.name.lower()})")
    if is_search and not enabled(Feature.SEARCH, level):
        return Refusal(f"search is switched off for now (degradation level {level.value}, {level.name.lower()})")
    return None


class CurrentLevel:
    """The level a process acts on: read through `read` (one SSM call) at most once per `ttl_s`, so operators'
    and the controller's changes reach every function within seconds, without a deploy and without a call per
    request. When it cannot be read, the last level read holds (NORMAL before any): degrading is an
    optimisation, and an SSM hiccup must not change behaviour."""

    def __init__(self, read: Callable[[], Level], ttl_s: float, clock: Callable[[], float] = time.monotonic):
        self.read, self.ttl_s, self.clock = read, ttl_s, clock
        self._level, self._read_at = Level.NORMAL, None

    def __call__(self) -> Level:
        now = self.clock()
        if self._read_at is None or now - self._read_at >= self.ttl_s:
            try:
                self._level = self.read()
            except Exception as error:  # noqa: BLE001 - any failure to read keeps the last level, logged
                logger.warning("degradation level unreadable", extra={"error": f"{type(error).__name__}: {error}"})
            self._read_at = now
        return self._level


class Switches:
    """Features on or off at the current level: what the rules ask."""

    def __init__(self, level: Callable[[], Level] = lambda: Level.NORMAL):
        self.level = level

    def on(self, feature: Feature) -> bool:
        return enabled(feature, self.level())
