"""What a write costs: calls per POST /tweets, per follow, per cold timeline rebuild, and POST /tweets' latency.

1. In process, against the local cloud (the deployed tables, stream and Redis, through chirp.composition as the
   functions build it), AWS calls by operation (counting.aws_calls) and Redis round trips (counting.redis_round_trips)
   of one call each, and POST /tweets timed both ways, alternating, in the same run: TweetService.post (one
   transaction: tweet, outbox mark and count; then the publish) against the sequence it replaced (profile read, put,
   count update, publish, publish confirmed: 4 DynamoDB calls and 1 Kinesis call in sequence), which is rebuilt here
   from the same stores.
2. Through the local API (the emulator's gateway and the deployed api function): POST /tweets p50 and p99, with
   and without an Idempotency-Key, and GET /users/me as the same run's reference. With `--before-env`, the same
   requests go, in turn, to a second local cloud running the build before (its own ports and `.local/`), so both
   builds are timed in the same run on the same machine:

       git worktree add --detach ../chirp-before 07cae07
       (cd ../chirp-before && CHIRP_GATEWAY_PORT=4690 CHIRP_REDIS_PORT=6490 CHIRP_OPENSEARCH_PORT=9290 \
           CHIRP_OPENSEARCH_TRANSPORT_PORT=9390 make dev)
       .venv/bin/python bench/write_costs.py --before-env ../chirp-before/.local/cloud.env
       (cd ../chirp-before && CHIRP_GATEWAY_PORT=4690 ... make down)

Usage: .venv/bin/python bench/write_costs.py [--posts 60] [--followees 20] [--before-env PATH]
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections import Counter
from pathlib import Path

import cloud
import paths  # noqa: F401 - puts the repository root and shared/ on sys.path
import report
from counting import aws_calls, describe_requests, recorded_requests, redis_round_trips
from report import table
from stats import median, percentile

from chirp.adapters.dynamodb.tables import OUTBOX_SHARDS, TweetItem
from chirp.adapters.redis.timeline_cache import following_key, timeline_key
from chirp.composition import build_services
from chirp.social.model import Profile, Relation
from chirp.timelines.rules import FOLLOW_BACKFILL
from chirp.tweets.model import STRING_IDS, Tweet
from chirp.tweets.text import hashtags, mentions, normalize_text
from localstack.api_client import Accounts
from localstack.cloud_env import read_cloud_env

NAME = "write_costs"
REBUILD_READS = 10  # timed reads of the rebuild's authors, each way


def make_user(services) -> str:
    user_id = f"wc-{uuid.uuid4().hex[:12]}"
    services.social_store.create_profile(Profile(user_id=user_id, handle=user_id[3:15], display_name=user_id))
    return user_id


def post_as_before(services, author_id: str, text: str) -> Tweet:
    """POST /tweets as it was before the transaction (commit 07cae07): each step its own call, in sequence."""
    if services.social_store.get_profile(author_id) is None:
        raise RuntimeError("no profile")
    clean = normalize_text(text)
    tweet = Tweet(
        tweet_id=services.tweets.ids.next_id(),
        author_id=author_id,
        text=clean,
        created_at_ms=int(time.time() * 1000),
        hashtags=hashtags(clean),
        mentions=mentions(clean),
    )
    item = TweetItem(**tweet.model_dump(exclude=STRING_IDS), outbox_shard=tweet.tweet_id % OUTBOX_SHARDS)
    item.save(condition=TweetItem.tweet_id.does_not_exist())
    services.social_store.add_tweets_count(author_id, +1)
    services.tweets.publisher.publish(tweet)
    TweetItem(tweet_id=tweet.tweet_id).update(actions=[TweetItem.outbox_shard.remove()])
    return tweet


def counted(fn) -> dict:
    """AWS calls by operation, Redis round trips and what each sent, of one call of fn."""
    with aws_calls() as calls, redis_round_trips() as trips, recorded_requests() as requests:
        fn()
    described = describe_requests(requests)
    return {"aws_calls": dict(sorted(calls.items())), "aws_total": sum(calls.values()), **trips, "requests": described}


def in_process(posts: int, followees: int) -> dict:
    settings = cloud.cloud_settings()
    services = build_services(settings)
    author, follower = make_user(services), make_user(services)
    services.tweets.post(author, "warm-up")  # clients, the id lease and the connections: not what is measured
    post_as_before(services, author, "warm-up")

    counts = {
        "post": counted(lambda: services.tweets.post(author, "counted #bench")),
        "post_before": counted(lambda: post_as_before(services, author, "counted #bench")),
    }
    times: dict[str, list[float]] = {"post": [], "post_before": []}

    for i in range(posts):  # alternated, so both see the same machine
        for name, post in (
            ("post", services.tweets.post),
            ("post_before", lambda a, t: post_as_before(services, a, t)),
        ):
            started = time.perf_counter()
            post(author, f"timed {i} #bench")
            times[name].append((time.perf_counter() - started) * 1000)

    # follow: an author with tweets to backfill (a first follow opened the Redis connection: not what is counted)
    services.social.follow(make_user(services), author)
    services.timelines.home(follower, cursor=None, limit=20)  # the follower's timeline is live: it is backfilled
    counts["follow"] = counted(lambda: services.social.follow(follower, author))
    # a cold rebuild: a reader following `followees` authors with tweets, the timeline gone from Redis
    reader = make_user(services)
    for _ in range(followees):
        followee = make_user(services)
        services.tweets.post(followee, "for the rebuild")
        services.social.follow(reader, followee)
    services.redis.unlink(timeline_key(reader), following_key(reader))  # lost from Redis (or expired)
    started = time.perf_counter()
    counts["rebuild"] = counted(lambda: services.timelines.rebuild(reader))
    rebuild_ms = (time.perf_counter() - started) * 1000
    # The rebuild's reads of its authors' latest entries, alternated: id-only queries in parallel (now) against
    # full tweets queried one author after another (before).
    authors = [reader, *services.social_store.all_targets(Relation.FOLLOWS, reader)]
    reads: dict[str, list[float]] = {"parallel_ids": [], "sequential_tweets": []}
    for _ in range(REBUILD_READS):
        for name, read in (
            ("parallel_ids", lambda: services.tweet_store.recent_entries(authors, FOLLOW_BACKFILL)),
            ("sequential_tweets", lambda: [services.tweet_store.recent_tweets(a, FOLLOW_BACKFILL) for a in authors]),
        ):
            started = time.perf_counter()
            read()
            reads[name].append((time.perf_counter() - started) * 1000)
    return {
        "counts": counts,
        "post_ms": {name: {"p50": median(v), "p99": percentile(v, 99)} for name, v in times.items()},
        "rebuild_ms": rebuild_ms,
        "rebuild_reads_ms": {name: median(v) for name, v in reads.items()},
        "followees": followees,
    }


BEFORE = "07cae07"  # the last build whose POST /tweets made its calls in sequence (post_as_before)


def through_api(posts: int, before_env: dict[str, str] | None) -> dict:
    """p50 and p99 of each request by build ("now", and "before" when its cloud is given), sent in turn."""
    clouds = {"now": cloud.cloud_env(), **({"before": before_env} if before_env else {})}
    senders, raised = {}, []
    for build, env in clouds.items():
        accounts = Accounts(env)
        author = accounts.create("wca")
        accounts.raise_limits([author])
        raised.append((accounts, author))
        senders[build] = {
            "post": lambda i, author=author: author.call("POST", "/tweets", json={"text": f"api {i} #bench"}),
            "post_idempotent": lambda i, author=author: author.call(
                "POST", "/tweets", json={"text": f"api key {i}"}, headers={"Idempotency-Key": uuid.uuid4().hex}
            ),
            "get_me": lambda i, author=author: author.call("GET", "/users/me"),
        }
    samples = {build: {name: [] for name in sends} for build, sends in senders.items()}
    statuses: Counter = Counter()
    for sends in senders.values():
        for send in sends.values():
            send(-1)  # warm: the function's first invoke is not what is measured
    for i in range(posts):
        for build, sends in senders.items():
            for name, send in sends.items():
                started = time.perf_counter()
                response = send(i)
                samples[build][name].append((time.perf_counter() - started) * 1000)
                statuses[f"{build} {name} {response.status_code}"] += 1
    for accounts, author in raised:
        accounts.restore_limits([author])
    return {
        "statuses": dict(statuses),
        "ms": {
            build: {name: {"p50": median(v), "p99": percentile(v, 99)} for name, v in by_name.items()}
            for build, by_name in samples.items()
        },
    }


def api_headline(posts: int, ms: dict) -> dict:
    now = ms["now"]
    figures = (
        f"p50 {now['post']['p50']:.1f} ms, p99 {now['post']['p99']:.1f} ms; with an Idempotency-Key "
        f"p50 {now['post_idempotent']['p50']:.1f} ms"
    )
    baseline = f"GET /users/me, same run: p50 {now['get_me']['p50']:.1f} ms"
    if before := ms.get("before"):
        speedup, keyed = (before[name]["p50"] / now[name]["p50"] for name in ("post", "post_idempotent"))
        figures = f"{figures}; {speedup:.2f}x faster than the build before ({keyed:.2f}x with the key)"
        baseline = (
            f"the build before ({BEFORE}) in a second local cloud, same run, requests in turn: POST /tweets p50 "
            f"{before['post']['p50']:.1f} ms, p99 {before['post']['p99']:.1f} ms; with an Idempotency-Key p50 "
            f"{before['post_idempotent']['p50']:.1f} ms; GET /users/me p50 {before['get_me']['p50']:.1f} ms"
        )
    return report.headline(f"POST /tweets through the local API ({posts} posts)", figures, baseline)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=60)
    parser.add_argument("--followees", type=int, default=20)
    parser.add_argument("--before-env", type=Path, help=f"cloud.env of a local cloud running {BEFORE}")
    args = parser.parse_args()

    local = in_process(args.posts, args.followees)
    api = through_api(args.posts, read_cloud_env(args.before_env) if args.before_env else None)
    counts, post_ms = local["counts"], local["post_ms"]
    print(
        table(
            ["operation", "AWS calls", "by operation", "Redis round trips"],
            [[name, c["aws_total"], ", ".join(f"{k} {v}" for k, v in c["aws_calls"].items()), c["round_trips"]]
             for name, c in counts.items()],
        )
    )  # fmt: skip
    speedup = post_ms["post_before"]["p50"] / post_ms["post"]["p50"]
    print(f"\nin process, {args.posts} posts each: p50 {post_ms['post']['p50']:.1f} ms now, "
          f"{post_ms['post_before']['p50']:.1f} ms as before ({speedup:.2f}x)")  # fmt: skip
    for build, by_name in api["ms"].items():
        print(f"through the API, {build}: " + ", ".join(f"{n} p50 {v['p50']:.1f} ms" for n, v in by_name.items()))
    print(f"statuses: {api['statuses']}")

    post, before, follow, rebuild = counts["post"], counts["post_before"], counts["follow"], counts["rebuild"]
    headlines = [
        report.headline(
            "POST /tweets, calls per post (in process against the local cloud)",
            f"{post['aws_total']} AWS calls ({', '.join(post['aws_calls'])}), {post['round_trips']} Redis round trips;"
            f" p50 {post_ms['post']['p50']:.1f} ms = {speedup:.2f}x faster",
            f"the sequence it replaced, same run: {before['aws_total']} calls, "
            f"p50 {post_ms['post_before']['p50']:.1f} ms",
        ),
        api_headline(args.posts, api["ms"]),
        report.headline(
            "follow (an author with tweets to backfill), calls",
            f"{follow['aws_total']} DynamoDB calls, {follow['round_trips']} Redis round trips "
            f"({' | '.join(follow['requests'])})",
            "machine-independent counts",
        ),
        report.headline(
            f"cold home timeline rebuild, {args.followees} followees",
            f"{rebuild['aws_total']} DynamoDB calls ({rebuild['aws_calls'].get('dynamodb.Query', 0)} of them queries: "
            f"3 relations, then the authors' id-only queries in parallel), {rebuild['round_trips']} Redis round "
            f"trips, {local['rebuild_ms']:.0f} ms; its authors' entries read in "
            f"{local['rebuild_reads_ms']['parallel_ids']:.1f} ms",
            f"the same authors' full tweets queried one after another, same run: "
            f"{local['rebuild_reads_ms']['sequential_tweets']:.1f} ms "
            f"({local['rebuild_reads_ms']['sequential_tweets'] / local['rebuild_reads_ms']['parallel_ids']:.1f}x)",
        ),
    ]
    report.write_result(NAME, {"runs": {"posts": args.posts}, "in_process": local, "api": api, "headline": headlines})


if __name__ == "__main__":
    main()
