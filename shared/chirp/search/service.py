"""Searching tweets: ids from the index, hydrated like timeline entries (which drops tweets deleted since
they were indexed; the cursor still comes from the index)."""

from __future__ import annotations

from chirp.search.ports import TweetSearchIndex
from chirp.timelines.model import TimelinePage
from chirp.timelines.rules import Timelines


class TweetSearch:
    def __init__(self, index: TweetSearchIndex, timelines: Timelines):
        self.index, self.timelines = index, timelines

    def search(
        self, query: str | None, *, hashtag: str | None, author_id: str | None, cursor: str | None, limit: int
    ) -> TimelinePage:
        page = self.index.search(query, hashtag=hashtag, author_id=author_id, limit=limit, cursor=cursor)
        return TimelinePage(items=self.timelines.hydrate(page.tweet_ids), next_cursor=page.next_cursor)

    def replies(self, parent_ids: list[int], limit: int) -> list[int]:
        """Ids of the replies to any of these tweets, oldest first, as indexed (about a second behind)."""
        return self.index.replies(parent_ids, limit)
