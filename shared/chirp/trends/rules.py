"""Trending hashtags: a tag trends when noticeably more distinct accounts use it in the last hour than its own
baseline (its hourly average over the previous day) predicts.

- observed = distinct accounts in the last hour (rolling 5-minute buckets: no trend vanishes at midnight);
  a suspect account (younger than a day, or posting a text many accounts posted within the hour: coordinated
  spam) counts SUSPECT_WEIGHT of one;
- expected = the tag's mean hourly distinct accounts over the BASELINE_HOURS before (at least 1);
- score = (observed - expected)^2 / expected, a Poisson z^2 (after Mastodon), when observed > expected and
  at least the stage's minimum of TRUSTED accounts used the tag (suspect ones add weight, never carry a trend:
  a burst of new accounts posting one text does not trend); the PEAK is remembered and decays with a
  half-life of HALF_LIFE_H, and is forgotten after COOLDOWN_H: a tag is listed while its decayed peak is at
  least LIST_THRESHOLD;
- the operators' blocklist and evergreen list (editable without a deploy) never trend.

Counting is idempotent (accounts are HyperLogLog members): a replayed tweet adds nothing. Trends are global:
profiles carry no region, so there is nothing to split them by yet.

The ranking is computed at most once per `ranked_ttl_s` and kept; from degradation level 1 on, trends are
non-essential work: hashtags are no longer counted and the ranking is no longer recomputed (GET /trends serves
the one computed last, however old).
"""

from __future__ import annotations

import hashlib
import time
import unicodedata
from collections.abc import Callable

from pydantic import BaseModel, TypeAdapter

from chirp.degradation.levels import Feature, Switches
from chirp.trends.ports import AccountAges, Peak, TagActivity, TagCounter, TagLists, TagUse, TrendState
from chirp.tweets.model import Tweet

HOUR_MS = 3_600_000
BASELINE_HOURS = 24
HALF_LIFE_H = 4.0
COOLDOWN_H = 48.0
LIST_THRESHOLD = 1.0
SUSPECT_WEIGHT = 0.25
NEW_ACCOUNT_MS = 24 * HOUR_MS
SAME_TEXT_ACCOUNTS = 3  # the third account posting one text within the hour, and every one after, is suspect
MAX_TRENDS = 50


class Trend(BaseModel):
    hashtag: str
    score: float
    accounts_last_hour: float
    expected_per_hour: float


def score(observed: float, expected: float) -> float:
    expected = max(expected, 1.0)
    if observed <= expected:
        return 0.0
    return (observed - expected) ** 2 / expected


def burst(activity: TagActivity, min_accounts: int) -> tuple[float, float, float]:
    """A tag's (score, observed, expected) for the last hour."""
    observed = activity.trusted + SUSPECT_WEIGHT * activity.suspect
    expected = sum(activity.hourly) / len(activity.hourly) if activity.hourly else 0.0
    value = score(observed, expected) if activity.trusted >= min_accounts else 0.0
    return value, observed, expected


def decayed(peak: Peak, now_ms: int) -> float:
    """The peak's score now; 0 once the cooldown passed."""
    age_h = max(now_ms - peak.at_ms, 0) / HOUR_MS
    if age_h >= COOLDOWN_H:
        return 0.0
    return peak.score * 0.5 ** (age_h / HALF_LIFE_H)


def text_key(text: str) -> str:
    """Identical texts share a key: case, spacing and Unicode forms aside."""
    normal = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    return hashlib.sha256(normal.encode()).hexdigest()[:16]


_RANKING = TypeAdapter(list[Trend])


class Trends:
    def __init__(
        self,
        counter: TagCounter,
        state: TrendState,
        ages: AccountAges,
        lists: TagLists,
        *,
        min_accounts: int,
        ranked_ttl_s: int,
        new_account_ms: int = NEW_ACCOUNT_MS,
        clock_ms: Callable[[], int] = lambda: int(time.time() * 1000),
        switches: Switches | None = None,
    ):
        self.counter, self.state, self.ages, self.lists = counter, state, ages, lists
        self.min_accounts, self.ranked_ttl_s, self.clock_ms = min_accounts, ranked_ttl_s, clock_ms
        self.new_account_ms, self.switches = new_account_ms, switches or Switches()

    def record(self, tweets: list[Tweet]) -> bool:
        """Counts the tweets' hashtags; False when trends recording is switched off (nothing counted)."""
        if not self.switches.on(Feature.TRENDS_RECORDING):
            return False
        tagged = [t for t in tweets if t.hashtags]
        if not tagged:
            return True
        created = self.ages.created_at_ms(sorted({t.author_id for t in tagged}))
        uses = []
        for tweet in tagged:
            young = tweet.created_at_ms - created.get(tweet.author_id, 0) < self.new_account_ms
            copied = self.counter.same_text_accounts(text_key(tweet.text), tweet.author_id, tweet.created_at_ms)
            trusted = not young and copied < SAME_TEXT_ACCOUNTS
            uses += [TagUse(tag, tweet.author_id, tweet.created_at_ms, trusted) for tag in tweet.hashtags]
        self.counter.record(uses)
        return True

    def refresh(self) -> list[Trend]:
        """Scores every tag used within the hour, updates the peaks, and stores the ranking (peaks keep a tag
        listed while they decay, used or not)."""
        now = self.clock_ms()
        hidden = self.lists.blocked() | self.lists.evergreen()
        tags = [tag for tag in self.counter.active_tags(now) if tag not in hidden]
        activity = {a.tag: a for a in self.counter.activity(tags, now, BASELINE_HOURS)}
        peaks = self.state.peaks()
        observed_expected: dict[str, tuple[float, float]] = {}
        new_peaks = {}
        for tag, seen in activity.items():
            value, *observed_expected[tag] = burst(seen, self.min_accounts)
            if value > 0 and (tag not in peaks or value >= decayed(peaks[tag], now)):
                new_peaks[tag] = Peak(score=value, at_ms=now)
        peaks |= new_peaks
        cooled = [tag for tag, peak in peaks.items() if decayed(peak, now) == 0.0]
        self.state.save_peaks(new_peaks, forget=cooled)
        ranked = []
        for tag, peak in peaks.items():
            value = decayed(peak, now)
            if tag in hidden or value < LIST_THRESHOLD:
                continue
            observed, expected = observed_expected.get(tag, (0.0, 0.0))
            ranked.append(
                Trend(
                    hashtag=tag,
                    score=round(value, 3),
                    accounts_last_hour=observed,
                    expected_per_hour=round(expected, 3),
                )
            )
        ranked.sort(key=lambda t: (-t.score, t.hashtag))
        ranked = ranked[:MAX_TRENDS]
        self.state.keep_ranking(now, _RANKING.dump_json(ranked).decode())
        return ranked

    def top(self, limit: int = 10) -> list[Trend]:
        """The ranking computed last while it is fresh, or when refreshing is switched off; else a new one."""
        now = self.clock_ms()
        kept = self.state.ranking()
        refresh = self.switches.on(Feature.TRENDS_REFRESH)
        if kept is not None and (not refresh or 0 <= now - kept[0] < self.ranked_ttl_s * 1000):
            return _RANKING.validate_json(kept[1])[: min(limit, MAX_TRENDS)]
        if not refresh:
            return []  # never computed, and no capacity to compute it now
        return self.refresh()[: min(limit, MAX_TRENDS)]
