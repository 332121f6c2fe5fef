"""API Gateway's @connections API: posting to a client's WebSocket."""

from __future__ import annotations

from botocore.config import Config
from botocore.exceptions import ClientError

from chirp.adapters.aws import session
from chirp.realtime.ports import Gone
from chirp.settings import Settings


def management_client(settings: Settings, max_in_flight: int):
    """Short timeouts and no retry: a push is best effort, and a stuck post must not hold a worker long."""
    config = Config(
        connect_timeout=1,
        read_timeout=2,
        retries={"mode": "standard", "max_attempts": 1},
        max_pool_connections=max_in_flight,
    )
    return session().create_client(
        "apigatewaymanagementapi",
        region_name=settings.region,
        endpoint_url=settings.websocket_management_url,
        config=config,
    )


class ApiGatewayConnections:
    def __init__(self, client):
        self.client = client

    def post(self, connection_id: str, data: bytes) -> None:
        try:
            self.client.post_to_connection(ConnectionId=connection_id, Data=data)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "GoneException":
                raise Gone(connection_id) from error
            raise
