"""A viral tweet: K concurrent likers (K = 1, 10, 100) liking one tweet through the real like path
(Engagements.like: the checks, the heat, the DynamoDB transaction of edge + counter shard + outbox entry, the
cached count bumped, the event published to the local cloud's engagements stream and its outbox entry cleared),
each like by a distinct user, with the sharded counter (shards chosen by heat) and, in the same run, the same
load on an unsharded counter (max_shards=1: every like writes one item).

Per run: likes per second and latency; how the writes spread over counter items (the hottest item's share is
what a real table limits: one item takes about 1,000 writes/s, and concurrent transactions on one item are
cancelled with TransactionConflict and retried); the conflicts retried; and the counter's error: the sum of the
shards against the like edges right after the run, and the cached count (what readers see) against the edges
once the deployed engagements consumer has settled (it sets the cache to DynamoDB's sums).

The local emulator runs every DynamoDB call under one lock, so it never cancels a transaction: here sharding
cannot show the throughput a real table gains from it; the hottest item's share of writes shows what it
changes there. Likers, tweets, edges, counters and notifications are deleted at the end.

Usage: .venv/bin/python bench/hot_likes.py [--likes 500] [--settle-timeout 300]
"""

from __future__ import annotations

import argparse
import logging
import time
from concurrent.futures import ThreadPoolExecutor

import cloud
import report
from report import fmt_int, table
from stats import median, percentile

from chirp.adapters.dynamodb.engagement_store import counter_key, edge_key
from chirp.adapters.dynamodb.notification_store import aggregates_key
from chirp.adapters.dynamodb.social_store import PROFILE, user_key
from chirp.adapters.dynamodb.tables import EngagementItem, NotificationItem, SocialItem, TweetItem
from chirp.engagement.model import Kind
from chirp.engagement.rules import MAX_SHARDS, Engagements
from chirp.ids.snowflake import SnowflakeGenerator, snowflake_timestamp_ms
from chirp.tweets.model import STRING_IDS, Tweet

NAME = "hot_likes"
CONCURRENCY = (1, 10, 100)


def likes_for(k: int, likes: int) -> int:
    """Likes per run: --likes, and at least one per liker (each like is by a distinct user)."""
    return max(likes, k)


class Fixture:
    def __init__(self, services, tag: str, likers: int):
        self.services, self.tag = services, tag
        self.author = f"bench-{tag}-author"
        self.likers = [f"bench-{tag}-l{i}" for i in range(likers)]
        self.tweets: list[int] = []
        self.ids = SnowflakeGenerator(datacenter_id=31, worker_id=29)

    def create(self) -> None:
        with SocialItem.batch_write() as batch:
            for user in [self.author, *self.likers]:
                batch.save(
                    SocialItem(pk=user_key(user), sk=PROFILE, user_id=user, handle=user[-15:], display_name=user)
                )

    def hot_tweet(self) -> int:
        tweet_id = self.ids.next_id()
        tweet = Tweet(
            tweet_id=tweet_id, author_id=self.author, text="viral", created_at_ms=snowflake_timestamp_ms(tweet_id)
        )
        TweetItem(**tweet.model_dump(exclude=STRING_IDS)).save()
        self.tweets.append(tweet_id)
        return tweet_id

    def delete(self) -> None:
        with EngagementItem.batch_write() as batch:
            for tweet_id in self.tweets:
                for user in self.likers:
                    batch.delete(EngagementItem(*edge_key(user, tweet_id)))
                for shard in range(MAX_SHARDS):
                    batch.delete(EngagementItem(*counter_key(tweet_id, shard)))
        with TweetItem.batch_write() as batch:
            for tweet_id in self.tweets:
                batch.delete(TweetItem(tweet_id=tweet_id))
        with SocialItem.batch_write() as batch:
            for user in [self.author, *self.likers]:
                batch.delete(SocialItem(pk=user_key(user), sk=PROFILE))
        with NotificationItem.batch_write() as batch:
            for partition in (self.author, aggregates_key(self.author)):
                for item in NotificationItem.query(partition):
                    batch.delete(item)
        redis = self.services.redis
        for tweet_id in self.tweets:
            redis.delete(f"counts:{tweet_id}", f"shards:{tweet_id}", *redis.keys(f"heat:{tweet_id}:*"))
        print(f"cleaned up: {len(self.tweets)} tweets, {len(self.likers)} likers, their edges, counters, notifications")


def run_once(services, fixture: Fixture, engagements: Engagements, k: int, likes: int) -> dict:
    tweet_id = fixture.hot_tweet()
    likers = fixture.likers[:likes]
    latencies: list[float] = []
    conflicts_before = services.engagement_store.conflicts

    def like(user: str) -> None:
        started = time.perf_counter()
        engagements.like(user, tweet_id)
        latencies.append(time.perf_counter() - started)

    engagements.counts([tweet_id])  # cached (0), as a read of the tweet would: likes then bump the cached count
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=k) as pool:
        list(pool.map(like, likers))
    seconds = time.perf_counter() - started
    store = services.engagement_store
    shards = int(EngagementItem.get(*counter_key(tweet_id, 0)).shards or 1)
    per_item = {
        int(item.pk.rsplit("#", 1)[1]): int(item.like_count or 0)
        for item in EngagementItem.batch_get([counter_key(tweet_id, s) for s in range(shards)])
    }
    edges = store.engager_count(Kind.LIKE, tweet_id)
    summed = store.counts([tweet_id])[tweet_id].like_count
    cached = services.count_cache.get([tweet_id])
    return {
        "tweet_id": tweet_id,
        "k": k,
        "likes": likes,
        "seconds": round(seconds, 3),
        "likes_per_s": round(likes / seconds, 1),
        "p50_ms": round(median(latencies) * 1000, 1),
        "p99_ms": round(percentile(latencies, 99) * 1000, 1),
        "shards": shards,
        "items_written": len(per_item),
        "hottest_item_writes": max(per_item.values()),
        "hottest_item_share": round(max(per_item.values()) / likes, 3),
        "conflicts_retried": store.conflicts - conflicts_before,
        "edges": edges,
        "error_after_run": summed - edges,
        "cached_error_after_run": cached[tweet_id].like_count - edges if tweet_id in cached else None,
        "author_id": fixture.author,
    }


def settle(services, runs: list[dict], timeout_s: float) -> float:
    """Waits until the deployed engagements consumer has processed every like: each hot tweet's cached count is
    DynamoDB's sum (the consumer sets it after each batch) and its author's like notification counts every liker
    (the consumer sets it from the same sums); returns the seconds it took."""
    started = time.monotonic()
    author = runs[0]["author_id"]

    def notified() -> dict[int, int]:
        return {n.tweet_id: n.count for n in services.notifications.page(author, cursor=None, limit=100).items}

    while True:
        cached, counted = services.count_cache.get([r["tweet_id"] for r in runs]), notified()
        if all(
            cached.get(r["tweet_id"]) is not None
            and cached[r["tweet_id"]].like_count == r["edges"] == counted.get(r["tweet_id"])
            for r in runs
        ):
            return time.monotonic() - started
        if time.monotonic() - started > timeout_s:
            raise SystemExit(f"the engagements consumer did not settle within {timeout_s:.0f} s: {cached} {counted}")
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--likes", type=int, default=500, help="likes per run (at least K)")
    parser.add_argument("--settle-timeout", type=float, default=300)
    args = parser.parse_args()
    logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)  # 100 threads share a pool of 10

    settings = cloud.cloud_settings()
    from chirp.composition import build_services

    services = build_services(settings)
    sharded = services.engagement
    unsharded = Engagements(
        services.engagement_store,
        services.count_cache,
        sharded.publisher,
        services.tweet_store,
        services.social_store,
        services.timelines,
        services.notifications,
        services.ids,
        max_shards=1,
    )
    fixture = Fixture(services, cloud.run_tag(), likers=max(likes_for(k, args.likes) for k in CONCURRENCY))
    print(f"DynamoDB and Kinesis at {settings.aws_endpoint_url}, Redis {settings.redis_host}:{settings.redis_port}")
    runs: list[dict] = []
    try:
        fixture.create()
        for k in CONCURRENCY:
            for name, engagements in (("sharded", sharded), ("unsharded", unsharded)):
                result = {"counter": name, **run_once(services, fixture, engagements, k, likes_for(k, args.likes))}
                runs.append(result)
                print(
                    f"K={k:>3} {name:>9}: {result['likes_per_s']:>6} likes/s, p50 {result['p50_ms']} ms, "
                    f"{result['shards']} shards, hottest item {result['hottest_item_share']:.0%} of writes, "
                    f"error {result['error_after_run']}"
                )
        settled_s = settle(services, runs, args.settle_timeout)
        cached = services.count_cache.get([r["tweet_id"] for r in runs])
        for r in runs:
            r["error_settled"] = cached[r["tweet_id"]].like_count - r["edges"]
        print(f"settled in {settled_s:.1f} s")
    finally:
        fixture.delete()

    rows = [
        [
            r["k"], r["counter"], fmt_int(r["likes"]), r["likes_per_s"], r["p50_ms"], r["p99_ms"], r["shards"],
            f"{r['hottest_item_writes']} ({r['hottest_item_share']:.0%})", r["conflicts_retried"],
            r["error_after_run"], r["error_settled"],
        ]
        for r in runs
    ]  # fmt: skip
    print(
        table(
            ["K", "counter", "likes", "likes/s", "p50 ms", "p99 ms", "shards", "hottest item", "conflicts",
             "error (run)", "error (settled)"],
            rows,
        )
    )  # fmt: skip

    def pair(k: int) -> tuple[dict, dict]:
        return tuple(next(r for r in runs if r["k"] == k and r["counter"] == c) for c in ("sharded", "unsharded"))

    by_k = " / ".join(str(k) for k in CONCURRENCY)
    pairs = [pair(k) for k in CONCURRENCY]
    report.write_result(
        NAME,
        {
            "baseline": "the same load on an unsharded counter (max_shards=1), in the same run",
            "likes_per_run": {str(k): likes_for(k, args.likes) for k in CONCURRENCY},
            "settled_s": round(settled_s, 1),
            "runs": runs,
            "headline": [
                report.headline(
                    f"likes of one hot tweet, K = {by_k} concurrent likers, sharded counter",
                    " / ".join(f"{s['likes_per_s']:.0f}" for s, _ in pairs)
                    + " likes/s; "
                    + " / ".join(str(s["shards"]) for s, _ in pairs)
                    + " shards by heat; hottest item "
                    + " / ".join(f"{s['hottest_item_share']:.0%}" for s, _ in pairs)
                    + " of writes; counter error (sum of shards - like edges) "
                    + " / ".join(str(s["error_after_run"]) for s, _ in pairs)
                    + " right after the run; the cached count readers see "
                    + " / ".join(f"{s['cached_error_after_run']:+d}" for s, _ in pairs)
                    + " off right after the run (bumps racing the consumer's refresh), "
                    + " / ".join(str(s["error_settled"]) for s, _ in pairs)
                    + f" once settled ({settled_s:.1f} s after the last run)",
                    "unsharded, same run: "
                    + " / ".join(f"{u['likes_per_s']:.0f}" for _, u in pairs)
                    + " likes/s, hottest item "
                    + " / ".join(f"{u['hottest_item_share']:.0%}" for _, u in pairs)
                    + ", counter error "
                    + " / ".join(str(u["error_after_run"]) for _, u in pairs)
                    + ", settled "
                    + " / ".join(str(u["error_settled"]) for _, u in pairs)
                    + "; the emulator serializes DynamoDB, so only the item share differs: "
                    + f"{sum(s['conflicts_retried'] + u['conflicts_retried'] for s, u in pairs)} conflicts",
                ),
            ],
        },
    )


if __name__ == "__main__":
    main()
