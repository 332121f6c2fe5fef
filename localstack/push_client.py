"""A WebSocket client of Chirp's real-time API (chirp.realtime), as the e2e tests and the push benchmark use it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager

from websockets.sync.client import ClientConnection, connect


def websocket_url(cloud_env: dict[str, str]) -> str:
    """The deployed WebSocket API's stage URL in the local cloud (the emulator serves it under its gateway)."""
    gateway = cloud_env["AWS_ENDPOINT_URL"].replace("http://", "ws://", 1)
    return f"{gateway}/_aws/execute-api/{cloud_env['WEBSOCKET_API_ID']}/{cloud_env['WEBSOCKET_STAGE']}"


class PushClient:
    """One connection; `next_event` returns frames as they arrive (or None after the timeout)."""

    def __init__(self, socket: ClientConnection):
        self.socket = socket

    @classmethod
    @contextmanager
    def open(cls, url: str, token: str, streams: tuple[str, ...] = ("user",)) -> Iterator[PushClient]:
        """Connects with the REST API's ID token; closes the connection on leaving."""
        with connect(
            f"{url}?stream={','.join(streams)}",
            additional_headers={"Authorization": f"Bearer {token}"},
            open_timeout=15,
        ) as socket:
            yield cls(socket)

    def send(self, message: dict) -> None:
        self.socket.send(json.dumps(message))

    def next_event(self, timeout_s: float) -> dict | None:
        try:
            return json.loads(self.socket.recv(timeout=timeout_s))
        except TimeoutError:
            return None

    def wait_for(self, matches, timeout_s: float = 30.0) -> dict | None:
        """The first frame for which `matches(frame)` is true, skipping others, or None after the timeout."""
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            frame = self.next_event(left)
            if frame is not None and matches(frame):
                return frame
        return None
