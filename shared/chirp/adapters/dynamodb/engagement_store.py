"""Engagements in DynamoDB: like, retweet and bookmark edges, sharded counters, reply/quote markers and the event
outbox (one table, EngagementItem). Every write that moves a count is one transaction with the item it counts, so a
count can never drift from its edges; a transaction that meets a concurrent one on the same item (DynamoDB
cancels it with TransactionConflict) is retried with jitter. A bookmark moves no count: one conditional update.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator
from functools import cache

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chirp.adapters.dynamodb.conditional import updated
from chirp.adapters.dynamodb.cursor import query_page
from chirp.adapters.dynamodb.tables import EngagementItem, TweetItem
from chirp.engagement.model import COUNT_FIELDS, Counts, Edge, EngagementEvent, Kind
from chirp.tweets.model import STRING_IDS, Tweet

OUTBOX_SHARDS = 16  # a hot tweet's events spread over this many outbox partitions
CONFLICT_RETRIES = 8


def edge_key(user_id: str, tweet_id: int) -> tuple[str, str]:
    return f"EDGE#{user_id}", f"TWEET#{tweet_id}"


def counter_key(tweet_id: int, shard: int) -> tuple[str, str]:
    return f"COUNT#{tweet_id}#{shard}", "COUNT"


def outbox_key(event: EngagementEvent) -> tuple[str, str]:
    sort = f"{event.order:019d}#{event.kind}#{int(event.active)}#{event.user_id}#{event.tweet_id}"
    return f"OUTBOX#{event.order % OUTBOX_SHARDS}", sort


@cache
def _connection_for(region: str | None, host: str | None) -> Connection:
    return Connection(region=region, host=host)


def _connection() -> Connection:
    return _connection_for(EngagementItem.Meta.region, EngagementItem.Meta.host)


class ConflictsExhausted(Exception):
    """Concurrent transactions kept cancelling this one (a retryable outage for the caller)."""


class DynamoEngagementStore:
    def __init__(self, sleep: Callable[[float], None] = time.sleep):
        self.sleep = sleep
        self.conflicts = 0  # transactions cancelled by a concurrent one and retried (benchmarks read it)

    # --- acts ---------------------------------------------------------------------------------------------
    def like(self, event: EngagementEvent, shard: int) -> bool:
        def write(t: TransactWrite) -> None:
            t.update(
                EngagementItem(*edge_key(event.user_id, event.tweet_id)),
                actions=[
                    EngagementItem.user_id.set(event.user_id),
                    EngagementItem.tweet_id.set(event.tweet_id),
                    EngagementItem.like_order.set(event.order),
                    EngagementItem.liked_at_ms.set(event.at_ms),
                ],
                condition=EngagementItem.like_order.does_not_exist(),
            )
            self._count(t, event.tweet_id, shard, "like_count", +1)
            t.save(_outbox_item(event))

        return self._transact(write)

    def unlike(self, event: EngagementEvent, shard: int) -> bool:
        def write(t: TransactWrite) -> None:
            t.update(
                EngagementItem(*edge_key(event.user_id, event.tweet_id)),
                actions=[EngagementItem.like_order.remove(), EngagementItem.liked_at_ms.remove()],
                condition=EngagementItem.like_order.exists(),
            )
            self._count(t, event.tweet_id, shard, "like_count", -1)
            t.save(_outbox_item(event))

        return self._transact(write)

    def retweet(self, event: EngagementEvent, retweet: Tweet, shard: int) -> bool:
        def write(t: TransactWrite) -> None:
            t.update(
                EngagementItem(*edge_key(event.user_id, event.tweet_id)),
                actions=[
                    EngagementItem.user_id.set(event.user_id),
                    EngagementItem.tweet_id.set(event.tweet_id),
                    EngagementItem.retweet_id.set(retweet.tweet_id),
                ],
                condition=EngagementItem.retweet_id.does_not_exist(),
            )
            self._count(t, event.tweet_id, shard, "retweet_count", +1)
            t.save(TweetItem(**retweet.model_dump(exclude=STRING_IDS)), condition=TweetItem.tweet_id.does_not_exist())
            t.save(_outbox_item(event))

        return self._transact(write)

    def unretweet(self, event: EngagementEvent, shard: int) -> bool:
        def write(t: TransactWrite) -> None:
            t.update(
                EngagementItem(*edge_key(event.user_id, event.tweet_id)),
                actions=[EngagementItem.retweet_id.remove()],
                condition=EngagementItem.retweet_id == event.retweet_id,
            )
            self._count(t, event.tweet_id, shard, "retweet_count", -1)
            t.update(
                TweetItem(tweet_id=event.retweet_id),
                actions=[TweetItem.deleted.set(True)],
                condition=TweetItem.tweet_id.exists(),
            )
            t.save(_outbox_item(event))

        return self._transact(write)

    def count_child(self, child_id: int, field: str, parent_id: int, shard: int, *, add: bool) -> bool:
        marker = EngagementItem(f"CHILD#{child_id}", field)

        def write(t: TransactWrite) -> None:
            if add:
                marker.parent_id, marker.counted = parent_id, True
                t.save(marker, condition=EngagementItem.pk.does_not_exist())
            else:  # the marker stays (uncounted): a replayed creation must not count it again
                t.update(
                    marker,
                    actions=[EngagementItem.counted.set(False)],
                    condition=EngagementItem.counted == True,  # noqa: E712
                )
            self._count(t, parent_id, shard, field, +1 if add else -1)

        return self._transact(write)

    @staticmethod
    def _count(t: TransactWrite, tweet_id: int, shard: int, field: str, delta: int) -> None:
        t.update(EngagementItem(*counter_key(tweet_id, shard)), actions=[getattr(EngagementItem, field).add(delta)])

    def bookmark(self, user_id: str, tweet_id: int, order: int) -> bool:
        return updated(
            EngagementItem(*edge_key(user_id, tweet_id)),
            [
                EngagementItem.user_id.set(user_id),
                EngagementItem.tweet_id.set(tweet_id),
                EngagementItem.bookmark_order.set(order),
            ],
            EngagementItem.bookmark_order.does_not_exist(),
        )

    def unbookmark(self, user_id: str, tweet_id: int) -> bool:
        return updated(
            EngagementItem(*edge_key(user_id, tweet_id)),
            [EngagementItem.bookmark_order.remove()],
            EngagementItem.bookmark_order.exists(),
        )

    def _transact(self, write: Callable[[TransactWrite], None]) -> bool:
        """Runs the transaction; False when a condition refused it (nothing was written: each transaction has one
        condition that can fail, its edge's or marker's; pynamodb sends deletes, puts and updates in that order, not
        in the order written). Cancelled by a concurrent transaction on one of its items, it is retried with
        jittered backoff."""
        for attempt in range(CONFLICT_RETRIES):
            try:
                with TransactWrite(connection=_connection()) as transaction:
                    write(transaction)
            except TransactWriteError as error:
                reasons = [r.code if r is not None else None for r in (error.cancellation_reasons or [])]
                if "ConditionalCheckFailed" in reasons:
                    return False
                if "TransactionConflict" not in reasons:
                    raise
                self.conflicts += 1
                self.sleep(random.uniform(0, 0.005 * 2**attempt))
                continue
            return True
        raise ConflictsExhausted(f"{CONFLICT_RETRIES} transactions cancelled by concurrent ones")

    # --- reads --------------------------------------------------------------------------------------------
    def edges(self, keys: Iterable[tuple[str, int]]) -> dict[tuple[str, int], Edge]:
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return {}
        found = {}
        for item in EngagementItem.batch_get([edge_key(u, t) for u, t in wanted], consistent_read=True):
            user_id, tweet_id = item.pk.split("#", 1)[1], int(item.sk.split("#", 1)[1])
            found[user_id, tweet_id] = Edge(
                user_id=user_id,
                tweet_id=tweet_id,
                liked=item.like_order is not None,
                like_order=int(item.like_order) if item.like_order is not None else None,
                retweet_id=int(item.retweet_id) if item.retweet_id is not None else None,
                bookmark_order=int(item.bookmark_order) if item.bookmark_order is not None else None,
            )
        return found

    def counts(self, tweet_ids: Iterable[int]) -> dict[int, Counts]:
        """Shard 0 of every tweet in one batch; the other shards of the tweets that have them in a second."""
        ids = list(dict.fromkeys(tweet_ids))
        if not ids:
            return {}
        sums: dict[int, Counts] = {}
        more: list[tuple[str, str]] = []
        for item in EngagementItem.batch_get([counter_key(t, 0) for t in ids]):
            tweet_id = int(item.pk.split("#")[1])
            sums[tweet_id] = _counts(item)
            more += [counter_key(tweet_id, shard) for shard in range(1, int(item.shards or 1))]
        if more:
            for item in EngagementItem.batch_get(more):
                tweet_id = int(item.pk.split("#")[1])
                sums[tweet_id] = sums.get(tweet_id, Counts()).plus(_counts(item))
        return sums

    def raise_shards(self, tweet_id: int, shards: int) -> None:
        updated(  # refused: another writer raised it as far already
            EngagementItem(*counter_key(tweet_id, 0)),
            [EngagementItem.shards.set(shards)],
            EngagementItem.shards.does_not_exist() | (EngagementItem.shards < shards),
        )

    def engagers(self, kind: Kind, tweet_id: int, *, limit: int, cursor: str | None) -> tuple[list[str], str | None]:
        index = EngagementItem.likes_by_tweet if kind is Kind.LIKE else EngagementItem.retweets_by_tweet
        items, next_cursor = query_page(
            lambda key: index.query(tweet_id, scan_index_forward=False, limit=limit, last_evaluated_key=key), cursor
        )
        return [item.pk.split("#", 1)[1] for item in items], next_cursor

    def liked_by(self, user_id: str, *, limit: int, cursor: str | None) -> tuple[list[int], str | None]:
        return _tweets_of(EngagementItem.likes_by_user, user_id, limit=limit, cursor=cursor)

    def bookmarked_by(self, user_id: str, *, limit: int, cursor: str | None) -> tuple[list[int], str | None]:
        return _tweets_of(EngagementItem.bookmarks_by_user, user_id, limit=limit, cursor=cursor)

    def engager_count(self, kind: Kind, tweet_id: int) -> int:
        index = EngagementItem.likes_by_tweet if kind is Kind.LIKE else EngagementItem.retweets_by_tweet
        return index.count(tweet_id)

    # --- the outbox ---------------------------------------------------------------------------------------
    def pending_events(self, *, before_order: int) -> Iterator[EngagementEvent]:
        for shard in range(OUTBOX_SHARDS):
            for item in EngagementItem.query(f"OUTBOX#{shard}", EngagementItem.sk < f"{before_order:019d}"):
                yield EngagementEvent.model_validate_json(item.event)

    def clear_pending(self, event: EngagementEvent) -> None:
        EngagementItem(*outbox_key(event)).delete()


def _tweets_of(index, user_id: str, *, limit: int, cursor: str | None) -> tuple[list[int], str | None]:
    """One page of a by-user index of edges (likes, bookmarks): their tweets, newest first."""
    items, next_cursor = query_page(
        lambda start_key: index.query(user_id, scan_index_forward=False, limit=limit, last_evaluated_key=start_key),
        cursor,
    )
    return [int(item.sk.split("#", 1)[1]) for item in items], next_cursor


def _outbox_item(event: EngagementEvent) -> EngagementItem:
    return EngagementItem(*outbox_key(event), event=event.model_dump_json())


def _counts(item: EngagementItem) -> Counts:
    return Counts(**{field: int(getattr(item, field) or 0) for field in COUNT_FIELDS})
