"""Where the level lives (SSM Parameter Store: the operator's manual override and the controller's automatic
level) and where the controller's signals come from (CloudWatch)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from chirp.degradation.controller import ControllerState, Signals
from chirp.degradation.levels import Level


@dataclass(frozen=True)
class LevelSetting:
    manual: Level | None  # an operator's level, which wins; None: the controller decides
    auto: ControllerState

    @property
    def effective(self) -> Level:
        return self.manual if self.manual is not None else self.auto.level


class LevelStore(Protocol):
    def read(self) -> LevelSetting:
        """Both parameters in one call; a parameter that does not exist reads as its default (no override,
        level 0)."""
        ...

    def write_auto(self, state: ControllerState) -> None: ...

    def write_manual(self, level: Level | None) -> None:
        """Sets the operator's level, or hands the decision back to the controller (None)."""
        ...


class MetricsSource(Protocol):
    def signals(self, window_s: int) -> Signals:
        """The API's p99 latency, its server error rate and request count, and the fan-out's iterator age, over
        the last `window_s` seconds."""
        ...
