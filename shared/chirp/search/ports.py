"""What search needs: the tweets index (OpenSearch in production), and the social graph to know whom the caller
does not want to see and who a handle is."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol

from chirp.search.query import SearchPage, Sort
from chirp.social.model import Relation


class TweetSearchIndex(Protocol):
    def search(
        self,
        query: str | None,
        *,
        hashtag: str | None = None,
        author_id: str | None = None,
        limit: int = 20,
        cursor: str | None = None,
        sort: Sort = Sort.LATEST,
        excluded_authors: Iterable[str] = (),
    ) -> SearchPage: ...

    def public(
        self, *, limit: int, cursor: str | None, only_media: bool, excluded_authors: Iterable[str] = ()
    ) -> SearchPage: ...

    def replies(self, parent_ids: list[int], limit: int) -> list[int]: ...


class SearchDirectory(Protocol):
    def user_id_for_handle(self, handle: str) -> str | None: ...
    def all_targets(self, kind: Relation, source: str) -> Iterator[str]: ...
    def all_sources_pages(self, kind: Relation, target: str, page_size: int) -> Iterator[list[str]]: ...
