"""The catalog's SQS queues, each with its dead-letter queue when it declares one; KMS-encrypted, TLS only."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.capabilities.names import pascal_case
from infra.catalog import QUEUES


class Queues(Construct):
    def __init__(self, scope: Construct, construct_id: str):
        super().__init__(scope, construct_id)
        self.queues: dict[str, sqs.Queue] = {}
        for queue in QUEUES:
            dead_letter = None
            if queue.dead_letter:
                failed = self._queue(f"{pascal_case(queue.name)}Failed", queue.dead_letter.retention_days)
                dead_letter = sqs.DeadLetterQueue(max_receive_count=queue.dead_letter.max_receive_count, queue=failed)
            self.queues[queue.name] = self._queue(
                pascal_case(queue.name),
                queue.retention_days,
                visibility_timeout=Duration.seconds(queue.visibility_timeout_s) if queue.visibility_timeout_s else None,
                dead_letter_queue=dead_letter,
            )

    def _queue(self, queue_id: str, retention_days: int | None, **options) -> sqs.Queue:
        return sqs.Queue(
            self,
            queue_id,
            retention_period=Duration.days(retention_days) if retention_days else None,
            encryption=sqs.QueueEncryption.KMS_MANAGED,
            enforce_ssl=True,
            **options,
        )
