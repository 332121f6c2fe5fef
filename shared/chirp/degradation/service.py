"""One run of the controller: read the setting and the signals, decide, write the automatic level if it moved."""

from __future__ import annotations

from dataclasses import dataclass

from chirp.degradation.controller import ControllerState, Signals, Tuning, decide
from chirp.degradation.levels import Level
from chirp.degradation.ports import LevelStore, MetricsSource


@dataclass(frozen=True)
class Run:
    signals: Signals
    before: ControllerState
    auto: ControllerState
    manual: Level | None

    @property
    def effective(self) -> Level:
        return self.manual if self.manual is not None else self.auto.level


class DegradationController:
    def __init__(self, store: LevelStore, metrics: MetricsSource, tuning: Tuning):
        self.store, self.metrics, self.tuning = store, metrics, tuning

    def run(self) -> Run:
        setting = self.store.read()
        signals = self.metrics.signals(self.tuning.window_s)
        auto = decide(setting.auto, signals, self.tuning)
        if (auto.level, auto.calm_runs) != (setting.auto.level, setting.auto.calm_runs):
            self.store.write_auto(auto)
        return Run(signals=signals, before=setting.auto, auto=auto, manual=setting.manual)
