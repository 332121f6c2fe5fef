"""Markers against the local cloud's DynamoDB (chirp.adapters.dynamodb.marker_store): positions kept per user and
timeline in the clients table, versions counted atomically by concurrent saves, read back in one batch."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from chirp.adapters.dynamodb.marker_store import DynamoMarkerStore


def test_given_saves_when_read_back_then_the_latest_position_with_its_version_per_timeline(services):
    user = f"it-{uuid.uuid4().hex[:12]}"
    services.markers.save(user, {"home": 100, "notifications": 7})

    services.markers.save(user, {"home": 2**63 - 1})  # the largest id there is

    found = services.markers.read(user, ["home", "notifications"])
    assert (found["home"].last_read_id, found["home"].version) == (2**63 - 1, 2)
    assert (found["notifications"].last_read_id, found["notifications"].version) == (7, 1)
    assert services.markers.read(f"{user}-other", ["home", "notifications"]) == {}


def test_given_concurrent_saves_when_settled_then_every_save_got_its_own_version(services):
    store, user = services.markers.store, f"it-{uuid.uuid4().hex[:12]}"
    assert isinstance(store, DynamoMarkerStore)
    with ThreadPoolExecutor(max_workers=8) as pool:
        saved = list(pool.map(lambda i: store.save(user, "home", 1000 + i, 1_750_000_000_000 + i), range(16)))

    assert sorted(m.version for m in saved) == list(range(1, 17))
    (latest,) = store.get(user, ["home"]).values()
    assert latest.version == 16
    assert latest == next(m for m in saved if m.version == 16)
