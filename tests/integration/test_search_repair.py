"""Search repair against the real stream, DynamoDB and OpenSearch: a batch the indexer gave up on is redriven
from its on-failure pointer (the local cloud never writes one: its poller ignores retry limits, so the pointer is
built here as Lambda writes it), and a reindex restores an index from the table."""

from __future__ import annotations

import uuid

import pytest

from chirp.adapters.aws import aws_client
from chirp.adapters.kinesis.stream_reader import KinesisStreamReader
from chirp.adapters.opensearch.client import opensearch_client
from chirp.adapters.opensearch.tweet_index import TweetIndex
from chirp.search.repair import FailedBatch, SearchRepair


@pytest.fixture
def index(cloud_settings):
    client = opensearch_client(cloud_settings)
    tweets = TweetIndex(client, f"tweets-repair-{uuid.uuid4().hex[:12]}")
    tweets.ensure_index()
    yield tweets
    client.indices.delete(index=tweets.index, ignore_unavailable=True)


@pytest.fixture
def quiet_stream(services, monkeypatch):
    monkeypatch.setattr(services.tweets.publisher, "publish", lambda tweet: None)


def _searchable(index: TweetIndex, author_id: str) -> list[int]:
    index.client.indices.refresh(index=index.index)
    return index.search(None, author_id=author_id, limit=100).tweet_ids


def test_given_a_batch_the_indexer_gave_up_on_when_redriven_then_its_tweets_are_searchable_as_they_are_now(
    services, cloud_settings, make_user, index, quiet_stream
):
    author = make_user()
    kept, deleted = services.tweets.post(author, "kept #redrive"), services.tweets.post(author, "deleted since")
    kinesis = aws_client("kinesis", cloud_settings)
    stream = cloud_settings.new_tweets_stream
    arn = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    # Given both records on one shard (one partition key), as the indexer met them during an outage
    put = [
        kinesis.put_record(StreamName=stream, Data=t.model_dump_json().encode(), PartitionKey=author)
        for t in (kept, deleted)
    ]
    services.tweets.delete(author, deleted.tweet_id)
    pointer = FailedBatch.model_validate(
        {
            "shardId": put[0]["ShardId"],
            "startSequenceNumber": put[0]["SequenceNumber"],
            "endSequenceNumber": put[-1]["SequenceNumber"],
            "streamArn": arn,
        }
    )

    # When redriven
    repair = SearchRepair(services.tweet_store, index, KinesisStreamReader(kinesis))
    assert repair.redrive(pointer) == 2

    # Then the live tweet is searchable and the one deleted since is not
    assert _searchable(index, author) == [kept.tweet_id]


def test_given_an_empty_index_when_reindexed_from_dynamodb_then_every_tweet_is_searchable(
    services, make_user, index, quiet_stream
):
    author = make_user()
    posted = [services.tweets.post(author, f"tweet {i} #reindex") for i in range(3)]
    repair = SearchRepair(services.tweet_store, index, KinesisStreamReader(None))

    indexed, key = repair.reindex(segment=0, total_segments=1, start_key=None, keep_going=lambda: True)

    assert key is None
    assert indexed >= 3  # every tweet of the table, ours among them
    assert _searchable(index, author) == sorted((t.tweet_id for t in posted), reverse=True)
