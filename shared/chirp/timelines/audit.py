"""The consistency auditor: does every live home timeline show what DynamoDB says it must, and does every count
equal its edges?

What a user sees is the cached timeline plus their followed celebrities' pulled entries, minus deleted entries,
retweets of deleted tweets and entries by or of blocked or muted authors (the read path's filters), each tweet
shown once. What they must see is recomputed from DynamoDB: their own entries (tweets and retweets) and those of
everyone they follow, live, from unhidden authors.
- missing: an entry among an author's latest FOLLOW_BACKFILL (the depth every follow and rebuild guarantees)
  whose tweet no shown entry shows, unless it is older than the oldest id of a full (trimmed) timeline;
- extra: a shown entry whose author the user neither is nor follows, or that is deleted or hidden;
- unindexed: a retweet in the cached timeline (or a followed celebrity's pull set) missing from its retweet index
  (the read could then show its tweet twice).
Counts: each audited user's tweets' like and retweet counts (DynamoDB's sums over shards) must equal their edges,
and a cached count must equal DynamoDB's.
Read-only: it never extends expiries nor rebuilds, so auditing does not change what it audits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chirp.adapters.dynamodb.engagement_store import DynamoEngagementStore
from chirp.adapters.dynamodb.social_store import SocialStore
from chirp.adapters.dynamodb.tweet_store import TweetStore
from chirp.adapters.redis.count_cache import RedisCountCache
from chirp.adapters.redis.timeline_cache import RedisTimelineCache
from chirp.engagement.model import Kind
from chirp.social.model import HIDING, Relation
from chirp.timelines.rules import FOLLOW_BACKFILL, MAX_ITEMS, Thresholds, Tier
from chirp.tweets.model import Tweet


@dataclass
class Finding:
    user_id: str
    missing: list[int] = field(default_factory=list)
    extra: list[int] = field(default_factory=list)
    unindexed: list[int] = field(default_factory=list)
    # The read path filters with Redis's copy of follows, blocks and mutes: it must match DynamoDB's.
    relation_mismatch: str | None = None

    @property
    def clean(self) -> bool:
        return not self.missing and not self.extra and not self.unindexed and self.relation_mismatch is None


@dataclass
class CountFinding:
    """A tweet whose count of `kind` differs from its edges (in DynamoDB, or as cached)."""

    tweet_id: int
    kind: str
    edges: int
    count: int
    cached: int | None


@dataclass
class AuditReport:
    users: int
    findings: list[Finding]
    count_findings: list[CountFinding] = field(default_factory=list)
    tweets_counted: int = 0

    @property
    def clean(self) -> bool:
        return not self.findings and not self.count_findings


class TimelineAuditor:
    def __init__(
        self,
        cache: RedisTimelineCache,
        tweets: TweetStore,
        social: SocialStore,
        thresholds: Thresholds,
        *,
        engagements: DynamoEngagementStore | None = None,
        counts: RedisCountCache | None = None,
    ):
        self.cache, self.tweets, self.social, self.thresholds = cache, tweets, social, thresholds
        self.engagements, self.counts = engagements, counts
        self._authored: dict[str, list[Tweet]] = {}
        self._loaded: dict[int, Tweet | None] = {}

    def audit(self, user_ids: list[str] | None = None) -> AuditReport:
        users = self.cache.live_users() if user_ids is None else user_ids
        findings = [finding for finding in map(self.audit_user, users) if not finding.clean]
        counted = [t.tweet_id for user in users for t in self._tweets_of(user) if t.retweet_of_id is None]
        count_findings = self.audit_counts(counted) if self.engagements is not None else []
        return AuditReport(
            users=len(users), findings=findings, count_findings=count_findings, tweets_counted=len(counted)
        )

    def audit_counts(self, tweet_ids: list[int]) -> list[CountFinding]:
        """Like and retweet counts against the edges (DynamoDB), and the cached counts against DynamoDB's sums."""
        sums = self.engagements.counts(tweet_ids)
        cached = self.counts.get(tweet_ids) if self.counts is not None else {}
        findings = []
        for tweet_id in tweet_ids:
            for kind, name in ((Kind.LIKE, "like_count"), (Kind.RETWEET, "retweet_count")):
                edges = self.engagements.engager_count(kind, tweet_id)
                count = getattr(sums[tweet_id], name) if tweet_id in sums else 0
                in_cache = getattr(cached[tweet_id], name) if tweet_id in cached else None
                if count != edges or in_cache not in (None, edges):
                    findings.append(CountFinding(tweet_id, kind.value, edges, count, in_cache))
        return findings

    def audit_user(self, user_id: str) -> Finding:
        followees = set(self.social.all_targets(Relation.FOLLOWS, user_id))
        hidden = {target for kind in HIDING for target in self.social.all_targets(kind, user_id)}
        view = self.cache.inspect(user_id, followees)
        cached, pulled = view.ids, view.pulled
        sources = ({user_id} | followees) - hidden
        authored = {t.tweet_id: t for author in sources for t in self._tweets_of(author)}

        shown = set(cached) | set(pulled)
        # Ids outside what must be shown: loaded in one batch to see whether the read path would show them.
        others = self._load(shown - authored.keys())
        entries = [*authored.values(), *(t for t in others.values() if t is not None)]  # None: no such tweet
        self._load({t.retweet_of_id for t in entries if t.retweet_of_id})

        def shows(tweet: Tweet) -> Tweet | None:
            return self._loaded.get(tweet.retweet_of_id) if tweet.retweet_of_id is not None else tweet

        def live(tweet: Tweet) -> bool:
            original = shows(tweet)
            return original is not None and not original.deleted and original.author_id not in hidden

        eligible = {t: tweet for t, tweet in authored.items() if live(tweet)}
        following_cached = view.following
        visible = {t for t in shown if t in eligible} | {
            t
            for t, tweet in others.items()
            if tweet is not None and live(tweet) and self._displayed(tweet, user_id, following_cached, hidden)
        }
        extra = sorted(visible - eligible.keys())
        shown_tweets = {shows(eligible.get(t) or others[t]).tweet_id for t in visible}
        floor = min(cached) if len(cached) >= MAX_ITEMS else 0
        guaranteed = {
            t.tweet_id
            for author in sources
            for t in self._tweets_of(author)[:FOLLOW_BACKFILL]
            if t.tweet_id >= floor and t.tweet_id in eligible
        }
        missing = sorted(t for t in guaranteed if shows(eligible[t]).tweet_id not in shown_tweets)
        retweets = {t: tw.retweet_of_id for t, tw in [*eligible.items(), *others.items()] if tw and tw.retweet_of_id}
        unindexed = sorted(t for t in shown if t in retweets and view.indexed_retweets.get(t) != retweets[t])
        cached_hidden = view.hidden
        # Tiers too: a celebrity Redis does not know as one is pushed to nobody and pulled by nobody.
        profiles = self.social.get_profiles(sorted(followees)) if followees else {}
        celebrities = {a for a, p in profiles.items() if self.thresholds.tier(p.followers_count) is Tier.CELEBRITY}
        compared = [
            ("Redis hides", cached_hidden, "DynamoDB", hidden),
            ("Redis follows", following_cached, "DynamoDB", followees),
            ("Redis celebrities", view.celebrities, "DynamoDB", celebrities),
        ]
        if view.kept_marks is not None:  # what a cluster read uses instead of the marks, while in force
            kept_celebrities, kept_deferring = view.kept_marks
            compared.append(("Redis kept celebrities", kept_celebrities, "DynamoDB", celebrities))
            compared.append(("Redis kept deferring", kept_deferring, "Redis deferring", view.deferring))
        mismatches = [
            f"{name} {sorted(cached)}, {source} {sorted(truth)}"
            for name, cached, source, truth in compared
            if cached != truth
        ]
        return Finding(
            user_id=user_id,
            missing=missing,
            extra=extra,
            unindexed=unindexed,
            relation_mismatch="; ".join(mismatches) or None,
        )

    @staticmethod
    def _displayed(tweet: Tweet, user_id: str, following: set[str], hidden: set[str]) -> bool:
        """Whether the read path would show an entry that is not eligible: it drops deleted entries, hidden
        authors and authors the user does not follow (as Redis knows them)."""
        if tweet.deleted or tweet.author_id in hidden:
            return False
        return tweet.author_id == user_id or tweet.author_id in following

    def _load(self, tweet_ids: set[int]) -> dict[int, Tweet | None]:
        """Tweets by id (None: no such tweet), remembered for the run."""
        wanted = sorted(t for t in tweet_ids if t not in self._loaded)
        if wanted:
            found = self.tweets.batch_get(wanted)
            self._loaded.update({t: found.get(t) for t in wanted})
        return {t: self._loaded[t] for t in tweet_ids}

    def _tweets_of(self, author_id: str) -> list[Tweet]:
        """Every live entry of an author (tweets and retweets), newest first (cached for the run)."""
        if author_id not in self._authored:
            tweets, cursor = [], None
            while True:
                page, cursor = self.tweets.by_author(author_id, limit=500, cursor=cursor)
                tweets += page
                if not cursor:
                    break
            self._authored[author_id] = tweets
            self._loaded.update({t.tweet_id: t for t in tweets})
        return self._authored[author_id]
