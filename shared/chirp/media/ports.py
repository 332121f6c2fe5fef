"""Where media bytes live (S3 in production)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class StoredObject:
    size: int
    data: bytes | None  # None when the object is larger than the reader allowed: it was not downloaded


class MediaObjects(Protocol):
    def upload_url(self, key: str, content_type: str, ttl_s: int) -> str:
        """A presigned PUT, valid only with this Content-Type."""
        ...

    def download_url(self, key: str, ttl_s: int) -> str: ...
    def read(self, key: str, *, max_bytes: int) -> StoredObject | None:
        """The object, None when missing; its bytes only when at most max_bytes."""
        ...

    def write(self, key: str, data: bytes, content_type: str) -> None: ...
