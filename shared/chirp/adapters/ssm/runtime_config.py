"""Runtime settings in SSM Parameter Store, which operators change without a deploy:

- `/chirp/<stage>/degradation/manual`: `auto` (the controller decides) or a level 0-4 that wins;
- `/chirp/<stage>/degradation/auto`: the controller's state as JSON (`{"level": 2, "calm_runs": 1, ...}`);
- `/chirp/<stage>/limits/users/<user id>`: a user's raised (or lowered) limits as JSON, by endpoint class or
  `*` for every class: `{"*": "100000/1h"}`, `{"tweets": "3000/3h"}`.

Each function reads them at most once per its cache period (one GetParameters call for the level, one
GetParametersByPath page per ten overrides); a refused or failed read keeps what was read last.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable

from chirp.degradation.controller import ControllerState
from chirp.degradation.levels import Level
from chirp.degradation.ports import LevelSetting
from chirp.limits.model import EndpointClass, Limit
from chirp.observability import logger

MANUAL_AUTO = "auto"
ALL_CLASSES = "*"


def parse_manual(value: str | None) -> Level | None:
    if value is None or value.strip().lower() == MANUAL_AUTO:
        return None
    return Level.parse(value)


def parse_auto(value: str | None) -> ControllerState:
    if value is None:
        return ControllerState()
    if value.strip().isdigit():  # an operator may write a bare level
        return ControllerState(level=Level.parse(value))
    return ControllerState.model_validate_json(value)


class SsmLevelStore:
    def __init__(self, client, manual_name: str, auto_name: str):
        self.client, self.manual_name, self.auto_name = client, manual_name, auto_name

    def read(self) -> LevelSetting:
        answer = self.client.get_parameters(Names=[self.manual_name, self.auto_name])
        values = {p["Name"]: p["Value"] for p in answer["Parameters"]}
        manual = values.get(self.manual_name)
        try:
            parsed_manual = parse_manual(manual)
        except ValueError:
            logger.error("manual degradation level unreadable: ignored", extra={"value": manual})
            parsed_manual = None
        return LevelSetting(manual=parsed_manual, auto=parse_auto(values.get(self.auto_name)))

    def write_auto(self, state: ControllerState) -> None:
        self._put(self.auto_name, state.model_dump_json())

    def write_manual(self, level: Level | None) -> None:
        self._put(self.manual_name, MANUAL_AUTO if level is None else str(level.value))

    def _put(self, name: str, value: str) -> None:
        self.client.put_parameter(Name=name, Value=value, Type="String", Overwrite=True)


def parse_override(value: str) -> dict[EndpointClass | None, Limit]:
    """`{"*": "100000/1h", "search": "1000/15m"}` -> limits by class (None for every class)."""
    specs = json.loads(value)
    if not isinstance(specs, dict):
        raise ValueError("an override is a JSON object of limits by endpoint class")
    return {None if name == ALL_CLASSES else EndpointClass(name): Limit.parse(spec) for name, spec in specs.items()}


class SsmLimitOverrides:
    """Every user override under the path, loaded whole at most once per `ttl_s` (they are few: accounts an
    operator raised, such as partners or load-test users)."""

    def __init__(self, client, path: str, ttl_s: float, clock: Callable[[], float] = time.monotonic):
        self.client, self.path, self.ttl_s, self.clock = client, path.rstrip("/") + "/", ttl_s, clock
        self._by_user: dict[str, dict[EndpointClass | None, Limit]] = {}
        self._read_at: float | None = None

    def overrides(self, user_id: str) -> dict[EndpointClass | None, Limit]:
        now = self.clock()
        if self._read_at is None or now - self._read_at >= self.ttl_s:
            try:
                self._by_user = self._load()
            except Exception as error:  # noqa: BLE001 - an SSM failure keeps the overrides read last, logged
                logger.warning("limit overrides unreadable", extra={"error": f"{type(error).__name__}: {error}"})
            self._read_at = now
        return self._by_user.get(user_id, {})

    def _load(self) -> dict[str, dict[EndpointClass | None, Limit]]:
        loaded = {}
        for page in self.client.get_paginator("get_parameters_by_path").paginate(Path=self.path, Recursive=False):
            for parameter in page["Parameters"]:
                user_id = parameter["Name"].removeprefix(self.path)
                try:
                    loaded[user_id] = parse_override(parameter["Value"])
                except ValueError as error:
                    logger.error("limit override ignored", extra={"user_id": user_id, "error": str(error)})
        return loaded

    # Operators' side (chirp.cli, the benchmarks): one parameter per user.
    def name_for(self, user_id: str) -> str:
        return f"{self.path}{user_id}"

    def set(self, user_id: str, specs: dict[str, str]) -> None:
        parse_override(json.dumps(specs))  # refused here, not silently ignored by every reader
        self.client.put_parameter(Name=self.name_for(user_id), Value=json.dumps(specs), Type="String", Overwrite=True)

    def clear(self, user_id: str) -> None:
        with contextlib.suppress(self.client.exceptions.ParameterNotFound):
            self.client.delete_parameter(Name=self.name_for(user_id))
