"""The markers' rules (chirp.markers.service) on an in-memory store: a position per timeline and user, versioned
by its saves; only the timelines that have markers; bad input refused before anything is written."""

from __future__ import annotations

import pytest

from chirp.errors import InvalidInput
from chirp.markers.model import Marker
from chirp.markers.service import Markers
from tests.unit.fakes import FakeClock, FakeMarkerStore


@pytest.fixture
def store() -> FakeMarkerStore:
    return FakeMarkerStore()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def markers(store, clock) -> Markers:
    return Markers(store, clock_ms=clock)


def test_given_positions_when_saved_twice_then_each_save_counts_a_version_and_keeps_the_latest(markers, clock):
    first = markers.save("ann", {"home": 100, "notifications": 7})
    clock.advance(5)
    second = markers.save("ann", {"home": 120})

    assert first == {
        "home": Marker(timeline="home", last_read_id=100, version=1, updated_at_ms=clock() - 5),
        "notifications": Marker(timeline="notifications", last_read_id=7, version=1, updated_at_ms=clock() - 5),
    }
    assert second == {"home": Marker(timeline="home", last_read_id=120, version=2, updated_at_ms=clock())}
    assert markers.read("ann", ["home", "notifications"]) == {**first, **second}


def test_given_markers_when_read_then_only_the_callers_and_only_known_timelines_asked_once(markers, store):
    markers.save("ann", {"home": 100})
    markers.save("bob", {"notifications": 9})

    assert markers.read("ann", ["home", "home", "lists", "notifications"]) == {"home": store.markers["ann", "home"]}
    assert store.gets == [["home", "notifications"]]  # the unknown name and the repeat never reach the store
    assert markers.read("bob", ["home"]) == {}


def test_given_no_timeline_asked_when_read_then_none_and_the_store_is_not_asked(markers, store):
    assert markers.read("ann", []) == markers.read("ann", ["lists"]) == {}
    assert store.gets == []


@pytest.mark.parametrize(
    ("positions", "message"),
    [
        ({}, r"^give home\[last_read_id\] or notifications\[last_read_id\]$"),
        ({"lists": 5, "home": 1}, r"^no timeline 'lists': markers are kept for home and notifications$"),
        ({"x" * 41: 5}, r"^no timeline 'x{40}': markers"),  # a name is quoted up to 40 characters
    ],
)
def test_given_nothing_or_an_unknown_timeline_when_saved_then_refused_and_nothing_written(
    markers, store, positions, message
):
    with pytest.raises(InvalidInput, match=message):
        markers.save("ann", positions)
    assert store.markers == {}
