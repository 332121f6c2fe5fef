"""Where media bytes live (S3 in production)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from chirp.media.model import MediaRecord, TranscodeResult


@dataclass(frozen=True)
class StoredObject:
    size: int
    data: bytes | None  # None when the object is larger than the reader allowed: it was not downloaded


class PartsRefused(ValueError):
    """S3 refused to join the parts (a missing or changed part, an unknown upload): the message says which."""


class MediaObjects(Protocol):
    def upload_url(self, key: str, content_type: str, size_bytes: int, ttl_s: int) -> str:
        """A presigned PUT, valid only with this Content-Type and exactly this Content-Length: S3 itself refuses
        any other body before storing it."""
        ...

    def start_parts(self, key: str, content_type: str) -> str:
        """Starts a multipart upload; returns its upload id."""
        ...

    def part_url(self, key: str, upload_id: str, part_number: int, size_bytes: int, ttl_s: int) -> str:
        """A presigned PUT of one part, valid only with exactly this Content-Length."""
        ...

    def complete_parts(self, key: str, upload_id: str, etags: dict[int, str]) -> None:
        """Joins the parts into the object (which notifies as created); PartsRefused when they do not match."""
        ...

    def download_url(self, key: str, ttl_s: int) -> str: ...
    def read(self, key: str, *, max_bytes: int) -> StoredObject | None:
        """The object, None when missing; its bytes only when at most max_bytes."""
        ...

    def write(self, key: str, data: bytes, content_type: str, *, unattached: bool = False) -> None:
        """Stores the object; `unattached` marks it (a tag) for the lifecycle rule that deletes such objects after
        a day, until attaching unmarks it."""
        ...

    def keep(self, keys: list[str]) -> None:
        """Removes the unattached mark of these objects: they stay."""
        ...

    def download(self, key: str, path: Path, *, max_bytes: int) -> int | None:
        """Writes the object to `path` when at most max_bytes; returns its size (None when missing)."""
        ...

    def upload(self, path: Path, key: str, content_type: str, *, unattached: bool = False) -> None:
        """Stores the file (in parts when large), marked as `write` does."""
        ...


class MediaStore(Protocol):
    """Issued media ids and what became of them (DynamoDB in production)."""

    def create(self, record: MediaRecord, expires_at_s: int) -> None:
        """A new ticket, forgotten at expires_at_s unless attached before."""
        ...

    def get_many(self, media_ids: list[str]) -> dict[str, MediaRecord]:
        """The records that exist, by id, in one batch."""
        ...

    def start_try(self, media_id: str) -> int | None:
        """Counts one more transcode started on the ticket; the count since its last outcome, or None when no
        ticket exists."""
        ...

    def record_result(self, result: TranscodeResult) -> bool:
        """Stores a transcoding outcome on its ticket, its tries starting again from none; False when no ticket
        exists (never issued, or expired)."""
        ...

    def set_alt_text(self, media_id: str, owner: str, alt_text: str) -> bool:
        """Sets the alt text of an unattached medium of `owner`'s; False when it is not one."""
        ...
