"""What the markers need: a store of positions (DynamoDB). Unit tests use an in-memory fake."""

from __future__ import annotations

from typing import Protocol

from chirp.markers.model import Marker


class MarkerStore(Protocol):
    def get(self, user_id: str, timelines: list[str]) -> dict[str, Marker]:
        """The user's markers of these timelines that were ever saved, by timeline, in one call."""
        ...

    def save(self, user_id: str, timeline: str, last_read_id: int, at_ms: int) -> Marker:
        """Sets the position and counts one more save, atomically: two racing saves get two versions."""
        ...
