"""Engagement against the real DynamoDB, Redis and Kinesis of the local cloud: transactions that record a like
exactly once under concurrency and over sharded counters, batch reads whose DynamoDB calls do not grow with the
page, the retweet index in Redis, the count cache (and its outage), aggregated notifications with their version
condition, the engagements consumer called directly, and the auditor's count checks."""

from __future__ import annotations

import random
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from chirp.adapters.dynamodb.engagement_store import counter_key
from chirp.adapters.dynamodb.tables import EngagementItem
from chirp.adapters.redis.count_cache import RedisCountCache
from chirp.adapters.redis.timeline_cache import celebrity_retweets_key, retweets_key, timeline_key
from chirp.engagement.model import Counts, EngagementEvent, Kind
from chirp.engagement.rules import OUTBOX_GRACE_MS, Engagements
from chirp.notifications.model import Aggregate
from chirp.notifications.ports import StaleAggregate
from chirp.social.model import Profile
from tests.conftest import FakeLambdaContext, kinesis_event, load_handler


class RecordedEvents:
    def __init__(self):
        self.published: list[EngagementEvent] = []

    def publish(self, event: EngagementEvent) -> None:
        self.published.append(event)


@pytest.fixture
def quiet(services, monkeypatch) -> RecordedEvents:
    """Events and tweets stay off the streams: the deployed consumers would act on them as the test does."""
    recorded = RecordedEvents()
    monkeypatch.setattr(services.engagement, "publisher", recorded)
    monkeypatch.setattr(services.tweets.publisher, "publish", lambda tweet: None)
    return recorded


@pytest.fixture
def likers(services):
    """n users with profiles, created in one batch."""

    def create(n: int) -> list[str]:
        ids = [f"it-{uuid.uuid4().hex[:12]}" for _ in range(n)]
        for user_id in ids:
            services.social_store.create_profile(Profile(user_id=user_id, handle=user_id[3:15], display_name=user_id))
        return ids

    return create


def _dynamodb_calls(monkeypatch) -> list[str]:
    from botocore.client import BaseClient

    calls: list[str] = []
    original = BaseClient._make_api_call

    def counted(self, operation_name, api_params):
        if self.meta.service_model.service_name == "dynamodb":
            calls.append(operation_name)
        return original(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", counted)
    return calls


def test_given_concurrent_likes_and_retries_of_one_tweet_when_counted_then_the_count_equals_the_likers(
    services, make_user, likers, quiet
):
    author = make_user()
    tweet = services.tweets.post(author, "viral")
    fans = likers(24)
    # Hot: the heat of this window calls for shards, so likes spread over several counter items.
    for _ in range(60):
        services.count_cache.heat(tweet.tweet_id, 10)

    with ThreadPoolExecutor(max_workers=8) as pool:  # every fan likes twice (a retried request)
        list(pool.map(lambda user: services.engagement.like(user, tweet.tweet_id), fans * 2))

    truth = services.engagement_store.counts([tweet.tweet_id])[tweet.tweet_id]
    assert truth.like_count == 24 == services.engagement_store.engager_count(Kind.LIKE, tweet.tweet_id)
    shards = int(EngagementItem.get(*counter_key(tweet.tweet_id, 0)).shards)
    shard_items = list(EngagementItem.batch_get([counter_key(tweet.tweet_id, shard) for shard in range(shards)]))
    assert len(shard_items) > 1  # spread
    assert sum(int(item.like_count or 0) for item in shard_items) == 24
    assert len(quiet.published) == 24  # one event per like, none for the retries


def test_given_likes_and_unlikes_racing_when_settled_then_the_count_equals_the_edges(
    services, make_user, likers, quiet
):
    tweet = services.tweets.post(make_user(), "racing")
    fans = likers(6)
    acts = [(fan, act) for fan in fans for act in ("like", "unlike", "like")] * 2
    random.Random(3).shuffle(acts)

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda a: getattr(services.engagement, a[1])(a[0], tweet.tweet_id), acts))

    edges = services.engagement_store.engager_count(Kind.LIKE, tweet.tweet_id)
    assert services.engagement_store.counts([tweet.tweet_id])[tweet.tweet_id].like_count == edges


def test_given_a_retweet_when_made_and_undone_then_the_tweet_item_and_the_edge_follow_in_one_transaction(
    services, make_user, quiet
):
    author, fan = make_user(), make_user()
    tweet = services.tweets.post(author, "retweet me")

    state = services.engagement.retweet(fan, tweet.tweet_id)
    again = services.engagement.retweet(fan, tweet.tweet_id)

    assert again.retweet_id == state.retweet_id
    stored = services.tweet_store.get(state.retweet_id)
    assert (stored.author_id, stored.retweet_of_id, stored.deleted) == (fan, tweet.tweet_id, False)
    assert services.engagement.engagers(Kind.RETWEET, tweet.tweet_id, cursor=None, limit=10).user_ids == [fan]

    services.engagement.unretweet(fan, tweet.tweet_id)

    assert services.tweet_store.get(state.retweet_id).deleted
    assert services.engagement_store.counts([tweet.tweet_id])[tweet.tweet_id].retweet_count == 0
    assert services.engagement.engagers(Kind.RETWEET, tweet.tweet_id, cursor=None, limit=10).user_ids == []


def test_given_a_page_of_tweets_when_decorated_then_dynamodb_calls_do_not_grow_with_the_page(
    services, make_user, quiet, monkeypatch
):
    author, viewer = make_user(), make_user()
    tweets = [services.tweets.post(author, f"page {i}") for i in range(100)]
    services.engagement.like(viewer, tweets[3].tweet_id)
    services.engagement.retweet(viewer, tweets[7].tweet_id)
    services.count_cache.forget([t.tweet_id for t in tweets])

    calls = _dynamodb_calls(monkeypatch)
    cold = services.engagement.decorate(tweets, viewer)
    cold_calls = list(calls)
    calls.clear()
    warm = services.engagement.decorate(tweets[:10], viewer)

    assert cold_calls == ["BatchGetItem", "BatchGetItem"]  # counts summed (shard 0 of all), the viewer's flags
    assert calls == ["BatchGetItem"]  # counts cached now: the flags only
    assert (cold[tweets[3].tweet_id].liked, cold[tweets[3].tweet_id].like_count) == (True, 1)
    assert (cold[tweets[7].tweet_id].retweeted, cold[tweets[7].tweet_id].retweet_count) == (True, 1)
    assert sum(v.liked or v.retweeted for v in cold.values()) == 2
    assert warm[tweets[3].tweet_id].like_count == 1


def test_given_many_likers_when_listed_then_pages_are_newest_first_without_gaps(services, make_user, likers, quiet):
    tweet = services.tweets.post(make_user(), "listed")
    fans = likers(7)
    for fan in fans:
        services.engagement.like(fan, tweet.tweet_id)

    seen, cursor = [], None
    while True:
        page = services.engagement.engagers(Kind.LIKE, tweet.tweet_id, cursor=cursor, limit=3)
        seen += page.user_ids
        cursor = page.next_cursor
        if not cursor:
            break

    assert sorted(seen) == sorted(fans)
    assert len(seen) == 7
    liked = services.engagement.likes_of(fans[0], viewer_id=fans[1], cursor=None, limit=10)
    assert [(p.tweet_id, p.like_count, p.liked) for p in liked.items] == [(tweet.tweet_id, 7, True)]


def test_given_bookmarks_in_dynamodb_when_paged_then_newest_first_flagged_and_uncounted(services, make_user, quiet):
    author, reader = make_user(), make_user()
    tweets = [services.tweets.post(author, f"bookmarked {i}") for i in range(3)]
    for tweet in tweets:
        services.engagement.bookmark(reader, tweet.tweet_id)
        time.sleep(0.002)  # the order is the act's millisecond
    services.engagement.bookmark(reader, tweets[0].tweet_id)  # again: keeps its place

    first = services.engagement.bookmarks_of(reader, cursor=None, limit=2)
    second = services.engagement.bookmarks_of(reader, cursor=first.next_cursor, limit=2)

    newest_first = [t.tweet_id for t in reversed(tweets)]
    assert [p.tweet_id for p in first.items + second.items] == newest_first
    assert all(p.bookmarked and not p.liked and p.like_count == 0 for p in first.items + second.items)
    assert quiet.published == []  # nobody is told of a bookmark
    assert services.engagement_store.unbookmark(reader, tweets[1].tweet_id) is True
    assert services.engagement_store.unbookmark(reader, tweets[1].tweet_id) is False  # the condition refuses
    assert services.engagement_store.bookmark(reader, tweets[0].tweet_id, 1) is False
    edges = services.engagement_store.edges([(reader, t.tweet_id) for t in tweets])
    assert [edges[reader, t.tweet_id].bookmarked for t in tweets] == [True, False, True]
    assert services.engagement.bookmarked_tweets(reader, cursor=None, limit=10)[0] == [tweets[2], tweets[0]]


def test_given_the_count_cache_when_bumped_then_only_cached_counts_move(services, make_user, quiet):
    tweet_id = random.randrange(1, 2**62)
    cache = services.count_cache
    cache.bump(tweet_id, "like_count", 1)
    assert cache.get([tweet_id]) == {}
    cache.put({tweet_id: Counts(like_count=4, reply_count=1)})
    cache.bump(tweet_id, "like_count", -1)
    assert cache.get([tweet_id]) == {tweet_id: Counts(like_count=3, reply_count=1)}
    assert 0 < services.redis.ttl(f"counts:{tweet_id}") <= 3600


def test_given_redis_unreachable_when_the_count_cache_is_used_then_it_misses_and_forgets_without_raising():
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    cache = RedisCountCache(dead)
    assert cache.get([1, 2]) == {}
    cache.put({1: Counts(like_count=1)})
    cache.bump(1, "like_count", 1)
    assert cache.heat(1, 10) == (0, 1)
    cache.remember_shards(1, 4)


def test_given_retweets_in_redis_when_read_below_a_cursor_then_the_ones_above_come_with_the_page(services, make_user):
    cache = services.timeline_cache
    reader, star = make_user(), make_user()
    cache.replace(reader, [10, 11, 30], retweets={30: 10})
    cache.push(40, [reader], retweet_of=11)
    cache.add_to_each([reader], [50, 51], retweets={51: 12})
    cache.set_celebrity(star, True, [60], retweets={60: 13})
    cache.push_celebrity(star, 61, 200, retweet_of=14)

    below = cache.read(reader, before_id=31, count=10)
    pulled = cache.pull_celebrities([star], before_id=35, count=10)

    assert below.ids == [30, 11, 10]
    assert below.retweets_above == {40: 11, 51: 12}
    assert cache.read(reader, before_id=None, count=10).retweets_above == {}  # the first page has nothing above
    assert (pulled.ids, pulled.retweets_above) == ([], {60: 13, 61: 14})
    assert cache.inspect(reader, {star}).indexed_retweets == {30: 10, 40: 11, 51: 12, 60: 13, 61: 14}
    assert services.redis.ttl(retweets_key(reader)) > 0  # expires with the timeline
    cache.set_celebrity(star, False, [])
    assert not services.redis.exists(celebrity_retweets_key(star))


def test_given_an_aggregated_notification_when_updated_from_a_stale_read_then_it_is_refused(services, make_user):
    store = services.notifications.store
    recipient, tweet_id = make_user(), random.randrange(1, 2**62)
    first = Aggregate(
        recipient_id=recipient,
        kind="like",
        tweet_id=tweet_id,
        notification_id=2**61,
        actor_ids=["a"],
        count=1,
        at_ms=1_796_000_000_000,
    )
    store.put_aggregate(first, None)
    moved = first.model_copy(update={"notification_id": 2**61 + 5, "actor_ids": ["b", "a"], "count": 2, "version": 1})
    store.put_aggregate(moved, first)

    with pytest.raises(StaleAggregate):
        store.put_aggregate(moved.model_copy(update={"version": 1}), first)  # read before the move
    with pytest.raises(StaleAggregate):
        store.put_aggregate(first, None)  # "there was none"
    (shown,) = store.newest(recipient, before_id=None, limit=10)
    assert (shown.id, shown.actor_ids, shown.count, shown.actor_id) == (2**61 + 5, ["b", "a"], 2, "b")
    assert store.aggregate(recipient, "like", tweet_id) == moved

    store.drop_aggregate(moved)
    assert store.newest(recipient, before_id=None, limit=10) == []
    assert store.aggregate(recipient, "like", tweet_id) is None


def test_given_engagement_events_when_consumed_by_the_handler_then_counts_notifications_and_timelines_follow(
    services, make_user, quiet
):
    author, fan, reader = make_user(), make_user(), make_user()
    services.social.follow(reader, fan)
    services.timelines.home(reader, cursor=None, limit=20)  # live
    tweet = services.tweets.post(author, "consumed")
    services.engagement.like(fan, tweet.tweet_id)
    rt = services.engagement.retweet(fan, tweet.tweet_id)
    services.count_cache.put({tweet.tweet_id: Counts(like_count=42)})  # drifted
    handler = load_handler("engagements")
    event = kinesis_event([e.model_dump_json().encode() for e in quiet.published])

    for _ in range(2):  # replayed: nothing changes
        assert handler.lambda_handler(event, FakeLambdaContext(function_name="engagements")) == {
            "batchItemFailures": []
        }

    assert services.count_cache.get([tweet.tweet_id])[tweet.tweet_id] == Counts(like_count=1, retweet_count=1)
    notes = services.notifications.page(author, cursor=None, limit=10).items
    assert sorted((n.kind, tuple(n.actor_ids), n.count) for n in notes) == [
        ("like", (fan,), 1),
        ("retweet", (fan,), 1),
    ]
    (entry,) = services.timelines.home(reader, cursor=None, limit=20).items
    assert (entry.entry_id, entry.tweet.tweet_id, entry.retweeted_by.user_id) == (
        rt.retweet_id,
        tweet.tweet_id,
        fan,
    )


def test_given_a_publish_that_never_happened_when_relayed_then_the_event_reaches_the_stream_once(
    services, make_user, quiet, monkeypatch
):
    tweet = services.tweets.post(make_user(), "relayed")
    fan = make_user()
    monkeypatch.setattr(services.engagement_store, "clear_pending", lambda event: None)  # a crash after the write
    services.engagement.like(fan, tweet.tweet_id)
    monkeypatch.undo()
    monkeypatch.setattr(services.engagement, "publisher", quiet)
    quiet.published.clear()
    later = Engagements(
        services.engagement_store,
        services.count_cache,
        quiet,
        services.tweet_store,
        services.social_store,
        services.timelines,
        services.notifications,
        services.ids,
        clock_ms=lambda: int(time.time() * 1000) + OUTBOX_GRACE_MS,  # past the grace (the deployed relay waits)
    )

    later.relay_outbox()

    mine = [e for e in quiet.published if e.tweet_id == tweet.tweet_id]
    assert [(e.user_id, e.active) for e in mine] == [(fan, True)]
    assert not [e for e in services.engagement_store.pending_events(before_order=2**62) if e.tweet_id == tweet.tweet_id]


def test_given_counts_that_drifted_when_audited_then_each_drift_is_reported(services, make_user, likers, quiet):
    author = make_user()
    tweets = [services.tweets.post(author, f"audited {i}") for i in range(3)]
    for fan, tweet in zip(likers(3), tweets, strict=True):
        services.engagement.like(fan, tweet.tweet_id)
    services.engagement.refresh_counts([t.tweet_id for t in tweets])
    assert services.auditor().audit_counts([t.tweet_id for t in tweets]) == []

    # A counter item changed behind the transactions' back, and a cached count gone stale.
    EngagementItem(*counter_key(tweets[0].tweet_id, 0)).update(actions=[EngagementItem.like_count.add(5)])
    services.count_cache.put({tweets[1].tweet_id: Counts(like_count=9)})

    findings = services.auditor().audit_counts([t.tweet_id for t in tweets])

    assert [(f.tweet_id, f.kind, f.edges, f.count, f.cached) for f in findings] == [
        (tweets[0].tweet_id, "like", 1, 6, 1),
        (tweets[1].tweet_id, "like", 1, 1, 9),
    ]


def test_given_replies_and_quotes_when_counted_by_the_handler_then_each_counts_once(services, make_user, quiet):
    author, other = make_user(), make_user()
    parent = services.tweets.post(author, "parent")
    reply = services.tweets.post(other, "reply", reply_to_id=parent.tweet_id)
    quote = services.tweets.post(other, "quote", quote_tweet_id=parent.tweet_id)
    handler = load_handler("tweet_counter")
    batch = [reply, quote, reply]
    context = FakeLambdaContext(function_name="tweet_counter")

    handler.lambda_handler(kinesis_event([t.model_dump_json().encode() for t in batch]), context)
    handler.lambda_handler(
        kinesis_event([reply.model_copy(update={"deleted": True}).model_dump_json().encode()]), context
    )
    handler.lambda_handler(kinesis_event([reply.model_dump_json().encode()]), context)  # replayed after its deletion

    counts = services.engagement.counts([parent.tweet_id])[parent.tweet_id]
    assert (counts.reply_count, counts.quote_count) == (0, 1)


def test_given_ids_when_retweeting_then_they_come_from_the_same_leased_generator_as_tweets(services):
    assert services.engagement.ids is services.tweets.ids


def test_given_retweets_in_timelines_when_audited_then_clean_and_a_lost_index_entry_is_reported(
    services, make_user, quiet
):
    author, fan, other, reader = make_user(), make_user(), make_user(), make_user()
    for followee in (author, fan, other):
        services.social.follow(reader, followee)
    services.timelines.home(reader, cursor=None, limit=20)  # live
    tweet = services.tweets.post(author, "audited retweets")
    services.timelines.fan_out(tweet)
    for user in (fan, other):  # two followees retweet a tweet the reader also follows the author of
        state = services.engagement.retweet(user, tweet.tweet_id)
        services.timelines.fan_out(services.tweet_store.get(state.retweet_id))
    services.engagement.unretweet(other, tweet.tweet_id)
    assert [e.tweet.tweet_id for e in services.timelines.home(reader, cursor=None, limit=20).items] == [tweet.tweet_id]

    assert services.auditor().audit([reader]).findings == []

    retweet_id = services.engagement_store.edges([(fan, tweet.tweet_id)])[fan, tweet.tweet_id].retweet_id
    services.redis.zrem(retweets_key(reader), f"{retweet_id}:{tweet.tweet_id}")
    (finding,) = services.auditor().audit([reader]).findings
    assert (finding.unindexed, finding.missing, finding.extra) == ([retweet_id], [], [])
    services.redis.delete(timeline_key(reader), retweets_key(reader))  # rebuilt on the next read
