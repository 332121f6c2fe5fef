"""The search repair rules against in-memory fakes: DynamoDB's state wins, poison is skipped, segments resume."""

from __future__ import annotations

import pytest

from chirp.search.repair import FailedBatch, RecordsExpired, SearchRepair
from chirp.tweets.model import Tweet

BATCH = FailedBatch.model_validate(
    {"shardId": "shard-0", "startSequenceNumber": "10", "endSequenceNumber": "12", "streamArn": "arn:stream"}
)


def _tweet(tweet_id: int, deleted: bool = False) -> Tweet:
    return Tweet(tweet_id=tweet_id, author_id="a", text=f"t{tweet_id}", created_at_ms=1, deleted=deleted)


class FakeTweets:
    def __init__(self, tweets: list[Tweet]):
        self.tweets = {t.tweet_id: t for t in tweets}

    def batch_get(self, tweet_ids):
        return {i: self.tweets[i] for i in tweet_ids if i in self.tweets}

    def scan_page(self, *, segment, total_segments, start_key, limit):
        mine = sorted(i for i in self.tweets if i % total_segments == segment)
        start = (start_key or {}).get("after", -1)
        page = [i for i in mine if i > start][:limit]
        more = page and page[-1] != mine[-1]
        return [self.tweets[i] for i in page], {"after": page[-1]} if more else None


class FakeIndex:
    def __init__(self):
        self.writes: list[list[Tweet]] = []

    def index_tweets(self, tweets):
        self.writes.append(list(tweets))


class FakeStream:
    def __init__(self, data: list[bytes] | None):
        self.data = data

    def records_between(self, batch):
        return self.data


def test_given_a_failed_batch_when_redriven_then_its_tweets_are_indexed_as_dynamodb_holds_them_now():
    live, deleted_since = _tweet(1), _tweet(2, deleted=True)
    stream = FakeStream([_tweet(1).model_dump_json().encode(), b"poison", _tweet(2).model_dump_json().encode()])
    index = FakeIndex()

    indexed = SearchRepair(FakeTweets([live, deleted_since]), index, stream).redrive(BATCH)

    assert indexed == 2
    assert index.writes == [[live, deleted_since]]  # the deletion wins over the live copy the record carried


def test_given_a_batch_the_stream_no_longer_holds_when_redriven_then_it_says_a_reindex_is_needed():
    with pytest.raises(RecordsExpired, match="reindex"):
        SearchRepair(FakeTweets([]), FakeIndex(), FakeStream(None)).redrive(BATCH)


def test_given_tweets_missing_from_dynamodb_when_redriven_then_nothing_is_indexed_for_them():
    index = FakeIndex()
    stream = FakeStream([_tweet(9).model_dump_json().encode()])

    assert SearchRepair(FakeTweets([]), index, stream).redrive(BATCH) == 0
    assert index.writes == []


def test_given_a_segment_when_reindexed_in_steps_then_every_tweet_is_indexed_once_and_it_resumes(monkeypatch):
    monkeypatch.setattr("chirp.search.repair.REINDEX_PAGE", 2)
    tweets = FakeTweets([_tweet(i) for i in range(1, 8)])
    index, repair = FakeIndex(), SearchRepair(tweets, FakeIndex(), FakeStream([]))
    repair.index = index

    first, key = repair.reindex(segment=0, total_segments=1, start_key=None, keep_going=lambda: False)
    assert (first, key) == (2, {"after": 2})
    rest, end = repair.reindex(segment=0, total_segments=1, start_key=key, keep_going=lambda: True)

    assert end is None
    assert first + rest == 7
    assert [t.tweet_id for page in index.writes for t in page] == list(range(1, 8))
