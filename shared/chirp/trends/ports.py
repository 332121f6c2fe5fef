"""What the trend rules need: tag use counted per account in time buckets (Redis HyperLogLogs in production),
the trends' own state (peaks, the ranked list), accounts' ages, and the operators' tag lists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class TagUse:
    tag: str
    account_id: str
    at_ms: int
    trusted: bool  # False for a new account or one of a burst of identical texts: it counts for less


@dataclass(frozen=True)
class TagActivity:
    """A tag's distinct accounts in the last hour (trusted and suspect apart) and in each of the hours before."""

    tag: str
    trusted: int
    suspect: int
    hourly: list[int]  # oldest first: the baseline


@dataclass(frozen=True)
class Peak:
    score: float
    at_ms: int


class TagCounter(Protocol):
    def record(self, uses: list[TagUse]) -> None:
        """Counts each account once per tag and bucket, however often it is recorded."""
        ...

    def same_text_accounts(self, text_key: str, account_id: str, at_ms: int) -> int:
        """Records that this account posted this text (its normalised hash) and answers how many distinct
        accounts posted it within the hour."""
        ...

    def active_tags(self, now_ms: int) -> list[str]:
        """Tags used within the last hour."""
        ...

    def activity(self, tags: list[str], now_ms: int, baseline_hours: int) -> list[TagActivity]: ...


class TrendState(Protocol):
    def peaks(self) -> dict[str, Peak]:
        """Every remembered peak (the tags that trended within the cooldown)."""
        ...

    def save_peaks(self, peaks: dict[str, Peak], forget: list[str]) -> None: ...
    def ranking(self) -> tuple[int, str] | None:
        """The ranking kept last (as JSON) and when it was computed (ms since the epoch); None if none."""
        ...

    def keep_ranking(self, computed_at_ms: int, ranking: str) -> None: ...


class AccountAges(Protocol):
    def created_at_ms(self, account_ids: list[str]) -> dict[str, int]: ...


class TagLists(Protocol):
    def blocked(self) -> frozenset[str]: ...
    def evergreen(self) -> frozenset[str]: ...
