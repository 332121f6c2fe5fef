"""Hands pages of followers to the fan-out workers through SQS (the popular tier's async push)."""

from __future__ import annotations

from itertools import batched

from chirp.timelines.model import FollowerPage

SQS_BATCH = 10  # SendMessageBatch takes at most ten messages


class SqsPageQueue:
    def __init__(self, client, queue_url: str):
        self.client, self.queue_url = client, queue_url

    def send(self, pages: list[FollowerPage]) -> None:
        for batch in batched(pages, SQS_BATCH):
            response = self.client.send_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "MessageBody": page.model_dump_json()} for i, page in enumerate(batch)],
            )
            if response.get("Failed"):
                raise RuntimeError(f"SQS refused {len(response['Failed'])} follower pages: {response['Failed'][0]}")
