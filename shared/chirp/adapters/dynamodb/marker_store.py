"""Reading positions in DynamoDB's clients table, one item per user and timeline (MARKER#<user>#<timeline>)."""

from __future__ import annotations

from pydantic import BaseModel

from chirp.adapters.dynamodb.tables import ClientItem
from chirp.markers.model import Marker


class Position(BaseModel):
    last_read_id: int
    updated_at_ms: int


def _key(user_id: str, timeline: str) -> str:
    return f"MARKER#{user_id}#{timeline}"


def _marker(timeline: str, item: ClientItem) -> Marker:
    return Marker(timeline=timeline, version=int(item.version), **Position.model_validate_json(item.body).model_dump())


class DynamoMarkerStore:
    def get(self, user_id: str, timelines: list[str]) -> dict[str, Marker]:
        by_key = {_key(user_id, t): t for t in timelines}
        return {by_key[item.pk]: _marker(by_key[item.pk], item) for item in ClientItem.batch_get(list(by_key))}

    def save(self, user_id: str, timeline: str, last_read_id: int, at_ms: int) -> Marker:
        item = ClientItem(pk=_key(user_id, timeline))
        # One UpdateItem: the position set and the version counted together, so racing saves get distinct versions.
        item.update(
            actions=[
                ClientItem.body.set(Position(last_read_id=last_read_id, updated_at_ms=at_ms).model_dump_json()),
                ClientItem.version.add(1),
            ]
        )
        return _marker(timeline, item)
