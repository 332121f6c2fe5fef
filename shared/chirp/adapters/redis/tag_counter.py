"""Tag use in Redis: per UTC day a HyperLogLog of accounts per tag and the set of tags used; the latest use
of each tag. Every call is one round trip."""

from __future__ import annotations

import redis

from chirp.trends.ports import TagCounts, TagUse

KEEP_DAYS = 3  # yesterday must outlive today


def _accounts_key(day: str, tag: str) -> str:
    return f"trend:accounts:{day}:{tag}"


def _tags_key(day: str) -> str:
    return f"trend:tags:{day}"


LAST_USED = "trend:last-used"
RANKING = "trend:ranking"  # a hash: the ranking's JSON and when it was computed


class RedisTagCounter:
    def __init__(self, client: redis.Redis):
        self.redis = client

    def record(self, uses: list[TagUse]) -> None:
        with self.redis.pipeline(transaction=False) as pipe:
            for use in uses:
                accounts = _accounts_key(use.day, use.tag)
                pipe.pfadd(accounts, use.account_id)
                pipe.expire(accounts, KEEP_DAYS * 86_400)
                pipe.sadd(_tags_key(use.day), use.tag)
                pipe.expire(_tags_key(use.day), KEEP_DAYS * 86_400)
                # max, not set: a late or replayed record never moves "last used" backwards
                pipe.zadd(LAST_USED, {use.tag: use.at_ms}, gt=True)
            pipe.execute()

    def counts(self, today: str, yesterday: str) -> list[TagCounts]:
        tags = sorted(self.redis.smembers(_tags_key(today)))
        if not tags:
            return []
        with self.redis.pipeline(transaction=False) as pipe:
            for tag in tags:
                pipe.pfcount(_accounts_key(today, tag))
                pipe.pfcount(_accounts_key(yesterday, tag))
                pipe.zscore(LAST_USED, tag)
            values = pipe.execute()
        return [
            TagCounts(
                tag=tag,
                accounts_today=values[3 * i],
                accounts_yesterday=values[3 * i + 1],
                last_used_ms=int(values[3 * i + 2]) if values[3 * i + 2] is not None else None,
            )
            for i, tag in enumerate(tags)
        ]

    def ranking(self) -> tuple[int, str] | None:
        computed_at, ranking = self.redis.hmget(RANKING, ["computed_at_ms", "ranking"])
        return (int(computed_at), ranking) if computed_at is not None and ranking is not None else None

    def keep_ranking(self, computed_at_ms: int, ranking: str) -> None:
        self.redis.hset(RANKING, mapping={"computed_at_ms": computed_at_ms, "ranking": ranking})
