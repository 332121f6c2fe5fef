"""The catalog's SQS queues, each with its dead-letter queue when it declares one; KMS-encrypted, TLS only."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.capabilities.names import pascal_case
from infra.catalog import QUEUES, dead_letter_queue, failure_queues


class Queues(Construct):
    def __init__(self, scope: Construct, construct_id: str):
        super().__init__(scope, construct_id)
        self.queues: dict[str, sqs.Queue] = {}
        self.dead_letter_queues: dict[str, sqs.Queue] = {}  # by their name (catalog.dead_letter_queue)
        for queue in QUEUES:
            dead_letter = None
            if queue.dead_letter:
                name = dead_letter_queue(queue)
                failed = self._queue(pascal_case(name), queue.dead_letter.retention_days)
                self.dead_letter_queues[name] = failed
                dead_letter = sqs.DeadLetterQueue(max_receive_count=queue.dead_letter.max_receive_count, queue=failed)
            self.queues[queue.name] = self._queue(
                pascal_case(queue.name),
                queue.retention_days,
                visibility_timeout=Duration.seconds(queue.visibility_timeout_s) if queue.visibility_timeout_s else None,
                dead_letter_queue=dead_letter,
            )

    def failure_queues(self) -> dict[str, sqs.Queue]:
        """catalog.failure_queues(), by name: the queues whose depth is an alarm."""
        every = {**self.queues, **self.dead_letter_queues}
        return {name: every[name] for name in failure_queues()}

    def _queue(self, queue_id: str, retention_days: int | None, **options) -> sqs.Queue:
        return sqs.Queue(
            self,
            queue_id,
            retention_period=Duration.days(retention_days) if retention_days else None,
            encryption=sqs.QueueEncryption.KMS_MANAGED,
            enforce_ssl=True,
            **options,
        )
