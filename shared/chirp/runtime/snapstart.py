"""Lambda SnapStart: code that must run again in every environment restored from a snapshot.

The runtime provides `snapshot_restore_py` (AWS's Snapshot Restore for Python) only where SnapStart is on (the AWS
stages); elsewhere (the local cloud, tests) there are no snapshots and nothing is registered.
"""

from __future__ import annotations

from collections.abc import Callable

from chirp.observability import logger


def on_restore(hook: Callable[[], None]) -> bool:
    """Registers `hook` to run after each restore; False where the runtime takes no snapshots."""
    try:
        from snapshot_restore_py import register_after_restore
    except ImportError:
        return False
    register_after_restore(hook)
    logger.debug("after-restore hook registered", extra={"hook": getattr(hook, "__qualname__", repr(hook))})
    return True
