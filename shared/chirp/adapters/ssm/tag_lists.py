"""The operators' trend lists, a JSON parameter in SSM ({"blocked": [...], "evergreen": [...]}), edited without
a deploy (`aws ssm put-parameter --overwrite`) and read at most once a minute per process."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from chirp.observability import logger

CACHE_S = 60.0


class SsmTagLists:
    def __init__(self, client: Any, parameter: str, monotonic: Callable[[], float] = time.monotonic):
        self.client, self.parameter, self.monotonic = client, parameter, monotonic
        self._lists: dict[str, frozenset[str]] = {}
        self._read_at: float | None = None

    def blocked(self) -> frozenset[str]:
        return self._current().get("blocked", frozenset())

    def evergreen(self) -> frozenset[str]:
        return self._current().get("evergreen", frozenset())

    def _current(self) -> dict[str, frozenset[str]]:
        if self._read_at is None or self.monotonic() - self._read_at > CACHE_S:
            self._lists = self._read()
            self._read_at = self.monotonic()
        return self._lists

    def _read(self) -> dict[str, frozenset[str]]:
        try:
            # GetParameters (plural) is the call readers of runtime parameters are granted (infra/capabilities/grants).
            found = self.client.get_parameters(Names=[self.parameter])["Parameters"]
            if not found:
                raise LookupError(f"no parameter {self.parameter}")
            lists = json.loads(found[0]["Value"])
            return {name: frozenset(tag.lower().lstrip("#") for tag in lists.get(name, [])) for name in lists}
        except (LookupError, ValueError, AttributeError) as error:
            # A missing or malformed list hides nothing; the operator sees why in the log.
            logger.warning("trend lists unreadable; none applied", extra={"error": str(error)})
            return {}
