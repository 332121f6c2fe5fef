"""Trending hashtags, after Mastodon: a tag trends when more distinct accounts use it today than
yesterday. expected = yesterday's distinct accounts (at least 1), observed = today's;
score = (observed - expected)^2 / expected when observed > expected and observed >= MIN_ACCOUNTS, and
the score halves every HALF_LIFE_H hours since the tag was last used.

Counting is idempotent: accounts are HyperLogLog members, so a replayed tweet adds nothing.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import redis
from pydantic import BaseModel

from chirp.models import Tweet

MIN_ACCOUNTS = 5
HALF_LIFE_H = 2.0
KEEP_DAYS = 3  # yesterday must outlive today
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


def _day(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, UTC).strftime("%Y%m%d")


class Trends:
    def __init__(self, client: redis.Redis, clock_ms=lambda: int(time.time() * 1000)):
        self.redis, self.clock_ms = client, clock_ms

    def record(self, tweets: list[Tweet]) -> None:
        """One round trip for a whole batch of tweets."""
        with self.redis.pipeline(transaction=False) as pipe:
            for tweet in tweets:
                day = _day(tweet.created_at_ms)
                for tag in tweet.hashtags:
                    accounts = f"trend:accounts:{day}:{tag}"
                    pipe.pfadd(accounts, tweet.author_id)
                    pipe.expire(accounts, KEEP_DAYS * 86_400)
                    pipe.sadd(f"trend:tags:{day}", tag)
                    pipe.expire(f"trend:tags:{day}", KEEP_DAYS * 86_400)
                    # max, not set: a late or replayed record never moves "last used" backwards
                    pipe.zadd("trend:last-used", {tag: tweet.created_at_ms}, gt=True)
            pipe.execute()

    def top(self, limit: int = 10) -> list[Trend]:
        now = self.clock_ms()
        today = _day(now)
        yesterday = (datetime.fromtimestamp(now / 1000, UTC) - timedelta(days=1)).strftime("%Y%m%d")
        tags = sorted(self.redis.smembers(f"trend:tags:{today}"))
        if not tags:
            return []
        with self.redis.pipeline(transaction=False) as pipe:
            for tag in tags:
                pipe.pfcount(f"trend:accounts:{today}:{tag}")
                pipe.pfcount(f"trend:accounts:{yesterday}:{tag}")
                pipe.zscore("trend:last-used", tag)
            values = pipe.execute()
        trends = []
        for i, tag in enumerate(tags):
            observed, expected, last_used = values[3 * i], values[3 * i + 1], values[3 * i + 2] or now
            value = score(observed, expected, max(now - last_used, 0) / 3_600_000)
            if value > 0:
                trends.append(
                    Trend(hashtag=tag, score=round(value, 3), accounts_today=observed, accounts_yesterday=expected)
                )
        return sorted(trends, key=lambda t: (-t.score, t.hashtag))[: min(limit, MAX_TRENDS)]
