"""What search needs from the tweets index (OpenSearch in production)."""

from __future__ import annotations

from typing import Protocol

from chirp.search.query import SearchPage


class TweetSearchIndex(Protocol):
    def search(
        self,
        query: str | None,
        *,
        hashtag: str | None = None,
        author_id: str | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> SearchPage: ...

    def replies(self, parent_ids: list[int], limit: int) -> list[int]: ...
