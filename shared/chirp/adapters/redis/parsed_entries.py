"""The entries of the home pages the read script finishes, each built once per process.

The script answers a finished page as its entries' JSON, made of the cached tweets and profiles. Building a page's 60
pydantic models (entry, tweet, author) costs a fifth or more of the read's whole Redis round trip, and a warm process
reads the same entries again and again: a reader's refreshes and pages, the followers of one author. So each
distinct entry is built once and shared by the reads that answer it. Keyed by its JSON, an edited or deleted tweet
and a changed profile are new keys, never a stale entry; the models are frozen, so no reader can change what
another reads.
"""

from __future__ import annotations

from pydantic import ConfigDict, TypeAdapter

from chirp.timelines.model import TimelineEntry, TimelinePage

# At most this many entries kept (a few KB each): about a hundred pages of 20 distinct entries.
CAPACITY = 2048

# The entries a page lacks, built in one call. Their strings are nearly all distinct, so pydantic's string cache
# only costs (about a tenth of the parse, measured with bench/home_read.py's page).
_ENTRIES = TypeAdapter(list[TimelineEntry], config=ConfigDict(cache_strings=False))


class ParsedEntries:
    """Finished pages from the script's answer, their entries built once and kept (the oldest dropped first)."""

    def __init__(self, capacity: int = CAPACITY):
        self.capacity = capacity
        self._entries: dict[str, TimelineEntry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        self._entries.clear()

    def page(self, next_cursor: str, documents: list[str]) -> TimelinePage:
        """The page of these entries' JSON documents; `next_cursor` '' for none."""
        items = [self._entries.get(document) for document in documents]
        missing = [document for document, item in zip(documents, items, strict=True) if item is None]
        if missing:
            built = self._built(missing)
            items = [built[doc] if item is None else item for doc, item in zip(documents, items, strict=True)]
        return TimelinePage(items=items, next_cursor=next_cursor or None)

    def _built(self, documents: list[str]) -> dict[str, TimelineEntry]:
        built = dict(zip(documents, _ENTRIES.validate_json(f"[{','.join(documents)}]"), strict=True))
        for document, entry in built.items():
            if len(self._entries) >= self.capacity:
                self._entries.pop(next(iter(self._entries)))
            self._entries[document] = entry
        return built
