"""Lambda SnapStart: code that must run again in every environment restored from a snapshot, and work worth doing
once, before the snapshot is taken, so that no restored copy pays for it.

The runtime provides `snapshot_restore_py` (AWS's Snapshot Restore for Python) only where SnapStart is on (the AWS
stages); elsewhere (the local cloud, tests) there are no snapshots and nothing is registered.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

from chirp.observability import logger


def on_restore(hook: Callable[[], None]) -> bool:
    """Registers `hook` to run after each restore; False where the runtime takes no snapshots."""
    return _register("register_after_restore", hook)


def before_snapshot(hook: Callable[[], object]) -> bool:
    """Registers `hook` to run once before the snapshot is taken (what it imports and builds is then in every
    restored copy: what the first request would otherwise pay after each restore); False where the runtime takes no
    snapshots (there the first request builds it, as it does everywhere else)."""
    return _register("register_before_snapshot", hook)


def _register(registrar: str, hook: Callable[[], object]) -> bool:
    try:
        runtime = import_module("snapshot_restore_py")
    except ImportError:
        return False
    getattr(runtime, registrar)(hook)
    logger.debug("snapshot hook registered", extra={"by": registrar, "hook": getattr(hook, "__qualname__", repr(hook))})
    return True
