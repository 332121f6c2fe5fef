"""Dependency health: run every probe (concurrently, each bounded) and report each one's state."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor

from pydantic import BaseModel

from chirp.observability import logger

Probe = Callable[[], None]
"""Returns when the dependency answers correctly; raises otherwise."""


class DependencyState(BaseModel):
    ok: bool
    latency_ms: float
    error: str | None = None


class HealthReport(BaseModel):
    ok: bool
    dependencies: dict[str, DependencyState]


def _run(probe: Probe) -> DependencyState:
    started = time.perf_counter()
    try:
        probe()
    except Exception as error:  # noqa: BLE001 - any failure of a dependency is reported, never raised
        elapsed = (time.perf_counter() - started) * 1000
        # The answer is public: it names the kind of failure, the log has the details (addresses included).
        logger.warning("dependency check failed", extra={"error": f"{type(error).__name__}: {error}"})
        return DependencyState(ok=False, latency_ms=round(elapsed, 1), error=type(error).__name__)
    return DependencyState(ok=True, latency_ms=round((time.perf_counter() - started) * 1000, 1))


def check_dependencies(probes: Mapping[str, Probe]) -> HealthReport:
    with ThreadPoolExecutor(max_workers=max(len(probes), 1)) as pool:
        futures = {name: pool.submit(_run, probe) for name, probe in probes.items()}
        states = {name: future.result() for name, future in futures.items()}
    return HealthReport(ok=all(state.ok for state in states.values()), dependencies=states)
