"""Home timeline reads through the real read path, Timelines.home (limit 20), for a reader following 20
normal authors and 0, 5 or 50 celebrities, with real data: profiles, tweets and follow edges in the local
cloud's DynamoDB, timelines and caches in its redis-server (database 14, the benchmarks' own). A celebrity is
one by the settings' tier thresholds (its profile starts with the celebrity threshold's follower count, as
the rebuild checks in DynamoDB) and marked so in Redis with its recent tweets, as Timelines.refresh_tier
leaves it.

Per read: Redis round trips and commands, DynamoDB calls, and latency for
- warm: live timeline, tweets and profiles cached (the common case);
- cold hydration: live timeline, tweet and profile caches empty (hydrated from DynamoDB);
- cold timeline: timeline expired or lost as well (rebuilt from DynamoDB, then hydrated);
- empty: a live, empty timeline and followed celebrities without tweets (the case bench/round_trips.py
  used to count).
Warm latency is the time of one call of Timelines.home in this process (what a handler calls: the script call,
and the page made into the domain's TimelinePage; not the handler's routing nor its rendering of the response),
compared in the same run with raw redis-py sending the same requests (recorded from the warm read, then replayed:
the same script call, same keys, the same reply read by hiredis but not parsed any further) without the domain
code. The warm read finds the page's entries built by the reads before it in this process (ParsedEntries, as a
warm Lambda does for the entries it answered before); at first sight, the same read with none built (the process's
entries dropped before each call, which costs about a microsecond). Also timed: the read before the script
finished pages (the same script answering the snapshot, the page made by the rules in Python: Timelines.page_from),
against its own raw replay; and the same read in separate round trips (the read path before the one-trip script:
the timeline slice, the celebrity and deferred pulls, the cached tweets, the cached profiles, each its own pipeline
or MGET); cold latency with the warm read. What the read at first sight adds to the raw replay is split, same run:
the replay's reply made into the page with every entry built (ParsedEntries with none kept, right after a reply as
in the read), and the rest, the domain's own code. The warm read and what it is compared with are called in turn,
call by call, in a new order each round (medians of each), so that a load coming and going on the shared machine,
and what each call leaves behind for the next (garbage, filled CPU caches), weigh on all alike. For scale, the read
is also timed inside what the REST route GET /timelines/home runs (its body, not the resolver: the read, then
Engagements.timeline: the page's counts from Redis and the reader's like and retweet flags from DynamoDB, then the
page's JSON), with the calls it makes, and that flags read alone.
Everything created is deleted at the end.

With `--cluster HOST:PORT` (a node of a Redis Cluster, e.g. `make dev REDIS=cluster`'s, or a scratch one) the warm
read is also run against the cluster, same DynamoDB data, same run: its sequential waves (each pipelined to the
nodes it needs in parallel), the requests written to the nodes, and its latency against the single Redis's.

Usage: .venv/bin/python bench/home_read.py [--runs 5] [--reads 100] [--cluster 127.0.0.1:6421]
(or CHIRP_BENCH_REDIS_CLUSTER=127.0.0.1:6421 .venv/bin/python bench/run_all.py home_read)
"""

from __future__ import annotations

import argparse
import os
import random
from collections import Counter

import cloud
import counting
import report
import stats
from report import table
from stats import median

from chirp.adapters.dynamodb.social_store import PROFILE, user_key
from chirp.adapters.dynamodb.tables import SocialItem, TweetItem
from chirp.adapters.redis.count_cache import counts_key
from chirp.adapters.redis.parsed_entries import ParsedEntries
from chirp.adapters.redis.timeline_cache import (
    CELEBRITIES,
    following_key,
    marked_key,
    profile_key,
    retweets_key,
    timeline_key,
    tweet_key,
)
from chirp.ids.snowflake import SnowflakeGenerator, snowflake_timestamp_ms
from chirp.social.model import Profile, Relation
from chirp.timelines.model import TimelinePage, page_candidates
from chirp.timelines.rules import CELEBRITY_RECENT, Tier
from chirp.tweets.model import STRING_IDS, Tweet

NAME = "home_read"
CELEBRITY_COUNTS = (0, 5, 50)
NORMAL_AUTHORS = 20
TWEETS_PER_AUTHOR = 10
TWEETS_PER_CELEBRITY = 4
LIMIT = 20


class Fixture:
    """The synthetic users, tweets and follows of one run, and how to delete them."""

    def __init__(self, timelines, tag: str):
        self.timelines, self.cache, self.redis = timelines, timelines.cache, timelines.cache.redis
        self.prefix = f"bench-{tag}"
        self.authors = [f"{self.prefix}-a{i}" for i in range(NORMAL_AUTHORS)]
        self.celebrities = [f"{self.prefix}-c{i}" for i in range(max(CELEBRITY_COUNTS))]
        self.readers = {k: f"{self.prefix}-r{k}" for k in CELEBRITY_COUNTS}
        self.empty_readers = {k: f"{self.prefix}-e{k}" for k in CELEBRITY_COUNTS}
        self.fake_celebrities = [f"{self.prefix}-ec{i}" for i in range(max(CELEBRITY_COUNTS))]
        self.handles: dict[str, str] = {}
        self.tweet_ids: list[int] = []
        self.edges: list[tuple[str, str]] = []

    def create(self) -> None:
        social, store, thresholds = self.timelines.graph, self.timelines.tweets, self.timelines.thresholds
        for user in [*self.authors, *self.celebrities, *self.readers.values()]:
            handle = f"b{user.removeprefix('bench-').replace('-', '')}"[:15]
            # A celebrity by DynamoDB's count (what a rebuild checks), without creating that many follows.
            followers = thresholds.celebrity if user in self.celebrities else 0
            profile = Profile(user_id=user, handle=handle, display_name=f"Bench {user[-4:]}", followers_count=followers)
            social.create_profile(profile)
            self.handles[user] = handle
        # Tweets interleaved in time across authors, stored as TweetStore stores them once published.
        posts = [a for a in self.authors for _ in range(TWEETS_PER_AUTHOR)]
        posts += [c for c in self.celebrities for _ in range(TWEETS_PER_CELEBRITY)]
        random.Random(7).shuffle(posts)
        ids = SnowflakeGenerator(datacenter_id=31, worker_id=30)
        with TweetItem.batch_write() as batch:
            for author in posts:
                tweet_id = ids.next_id()
                tweet = Tweet(
                    tweet_id=tweet_id,
                    author_id=author,
                    text=f"benchmark tweet {tweet_id} by {author}",
                    created_at_ms=snowflake_timestamp_ms(tweet_id),
                )
                batch.save(TweetItem(**tweet.model_dump(exclude=STRING_IDS)))
                self.tweet_ids.append(tweet_id)
        for k, reader in self.readers.items():
            for followee in [*self.authors, *self.celebrities[:k]]:
                social.add_edge(Relation.FOLLOWS, reader, followee, counted=True)
                self.edges.append((reader, followee))
        # Normal authors stay below the push tiers' limit; celebrities are marked in Redis as
        # Timelines.refresh_tier migrates an author: in the pull set with their recent tweets.
        for profile in social.get_profiles([*self.authors, *self.celebrities]).values():
            expected = Tier.CELEBRITY if profile.user_id in self.celebrities else Tier.NORMAL
            if thresholds.tier(profile.followers_count) is not expected:
                raise SystemExit(
                    f"{profile.user_id}: {profile.followers_count} followers, not {expected}: {thresholds}"
                )
        for celebrity in self.celebrities:
            recent = store.recent_ids(celebrity, CELEBRITY_RECENT)
            if len(recent) != TWEETS_PER_CELEBRITY:
                raise SystemExit(f"{celebrity}: {len(recent)} tweets in the user_tweets index")
            self.cache.set_celebrity(celebrity, True, recent)
        # The readers of the `empty` case: live empty timelines, following celebrities without tweets.
        for k, reader in self.empty_readers.items():
            self.timelines.home(reader, cursor=None, limit=LIMIT)  # rebuilt: live and empty
            if k:
                self.redis.sadd(CELEBRITIES, *self.fake_celebrities[:k])
                self.redis.sadd(following_key(reader), *self.fake_celebrities[:k])

    def drop_hydration_caches(self) -> None:
        users = [*self.authors, *self.celebrities, *self.readers.values()]
        cloud.unlink(self.redis, [tweet_key(t) for t in self.tweet_ids] + [profile_key(u) for u in users])

    def drop_timeline(self, reader: str) -> None:
        self.redis.unlink(timeline_key(reader), following_key(reader))
        self.drop_hydration_caches()

    def delete(self) -> None:
        with TweetItem.batch_write() as batch:
            for tweet_id in self.tweet_ids:
                batch.delete(TweetItem(tweet_id=tweet_id))
        with SocialItem.batch_write() as batch:
            for user, handle in self.handles.items():
                batch.delete(SocialItem(pk=user_key(user), sk=PROFILE))
                batch.delete(SocialItem(pk=f"HANDLE#{handle.lower()}", sk="HANDLE"))
            for follower, followee in self.edges:
                batch.delete(SocialItem(pk=user_key(follower), sk=f"FOLLOWS#{followee}"))
        self.redis.srem(CELEBRITIES, *self.celebrities, *self.fake_celebrities)
        deleted = cloud.unlink(self.redis, [key(t) for t in self.tweet_ids for key in (tweet_key, counts_key)])
        deleted += cloud.delete_matching(self.redis, f"*{self.prefix}*")
        print(
            f"cleaned up: {len(self.tweet_ids)} tweets, {len(self.handles)} profiles and {len(self.edges)} follows "
            f"from DynamoDB; {deleted} keys from Redis database {cloud.BENCH_DB}"
        )


def counted(client, fn, prepare=None) -> dict[str, int]:
    """Round trips, Redis commands and DynamoDB calls of one fn(), after prepare() (not counted)."""

    if prepare:
        prepare()
    fn()  # warm the connection, as the read before it would have done
    if prepare:
        prepare()
    with counting.aws_calls() as calls, counting.redis_round_trips(client) as trips:
        fn()
    return {**trips, "dynamodb_calls": counting.dynamodb_total(calls), **{f"op:{k}": v for k, v in calls.items()}}


def on_cluster(fixture: Fixture, settings, address: str, expected: dict[int, list[int]], args) -> dict[int, dict]:
    """The warm read of each reader against a Redis Cluster (their timelines rebuilt there from the same DynamoDB
    data, the celebrities marked there too): waves, requests written to the nodes, median latency."""
    from redis.cluster import RedisCluster

    host, port = address.rsplit(":", 1)
    client = RedisCluster(host=host, port=int(port), decode_responses=True, socket_timeout=10)
    timelines = cloud.bench_timelines(settings, client)
    results = {}
    try:
        for celebrity in fixture.celebrities:
            timelines.cache.set_celebrity(celebrity, True, timelines.tweets.recent_ids(celebrity, CELEBRITY_RECENT))
        for k, reader in fixture.readers.items():

            def home(reader=reader):
                return timelines.home(reader, cursor=None, limit=LIMIT)

            home()  # rebuilt from DynamoDB: now live
            if [entry.tweet.tweet_id for entry in home().items] != expected[k]:
                raise SystemExit(f"{k} celebrities: the read on the cluster differs from the single Redis's")
            with counting.waves() as waves, counting.aws_calls() as calls:
                home()
            seconds = [stats.median_per_call(home, args.reads) for _ in range(args.runs)]
            ms = median(seconds) * 1000
            results[k] = {**waves, "dynamodb_calls": counting.dynamodb_total(calls), "median_ms": ms}
    finally:
        users = [*fixture.authors, *fixture.celebrities, *fixture.readers.values()]
        for celebrity in fixture.celebrities:
            timelines.cache.set_celebrity(celebrity, False, [])
        readers = fixture.readers.values()
        keys = [k for r in readers for k in (timeline_key(r), retweets_key(r), following_key(r), marked_key(r))]
        keys += [tweet_key(t) for t in fixture.tweet_ids] + [profile_key(u) for u in users]
        cloud.unlink(client, keys)
        client.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=stats.RUNS)
    parser.add_argument("--reads", type=int, default=100, help="warm reads timed per run (median taken)")
    parser.add_argument("--cold-reads", type=int, default=3, help="cold reads timed per run (median taken)")
    parser.add_argument(
        "--cluster",
        default=os.environ.get("CHIRP_BENCH_REDIS_CLUSTER"),
        help="HOST:PORT of a Redis Cluster node: the warm read there too (default: $CHIRP_BENCH_REDIS_CLUSTER)",
    )
    args = parser.parse_args()

    settings = cloud.cloud_settings()
    client = cloud.bench_redis(settings)
    timelines = cloud.bench_timelines(settings, client)
    engagements = cloud.bench_engagements(settings, client)
    fixture = Fixture(timelines, cloud.run_tag())
    print(
        f"redis-server {cloud.redis_version(client)} database {cloud.BENCH_DB}, DynamoDB at "
        f"{settings.aws_endpoint_url}; run tag {fixture.prefix}"
    )
    results: dict[str, dict[int, dict]] = {"warm": {}, "cold_hydration": {}, "cold_timeline": {}, "empty": {}}
    pages: dict[int, list[int]] = {}
    try:
        fixture.create()
        print(f"created {len(fixture.handles)} profiles, {len(fixture.tweet_ids)} tweets, {len(fixture.edges)} follows")

        for k in CELEBRITY_COUNTS:
            reader = fixture.readers[k]

            def home(reader=reader):
                return timelines.home(reader, cursor=None, limit=LIMIT)

            page = home()  # rebuilt from DynamoDB: now live
            page = home()
            ids = [entry.tweet.tweet_id for entry in page.items]
            if len(ids) != LIMIT or not all(entry.author for entry in page.items):
                raise SystemExit(f"{k} celebrities: incomplete page {page}")
            pages[k] = ids
            # The baseline: the warm read's own Redis requests, recorded, then replayed with plain redis-py.
            with counting.recorded_requests() as requests, counting.waves() as waves:
                home()

            def raw(requests=requests):
                counting.replay(client, requests)

            # The read before the script finished pages (same run): the script's snapshot, the rules in Python.
            def via_snapshot(reader=reader):
                snapshot = timelines.cache.read_home(reader, before_id=None, count=LIMIT, merge_celebrities=True)
                return timelines.page_from(snapshot, reader, LIMIT)

            if via_snapshot() != page:
                raise SystemExit(f"{k} celebrities: the page the rules make from the snapshot differs")
            answer = timelines.cache.read_home(reader, before_id=None, count=LIMIT, merge_celebrities=True, finish=True)
            if not isinstance(answer, TimelinePage):
                raise SystemExit(f"{k} celebrities: the script did not finish the warm page")
            with counting.recorded_requests() as snapshot_requests:
                via_snapshot()

            # The read at first sight: none of the page's entries built before in this process.
            def first_sight(reader=reader):
                timelines.cache.parsed_entries.clear()
                return timelines.home(reader, cursor=None, limit=LIMIT)

            # Its parts, on the raw replay's own script call: the reply (the finished page's entries) made into the
            # page with every entry built, as the read at first sight does; the rest is the domain's own code.
            command, *command_args = requests[0][0]
            command = command.decode()

            def raw_parsed(command=command, args=command_args):
                reply = client.execute_command(command, *args)
                ParsedEntries().page(reply[1], reply[2:])

            def raw_snapshot(requests=snapshot_requests):
                counting.replay(client, requests)

            def separate_trips(reader=reader):
                cache = timelines.cache
                view = cache.read(reader, before_id=None, count=LIMIT)
                pulled = cache.pull_celebrities(view.celebrities, before_id=None, count=LIMIT)
                deferred = cache.deferred_ids(view.deferred, before_id=None, count=LIMIT)
                page = page_candidates([view.ids, pulled.ids, deferred], LIMIT)
                return timelines.hydrate(page, viewer_id=reader, hidden=view.hidden_authors)

            if [entry.tweet.tweet_id for entry in separate_trips()] != ids:
                raise SystemExit(f"{k} celebrities: the read in separate round trips differs from the warm read")

            def route_body(reader=reader):
                return engagements.timeline(home(), reader).model_dump_json()

            def flags(reader=reader, ids=ids):  # the route's one DynamoDB call: the reader's edges on the page
                return engagements.store.edges([(reader, tweet_id) for tweet_id in ids])

            def cold_timeline(reader=reader):
                fixture.drop_timeline(reader)

            warm = {
                **counted(client, home), "raw": counted(client, raw), "separate": counted(client, separate_trips),
                "route": counted(client, route_body),
            }  # fmt: skip
            hydration = counted(client, home, fixture.drop_hydration_caches)
            timeline = counted(client, home, cold_timeline)
            warm_s, raw_s, separate_s, hydration_s, timeline_s = [], [], [], [], []
            snapshot_s, raw_snapshot_s, raw_parsed_s, first_sight_s, route_s, flags_s = [], [], [], [], [], []
            for _ in range(args.runs):
                home()
                # In turn, call by call: what the ratios compare meets the same load.
                timed_in_turn = {
                    home: warm_s, raw: raw_s, first_sight: first_sight_s, raw_parsed: raw_parsed_s,
                    via_snapshot: snapshot_s, raw_snapshot: raw_snapshot_s, separate_trips: separate_s,
                }  # fmt: skip
                for samples, seconds in zip(
                    timed_in_turn.values(), stats.interleaved_medians(list(timed_in_turn), args.reads), strict=True
                ):
                    samples.append(seconds)
                # Apart: its calls over HTTP leave the caches cold for whatever runs next.
                route_s.append(stats.median_per_call(route_body, args.reads))
                flags_s.append(stats.median_per_call(flags, args.reads))
                samples_h, samples_t = [], []
                for _ in range(args.cold_reads):
                    fixture.drop_hydration_caches()
                    samples_h.append(stats.timed(home)[0])
                    cold_timeline()
                    seconds, cold_page = stats.timed(home)
                    samples_t.append(seconds)
                    if [e.tweet.tweet_id for e in cold_page.items] != ids:
                        raise SystemExit(f"{k} celebrities: the cold read differs from the warm read")
                hydration_s.append(median(samples_h))
                timeline_s.append(median(samples_t))
            warm_ms, raw_ms, separate_ms = (median(s) * 1000 for s in (warm_s, raw_s, separate_s))
            raw_parsed_ms, first_sight_ms = median(raw_parsed_s) * 1000, median(first_sight_s) * 1000
            snapshot_ms, raw_snapshot_ms = median(snapshot_s) * 1000, median(raw_snapshot_s) * 1000
            route_ms, flags_ms = median(route_s) * 1000, median(flags_s) * 1000
            results["warm"][k] = {
                **warm,
                "waves": waves["waves"],
                "requests": counting.describe_requests(requests),
                "median_ms": round(warm_ms, 3),
                "raw_redis_py_median_ms": round(raw_ms, 3),
                "ratio_to_raw": round(warm_ms / raw_ms, 2),
                # The read at first sight, and the raw replay with its reply made into the page, every entry built
                # (the read at first sight without the domain's own code).
                "first_sight_median_ms": round(first_sight_ms, 3),
                "first_sight_ratio_to_raw": round(first_sight_ms / raw_ms, 2),
                "raw_parsed_median_ms": round(raw_parsed_ms, 3),
                "raw_parsed_ratio_to_raw": round(raw_parsed_ms / raw_ms, 2),
                "via_snapshot_median_ms": round(snapshot_ms, 3),
                "via_snapshot_raw_redis_py_median_ms": round(raw_snapshot_ms, 3),
                "via_snapshot_ratio_to_raw": round(snapshot_ms / raw_snapshot_ms, 2),
                "separate_round_trips_median_ms": round(separate_ms, 3),
                "ratio_to_separate_round_trips": round(warm_ms / separate_ms, 2),
                # The read within the REST route's body, and what its parse (the raw replay parsed into the page,
                # over the replay) weighs there.
                "route_median_ms": round(route_ms, 3),
                "share_of_route": round(warm_ms / route_ms, 3),
                "parse_share_of_route": round((raw_parsed_ms - raw_ms) / route_ms, 3),
                "flags_median_ms": round(flags_ms, 3),
                "flags_share_of_route": round(flags_ms / route_ms, 3),
            }
            for name, counts, samples in (
                ("cold_hydration", hydration, hydration_s),
                ("cold_timeline", timeline, timeline_s),
            ):
                ms = median(samples) * 1000
                results[name][k] = {**counts, "median_ms": round(ms, 3), "ratio_to_warm": round(ms / warm_ms, 1)}

            empty_reader = fixture.empty_readers[k]
            results["empty"][k] = counted(client, lambda r=empty_reader: timelines.home(r, cursor=None, limit=LIMIT))
            print(
                f"{k} celebrities: warm {warm_ms:.2f} ms (raw {raw_ms:.2f} ms; at first sight {first_sight_ms:.2f} "
                f"ms, raw with every entry built {raw_parsed_ms:.2f} ms; page from the snapshot "
                f"{snapshot_ms:.2f} ms, raw {raw_snapshot_ms:.2f} ms; separate round trips "
                f"{separate_ms:.2f} ms; the REST route's body {route_ms:.2f} ms), cold hydration "
                f"{results['cold_hydration'][k]['median_ms']:.1f} ms, cold timeline "
                f"{results['cold_timeline'][k]['median_ms']:.1f} ms"
            )
        if args.cluster:
            results["cluster_warm"] = on_cluster(fixture, settings, args.cluster, pages, args)
    finally:
        fixture.delete()

    rows = []
    for name in ("warm", "cold_hydration", "cold_timeline", "empty"):
        for k, r in results[name].items():
            ops = Counter({key[3:]: v for key, v in r.items() if key.startswith("op:dynamodb.")})
            compared = ""
            if name == "warm":
                compared = (
                    f"{r['ratio_to_raw']:.2f}x raw ({r['raw_redis_py_median_ms']:.2f} ms; first sight "
                    f"{r['first_sight_ratio_to_raw']:.2f}x), "
                    f"{r['ratio_to_separate_round_trips']:.2f}x separate trips "
                    f"({r['separate']['round_trips']} rt, {r['separate_round_trips_median_ms']:.2f} ms)"
                )
            elif "ratio_to_warm" in r:
                compared = f"{r['ratio_to_warm']:.0f}x warm"
            rows.append([
                name, k, r["round_trips"], r["commands"], r["dynamodb_calls"],
                ", ".join(f"{op.split('.')[1]} {n}" for op, n in sorted(ops.items())) or "-",
                f"{r['median_ms']:.2f}" if "median_ms" in r else "-", compared or "-",
            ])  # fmt: skip
    print(f"\nTimelines.home, limit {LIMIT}; reader follows {NORMAL_AUTHORS} normal authors + k celebrities")
    print(
        "baselines (same run): raw redis-py sending the warm read's requests; the same read in separate round "
        f"trips; medians of {args.runs} runs\n"
    )
    print(
        table(
            ["case", "k", "round trips", "Redis cmds", "DynamoDB", "DynamoDB calls", "median ms", "compared with"],
            rows,
        )
    )
    for k, r in results["warm"].items():
        print(f"warm read, {k} celebrities, requests: " + " | ".join(r["requests"]))
    clustered = results.get("cluster_warm", {})
    if clustered:
        print(f"\nwarm read on the Redis Cluster at {args.cluster} (same data, same run)\n")
        print(
            table(
                ["k", "waves", "requests to nodes", "DynamoDB", "median ms", "single Redis ms", "ratio"],
                [
                    [k, c["waves"], c["requests"], c["dynamodb_calls"], f"{c['median_ms']:.2f}",
                     f"{single['median_ms']:.2f}", f"{c['median_ms'] / single['median_ms']:.2f}"]
                    for k, c in clustered.items()
                    for single in [results["warm"][k]]
                ],
            )
        )  # fmt: skip

    warm, cold = results["warm"], results["cold_timeline"]

    def per_k(value) -> str:  # one figure per followed-celebrity count, as the headlines show them
        return " / ".join(value(k) for k in CELEBRITY_COUNTS)

    def warm_figures(key: str, spec: str = ".2f") -> str:
        return per_k(lambda k: format(warm[k][key], spec))

    by_k = per_k(str)
    cluster_headline = (
        [
            report.headline(
                f"home read, warm, on a Redis Cluster (3 masters), {by_k} followed celebrities",
                per_k(lambda k: str(clustered[k]["waves"]))
                + " sequential waves ("
                + per_k(lambda k: str(clustered[k]["requests"]))
                + " requests to the nodes), "
                + per_k(lambda k: str(clustered[k]["dynamodb_calls"]))
                + " DynamoDB calls; "
                + per_k(lambda k: f"{clustered[k]['median_ms']:.2f}")
                + " ms = "
                + per_k(lambda k: f"{clustered[k]['median_ms'] / warm[k]['median_ms']:.1f}")
                + "x the single Redis",
                "single Redis, same run: "
                + per_k(lambda k: str(warm[k]["waves"]))
                + " round trips, "
                + per_k(lambda k: f"{warm[k]['median_ms']:.2f}")
                + " ms",
            )
        ]
        if clustered
        else []
    )
    report.write_result(
        NAME,
        {
            "baseline": "raw redis-py replaying the warm read's recorded Redis requests (the same script call, same "
            "keys, same run); and the same read in separate round trips (slice, pulls, tweets, profiles: the read "
            "path before the one-trip script), same run",
            "limit": LIMIT,
            "normal_authors_followed": NORMAL_AUTHORS,
            "tweets": {"per_normal_author": TWEETS_PER_AUTHOR, "per_celebrity": TWEETS_PER_CELEBRITY},
            "runs": args.runs,
            "reads_per_run": {"warm": args.reads, "cold": args.cold_reads},
            "results": {name: {str(k): r for k, r in by.items()} for name, by in results.items()},
            "headline": [
                report.headline(
                    f"home read, warm, {by_k} followed celebrities",
                    warm_figures("median_ms")
                    + " ms = "
                    + warm_figures("ratio_to_raw")
                    + "x raw redis-py; "
                    + warm_figures("round_trips", "")
                    + " Redis round trips, "
                    + warm_figures("dynamodb_calls", "")
                    + " DynamoDB calls; "
                    + warm_figures("ratio_to_separate_round_trips")
                    + "x the same read in separate round trips",
                    "raw redis-py, same requests: "
                    + warm_figures("raw_redis_py_median_ms")
                    + " ms; the read at first sight (none of the page's entries built before in the process): "
                    + warm_figures("first_sight_median_ms")
                    + " ms = "
                    + warm_figures("first_sight_ratio_to_raw")
                    + "x raw (raw with its reply made into the page, every entry built: "
                    + warm_figures("raw_parsed_ratio_to_raw")
                    + "x); the page made from the script's snapshot by the rules in Python (the read before): "
                    + warm_figures("via_snapshot_median_ms")
                    + " ms = "
                    + warm_figures("via_snapshot_ratio_to_raw", ".1f")
                    + "x its raw replay ("
                    + warm_figures("via_snapshot_raw_redis_py_median_ms")
                    + " ms); separate round trips: "
                    + per_k(lambda k: str(warm[k]["separate"]["round_trips"]))
                    + " round trips, "
                    + warm_figures("separate_round_trips_median_ms")
                    + " ms",
                ),
                report.headline(
                    f"home read within the REST route GET /timelines/home (its body: the read, Engagements.timeline, "
                    f"the page's JSON), {by_k} followed celebrities",
                    per_k(lambda k: f"{warm[k]['route_median_ms']:.2f}")
                    + " ms; the read "
                    + per_k(lambda k: f"{warm[k]['share_of_route']:.0%}")
                    + " of it, the page's parse at first sight "
                    + per_k(lambda k: f"{warm[k]['parse_share_of_route']:.0%}")
                    + "; "
                    + per_k(lambda k: str(warm[k]["route"]["round_trips"]))
                    + " Redis round trips, "
                    + per_k(lambda k: str(warm[k]["route"]["dynamodb_calls"]))
                    + " DynamoDB calls ("
                    + ", ".join(
                        f"{op.removeprefix('op:dynamodb.')} {n}"
                        for op, n in sorted(warm[CELEBRITY_COUNTS[0]]["route"].items())
                        if op.startswith("op:dynamodb.")
                    )
                    + ": the reader's like and retweet flags, "
                    + per_k(lambda k: f"{warm[k]['flags_share_of_route']:.0%}")
                    + " of the route)",
                    "the read alone, same run: " + warm_figures("median_ms") + " ms",
                ),
                report.headline(
                    f"home read, cold timeline (rebuilt from DynamoDB), {by_k} followed celebrities",
                    per_k(lambda k: f"{cold[k]['median_ms']:.0f}")
                    + " ms; "
                    + per_k(lambda k: str(cold[k]["round_trips"]))
                    + " Redis round trips, "
                    + per_k(lambda k: str(cold[k]["dynamodb_calls"]))
                    + " DynamoDB calls",
                    "the warm read: " + per_k(lambda k: f"{cold[k]['ratio_to_warm']:.0f}x"),
                ),
                report.headline(
                    f"home read, live empty timeline, {by_k} followed celebrities without tweets",
                    per_k(lambda k: str(results["empty"][k]["round_trips"]))
                    + " round trips, "
                    + per_k(lambda k: str(results["empty"][k]["commands"]))
                    + " Redis commands",
                    "machine-independent counts",
                ),
                *cluster_headline,
            ],
        },
    )


if __name__ == "__main__":
    main()
