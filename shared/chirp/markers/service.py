"""The markers' rules: the timelines that have one, and a position saved per timeline."""

from __future__ import annotations

import time
from collections.abc import Callable

from chirp.errors import InvalidInput
from chirp.markers.model import TIMELINES, Marker
from chirp.markers.ports import MarkerStore


class Markers:
    def __init__(self, store: MarkerStore, clock_ms: Callable[[], int] = lambda: int(time.time() * 1000)):
        self.store, self.clock_ms = store, clock_ms

    def read(self, user_id: str, timelines: list[str]) -> dict[str, Marker]:
        """The caller's saved markers among these timelines; a name that is no timeline's matches none (as
        Mastodon's), and none asked answers none."""
        wanted = [t for t in dict.fromkeys(timelines) if t in TIMELINES]
        return self.store.get(user_id, wanted) if wanted else {}

    def save(self, user_id: str, positions: dict[str, int]) -> dict[str, Marker]:
        """Saves the last read id of each timeline given; at least one of them must be."""
        unknown = sorted(set(positions) - set(TIMELINES))
        if unknown:
            raise InvalidInput(f"no timeline {unknown[0][:40]!r}: markers are kept for {' and '.join(TIMELINES)}")
        if not positions:
            raise InvalidInput("give home[last_read_id] or notifications[last_read_id]")
        at_ms = self.clock_ms()
        return {t: self.store.save(user_id, t, positions[t], at_ms) for t in TIMELINES if t in positions}
