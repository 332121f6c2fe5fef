"""Views.parent_authors: the author of each reply's parent (Mastodon's in_reply_to_account_id, and whether a reply
is to the account itself), as the reply kept it; only replies posted before replies kept it read their parent."""

from __future__ import annotations

from types import SimpleNamespace

from chirp.mastodon import views as views_module
from chirp.mastodon.views import Views
from chirp.timelines.model import TimelineEntry
from chirp.tweets.model import Tweet


class RecordingTimelines:
    """Timelines.hydrate over stored parents, recording what it was asked."""

    def __init__(self, parents: list[Tweet]):
        self.parents, self.asked = {t.tweet_id: t for t in parents}, []

    def hydrate(self, tweet_ids: list[int]) -> list[TimelineEntry]:
        self.asked.append(tweet_ids)
        return [TimelineEntry(entry_id=i, tweet=self.parents[i]) for i in tweet_ids if i in self.parents]


def tweet(tweet_id: int, author: str, reply_to: int | None = None, reply_to_author: str | None = None) -> Tweet:
    return Tweet(
        tweet_id=tweet_id,
        author_id=author,
        text="hi",
        created_at_ms=tweet_id,
        reply_to_id=reply_to,
        reply_to_author_id=reply_to_author,
    )


def test_given_replies_that_kept_their_parents_author_and_older_ones_then_only_the_older_ones_read_a_parent(
    monkeypatch,
):
    # Given bob's parent 1 (kept by the reply), cat's parent 2 and a deleted parent 3 (not kept: older replies)
    timelines = RecordingTimelines([tweet(2, "cat")])
    monkeypatch.setattr(views_module, "services", lambda: SimpleNamespace(timelines=timelines))
    page = [
        tweet(10, "ann", reply_to=1, reply_to_author="bob"),
        tweet(11, "ann", reply_to=2),
        tweet(12, "ann", reply_to=3),
        tweet(13, "ann"),
        tweet(14, "dan", reply_to=1, reply_to_author="bob"),
    ]

    # When the page's parents' authors are asked
    authors = Views("https://chirp.example", "ann").parent_authors(page)

    # Then the kept author answers for 1 (its parent never read), the older replies' live parents in one batch
    assert authors == {1: "bob", 2: "cat"}
    assert timelines.asked == [[2, 3]]


def test_given_no_reply_then_no_parent_is_read(monkeypatch):
    timelines = RecordingTimelines([])
    monkeypatch.setattr(views_module, "services", lambda: SimpleNamespace(timelines=timelines))

    assert Views("https://chirp.example", None).parent_authors([tweet(1, "ann"), tweet(2, "bob", 1, "ann")]) == {
        1: "ann"
    }
    assert timelines.asked == []
