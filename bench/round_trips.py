"""Counts Redis round trips and commands per fan-out of N followers and per home timeline read with
0 / 5 / 50 followed celebrities, through the real domain code against the local cloud (`make dev`).

Counts, not timings: they do not depend on the machine. Usage: .venv/bin/python bench/round_trips.py
"""

from __future__ import annotations

import json
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "shared")]

from redis.connection import Connection  # noqa: E402

from chirp.models import Profile  # noqa: E402
from chirp.service import build_services  # noqa: E402
from tests.integration.conftest import cloud_settings  # noqa: E402

settings = cloud_settings.__wrapped__()
services = build_services(settings)
redis = services.feeds.cache.redis


@contextmanager
def counted():
    """Round trips = requests written to Redis (a pipeline is one); commands from INFO commandstats."""
    sent = []
    original = Connection.send_packed_command

    def send(self, command, check_health=True):
        sent.append(1)
        return original(self, command, check_health)

    before = redis.info("stats")["total_commands_processed"]
    Connection.send_packed_command = send
    result = {}
    try:
        yield result
    finally:
        Connection.send_packed_command = original
        # -1: the INFO call below is itself counted by the server
        result["commands"] = redis.info("stats")["total_commands_processed"] - before - 1
        result["round_trips"] = len(sent)


def user() -> str:
    user_id = f"bench-{uuid.uuid4().hex[:12]}"
    services.graph.social.create_profile(Profile(user_id=user_id, handle=user_id[6:18], display_name=user_id))
    return user_id


def fan_out_counts(followers: int) -> dict:
    ids = [f"f-{uuid.uuid4().hex[:10]}" for _ in range(followers)]
    # Timelines must be live to be written to: make them so, as a first read would.
    with redis.pipeline(transaction=False) as pipe:
        for follower in ids:
            pipe.zadd(f"tl:{follower}", {"live": float("inf")})
        pipe.execute()
    tweet_id = services.tweets.ids.next_id()
    with counted() as result:
        pushed = services.feeds.push_page(tweet_id, ids) if ids else 0
    return {"followers": followers, "pushed": pushed, **result}


def read_counts(celebrities: int) -> dict:
    reader = user()
    _ = services.feeds.home(reader, cursor=None, limit=20)  # live
    for _ in range(celebrities):
        celebrity = f"celeb-{uuid.uuid4().hex[:10]}"
        redis.sadd("celebrities", celebrity)
        redis.sadd(f"following:{reader}", celebrity)
    _ = services.feeds.home(reader, cursor=None, limit=20)  # warm the caches
    with counted() as result:
        services.feeds.home(reader, cursor=None, limit=20)
    return {"celebrities": celebrities, **result}


def main() -> None:
    results = {
        "fan_out_per_page": [fan_out_counts(n) for n in (1, 100, 500)],
        "home_read": [read_counts(n) for n in (0, 5, 50)],
    }
    print(json.dumps(results, indent=2))
    (ROOT / "bench" / "results" / "round_trips.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
