"""Poison stream records, set aside in the consumer failures queue with their reason (the record itself is
kept, base64, so an operator can inspect or replay it)."""

from __future__ import annotations

import base64
import json

MAX_KEPT_BYTES = 200 * 1024  # SQS takes 256 KB per message: a larger record is kept truncated


class SqsPoisonQueue:
    def __init__(self, client, queue_url: str):
        self.client, self.queue_url = client, queue_url

    def put(self, consumer: str, sequence: str, reason: str, data: bytes) -> None:
        body = {
            "consumer": consumer,
            "sequence": sequence,
            "reason": reason,
            "size_bytes": len(data),
            "data_base64": base64.b64encode(data[:MAX_KEPT_BYTES]).decode(),
        }
        self.client.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(body))
