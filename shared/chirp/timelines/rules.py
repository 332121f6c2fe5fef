"""Every rule about home timelines, in one place (after Mastodon's FeedManager).

Hybrid fan-out by follower count: normal authors are pushed to every follower's timeline, popular authors'
follower pages go to parallel workers, celebrities are not pushed at all: their recent tweets are kept for
pulling and merged in at read time.

Entries are tweets and retweets (a retweet is a tweet of its own that shows another, ordered by its own id); both
go through the same tiers. A tweet shows once per home timeline: of the entries that show it (the tweet itself,
retweets by several followees), the read shows only the newest one the reader may see, on whichever page it is
(each timeline indexes its retweets, so a page knows the retweets above it).
Under load the degradation level switches parts off (chirp.degradation.levels): from level 2 a home read serves
what Redis holds (no rebuild from DynamoDB, no celebrity merge); from level 3 fan-out on write stops: a new
tweet is deferred (kept in its author's deferred set, pulled by readers like a celebrity's) and pushed by
`catch_up` once fan-out is back, so no tweet is lost across the change.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum
from itertools import batched

from chirp.degradation.levels import Feature, Switches
from chirp.errors import Unavailable
from chirp.paging import check_limit, parse_id_cursor
from chirp.social.model import HIDING, Profile, Relation
from chirp.timelines.model import (
    CachedHydration,
    FollowerPage,
    HomeSnapshot,
    TimelineEntry,
    TimelinePage,
    page_candidates,
)
from chirp.timelines.ports import FollowerPageSink, GraphReader, TimelineCache, TweetReader
from chirp.tweets.model import Tweet

MAX_ITEMS = 800  # ids kept per home timeline
FOLLOW_BACKFILL = 200  # the followee's latest tweets merged in on follow
CELEBRITY_RECENT = 200  # a celebrity's tweets kept for pulling
FOLLOWER_PAGE = 5_000  # followers read per DynamoDB query and pushed per Redis script call
WORKER_PAGE = 500  # followers per message to the fan-out workers (ten messages fit SQS's 256 KB batch)
PAGES_PER_SEND = 10
REBUILD_LOCK_S = 30
REBUILD_WAIT_S = 5.0
CATCH_UP_BATCH = 2_000  # deferred tweets pushed per catch-up call (a stream batch or the schedule's minute)
NOTHING_CACHED = CachedHydration()


class Tier(StrEnum):
    NORMAL = "normal"
    POPULAR = "popular"
    CELEBRITY = "celebrity"


@dataclass(frozen=True)
class Thresholds:
    popular: int
    celebrity: int

    def tier(self, followers: int) -> Tier:
        if followers >= self.celebrity:
            return Tier.CELEBRITY
        if followers >= self.popular:
            return Tier.POPULAR
        return Tier.NORMAL


class Timelines:
    def __init__(
        self,
        cache: TimelineCache,
        tweets: TweetReader,
        graph: GraphReader,
        thresholds: Thresholds,
        pages: FollowerPageSink,
        switches: Switches | None = None,
    ):
        self.cache, self.tweets, self.graph, self.thresholds = cache, tweets, graph, thresholds
        self.pages, self.switches = pages, switches or Switches()

    # --- writes -------------------------------------------------------------------------------
    def fan_out(self, tweet: Tweet) -> Tier | None:
        """Delivers a new tweet; returns the author's tier, or None when fan-out on write is off and the tweet was
        deferred (its author sees it at once, readers pull it until `catch_up` pushes it). Idempotent: re-adding
        an id with the same score changes nothing."""
        if not self.switches.on(Feature.FANOUT_ON_WRITE):
            self.cache.push(tweet.tweet_id, [tweet.author_id], tweet.retweet_of_id)
            self.cache.defer(tweet.author_id, tweet.tweet_id)
            return None
        return self._deliver(tweet)

    def catch_up(self, max_tweets: int = CATCH_UP_BATCH) -> int:
        """Pushes tweets deferred while fan-out on write was off, oldest first, as their fan-out would have (a
        tweet deleted meanwhile is dropped); returns how many. Nothing while fan-out is still off."""
        if not self.switches.on(Feature.FANOUT_ON_WRITE):
            return 0
        done = 0
        for author_id in self.cache.deferred_authors():
            tweet_ids = self.cache.deferred_of(author_id, max_tweets - done)
            stored = self.tweets.batch_get(tweet_ids)
            for tweet_id in sorted(tweet_ids):
                tweet = stored.get(tweet_id)
                if tweet is not None and not tweet.deleted:
                    self._deliver(tweet)
            self.cache.undefer(author_id, tweet_ids)  # after the pushes: a crash in between pushes them again
            done += len(tweet_ids)
            if done >= max_tweets:
                break
        return done

    def _deliver(self, tweet: Tweet) -> Tier:
        profile = self.graph.get_profile(tweet.author_id)
        tier = self.thresholds.tier(profile.followers_count if profile else 0)
        retweet_of = tweet.retweet_of_id
        self.cache.push(tweet.tweet_id, [tweet.author_id], retweet_of)  # authors see their own tweets
        if tier is Tier.CELEBRITY:
            if not self.cache.is_celebrity(tweet.author_id):  # the mark was lost with Redis: readers must pull again
                recent = self.tweets.recent_entries([tweet.author_id], CELEBRITY_RECENT)
                self.cache.set_celebrity(tweet.author_id, True, *recent)
            self.cache.push_celebrity(tweet.author_id, tweet.tweet_id, CELEBRITY_RECENT, retweet_of)
            return tier
        follower_pages = self.graph.all_sources_pages(Relation.FOLLOWS, tweet.author_id, FOLLOWER_PAGE)
        if tier is Tier.POPULAR:  # pages go to parallel workers, so this record is done quickly
            worker_pages = (p for page in follower_pages for p in batched(page, WORKER_PAGE))
            for chunk in batched(worker_pages, PAGES_PER_SEND):
                self.pages.send(
                    [
                        FollowerPage(
                            tweet_id=tweet.tweet_id,
                            author_id=tweet.author_id,
                            follower_ids=list(p),
                            retweet_of_id=retweet_of,
                        )
                        for p in chunk
                    ]
                )
            return tier
        for page in follower_pages:
            self.push_page(tweet.tweet_id, page, retweet_of)
        return tier

    def push_page(self, tweet_id: int, follower_ids: list[str], retweet_of: int | None = None) -> int:
        return self.cache.push(tweet_id, follower_ids, retweet_of)

    def on_follow(self, follower_id: str, followee_id: str, followers_count: int | None = None) -> None:
        """`followers_count`: the followee's count with this follow, when the caller just read it (a follow does).
        Both cached profiles are forgotten (their counts moved) in the same round trip as the follow."""
        marked = self.cache.follow(follower_id, followee_id, (follower_id, followee_id))
        if not self.refresh_tier(followee_id, followers_count, marked_celebrity=marked):
            self.cache.add_to_each([follower_id], *self.tweets.recent_entries([followee_id], FOLLOW_BACKFILL))

    def on_unfollow(self, follower_id: str, followee_id: str) -> None:
        self.cache.relate(Relation.FOLLOWS, follower_id, followee_id, add=False)
        self.cache.remove(follower_id, self.tweets.recent_ids(followee_id, MAX_ITEMS))
        self.refresh_tier(followee_id)

    def on_hide(self, kind: Relation, user_id: str, author_id: str, hidden: bool) -> None:
        """Block or mute: the author's tweets leave the user's timelines at once; the hidden set also filters
        celebrity pulls and anything pushed later. Undone, a followed author's tweets come back."""
        self.cache.relate(kind, user_id, author_id, add=hidden)
        if hidden:
            self.cache.remove(user_id, self.tweets.recent_ids(author_id, MAX_ITEMS))
        elif self.graph.has_edge(Relation.FOLLOWS, user_id, author_id) and not self.cache.is_celebrity(author_id):
            self.cache.add_to_each([user_id], *self.tweets.recent_entries([author_id], FOLLOW_BACKFILL))

    def on_delete(self, tweet: Tweet) -> None:
        """Gone at once from the author's own timeline and the pull set; other timelines filter at read."""
        self.cache.remove(tweet.author_id, [tweet.tweet_id])
        self.cache.remove_from_celebrity(tweet.author_id, tweet.tweet_id)
        self.cache.undefer(tweet.author_id, [tweet.tweet_id])
        self.cache.put_tweets([tweet.model_copy(update={"deleted": True})])

    def on_profiles_changed(self, *user_ids: str) -> None:
        """Cached profiles hold counts that just changed."""
        self.cache.forget_profiles(user_ids)

    def refresh_tier(
        self, author_id: str, followers_count: int | None = None, *, marked_celebrity: bool | None = None
    ) -> bool:
        """Tier migration when the follower count crosses the celebrity threshold, either way (the count and
        Redis's mark read here unless the caller has them). Returns whether the author is now a celebrity."""
        if followers_count is None:
            profile = self.graph.get_profile(author_id)
            followers_count = profile.followers_count if profile is not None else None
        is_celebrity = followers_count is not None and self.thresholds.tier(followers_count) is Tier.CELEBRITY
        if marked_celebrity is None:
            marked_celebrity = self.cache.is_celebrity(author_id)
        if is_celebrity == marked_celebrity:
            return is_celebrity
        recent, retweets = self.tweets.recent_entries([author_id], CELEBRITY_RECENT)
        self.cache.set_celebrity(author_id, is_celebrity, recent, retweets)
        if not is_celebrity:  # back to push: followers' timelines get what they only pulled before
            for page in self.graph.all_sources_pages(Relation.FOLLOWS, author_id, FOLLOWER_PAGE):
                for followers in batched(page, WORKER_PAGE):  # each carries every id: pipelines of 500 timelines
                    self.cache.add_to_each(list(followers), recent, retweets)
        return is_celebrity

    def restore_celebrity_marks(self, author_ids: list[str]) -> set[str]:
        """Which of these authors are celebrities by DynamoDB's follower counts (the truth), marked so in Redis
        where the mark was lost: a flushed Redis must not leave their readers without their tweets."""
        if not author_ids:
            return set()
        profiles = self.graph.get_profiles(author_ids)
        celebrities = {a for a, p in profiles.items() if self.thresholds.tier(p.followers_count) is Tier.CELEBRITY}
        for author_id in sorted(celebrities - self.cache.celebrities_among(sorted(celebrities))):
            self.cache.set_celebrity(author_id, True, *self.tweets.recent_entries([author_id], CELEBRITY_RECENT))
        return celebrities

    # --- reads --------------------------------------------------------------------------------
    def home(self, user_id: str, *, cursor: str | None, limit: int) -> TimelinePage:
        check_limit(limit)
        before = parse_id_cursor(cursor)
        merge = self.switches.on(Feature.CELEBRITY_MERGE)
        # Followees' deferred tweets are pulled whatever the level: read while fan-out is off and until it caught up.
        read = self.cache.read_home(user_id, before_id=before, count=limit, merge_celebrities=merge, finish=True)
        expired = isinstance(read, HomeSnapshot) and not read.timeline.live
        if expired and self.switches.on(Feature.TIMELINE_REBUILD):  # else: served as Redis holds it
            self.rebuild(user_id)
            read = self.cache.read_home(user_id, before_id=before, count=limit, merge_celebrities=merge, finish=True)
        # A cache that held everything the page needs may have finished it itself, with hydrate's rules.
        return read if isinstance(read, TimelinePage) else self.page_from(read, user_id, limit)

    def page_from(self, snapshot: HomeSnapshot, user_id: str, limit: int) -> TimelinePage:
        """The home page a cache's snapshot makes: its newest entries, hydrated (misses from DynamoDB)."""
        view, pulled = snapshot.timeline, snapshot.pulled
        candidates = page_candidates([view.ids, pulled.ids], limit)
        next_cursor = str(candidates[-1]) if len(candidates) == limit else None
        entries = self.hydrate(
            candidates,
            viewer_id=user_id,
            hidden=view.hidden_authors,
            retweets_above={**view.retweets_above, **pulled.retweets_above},
            cached=snapshot.hydration,
        )
        return TimelinePage(items=entries, next_cursor=next_cursor)

    def load_tweets(self, tweet_ids: list[int], cached: CachedHydration = NOTHING_CACHED) -> dict[int, Tweet]:
        """Tweets from the cache (what `cached` already looked up is not asked again), misses from DynamoDB in one
        batch (then cached)."""
        found = {t: cached.tweets[t] for t in tweet_ids if t in cached.tweets}
        unasked = [t for t in tweet_ids if t not in cached.tweets_looked_up]
        if unasked:
            found.update(self.cache.get_tweets(unasked))
        missing = [t for t in tweet_ids if t not in found]
        if missing:
            loaded = self.tweets.batch_get(missing)
            self.cache.put_tweets(list(loaded.values()))
            found.update(loaded)
        return found

    def _cached_profiles(
        self, user_ids: list[str], viewer_id: str | None, cached: CachedHydration
    ) -> tuple[dict[str, Profile], set[str]]:
        """Cached profiles and which of these users the viewer follows, asking the cache only what `cached` (read
        for this viewer) did not look up."""
        profiles = {u: cached.profiles[u] for u in user_ids if u in cached.profiles}
        followed = set(user_ids) & cached.followed
        unasked = [u for u in user_ids if u not in cached.profiles_looked_up]
        if unasked:
            more, more_followed = self.cache.get_profiles(unasked, followed_by=viewer_id)
            profiles.update(more)
            followed |= more_followed
        return profiles, followed

    def hydrate(
        self,
        tweet_ids: list[int],
        viewer_id: str | None = None,
        *,
        hidden: frozenset[str] = frozenset(),
        retweets_above: dict[int, int] | None = None,
        cached: CachedHydration = NOTHING_CACHED,
    ) -> list[TimelineEntry]:
        """Entries with the tweets they show and their authors, in order. Dropped: deleted entries, retweets whose
        original is gone, entries by or of `hidden` authors, and (with a viewer) entries by authors the viewer no
        longer follows (a push racing an unfollow can leave one behind in the cached timeline). Of the entries
        that show one tweet, only the newest one left shows it: among those on the page and the retweets above it
        (`retweets_above`, {retweet id: id of the tweet it shows}), so a tweet shows once in a whole timeline.
        `cached`: what the cache already answered for this viewer (a home read's snapshot)."""
        found = self.load_tweets(tweet_ids, cached)
        entries = [found[t] for t in tweet_ids if t in found and not found[t].deleted]
        shown = {e.retweet_of_id or e.tweet_id for e in entries}
        rivals = [r for r, d in (retweets_above or {}).items() if d in shown and r not in found]
        originals = {e.retweet_of_id for e in entries if e.retweet_of_id is not None}
        second = sorted((originals | set(rivals)) - found.keys())
        if second:
            found.update(self.load_tweets(second, cached))
        competing = entries + [found[r] for r in rivals if r in found]

        def shows(entry: Tweet) -> Tweet | None:
            return found.get(entry.retweet_of_id) if entry.retweet_of_id is not None else entry

        authors = sorted({t.author_id for t in competing} | {s.author_id for e in competing if (s := shows(e))})
        profiles, followed = self._cached_profiles(authors, viewer_id, cached)

        def visible(entry: Tweet) -> bool:
            original = shows(entry)
            if entry.deleted or original is None or original.deleted:
                return False
            if entry.author_id in hidden or original.author_id in hidden:
                return False
            return not viewer_id or entry.author_id == viewer_id or entry.author_id in followed

        newest: dict[int, int] = {}
        for entry in competing:
            if visible(entry):
                tweet_id = shows(entry).tweet_id
                newest[tweet_id] = max(newest.get(tweet_id, 0), entry.tweet_id)
        page = [e for e in entries if visible(e) and newest[shows(e).tweet_id] == e.tweet_id]
        missing_authors = sorted({a for e in page for a in (e.author_id, shows(e).author_id)} - profiles.keys())
        if missing_authors:
            loaded_profiles = self.graph.get_profiles(missing_authors)
            self.cache.put_profiles(list(loaded_profiles.values()))
            profiles.update(loaded_profiles)
        return [
            TimelineEntry(
                entry_id=e.tweet_id,
                tweet=shows(e),
                author=profiles.get(shows(e).author_id),
                retweeted_by=profiles.get(e.author_id) if e.retweet_of_id is not None else None,
            )
            for e in page
        ]

    def rebuild(self, user_id: str) -> None:
        """Regenerates a timeline from DynamoDB (inactive user, or lost from Redis), one rebuild at a time
        per user: a concurrent read waits for the rebuild under way instead of starting another."""
        lock = self.cache.rebuild_lock(user_id, REBUILD_LOCK_S)
        if not lock.acquire():
            deadline = time.monotonic() + REBUILD_WAIT_S
            while time.monotonic() < deadline:
                time.sleep(0.05)
                if self.cache.is_live(user_id):
                    return
            raise Unavailable("your home timeline is being rebuilt; retry in a few seconds")
        try:
            relations = {kind: list(self.graph.all_targets(kind, user_id)) for kind in (Relation.FOLLOWS, *HIDING)}
            self.cache.set_relations(user_id, relations)
            followees = relations[Relation.FOLLOWS]
            celebrities = self.restore_celebrity_marks(followees)
            # The user's own and every pushed followee's latest entries: id-only queries, run in parallel.
            authors = [user_id, *(followee for followee in followees if followee not in celebrities)]
            self.cache.replace(user_id, *self.tweets.recent_entries(authors, FOLLOW_BACKFILL))
        finally:
            lock.release()
