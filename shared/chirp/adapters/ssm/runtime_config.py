"""Runtime settings in SSM Parameter Store, which operators change without a deploy:

- `/chirp/<stage>/degradation/manual`: `auto` (the controller decides) or a level 0-4 that wins;
- `/chirp/<stage>/degradation/auto`: the controller's state as JSON (`{"level": 2, "calm_runs": 1, ...}`);
- `/chirp/<stage>/limits/users/<user id>`: a user's raised (or lowered) limits as JSON, by endpoint class or
  `*` for every class: `{"*": "100000/1h"}`, `{"tweets": "3000/3h"}`.

Functions read the level at most once per their cache period (one GetParameters call for both parameters; a
failed read keeps what was read last). The overrides are read by the limit_overrides function only, every
minute, which mirrors them into Redis next to each user's counters.
"""

from __future__ import annotations

import contextlib
import json

from chirp.degradation.controller import ControllerState
from chirp.degradation.levels import Level
from chirp.degradation.ports import LevelSetting
from chirp.limits.model import EndpointClass, Limit
from chirp.limits.ports import Overrides
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


def parse_override(value: str) -> Overrides:
    """`{"*": "100000/1h", "search": "1000/15m"}` -> limits by class (None for every class)."""
    specs = json.loads(value)
    if not isinstance(specs, dict):
        raise ValueError("an override is a JSON object of limits by endpoint class")
    return {None if name == ALL_CLASSES else EndpointClass(name): Limit.parse(spec) for name, spec in specs.items()}


class SsmLimitOverrides:
    """Every user override under the path, read whole by the override mirror (once a minute, one
    GetParametersByPath page per ten users: they are few, accounts an operator raised such as partners or
    load-test users). Requests never read them here: they read the mirror next to their counters in Redis."""

    def __init__(self, client, path: str):
        self.client, self.path = client, path.rstrip("/") + "/"

    def all_overrides(self) -> dict[str, Overrides]:
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
