"""Tweets in DynamoDB: by id, by author (user_tweets GSI, newest first), and the sparse outbox."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import cache

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from chirp.adapters.dynamodb.conditional import updated
from chirp.adapters.dynamodb.cursor import query_page
from chirp.adapters.dynamodb.social_store import PROFILE, _condition_failed_at, _connection, user_key
from chirp.adapters.dynamodb.tables import OUTBOX_SHARDS, MediaItem, SocialItem, TweetItem
from chirp.errors import Conflict
from chirp.tweets.model import STRING_IDS, Tweet
from chirp.tweets.ports import AuthorUnknown, MediaTaken

_FIELDS = tuple(Tweet.model_fields)
_ENTRY_FIELDS = ["tweet_id", "retweet_of_id"]  # what a timeline keeps of a tweet
_PARALLEL_QUERIES = 8


@cache
def _query_pool() -> ThreadPoolExecutor:
    """Threads for parallel queries. They share pynamodb's one client of the table (botocore clients are
    thread-safe), made on the caller's thread before the first query is handed over."""
    return ThreadPoolExecutor(max_workers=_PARALLEL_QUERIES, thread_name_prefix="dynamodb-query")


def _to_tweet(item: TweetItem) -> Tweet:
    return Tweet.model_validate({field: getattr(item, field) for field in _FIELDS})


class TweetStore:
    def create(self, tweet: Tweet) -> None:
        """One call (a transaction): the tweet is stored marked as not yet published (the outbox entry is part of
        the item), counted on its author's profile, which must exist (the count's update checks it: one
        transaction may not both check and update an item), and each of its media attached to it, when the
        author's and not attached yet (their expiry removed: attached media stay)."""
        item = TweetItem(**tweet.model_dump(exclude=STRING_IDS), outbox_shard=tweet.tweet_id % OUTBOX_SHARDS)
        profile = SocialItem(pk=user_key(tweet.author_id), sk=PROFILE)
        try:
            with TransactWrite(connection=_connection()) as transaction:
                transaction.save(item, condition=TweetItem.tweet_id.does_not_exist())
                transaction.update(profile, actions=[SocialItem.tweets_count.add(1)], condition=SocialItem.pk.exists())
                for media_id in tweet.media_ids:
                    transaction.update(
                        MediaItem(media_id),
                        actions=[MediaItem.tweet_id.set(tweet.tweet_id), MediaItem.expires_at.remove()],
                        condition=(MediaItem.owner == tweet.author_id) & MediaItem.tweet_id.does_not_exist(),
                    )
        except TransactWriteError as error:
            if _condition_failed_at(error, 0):
                raise Conflict(f"tweet {tweet.tweet_id} already exists") from error
            if _condition_failed_at(error, 1):
                raise AuthorUnknown(tweet.author_id) from error
            for position, media_id in enumerate(tweet.media_ids, start=2):
                if _condition_failed_at(error, position):
                    raise MediaTaken(media_id) from error
            raise

    def mark_published(self, tweet_id: int) -> None:
        """Confirms the publish: the tweet leaves the outbox. Conditional, so a confirmation repeated (records
        come at least once) writes nothing, and one for an item that is not there never creates a stub."""
        updated(TweetItem(tweet_id=tweet_id), [TweetItem.outbox_shard.remove()], TweetItem.outbox_shard.exists())

    def pending_ids(self) -> Iterator[int]:
        for shard in range(OUTBOX_SHARDS):
            for item in TweetItem.outbox.query(shard):
                yield int(item.tweet_id)

    def get(self, tweet_id: int) -> Tweet | None:
        try:
            return _to_tweet(TweetItem.get(tweet_id))
        except DoesNotExist:
            return None

    def batch_get(self, tweet_ids: Iterable[int]) -> dict[int, Tweet]:
        return {int(item.tweet_id): _to_tweet(item) for item in TweetItem.batch_get(list(set(tweet_ids)))}

    def mark_deleted(self, tweet_id: int, author_id: str) -> bool:
        """Soft delete (home timelines filter lazily at read). False when it was already deleted."""
        return updated(
            TweetItem(tweet_id=tweet_id),
            [TweetItem.deleted.set(True)],
            (TweetItem.author_id == author_id) & (TweetItem.deleted == False),  # noqa: E712
        )

    def by_author(
        self, author_id: str, *, limit: int, cursor: str | None = None, before_id: int | None = None
    ) -> tuple[list[Tweet], str | None]:
        """One author's live tweets, newest first, one page (after `cursor`, or with ids below `before_id`)."""
        below = TweetItem.tweet_id < before_id if before_id is not None else None
        items, next_cursor = query_page(
            lambda start_key: TweetItem.user_tweets.query(
                author_id,
                below,
                scan_index_forward=False,
                limit=limit,
                last_evaluated_key=start_key,
                filter_condition=TweetItem.deleted == False,  # noqa: E712
            ),
            cursor,
        )
        return [_to_tweet(item) for item in items], next_cursor

    def scan_page(
        self, *, segment: int, total_segments: int, start_key: dict | None, limit: int
    ) -> tuple[list[Tweet], dict | None]:
        """One page of a parallel scan of every tweet (the search reindex), and the key to resume from."""
        results = TweetItem.scan(
            segment=segment, total_segments=total_segments, last_evaluated_key=start_key, limit=limit
        )
        return [_to_tweet(item) for item in results], results.last_evaluated_key

    def recent_entries(self, author_ids: list[str], count: int) -> tuple[list[int], dict[int, int]]:
        """One query per author, ids and retweet links only (not the text: a fraction of the bytes read), all
        run in parallel: a rebuild of dozens of followees costs about the time of one query, not their sum."""
        if not author_ids:
            return [], {}
        _ = TweetItem._get_connection().connection.client  # made here, once: the pool's threads share it
        pages = _query_pool().map(lambda author_id: self._entries(author_id, count), author_ids)
        items = [item for page in pages for item in page]
        return [int(i.tweet_id) for i in items], {
            int(i.tweet_id): int(i.retweet_of_id) for i in items if i.retweet_of_id
        }

    @staticmethod
    def _entries(author_id: str, count: int) -> list[TweetItem]:
        """The live ones among the author's latest `count` (one page: the limit counts before the filter)."""
        items, _ = query_page(
            lambda start_key: TweetItem.user_tweets.query(
                author_id,
                scan_index_forward=False,
                limit=count,
                last_evaluated_key=start_key,
                filter_condition=TweetItem.deleted == False,  # noqa: E712
                attributes_to_get=_ENTRY_FIELDS,
            ),
            None,
        )
        return items

    def recent_ids(self, author_id: str, count: int) -> list[int]:
        return [int(item.tweet_id) for item in self._entries(author_id, count)]  # ids only: not the text

    def recent_tweets(self, author_id: str, count: int) -> list[Tweet]:
        """The live ones among the author's latest `count` tweets (retweets included), newest first."""
        tweets, _ = self.by_author(author_id, limit=count)
        return tweets
