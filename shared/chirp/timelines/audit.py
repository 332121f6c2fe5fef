"""The consistency auditor: does every live home timeline show what DynamoDB says it must?

What a user sees is the cached timeline plus their followed celebrities' pulled tweets, minus deleted
tweets and blocked or muted authors (the read path's filters). What they must see is recomputed from
DynamoDB: their own tweets and those of everyone they follow, live, from unhidden authors.
- missing: a tweet among an author's latest FOLLOW_BACKFILL (the depth every follow and rebuild
  guarantees) that is not shown, unless it is older than the oldest id of a full (trimmed) timeline;
- extra: a shown tweet whose author the user neither is nor follows, or that is deleted or hidden.
Read-only: it never extends expiries nor rebuilds, so auditing does not change what it audits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chirp.adapters.dynamodb.social_store import SocialStore
from chirp.adapters.dynamodb.tweet_store import TweetStore
from chirp.adapters.redis.timeline_cache import RedisTimelineCache
from chirp.social.model import HIDING, Relation
from chirp.timelines.rules import FOLLOW_BACKFILL, MAX_ITEMS, Thresholds, Tier
from chirp.tweets.model import Tweet


@dataclass
class Finding:
    user_id: str
    missing: list[int] = field(default_factory=list)
    extra: list[int] = field(default_factory=list)
    # The read path filters with Redis's copy of follows, blocks and mutes: it must match DynamoDB's.
    relation_mismatch: str | None = None

    @property
    def clean(self) -> bool:
        return not self.missing and not self.extra and self.relation_mismatch is None


@dataclass
class AuditReport:
    users: int
    findings: list[Finding]

    @property
    def clean(self) -> bool:
        return not self.findings


class TimelineAuditor:
    def __init__(self, cache: RedisTimelineCache, tweets: TweetStore, social: SocialStore, thresholds: Thresholds):
        self.cache, self.tweets, self.social, self.thresholds = cache, tweets, social, thresholds
        self._authored: dict[str, list[Tweet]] = {}

    def audit(self, user_ids: list[str] | None = None) -> AuditReport:
        users = self.cache.live_users() if user_ids is None else user_ids
        findings = [finding for finding in map(self.audit_user, users) if not finding.clean]
        return AuditReport(users=len(users), findings=findings)

    def audit_user(self, user_id: str) -> Finding:
        followees = set(self.social.all_targets(Relation.FOLLOWS, user_id))
        hidden = {target for kind in HIDING for target in self.social.all_targets(kind, user_id)}
        view = self.cache.inspect(user_id, followees)
        cached, pulled = view.ids, view.pulled
        sources = ({user_id} | followees) - hidden
        eligible = {t.tweet_id: t for author in sources for t in self._tweets_of(author)}

        shown = set(cached) | set(pulled)
        following_cached = view.following
        # Ids outside what must be shown: loaded in one batch to see whether the read path would show them.
        others = self.tweets.batch_get(shown - eligible.keys()) if shown - eligible.keys() else {}
        visible = {t for t in shown if t in eligible} | {
            t for t, tweet in others.items() if self._displayed(tweet, user_id, following_cached, hidden)
        }
        extra = sorted(visible - eligible.keys())
        floor = min(cached) if len(cached) >= MAX_ITEMS else 0
        guaranteed = {
            t.tweet_id for author in sources for t in self._tweets_of(author)[:FOLLOW_BACKFILL] if t.tweet_id >= floor
        }
        missing = sorted(guaranteed - visible)
        cached_hidden = view.hidden
        # Tiers too: a celebrity Redis does not know as one is pushed to nobody and pulled by nobody.
        profiles = self.social.get_profiles(sorted(followees)) if followees else {}
        celebrities = {a for a, p in profiles.items() if self.thresholds.tier(p.followers_count) is Tier.CELEBRITY}
        mismatches = [
            f"Redis {name} {sorted(cached)}, DynamoDB {sorted(truth)}"
            for name, cached, truth in (
                ("hides", cached_hidden, hidden),
                ("follows", following_cached, followees),
                ("celebrities", view.celebrities, celebrities),
            )
            if cached != truth
        ]
        return Finding(user_id=user_id, missing=missing, extra=extra, relation_mismatch="; ".join(mismatches) or None)

    @staticmethod
    def _displayed(tweet: Tweet, user_id: str, following: set[str], hidden: set[str]) -> bool:
        """Whether the read path would show a tweet that is not eligible: it drops deleted tweets, hidden
        authors and authors the user does not follow (as Redis knows them)."""
        if tweet.deleted or tweet.author_id in hidden:
            return False
        return tweet.author_id == user_id or tweet.author_id in following

    def _tweets_of(self, author_id: str) -> list[Tweet]:
        """Every live tweet of an author, newest first (cached for the run)."""
        if author_id not in self._authored:
            tweets, cursor = [], None
            while True:
                page, cursor = self.tweets.by_author(author_id, limit=500, cursor=cursor)
                tweets += page
                if not cursor:
                    break
            self._authored[author_id] = tweets
        return self._authored[author_id]
