"""Where tag use is counted (Redis HyperLogLogs in production)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class TagUse:
    day: str  # UTC day, YYYYMMDD
    tag: str
    account_id: str
    at_ms: int


@dataclass(frozen=True)
class TagCounts:
    tag: str
    accounts_today: int
    accounts_yesterday: int
    last_used_ms: int | None


class TagCounter(Protocol):
    def record(self, uses: list[TagUse]) -> None:
        """Counts each account once per (day, tag), whatever how often it is recorded; keeps each tag's latest use."""
        ...

    def counts(self, today: str, yesterday: str) -> list[TagCounts]:
        """Distinct accounts today and yesterday, and the latest use, of every tag used today."""
        ...

    def ranking(self) -> tuple[int, str] | None:
        """The ranking kept last (as JSON) and when it was computed (ms since the epoch); None if none."""
        ...

    def keep_ranking(self, computed_at_ms: int, ranking: str) -> None: ...
