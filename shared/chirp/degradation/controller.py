"""The automatic controller: sets the degradation level from live signals, with hysteresis.

Signals, over the last `window_s` seconds: the API's p99 latency (what clients wait), its server error rate
(5xx / requests, counted only above `min_requests` requests: two requests and one error is no rate), and the
fan-out consumer's iterator age (how far timelines lag behind posting). A signal without data calls for nothing:
no traffic is no overload.

Each signal calls for the highest level whose threshold it reaches; the controller takes the highest call.
- Up at once: a level called for above the current one is set on this run.
- Down slowly: only when every signal is below `clear_ratio` times the current level's thresholds (well inside
  the level below, not just under the line) for `calm_runs` runs in a row, and then one level only. A signal
  hovering around a threshold therefore cannot make the level flap.
The manual override wins over all of this (ports.LevelSetting.effective); the controller keeps deciding
meanwhile, so handing back to it resumes from the present.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field

from chirp.degradation.levels import Level


@dataclass(frozen=True)
class Signals:
    api_p99_ms: float | None
    api_errors: float  # 5xx answers in the window
    api_requests: float
    iterator_age_ms: float | None

    @property
    def error_rate(self) -> float | None:
        return self.api_errors / self.api_requests if self.api_requests else None


class Tuning(BaseModel):
    """Thresholds from which levels 1, 2, 3 and 4 are called for, per signal; hysteresis; the window."""

    p99_ms: tuple[float, float, float, float] = (1_000, 2_500, 5_000, 10_000)
    error_rate: tuple[float, float, float, float] = (0.01, 0.05, 0.10, 0.25)
    iterator_age_ms: tuple[float, float, float, float] = (60_000, 300_000, 900_000, 3_600_000)
    min_requests: int = Field(default=50, ge=1)
    calm_runs: int = Field(default=5, ge=1)
    clear_ratio: float = Field(default=0.7, gt=0, le=1)
    window_s: int = Field(default=300, ge=60)


class ControllerState(BaseModel):
    """The automatic level and how many calm runs in a row it has seen (persisted between runs)."""

    level: Level = Level.NORMAL
    calm_runs: int = 0
    reason: str = ""


def called_for(signals: Signals, tuning: Tuning, scale: float = 1.0) -> tuple[Level, str]:
    """The highest level any signal reaches (thresholds multiplied by `scale`), and which signal."""
    readings = (
        ("p99 latency", signals.api_p99_ms, tuning.p99_ms, "ms"),
        (
            "error rate",
            signals.error_rate if signals.api_requests >= tuning.min_requests else None,
            tuning.error_rate,
            "",
        ),
        ("fan-out iterator age", signals.iterator_age_ms, tuning.iterator_age_ms, "ms"),
    )
    worst, why = Level.NORMAL, "every signal is below level 1's thresholds"
    for name, value, thresholds, unit in readings:
        if value is None:
            continue
        reached = sum(1 for threshold in thresholds if value >= threshold * scale)
        if reached > worst:
            worst = Level(reached)
            why = f"{name} {value:.4g}{unit} >= {thresholds[reached - 1] * scale:.4g}{unit}"
    return worst, why


def decide(state: ControllerState, signals: Signals, tuning: Tuning) -> ControllerState:
    wanted, why = called_for(signals, tuning)
    if wanted > state.level:
        return ControllerState(level=wanted, calm_runs=0, reason=f"up: {why}")
    if state.level == Level.NORMAL:
        return ControllerState(level=Level.NORMAL, calm_runs=0, reason=why)
    still, still_why = called_for(signals, tuning, scale=tuning.clear_ratio)
    if still >= state.level:
        return ControllerState(level=state.level, calm_runs=0, reason=f"holding: {still_why} (clear ratio)")
    calm = state.calm_runs + 1
    if calm >= tuning.calm_runs:
        down = Level(state.level - 1)
        return ControllerState(level=down, calm_runs=0, reason=f"down after {calm} calm runs")
    return ControllerState(level=state.level, calm_runs=calm, reason=f"calm run {calm} of {tuning.calm_runs}")
