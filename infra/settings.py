"""The environment variable names of Chirp's settings, as the functions read them: the field aliases of
`chirp.settings.Settings`, defined there and nowhere else. Infra names settings by field."""

from __future__ import annotations

import sys
from collections.abc import Mapping

from infra.catalog import ROOT

if str(ROOT / "shared") not in sys.path:
    sys.path.append(str(ROOT / "shared"))

from chirp.settings import Settings


def variable(field: str) -> str:
    """The environment variable Settings reads `field` from."""
    if field not in Settings.model_fields:
        raise KeyError(f"chirp.settings.Settings has no field {field!r}")
    info = Settings.model_fields[field]
    # A plain `alias` sets both; pydantic-settings style declares `validation_alias` alone.
    name = info.validation_alias if isinstance(info.validation_alias, str) else info.alias
    if not name:
        raise KeyError(f"Settings.{field} declares no environment variable (alias)")
    return name


def variables(settings: Mapping[str, str]) -> dict[str, str]:
    """Settings values by field -> the same values by environment variable."""
    return {variable(field): value for field, value in settings.items()}
