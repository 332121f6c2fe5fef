"""Hydrating a home page with counts and the caller's flags: Redis round trips and DynamoDB calls of
Engagements.timeline(Timelines.home(...)) (the API's GET /timelines/home) for pages of N = 10, 50 and 100 tweets,
with the counts cached (the common case) and not cached, against the local cloud's DynamoDB and redis-server
(database 14, the benchmarks' own). Compared in the same run with the page alone (Timelines.home: no counts, no
flags) and with a per-tweet lookup (each tweet's counts and the caller's edge read one by one), which grows with N.

The reader follows one author with 100 tweets, has liked some and retweeted others; others' likes, replies and
quotes are counted on the tweets. Everything created is deleted at the end.

Usage: .venv/bin/python bench/engaged_home.py [--runs 5] [--reads 30]
"""

from __future__ import annotations

import argparse
from collections import Counter

import cloud
import counting
import report
import stats
from report import table
from stats import median

from chirp.adapters.dynamodb.engagement_store import DynamoEngagementStore, counter_key, edge_key
from chirp.adapters.dynamodb.social_store import PROFILE, user_key
from chirp.adapters.dynamodb.tables import EngagementItem, SocialItem, TweetItem
from chirp.adapters.redis.count_cache import RedisCountCache, counts_key
from chirp.engagement.model import EngagementEvent
from chirp.engagement.rules import Engagements
from chirp.ids.snowflake import SnowflakeGenerator, snowflake_timestamp_ms
from chirp.social.model import Profile, Relation
from chirp.tweets.model import STRING_IDS, Tweet

NAME = "engaged_home"
PAGE_SIZES = (10, 50, 100)
TWEETS = 100


class Quiet:
    """Events stay off the stream (the deployed consumer would act on this synthetic data)."""

    def publish(self, event: EngagementEvent) -> None:
        pass


class Fixture:
    def __init__(self, timelines, engagements: Engagements, tag: str):
        self.timelines, self.engagements, self.redis = timelines, engagements, timelines.cache.redis
        self.prefix = f"bench-{tag}"
        self.author, self.reader, self.fan = (f"{self.prefix}-{role}" for role in ("author", "reader", "fan"))
        self.tweet_ids: list[int] = []
        self.retweet_ids: list[int] = []

    def create(self) -> None:
        social = self.timelines.graph
        for user in (self.author, self.reader, self.fan):
            social.create_profile(Profile(user_id=user, handle=f"b{user[-12:]}".replace("-", ""), display_name=user))
        ids = SnowflakeGenerator(datacenter_id=31, worker_id=28)
        with TweetItem.batch_write() as batch:
            for i in range(TWEETS):
                tweet_id = ids.next_id()
                tweet = Tweet(
                    tweet_id=tweet_id,
                    author_id=self.author,
                    text=f"bench {i}",
                    created_at_ms=snowflake_timestamp_ms(tweet_id),
                )
                batch.save(TweetItem(**tweet.model_dump(exclude=STRING_IDS)))
                self.tweet_ids.append(tweet_id)
        social.add_edge(Relation.FOLLOWS, self.reader, self.author, counted=True)
        store = self.engagements.store
        for i, tweet_id in enumerate(self.tweet_ids):
            if i % 3 == 0:
                self.engagements.like(self.reader, tweet_id)
            if i % 2 == 0:
                self.engagements.like(self.fan, tweet_id)
            if i % 7 == 0:
                self.retweet_ids.append(self.engagements.retweet(self.reader, tweet_id).retweet_id)
            if i % 5 == 0:
                store.count_child(tweet_id + 1, "reply_count", tweet_id, 0, add=True)
        self.timelines.home(self.reader, cursor=None, limit=1)  # rebuilt: live, tweets and retweets

    def drop_counts(self) -> None:
        cloud.unlink(self.redis, [counts_key(t) for t in self.tweet_ids])

    def delete(self) -> None:
        with EngagementItem.batch_write() as batch:
            for tweet_id in self.tweet_ids:
                for user in (self.reader, self.fan):
                    batch.delete(EngagementItem(*edge_key(user, tweet_id)))
                batch.delete(EngagementItem(*counter_key(tweet_id, 0)))
                batch.delete(EngagementItem(f"CHILD#{tweet_id + 1}", "reply_count"))
        with TweetItem.batch_write() as batch:
            for tweet_id in self.tweet_ids + self.retweet_ids:
                batch.delete(TweetItem(tweet_id=tweet_id))
        with SocialItem.batch_write() as batch:
            for user in (self.author, self.reader, self.fan):
                batch.delete(SocialItem(pk=user_key(user), sk=PROFILE))
                batch.delete(SocialItem(pk=f"HANDLE#b{user[-12:]}".replace("-", "").lower(), sk="HANDLE"))
            batch.delete(SocialItem(pk=user_key(self.reader), sk=f"FOLLOWS#{self.author}"))
        deleted = cloud.unlink(self.redis, [f"tweet:{t}" for t in self.tweet_ids + self.retweet_ids])
        deleted += cloud.unlink(self.redis, [counts_key(t) for t in self.tweet_ids])
        for tweet_id in self.tweet_ids:
            deleted += cloud.delete_matching(self.redis, f"heat:{tweet_id}:*")
        deleted += cloud.delete_matching(self.redis, f"*{self.prefix}*")
        print(f"cleaned up: {TWEETS} tweets, {len(self.retweet_ids)} retweets, 3 profiles, edges; {deleted} Redis keys")


def counted(client, fn, prepare=None) -> dict[str, int]:
    """Round trips and DynamoDB calls of one fn(), after prepare() (not counted)."""
    if prepare:
        prepare()
    fn()
    if prepare:
        prepare()
    with counting.aws_calls() as calls, counting.redis_round_trips(client) as trips:
        fn()
    ops = {k.split(".", 1)[1]: v for k, v in calls.items() if k.startswith("dynamodb.")}
    return {"round_trips": trips["round_trips"], "dynamodb_calls": counting.dynamodb_total(calls), "ops": ops}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=stats.RUNS)
    parser.add_argument("--reads", type=int, default=30, help="reads timed per run (median taken)")
    args = parser.parse_args()

    settings = cloud.cloud_settings()
    client = cloud.bench_redis(settings)
    timelines = cloud.bench_timelines(settings, client)
    store = DynamoEngagementStore()
    engagements = Engagements(
        store,
        RedisCountCache(client),
        Quiet(),
        timelines.tweets,
        timelines.graph,
        timelines,
        None,  # no notifications: nothing is consumed here
        cloud_ids(settings),
    )
    fixture = Fixture(timelines, engagements, cloud.run_tag())
    results: dict[int, dict] = {}
    try:
        fixture.create()
        reader = fixture.reader
        for n in PAGE_SIZES:

            def page(n=n):
                return timelines.home(reader, cursor=None, limit=n)

            def engaged(n=n):
                return engagements.timeline(timelines.home(reader, cursor=None, limit=n), reader)

            def per_tweet(n=n):
                """Each tweet's counts and the reader's edge, one lookup each (what batching avoids)."""
                entries = timelines.home(reader, cursor=None, limit=n).items
                for entry in entries:
                    store.counts([entry.tweet.tweet_id])
                    store.edges([(reader, entry.tweet.tweet_id)])

            view = engaged()
            if len(view.items) < n - len(fixture.retweet_ids) or not any(item.tweet.liked for item in view.items):
                raise SystemExit(f"page of {n}: {len(view.items)} entries: the fixture is not what it should be")
            result = {
                "entries": len(view.items),
                "page_alone": counted(client, page),
                "warm": counted(client, engaged),
                "cold_counts": counted(client, engaged, fixture.drop_counts),
                "per_tweet": counted(client, per_tweet),
            }
            timings = {name: [] for name in ("page_alone", "warm", "cold_counts")}
            for _ in range(args.runs):
                timings["page_alone"].append(stats.median_per_call(page, args.reads))
                timings["warm"].append(stats.median_per_call(engaged, args.reads))
                cold = []
                for _ in range(max(3, args.reads // 5)):
                    fixture.drop_counts()
                    cold.append(stats.timed(engaged)[0])
                timings["cold_counts"].append(median(cold))
            for name, samples in timings.items():
                result[name]["median_ms"] = round(median(samples) * 1000, 2)
            results[n] = result
            print(
                f"page of {n}: "
                + "; ".join(
                    f"{case} {result[case]['round_trips']} RT / {result[case]['dynamodb_calls']} DDB"
                    for case in result
                    if case != "entries"
                )
            )
    finally:
        fixture.delete()

    rows = []
    for n, r in results.items():
        for case in ("page_alone", "warm", "cold_counts", "per_tweet"):
            ops = Counter(r[case]["ops"])
            rows.append([
                n, case, r[case]["round_trips"], r[case]["dynamodb_calls"],
                ", ".join(f"{op} {k}" for op, k in sorted(ops.items())) or "-", r[case].get("median_ms", "-"),
            ])  # fmt: skip
    print(f"\nEngagements.timeline(Timelines.home(reader, limit=N)); medians of {args.runs} runs\n")
    print(table(["N", "case", "Redis round trips", "DynamoDB calls", "calls", "median ms"], rows))

    sizes = " / ".join(str(n) for n in PAGE_SIZES)

    def each(case: str, key: str) -> str:
        return " / ".join(str(results[n][case][key]) for n in PAGE_SIZES)

    report.write_result(
        NAME,
        {
            "baseline": "the same page without counts or flags (Timelines.home), and per-tweet lookups, same run",
            "tweets": TWEETS,
            "runs": args.runs,
            "results": {str(n): r for n, r in results.items()},
            "headline": [
                report.headline(
                    f"home page of N = {sizes} tweets with counts and the caller's liked/retweeted flags",
                    f"{each('warm', 'round_trips')} Redis round trips, {each('warm', 'dynamodb_calls')} DynamoDB calls "
                    f"(counts cached; not cached: {each('cold_counts', 'round_trips')} round trips, "
                    f"{each('cold_counts', 'dynamodb_calls')} DynamoDB calls); "
                    f"{each('warm', 'median_ms')} ms",
                    f"the page alone: {each('page_alone', 'round_trips')} round trips, "
                    f"{each('page_alone', 'dynamodb_calls')} DynamoDB calls, {each('page_alone', 'median_ms')} ms; "
                    f"per-tweet lookups: {each('per_tweet', 'dynamodb_calls')} DynamoDB calls",
                ),
            ],
        },
    )


def cloud_ids(settings):
    """Retweet ids for the fixture, from a generator of the benchmarks' own (no worker lease taken)."""
    return SnowflakeGenerator(datacenter_id=31, worker_id=27)


if __name__ == "__main__":
    main()
