"""Tag use and trend state in Redis. Per tag, HyperLogLogs of accounts per 5-minute bucket (trusted and suspect
apart) and per hour (trusted), all under the tag's hash tag so that one PFCOUNT unions a window (one slot on
Redis Cluster); the tags used per bucket; per normalised text, the accounts that posted it per hour. Every call
is one round trip."""

from __future__ import annotations

import json

import redis

from chirp.trends.ports import Peak, TagActivity, TagUse
from chirp.trends.rules import HOUR_MS

BUCKET_MS = 5 * 60_000
BUCKETS_PER_HOUR = HOUR_MS // BUCKET_MS
BUCKET_TTL_S = 2 * 3600
HOUR_TTL_S = 26 * 3600  # the baseline's day, and the hour being counted
PEAKS = "trend:peaks"
RANKING = "trend:ranking"  # a hash: the ranking's JSON and when it was computed


def _bucket_key(tag: str, kind: str, bucket: int) -> str:
    return f"trend:{{{tag}}}:{kind}:{bucket}"


def _tags_key(bucket: int) -> str:
    return f"trend:tags:{bucket}"


class RedisTagCounter:
    def __init__(self, client: redis.Redis):
        self.redis = client

    def record(self, uses: list[TagUse]) -> None:
        with self.redis.pipeline(transaction=False) as pipe:
            for use in uses:
                bucket, hour = use.at_ms // BUCKET_MS, use.at_ms // HOUR_MS
                for key, ttl in (
                    (_bucket_key(use.tag, "t" if use.trusted else "s", bucket), BUCKET_TTL_S),
                    *(((_bucket_key(use.tag, "h", hour), HOUR_TTL_S),) if use.trusted else ()),
                ):
                    pipe.pfadd(key, use.account_id)
                    pipe.expire(key, ttl)
                pipe.sadd(_tags_key(bucket), use.tag)
                pipe.expire(_tags_key(bucket), BUCKET_TTL_S)
            pipe.execute()

    def same_text_accounts(self, text_key: str, account_id: str, at_ms: int) -> int:
        key = f"trend:text:{{{text_key}}}:{at_ms // HOUR_MS}"
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.pfadd(key, account_id)
            pipe.execute_command("PFCOUNT", key)  # by name: a cluster pipeline refuses its pfcount()
            pipe.expire(key, BUCKET_TTL_S)
            _, accounts, _ = pipe.execute()
        return int(accounts)

    def active_tags(self, now_ms: int) -> list[str]:
        last = now_ms // BUCKET_MS
        with self.redis.pipeline(transaction=False) as pipe:
            for bucket in range(last - BUCKETS_PER_HOUR + 1, last + 1):
                pipe.smembers(_tags_key(bucket))
            return sorted(set().union(*pipe.execute()))

    def activity(self, tags: list[str], now_ms: int, baseline_hours: int) -> list[TagActivity]:
        last, hour = now_ms // BUCKET_MS, now_ms // HOUR_MS
        buckets = range(last - BUCKETS_PER_HOUR + 1, last + 1)
        hours = range(hour - baseline_hours, hour)
        with self.redis.pipeline(transaction=False) as pipe:
            for tag in tags:
                # By name: a cluster pipeline refuses its pfcount(), though each count's keys share the tag's slot.
                pipe.execute_command("PFCOUNT", *(_bucket_key(tag, "t", b) for b in buckets))
                pipe.execute_command("PFCOUNT", *(_bucket_key(tag, "s", b) for b in buckets))
                for h in hours:
                    pipe.execute_command("PFCOUNT", _bucket_key(tag, "h", h))
            values = pipe.execute()
        per_tag = 2 + len(hours)
        return [
            TagActivity(
                tag=tag,
                trusted=values[i * per_tag],
                suspect=values[i * per_tag + 1],
                hourly=values[i * per_tag + 2 : (i + 1) * per_tag],
            )
            for i, tag in enumerate(tags)
        ]


class RedisTrendState:
    def __init__(self, client: redis.Redis):
        self.redis = client

    def peaks(self) -> dict[str, Peak]:
        return {tag: Peak(**json.loads(value)) for tag, value in self.redis.hgetall(PEAKS).items()}

    def save_peaks(self, peaks: dict[str, Peak], forget: list[str]) -> None:
        with self.redis.pipeline(transaction=False) as pipe:
            if peaks:
                pipe.hset(PEAKS, mapping={tag: json.dumps(vars(peak)) for tag, peak in peaks.items()})
            if forget:
                pipe.hdel(PEAKS, *forget)
            pipe.execute()

    def ranking(self) -> tuple[int, str] | None:
        computed_at, ranking = self.redis.hmget(RANKING, ["computed_at_ms", "ranking"])
        return (int(computed_at), ranking) if computed_at is not None and ranking is not None else None

    def keep_ranking(self, computed_at_ms: int, ranking: str) -> None:
        self.redis.hset(RANKING, mapping={"computed_at_ms": computed_at_ms, "ranking": ranking})
