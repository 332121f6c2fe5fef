"""What the composition root builds, and when: a client a first invoke does not call is not built."""

from __future__ import annotations

import json

from chirp import composition
from chirp.composition import Services
from chirp.settings import Settings


class RecordingSqs:
    def __init__(self):
        self.sent: list[dict] = []

    def send_message(self, **request) -> None:
        self.sent.append(request)


def test_given_a_consumer_when_it_holds_its_poison_sink_then_the_sqs_client_is_built_only_for_a_poison_record(
    monkeypatch,
):
    built, sqs = [], RecordingSqs()
    monkeypatch.setattr(composition, "aws_client", lambda service, settings: built.append(service) or sqs)
    services = Services(Settings(CONSUMER_FAILURES_QUEUE_URL="https://sqs.local/failures"))

    # Given: what every record is parsed with (chirp.runtime.stream), held across a batch of parsable records.
    sink = services.poison
    assert built == []

    # When: a record is set aside.
    sink.put("fanout", "49590", "not JSON", b"\xff")

    # Then: the client is built once, and the record reaches the failures queue.
    assert built == ["sqs"]
    (sent,) = sqs.sent
    assert sent["QueueUrl"] == "https://sqs.local/failures"
    assert json.loads(sent["MessageBody"])["reason"] == "not JSON"
