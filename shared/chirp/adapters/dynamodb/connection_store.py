"""WebSocket connections in DynamoDB: the truth the Redis index is rebuilt from."""

from __future__ import annotations

from collections.abc import Iterator

from pynamodb.exceptions import DoesNotExist

from chirp.adapters.dynamodb.tables import ConnectionItem
from chirp.realtime.model import Connection


class DynamoConnectionStore:
    def put(self, connection: Connection, expires_at_s: int) -> None:
        fields = connection.model_dump(mode="json", exclude={"base_url"} if not connection.base_url else None)
        ConnectionItem(**fields, expires_at=expires_at_s).save()

    def get(self, connection_id: str) -> Connection | None:
        try:
            item = ConnectionItem.get(connection_id)
        except DoesNotExist:
            return None
        return Connection.model_validate(item.attribute_values)

    def delete(self, connection_id: str) -> None:
        ConnectionItem(connection_id=connection_id).delete()

    def live(self, now_s: int) -> Iterator[tuple[Connection, int]]:
        """A scan: the table holds only connections of the last two hours (and some DynamoDB's TTL has not deleted
        yet, filtered out here)."""
        for item in ConnectionItem.scan(ConnectionItem.expires_at > now_s):
            yield Connection.model_validate(item.attribute_values), int(item.expires_at)
