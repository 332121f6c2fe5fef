"""What real time needs from the world."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from chirp.realtime.model import Connection


class ConnectionStore(Protocol):
    """The truth about connections (DynamoDB, each item expiring with its TTL)."""

    def put(self, connection: Connection, expires_at_s: int) -> None: ...
    def get(self, connection_id: str) -> Connection | None: ...
    def delete(self, connection_id: str) -> None: ...
    def live(self, now_s: int) -> Iterator[tuple[Connection, int]]:
        """Every connection not yet expired, with when it expires (epoch seconds): the index's rebuild reads them."""
        ...


class ConnectedIndex(Protocol):
    """Who is connected, by user (Redis), read on every push; the store keeps the truth."""

    def add(self, connection: Connection, ttl_s: int) -> None: ...
    def remove(self, connection: Connection) -> None: ...
    def connections_of(self, user_ids: list[str]) -> dict[str, list[Connection]]:
        """Each connected user's connections (one round trip); users without one are left out."""
        ...

    def connected_users(self) -> int: ...
    def connected_user_pages(self, page_size: int) -> Iterator[list[str]]: ...
    def public_connections(self) -> list[Connection]: ...
    def hashtag_connections(self, hashtags: list[str]) -> dict[str, list[Connection]]:
        """The connections following each of these hashtags (one round trip); hashtags nobody follows left out."""
        ...

    def needs_rebuild(self) -> bool:
        """True when the index was lost (its marker is gone) and this caller took the rebuild's lock; False when it
        is whole, or another caller is rebuilding it (a push meanwhile reaches what the index holds)."""
        ...

    def rebuilt(self, connections: list[tuple[Connection, int]]) -> None:
        """Adds the connections (each with the seconds it has left), then marks the index whole."""
        ...


class Gone(Exception):
    """The connection is closed (API Gateway answered 410)."""


class Gateway(Protocol):
    """API Gateway's @connections API."""

    def post(self, connection_id: str, data: bytes) -> None:
        """Sends `data` to the connection; Gone when it is closed, any other error raised."""
        ...


class FollowGraph(Protocol):
    def followers_count(self, user_id: str) -> int: ...
    def follower_pages(self, user_id: str, page_size: int) -> Iterator[list[str]]: ...
    def followers_among(self, user_id: str, candidates: list[str]) -> set[str]:
        """Those of `candidates` who follow `user_id` (batch reads, never a walk of all the followers)."""
        ...

    def hiding_among(self, user_id: str, candidates: list[str]) -> set[str]:
        """Those of `candidates` who mute or block `user_id`."""
        ...
