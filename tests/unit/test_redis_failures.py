"""How the Redis adapters read their client's failures, single or cluster (their scripts run on the real Redis in
tests/integration/): the limit store reports a Redis that does not answer as LimitStoreUnavailable, on which the
limiter fails open or closed by endpoint class, and raises a bug as it is; the count cache, which DynamoDB backs,
misses and forgets."""

from __future__ import annotations

import pytest
import redis

from chirp.adapters.redis.count_cache import RedisCountCache
from chirp.adapters.redis.rate_limits import RedisLimitStore
from chirp.engagement.model import Counts
from chirp.limits.model import EndpointClass, Limit, Subject
from chirp.limits.ports import LimitStoreUnavailable
from tests.unit.fakes import REDIS_OUTAGES


class Failing:
    """A client every call of which raises `error`: commands, pipelines and scripts."""

    def __init__(self, error: Exception):
        self.error = error

    def _raise(self, *_, **__):
        raise self.error

    set = delete = _raise

    def register_script(self, _source: str):
        return self._raise

    def pipeline(self, transaction: bool = True):
        client = self

        class Pipeline:
            def __enter__(self):
                return self

            def __exit__(self, *_):
                return False

            def __getattr__(self, _name):
                return lambda *_, **__: None

            def execute(self):
                client._raise()

        return Pipeline()


def _hit(error: Exception):
    return RedisLimitStore(Failing(error)).hit(Subject("user", "u1"), EndpointClass.TWEETS, Limit(5, 60))


@pytest.mark.parametrize("outage", REDIS_OUTAGES.values(), ids=REDIS_OUTAGES.keys())
def test_given_redis_not_answering_when_a_limit_is_checked_then_the_store_is_unavailable(outage):
    # A cluster's "cannot be connected" used to escape the guard unhandled: a 502 naming the nodes
    with pytest.raises(LimitStoreUnavailable):
        _hit(outage())


def test_given_a_bug_in_the_call_when_a_limit_is_checked_then_it_is_raised_as_it_is():
    with pytest.raises(redis.exceptions.RedisClusterException, match="CROSSSLOT"):
        _hit(redis.exceptions.RedisClusterException("CROSSSLOT Keys in request don't hash to the same slot"))


@pytest.mark.parametrize("outage", REDIS_OUTAGES.values(), ids=REDIS_OUTAGES.keys())
def test_given_redis_not_answering_when_the_count_cache_is_used_then_it_misses_and_forgets_without_raising(outage):
    cache = RedisCountCache(Failing(outage()))

    assert cache.get([1, 2]) == {}
    cache.put({1: Counts(like_count=1)})
    cache.bump(1, "like_count", 1)
    assert cache.heat(1, 10) == (0, 1)
    cache.remember_shards(1, 4)
