"""Searching tweets: ids from the index, hydrated like timeline entries (which drops tweets deleted since
they were indexed; the cursor still comes from the index).

Search respects its caller: tweets of authors the caller blocks or mutes, and of authors who block the caller,
are kept out by the query itself (so pages stay full). The author is named by id, or by handle (`@handle`, or
`from:handle` in the query); an unknown handle matches nothing."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from chirp.search.ports import SearchDirectory, TweetSearchIndex
from chirp.search.query import Sort, author_handles, public_request, search_request
from chirp.social.model import HIDING, Relation
from chirp.timelines.model import TimelinePage
from chirp.timelines.rules import Timelines

# The authors a viewer may not see, as one request reads them (see TweetSearch.hidden_once).
type HiddenAuthors = Callable[[], set[str]]


class TweetSearch:
    def __init__(self, index: TweetSearchIndex, timelines: Timelines, directory: SearchDirectory):
        self.index, self.timelines, self.directory = index, timelines, directory

    def search(
        self,
        query: str | None,
        *,
        hashtag: str | None,
        author_id: str | None,
        cursor: str | None,
        limit: int,
        viewer_id: str | None = None,
        sort: Sort = Sort.LATEST,
        hidden: HiddenAuthors | None = None,
    ) -> TimelinePage:
        text, handles = author_handles(query)
        if author_id is not None and author_id.strip().startswith("@"):
            handles.append(author_id.strip()[1:].lower())
            author_id = None
        authors = {author_id.strip()} if author_id is not None and author_id.strip() else set()
        for handle in dict.fromkeys(handles):
            user_id = self.directory.user_id_for_handle(handle)
            if user_id is None:
                return TimelinePage(items=[])  # nobody by that handle: nothing they wrote
            authors.add(user_id)
        if len(authors) > 1:
            return TimelinePage(items=[])  # one tweet has one author
        criteria = {
            "hashtag": hashtag,
            "author_id": next(iter(authors), author_id),
            "limit": limit,
            "cursor": cursor,
            "sort": sort,
        }
        search_request(text, **criteria)  # bad input is refused before the caller's graph is read
        page = self.index.search(text, **criteria, excluded_authors=self._hidden(viewer_id, hidden))
        return TimelinePage(items=self.timelines.hydrate(page.tweet_ids), next_cursor=page.next_cursor)

    def public_timeline(
        self,
        *,
        viewer_id: str | None,
        cursor: str | None,
        limit: int,
        only_media: bool = False,
        hidden: HiddenAuthors | None = None,
    ) -> TimelinePage:
        """Every public tweet that is not a reply to someone else, newest first, as indexed (about a second behind),
        less those of whom the viewer blocks or mutes and of who blocks the viewer; with `only_media`, those carrying
        media."""
        # Bad input is refused before the caller's graph is read.
        public_request(limit=limit, cursor=cursor, only_media=only_media)
        excluded = self._hidden(viewer_id, hidden)
        page = self.index.public(limit=limit, cursor=cursor, only_media=only_media, excluded_authors=excluded)
        return TimelinePage(items=self.timelines.hydrate(page.tweet_ids), next_cursor=page.next_cursor)

    def hidden_authors(self, viewer_id: str) -> set[str]:
        """Whom the viewer blocks or mutes, and who blocks the viewer."""
        hidden = {target for kind in HIDING for target in self.directory.all_targets(kind, viewer_id)}
        for page in self.directory.all_sources_pages(Relation.BLOCKS, viewer_id, 1000):
            hidden.update(page)
        return hidden

    def hidden_once(self, viewer_id: str | None) -> HiddenAuthors:
        """The viewer's hidden authors, read from the graph at the first call only: for a request that reads
        several pages (pass it as `hidden`)."""
        return cache(lambda: self.hidden_authors(viewer_id) if viewer_id else set())

    def _hidden(self, viewer_id: str | None, hidden: HiddenAuthors | None) -> set[str]:
        if hidden is not None:
            return hidden()
        return self.hidden_authors(viewer_id) if viewer_id else set()

    def replies(self, parent_ids: list[int], limit: int) -> list[int]:
        """Ids of the replies to any of these tweets, oldest first, as indexed (about a second behind)."""
        return self.index.replies(parent_ids, limit)
