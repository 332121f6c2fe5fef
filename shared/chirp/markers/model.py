"""A reading position, one per timeline and user."""

from __future__ import annotations

from pydantic import BaseModel

TIMELINES = ("home", "notifications")


class Marker(BaseModel):
    timeline: str
    last_read_id: int  # a home entry's id, or a notification's
    version: int  # how many times it was saved: apps tell a newer position from a stale one by it
    updated_at_ms: int
