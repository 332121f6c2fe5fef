"""Trends replay: a synthetic 48 hours of hashtag traffic (steady tags, an evergreen tag, one burst, one spam
burst; the burst and the spam start at hour 40) through the real trend rules on the local cloud's Redis (the
app's RedisTagCounter and RedisTrendState, on the benchmarks' own database) with a controlled clock, ranked every
5 simulated minutes. Reports how long after its start the burst trended, that steady, evergreen and spam tags
never did, and the Redis round trips per refresh. The same scenario runs on in-memory fakes in the unit tests
(tests/unit/test_trends_rules.py), so the rules are proven with and without the server.

Usage: .venv/bin/python bench/trends_replay.py
"""

from __future__ import annotations

import time
from collections.abc import Callable

import cloud
import counting
import report

from chirp.trends.rules import BASELINE_HOURS, HOUR_MS, Trends
from chirp.tweets.model import Tweet

NAME = "trends_replay"
MINUTE_MS = 60_000
STEP_MS = 5 * MINUTE_MS
TAGS = ("coffee", "news", "quake", "buynow")


class Scenario:
    """Posts the synthetic traffic through `trends.record`, moving `set_clock`; young accounts are those the
    `new_accounts` set names (a new account is younger than a day)."""

    def __init__(self, trends: Trends, set_clock: Callable[[int], None], new_accounts: set[str], start_ms: int):
        self.trends, self.set_clock, self.new_accounts, self.start_ms = trends, set_clock, new_accounts, start_ms
        self.next_id = 0

    def post(self, author: str, tag: str, now: int, text: str | None = None, *, new_account: bool = False) -> None:
        self.next_id += 1
        if new_account:
            self.new_accounts.add(author)
        text = text or f"#{tag} from {author} {self.next_id}"
        self.trends.record(
            [Tweet(tweet_id=self.next_id, author_id=author, text=text, created_at_ms=now, hashtags=[tag])]
        )

    def run(self, refresh: Callable[[], list[str]]) -> dict[str, int | None]:
        """When each tag first trended, in ms after the burst started (negative: before it), or None. The first
        BASELINE_HOURS are history, recorded but not ranked: a running system has a baseline (started empty,
        every tag would be new, and trend, at first)."""
        ranked_from = self.start_ms + BASELINE_HOURS * HOUR_MS
        burst_start = ranked_from + 40 * HOUR_MS
        first_seen: dict[str, int | None] = dict.fromkeys(TAGS)
        for step in range((BASELINE_HOURS + 48) * HOUR_MS // STEP_MS):
            now = self.start_ms + step * STEP_MS
            self.set_clock(now)
            slot = (now % HOUR_MS) // STEP_MS
            for i in range(3):  # steady: 36 accounts an hour, the same ones every hour
                self.post(f"regular{slot * 3 + i}", "coffee", now)
            for i in range(10):  # evergreen: heavy, and on the operators' list
                self.post(f"reader{(step * 10 + i) % 200}", "news", now)
            if step % 12 == 0:  # a quiet baseline: one account an hour
                self.post(f"geologist{step % 7}", "quake", now)
            if now >= burst_start:
                for i in range(6):  # the burst: new voices, six every five minutes
                    self.post(f"witness{step}-{i}", "quake", now)
                for i in range(20):  # the spam: new accounts posting one text
                    self.post(f"bot{step}-{i}", "buynow", now, "BUY NOW cheap pills #buynow", new_account=True)
            if now < ranked_from:
                continue
            for tag in refresh():
                if first_seen.get(tag, 0) is None:
                    first_seen[tag] = now - burst_start
        return first_seen


class NewAccounts:
    """AccountAges: every author is a month old but those the scenario made new."""

    def __init__(self, now: Callable[[], int]):
        self.now, self.names = now, set()

    def created_at_ms(self, account_ids: list[str]) -> dict[str, int]:
        return {a: self.now() - (MINUTE_MS if a in self.names else 30 * 24 * HOUR_MS) for a in account_ids}


class Lists:
    def blocked(self) -> frozenset[str]:
        return frozenset()

    def evergreen(self) -> frozenset[str]:
        return frozenset({"news"})


def main() -> None:
    from chirp.adapters.redis.tag_counter import RedisTagCounter, RedisTrendState

    settings = cloud.cloud_settings()
    client = cloud.bench_redis(settings)
    cloud.delete_matching(client, "trend:*")
    start = 1_750_000_000_000 - 1_750_000_000_000 % HOUR_MS
    clock = [start]
    ages = NewAccounts(lambda: clock[0])
    trends = Trends(
        RedisTagCounter(client), RedisTrendState(client), ages, Lists(),
        min_accounts=10, ranked_ttl_s=1, clock_ms=lambda: clock[0],
    )  # fmt: skip
    scenario = Scenario(trends, lambda now: clock.__setitem__(0, now), ages.names, start)
    refresh_trips: list[int] = []

    def refresh() -> list[str]:
        with counting.redis_round_trips() as trips:
            ranked = trends.refresh()
        refresh_trips.append(trips["round_trips"])
        return [t.hashtag for t in ranked]

    started = time.perf_counter()
    first_seen = scenario.run(refresh)
    elapsed = time.perf_counter() - started
    cloud.delete_matching(client, "trend:*")
    quake = first_seen["quake"]
    never = [tag for tag in ("coffee", "news", "buynow") if first_seen[tag] is None]
    print(f"first trended (min after the burst started): {first_seen}")
    print(f"refresh: {max(refresh_trips)} Redis round trips at most; replay took {elapsed:.1f} s")
    report.write_result(
        NAME,
        {
            "first_trended_ms_after_burst": first_seen,
            "refreshes": len(refresh_trips),
            "round_trips_per_refresh_max": max(refresh_trips),
            "tweets": scenario.next_id,
            "seconds": round(elapsed, 1),
            "headline": [
                report.headline(
                    "trends replay: 48 simulated hours (steady, evergreen, burst, spam burst), ranked every 5 minutes",
                    f"the burst trended {quake / MINUTE_MS:.0f} min after it started"
                    if quake is not None
                    else "the burst never trended",
                    f"never trended: {', '.join(never) or 'none'} (of coffee, news, buynow); "
                    f"{max(refresh_trips)} Redis round trips per refresh",
                )
            ],
        },
    )
    if quake is None or quake > 5 * MINUTE_MS or len(never) != 3:
        raise SystemExit("the replay did not behave as the rules promise")


if __name__ == "__main__":
    main()
