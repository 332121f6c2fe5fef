"""Reads a range of a shard's records again (the search redrive), while the stream still retains them."""

from __future__ import annotations

from typing import Any

from chirp.search.repair import FailedBatch


class KinesisStreamReader:
    def __init__(self, client: Any):
        self.client = client

    def records_between(self, batch: FailedBatch) -> list[bytes] | None:
        try:
            iterator = self.client.get_shard_iterator(
                StreamARN=batch.stream_arn,
                ShardId=batch.shard_id,
                ShardIteratorType="AT_SEQUENCE_NUMBER",
                StartingSequenceNumber=batch.first_sequence,
            )["ShardIterator"]
        except self.client.exceptions.InvalidArgumentException:
            return None  # the sequence number is past the stream's retention
        last, data = int(batch.last_sequence), []
        while iterator:
            response = self.client.get_records(ShardIterator=iterator, Limit=1000, StreamARN=batch.stream_arn)
            for record in response["Records"]:
                if int(record["SequenceNumber"]) > last:
                    return data
                data.append(record["Data"])
            if not response["Records"] and response.get("MillisBehindLatest", 0) == 0:
                return data  # reached the tip without passing the last sequence
            iterator = response.get("NextShardIterator")
        return data
