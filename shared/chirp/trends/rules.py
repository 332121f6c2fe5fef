"""Trending hashtags, after Mastodon: a tag trends when more distinct accounts use it today than
yesterday. expected = yesterday's distinct accounts (at least 1), observed = today's;
score = (observed - expected)^2 / expected when observed > expected and observed >= MIN_ACCOUNTS, and
the score halves every HALF_LIFE_H hours since the tag was last used.

Counting is idempotent: an account counts once per tag and day, so a replayed tweet adds nothing.

The ranking is computed at most once per `refresh_ms` and kept with the counts; from degradation level 1 on,
trends are non-essential work: hashtags are no longer counted and the ranking is no longer recomputed (GET
/trends serves the one computed last, however old).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, TypeAdapter

from chirp.degradation.levels import Feature, Switches
from chirp.trends.ports import TagCounter, TagUse
from chirp.tweets.model import Tweet

MIN_ACCOUNTS = 5
HALF_LIFE_H = 2.0
MAX_TRENDS = 50


class Trend(BaseModel):
    hashtag: str
    score: float
    accounts_today: int
    accounts_yesterday: int


def score(observed: int, expected: int, hours_since_last_use: float) -> float:
    expected = max(expected, 1)
    if observed <= expected or observed < MIN_ACCOUNTS:
        return 0.0
    return (observed - expected) ** 2 / expected * 0.5 ** (hours_since_last_use / HALF_LIFE_H)


def utc_day(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, UTC).strftime("%Y%m%d")


_RANKING = TypeAdapter(list[Trend])


class Trends:
    def __init__(
        self,
        counter: TagCounter,
        clock_ms: Callable[[], int] = lambda: int(time.time() * 1000),
        switches: Switches | None = None,
        refresh_ms: int = 0,
    ):
        self.counter, self.clock_ms = counter, clock_ms
        self.switches, self.refresh_ms = switches or Switches(), refresh_ms

    def record(self, tweets: list[Tweet]) -> bool:
        """Counts the tweets' hashtags; False when trends recording is switched off (nothing counted)."""
        if not self.switches.on(Feature.TRENDS_RECORDING):
            return False
        uses = [
            TagUse(day=utc_day(tweet.created_at_ms), tag=tag, account_id=tweet.author_id, at_ms=tweet.created_at_ms)
            for tweet in tweets
            for tag in tweet.hashtags
        ]
        if uses:
            self.counter.record(uses)
        return True

    def top(self, limit: int = 10) -> list[Trend]:
        """The ranking computed last while it is fresh, or when refreshing is switched off; else a new one."""
        now = self.clock_ms()
        kept = self.counter.ranking()
        refresh = self.switches.on(Feature.TRENDS_REFRESH)
        if kept is not None and (not refresh or 0 <= now - kept[0] < self.refresh_ms):
            return _RANKING.validate_json(kept[1])[: min(limit, MAX_TRENDS)]
        if not refresh:
            return []  # never computed, and no capacity to compute it now
        ranking = self._rank(now)
        self.counter.keep_ranking(now, _RANKING.dump_json(ranking).decode())
        return ranking[: min(limit, MAX_TRENDS)]

    def _rank(self, now: int) -> list[Trend]:
        yesterday = utc_day(int((datetime.fromtimestamp(now / 1000, UTC) - timedelta(days=1)).timestamp() * 1000))
        trends = []
        for counts in self.counter.counts(utc_day(now), yesterday):
            last_used = counts.last_used_ms or now
            value = score(counts.accounts_today, counts.accounts_yesterday, max(now - last_used, 0) / 3_600_000)
            if value > 0:
                trends.append(
                    Trend(
                        hashtag=counts.tag,
                        score=round(value, 3),
                        accounts_today=counts.accounts_today,
                        accounts_yesterday=counts.accounts_yesterday,
                    )
                )
        return sorted(trends, key=lambda t: (-t.score, t.hashtag))[:MAX_TRENDS]
