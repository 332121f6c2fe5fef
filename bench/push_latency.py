"""Real-time push (chirp.realtime) through the deployed local cloud, and the cost of one push to many.

1. Latency, per fan-out tier: how long after `POST /tweets` returns does the `update` event reach a connected
   follower's WebSocket (API Gateway -> Lambda -> DynamoDB + Kinesis -> notifier Lambda -> Redis index ->
   @connections -> WebSocket)? For each tier (normal: 1 follower; popular and celebrity: the stage's thresholds)
   an author gets that many followers, one of them connected; the author posts --posts tweets one after the
   other, each waited for (--timeout s). The first --warmup posts are reported apart (a cold consumer takes
   seconds). Baseline in the same run: GET /health.
   Then per protocol: one author, two followers connected, one on Chirp's frames and one on Mastodon's streaming
   API (`/api/v1/streaming` through the host-root proxy, a Mastodon token): the same posts, each timed to its
   arrival on both sockets (read by a thread each). A push renders both frames before it posts either, so both
   carry the cost of rendering the Mastodon Status; the Chirp-only tier above is the baseline.
2. Cost of one push to 10,000 connected followers, in process: the real service and Redis index (the benchmarks'
   own Redis database), a follow graph that counts the DynamoDB calls its adapter would make, and a gateway that
   counts posts. Two authors: one followed by exactly the 10,000 connected users (their follower pages are
   walked) and a celebrity with 1,000,000 followers of whom those 10,000 are connected (the connected users are
   walked and checked in batches: never the million). Baseline in the same run: raw post_to_connection to one
   open WebSocket, 16 in flight, as the service posts.

Usage: .venv/bin/python bench/push_latency.py [--posts 200] [--warmup 3] [--connected 10000]
"""

from __future__ import annotations

import argparse
import json
import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import cloud
import counting
import report
import requests
from delivery_latency import cleanup, health_ms
from report import table
from stats import median, percentile
from websockets.sync.client import connect

from chirp.adapters.apigateway.connections import ApiGatewayConnections, management_client
from chirp.adapters.redis.connected_index import RedisConnectedIndex
from chirp.realtime.model import Connection, Wire
from chirp.realtime.service import PAGE_SIZE, Realtime
from chirp.realtime.wire import ChirpFrames
from chirp.tweets.model import Tweet
from infra.config import LOCAL
from localstack.api_client import PASSWORD, Accounts, User
from localstack.push_client import PushClient, websocket_url

NAME = "push_latency"
IN_FLIGHT = 16  # the service's bounded concurrency (chirp.composition)
BATCH_GET_KEYS = 100  # DynamoDB's BatchGetItem limit


# --- 1. latency through the deployed cloud -----------------------------------------------------------------
def tier_latency(accounts: Accounts, ws: str, tier: str, followers: int, args, users, tweet_ids) -> dict:
    author = accounts.create(f"pa{tier[:2]}")
    fans = [accounts.create(f"pf{tier[:2]}") for _ in range(followers)]
    users += [(u.handle, u.user_id) for u in (author, *fans)]
    accounts.raise_limits([author])
    for fan in fans:
        followed = fan.call("POST", f"/users/{author.user_id}/follow")
        if followed.status_code != 200:
            raise SystemExit(f"setup failed: follow answered {followed.status_code}: {followed.text}")
    latencies, failures, warmup, post_ms = [], [], [], []
    with PushClient.open(ws, fans[-1].token) as client:

        def deliver(i: int) -> float | str:
            started = time.perf_counter()
            response = author.call("POST", "/tweets", json={"text": f"push benchmark {tier} {i}"})
            posted = time.perf_counter()
            if response.status_code != 201:
                return f"POST /tweets {response.status_code}: {response.text[:200]}"
            tweet_id = response.json()["tweet_id"]
            tweet_ids.append(tweet_id)
            post_ms.append((posted - started) * 1000)
            frame = client.wait_for(
                lambda f: f["event"] == "update" and f["payload"]["tweet_id"] == tweet_id, timeout_s=args.timeout
            )
            return (time.perf_counter() - posted) * 1000 if frame else f"not pushed in {args.timeout} s"

        warmup = [deliver(-1 - i) for i in range(args.warmup)]
        for i in range(args.posts):
            outcome = deliver(i)
            (failures if isinstance(outcome, str) else latencies).append(outcome)
    print(f"  {tier}: {len(latencies)} pushed, p50 {median(latencies) if latencies else math.nan:.0f} ms")
    return {
        "tier": tier,
        "followers": followers,
        "posts": args.posts,
        "pushed": len(latencies),
        "failures": len(failures),
        "failure_details": failures[:10],
        "warmup_ms": [round(w, 1) if isinstance(w, float) else w for w in warmup],
        "post_tweets_median_ms": round(median(post_ms), 2) if post_ms else None,
        "latency_ms": {
            k: round(percentile(latencies, p), 1) for k, p in (("p50", 50), ("p95", 95), ("p99", 99), ("max", 100))
        },
    }


def mastodon_token(base_url: str, user: User) -> str:
    """A Mastodon access token for the user, as a client signs in (an app, then the password grant)."""
    app = requests.post(f"{base_url}/api/v1/apps", data={"client_name": "push bench", "redirect_uris": "urn:x"})
    app.raise_for_status()
    grant = {"grant_type": "password", "username": user.handle, "password": PASSWORD, "scope": "read"}
    token = requests.post(f"{base_url}/oauth/token", data={**grant, **{k: app.json()[k] for k in CLIENT_FIELDS}})
    token.raise_for_status()
    return token.json()["access_token"]


CLIENT_FIELDS = ("client_id", "client_secret")


def protocol_latency(accounts: Accounts, env: dict, args, users, tweet_ids) -> dict:
    author, chirp_fan, mastodon_fan = accounts.create("ppa"), accounts.create("ppc"), accounts.create("ppm")
    users += [(u.handle, u.user_id) for u in (author, chirp_fan, mastodon_fan)]
    accounts.raise_limits([author])
    for fan in (chirp_fan, mastodon_fan):
        if (followed := fan.call("POST", f"/users/{author.user_id}/follow")).status_code != 200:
            raise SystemExit(f"setup failed: follow answered {followed.status_code}: {followed.text}")
    base = env["CHIRP_MASTODON_URL"]
    streaming = f"{base.replace('http://', 'ws://', 1)}/api/v1/streaming?stream=user"
    arrivals: dict[tuple[str, str], float] = {}
    arrived = threading.Condition()

    def read(protocol: str, socket, tweet_id_of) -> None:
        try:
            for message in socket:
                frame = json.loads(message)
                if frame.get("event") == "update":
                    with arrived:
                        arrivals[(protocol, tweet_id_of(frame["payload"]))] = time.perf_counter()
                        arrived.notify_all()
        except Exception:  # noqa: BLE001 - the socket closed at the end of the run
            return

    token = mastodon_token(base, mastodon_fan)
    latencies: dict[str, list[float]] = {"chirp": [], "mastodon": []}
    failures = []
    with (
        PushClient.open(websocket_url(env), chirp_fan.token) as chirp,
        connect(f"{streaming}&access_token={token}", open_timeout=15) as mastodon,
    ):
        readers = [
            threading.Thread(target=read, args=("chirp", chirp.socket, lambda p: p["tweet_id_str"]), daemon=True),
            threading.Thread(target=read, args=("mastodon", mastodon, lambda p: json.loads(p)["id"]), daemon=True),
        ]
        for reader in readers:
            reader.start()
        for i in range(-args.warmup, args.posts):
            response = author.call("POST", "/tweets", json={"text": f"push benchmark protocols {i}"})
            posted = time.perf_counter()
            if response.status_code != 201:
                failures.append(f"POST /tweets {response.status_code}")
                continue
            tweet_id = response.json()["tweet_id_str"]
            tweet_ids.append(int(tweet_id))
            keys = [(protocol, tweet_id) for protocol in latencies]
            with arrived:
                if not arrived.wait_for(lambda keys=keys: all(k in arrivals for k in keys), timeout=args.timeout):
                    failures.append(f"not pushed to both in {args.timeout} s")
                    continue
            if i >= 0:  # the first --warmup posts are left out
                for protocol, key in zip(latencies, keys, strict=True):
                    latencies[protocol].append((arrivals[key] - posted) * 1000)
    print("  protocols: " + ", ".join(f"{p} p50 {median(v) if v else math.nan:.0f} ms" for p, v in latencies.items()))
    return {
        "posts": args.posts,
        "failures": len(failures),
        "failure_details": failures[:10],
        "latency_ms": {
            protocol: {
                k: round(percentile(values, p), 1) if values else None
                for k, p in (("p50", 50), ("p95", 95), ("p99", 99), ("max", 100))
            }
            for protocol, values in latencies.items()
        },
    }


# --- 2. the cost of one push to many connected followers ---------------------------------------------------
class CountingGraph:
    """FollowGraph of one author followed by f0..f<followers-1>, no mutes; counts the calls
    chirp.adapters.dynamodb.follow_graph would make (a GetItem, Query pages, BatchGetItem of 100 keys)."""

    def __init__(self, followers: int):
        self.followers, self.calls = followers, 0

    def followers_count(self, user_id: str) -> int:
        self.calls += 1
        return self.followers

    def follower_pages(self, user_id: str, page_size: int):
        for start in range(0, self.followers, page_size):
            self.calls += 1
            yield [f"f{i}" for i in range(start, min(start + page_size, self.followers))]

    def followers_among(self, user_id: str, candidates: list[str]) -> set[str]:
        self.calls += math.ceil(len(candidates) / BATCH_GET_KEYS)
        return {c for c in candidates if c.startswith("f") and int(c[1:]) < self.followers}

    def hiding_among(self, user_id: str, candidates: list[str]) -> set[str]:
        self.calls += math.ceil(2 * len(candidates) / BATCH_GET_KEYS)  # a mute key and a block key each
        return set()


class CountingGateway:
    def __init__(self):
        self.posts = 0

    def post(self, connection_id: str, data: bytes) -> None:
        self.posts += 1


def push_cost(settings, connected: int) -> list[dict]:
    client = cloud.bench_redis(settings)
    index = RedisConnectedIndex(client)
    cloud.delete_matching(client, "rt:*")
    started = time.perf_counter()
    for i in range(connected):
        index.add(Connection(connection_id=f"c{i}", user_id=f"f{i}", wire=Wire.CHIRP), ttl_s=3600)
    index.rebuilt([])  # marks the index whole: these connections live in no table a push could rebuild it from
    print(f"  {connected:,} connections indexed in {time.perf_counter() - started:.1f} s")
    results = []
    try:
        for label, followers in (("followed by exactly the connected users", connected), ("celebrity", 1_000_000)):
            graph, gateway = CountingGraph(followers), CountingGateway()
            # No connection store: the counting gateway never answers 410, so nothing is dropped.
            realtime = Realtime(None, index, gateway, graph, {Wire.CHIRP: ChirpFrames()}, max_in_flight=IN_FLIGHT)
            tweet = Tweet(tweet_id=1, author_id="author", text="to everyone connected", created_at_ms=1)
            realtime.tweet_posted(tweet)  # warms the thread pool and the script cache
            graph.calls = 0
            with counting.waves() as counted:  # once, untimed: the counter's own cost stays out of the timings
                realtime.home_audience("author")
            trips_audience, calls_audience = counted["waves"], graph.calls
            runs = []
            for _ in range(3):
                gateway.posts = 0
                began = time.perf_counter()
                audience = realtime.home_audience("author")
                audience_s = time.perf_counter() - began
                began = time.perf_counter()
                delivery = realtime.tweet_posted(tweet)
                runs.append(
                    {
                        "audience_ms": audience_s * 1000,
                        "push_ms": (time.perf_counter() - began) * 1000,
                        "audience": len(audience),
                        "sent": delivery.sent,
                        "redis_round_trips": trips_audience,
                        "dynamodb_calls": calls_audience,
                        "posts": gateway.posts,
                    }
                )
            best = min(runs, key=lambda r: r["push_ms"])
            results.append({"author": label, "followers": followers, "connected": connected, **best})
    finally:
        cloud.delete_matching(client, "rt:*")
    return results


def raw_post_rate(settings, env, token: str, posts: int) -> float:
    """post_to_connection calls per second to one open WebSocket, IN_FLIGHT at a time (the service's way)."""
    gateway = ApiGatewayConnections(management_client(settings, IN_FLIGHT))
    with PushClient.open(websocket_url(env), token) as client:
        client.send({"action": "subscribe", "streams": ["user"]})
        answer = client.next_event(10) or {}
        connection_id = _connection_id(settings, answer, token)
        began = time.perf_counter()
        with ThreadPoolExecutor(IN_FLIGHT) as pool:
            list(pool.map(lambda i: gateway.post(connection_id, b'{"event":"bench"}'), range(posts)))
        return posts / (time.perf_counter() - began)


def _connection_id(settings, answer: dict, token: str) -> str:
    """The bench client's own connection id, from the connected index (its user's only connection)."""
    from chirp.adapters.cognito.id_tokens import IdTokens

    user_id = IdTokens(settings.user_pool_keys_url, settings.user_pool_issuer, settings.user_pool_client_id).subject(
        token
    )
    app_index = RedisConnectedIndex(cloud.bench_redis(settings, db=0))
    (connection,) = app_index.connections_of([user_id])[user_id]
    if answer.get("subscribed") != ["user"]:
        raise SystemExit(f"the bench connection did not subscribe: {answer}")
    return connection.connection_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200, help="posts per tier")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--connected", type=int, default=10_000)
    parser.add_argument("--raw-posts", type=int, default=1_000)
    args = parser.parse_args()

    env = cloud.cloud_env()
    settings = cloud.cloud_settings()
    api = env["CHIRP_API_URL"].rstrip("/")
    env["CHIRP_API_URL"] = api
    accounts, session = Accounts(env), requests.Session()
    users: list[tuple[str, str | None]] = []
    tweet_ids: list[int] = []
    tiers = {"normal": 1, "popular": LOCAL.popular_threshold, "celebrity": LOCAL.celebrity_threshold}
    try:
        health = health_ms(session, api)
        print(f"push latency, {args.posts} posts per tier, against {api}")
        latency = [tier_latency(accounts, websocket_url(env), t, n, args, users, tweet_ids) for t, n in tiers.items()]
        protocols = protocol_latency(accounts, env, args, users, tweet_ids)
        health += health_ms(session, api)
        listener = accounts.create("praw")
        users.append((listener.handle, listener.user_id))
        raw_rate = raw_post_rate(settings, env, listener.token, args.raw_posts)
    finally:
        cleanup(env, accounts.cognito, settings, users, tweet_ids)
        accounts.restore_limits([User(user_id=sub, handle=h, token="", api=api) for h, sub in users if sub])
    print(f"\npush cost to {args.connected:,} connected followers (in process, Redis db {cloud.BENCH_DB}):")
    cost = push_cost(settings, args.connected)

    health_median = median(health)
    print(f"\nbaseline (same run): GET /health median of {len(health)} = {health_median:.1f} ms")
    print(
        table(
            ["tier", "followers", "pushed", "failures", "p50 ms", "p95 ms", "p99 ms", "max ms"],
            [[r["tier"], r["followers"], r["pushed"], r["failures"], *r["latency_ms"].values()] for r in latency],
        )
    )
    print(f"\nbaseline (same run): raw post_to_connection, {IN_FLIGHT} in flight: {raw_rate:,.0f} posts/s")
    print(
        table(
            ["author", "followers", "audience", "Redis trips", "DynamoDB calls", "posts", "audience ms", "push ms"],
            [
                [
                    c["author"], f"{c['followers']:,}", f"{c['audience']:,}", c["redis_round_trips"],
                    c["dynamodb_calls"], f"{c['posts']:,}", f"{c['audience_ms']:.0f}", f"{c['push_ms']:.0f}",
                ]
                for c in cost
            ],
        )
    )  # fmt: skip
    raw_10k_s = args.connected / raw_rate
    lat = " / ".join(f"{r['latency_ms']['p50']:.0f}" for r in latency)
    lat99 = " / ".join(f"{r['latency_ms']['p99']:.0f}" for r in latency)
    walked, celebrity = cost
    chirp_latency, mastodon_latency = protocols["latency_ms"]["chirp"], protocols["latency_ms"]["mastodon"]
    normal = latency[0]["latency_ms"]
    report.write_result(
        NAME,
        {
            "baseline": {
                "health_median_ms": round(health_median, 2),
                "raw_post_to_connection_per_s": round(raw_rate, 1),
                "raw_posts": args.raw_posts,
                "in_flight": IN_FLIGHT,
            },
            "latency": latency,
            "protocols": protocols,
            "push_cost": cost,
            "page_size": PAGE_SIZE,
            "headline": [
                report.headline(
                    f"push latency, POST /tweets returned -> update on a connected follower's WebSocket, normal / "
                    f"popular / celebrity author ({args.posts} posts each)",
                    f"p50 {lat} ms, p99 {lat99} ms; {sum(r['failures'] for r in latency)} failures",
                    f"GET /health: {health_median:.0f} ms",
                ),
                report.headline(
                    f"push latency by protocol: one author's {args.posts} posts, each to a follower on Chirp's frames "
                    f"and one on Mastodon's streaming API (/api/v1/streaming, Status entities)",
                    f"Chirp p50 {chirp_latency['p50']:.0f} ms, p99 {chirp_latency['p99']:.0f} ms; Mastodon p50 "
                    f"{mastodon_latency['p50']:.0f} ms, p99 {mastodon_latency['p99']:.0f} ms; "
                    f"{protocols['failures']} failures",
                    f"a normal author's follower on Chirp's frames alone (above): p50 {normal['p50']:.0f} ms, "
                    f"p99 {normal['p99']:.0f} ms",
                ),
                report.headline(
                    f"push to {args.connected:,} connected followers (in process; the author followed by exactly "
                    f"them / a celebrity with 1,000,000 followers)",
                    f"finding the audience: {walked['audience_ms']:,.0f} / {celebrity['audience_ms']:,.0f} ms, "
                    f"{walked['redis_round_trips']} / {celebrity['redis_round_trips']} Redis round trips, "
                    f"{walked['dynamodb_calls']} / {celebrity['dynamodb_calls']} DynamoDB calls; then "
                    f"{walked['posts']:,} post_to_connection calls; the whole push with posts that cost nothing: "
                    f"{walked['push_ms']:,.0f} / {celebrity['push_ms']:,.0f} ms",
                    f"raw post_to_connection, {IN_FLIGHT} in flight: {raw_rate:,.0f}/s, so "
                    f"{args.connected:,} posts take {raw_10k_s:.1f} s",
                ),
            ],
        },
    )


if __name__ == "__main__":
    main()
