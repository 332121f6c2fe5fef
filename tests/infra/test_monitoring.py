"""Alarms: every stream consumer's lag and every queue where failed work waits."""

from __future__ import annotations

from aws_cdk.assertions import Template

from infra.capabilities.names import pascal_case
from infra.catalog import FUNCTIONS, QUEUES, KinesisTrigger, consumer_failure_queues, failure_queues


def _alarms(template: Template, metric_name: str) -> list[dict]:
    return [
        alarm["Properties"]
        for alarm in template.find_resources("AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("MetricName") == metric_name
    ]


def test_given_the_catalog_when_listing_failure_queues_then_every_dead_letter_queue_is_one():
    assert set(failure_queues()) == {*consumer_failure_queues(), "fanout_pages_failed", "index_failures_failed"}
    assert all(queue.dead_letter for queue in QUEUES if f"{queue.name}_failed" in failure_queues())


def test_given_stream_consumers_when_synthesized_then_each_lag_over_a_minute_for_five_minutes_alarms(any_template):
    consumers = {spec.name for spec in FUNCTIONS if spec.triggered_by(KinesisTrigger)}
    alarms = _alarms(any_template, "IteratorAge")
    watched = set()
    for alarm in alarms:
        ((dimension),) = alarm["Dimensions"]
        assert dimension["Name"] == "FunctionName"
        watched.add(dimension["Value"]["Ref"])
        assert alarm["Namespace"] == "AWS/Lambda"
        assert alarm["Statistic"] == "Maximum"
        assert alarm["Period"] == 60
        assert alarm["EvaluationPeriods"] == alarm["DatapointsToAlarm"] == 5  # five minutes in a row
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        assert alarm["Threshold"] == 60_000  # milliseconds
        assert alarm["AlarmActions"]
    functions = any_template.find_resources("AWS::Lambda::Function")
    described = {functions[ref]["Properties"]["Description"] for ref in watched}
    assert described == {spec.description for spec in FUNCTIONS if spec.name in consumers}
    assert len(alarms) == len(consumers) >= 4


def test_given_failure_and_dead_letter_queues_when_synthesized_then_any_message_in_one_alarms(any_template):
    queues = any_template.find_resources("AWS::SQS::Queue")
    alarms = _alarms(any_template, "ApproximateNumberOfMessagesVisible")
    watched = set()
    for alarm in alarms:
        ((dimension),) = alarm["Dimensions"]
        assert dimension["Name"] == "QueueName"
        watched.add(dimension["Value"]["Fn::GetAtt"][0])
        assert alarm["Namespace"] == "AWS/SQS"
        assert alarm["Statistic"] == "Maximum"
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        assert alarm["Threshold"] == 0
        assert alarm["AlarmActions"]
    expected = {f"Queues{pascal_case(name)}" for name in failure_queues()}
    assert {logical_id[:-8] for logical_id in watched} == expected
    # Every dead-letter queue of the template is watched, whatever the catalog says.
    dead_letter_targets = {
        queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        for queue in queues.values()
        if "RedrivePolicy" in queue["Properties"]
    }
    assert dead_letter_targets
    assert dead_letter_targets <= watched


def test_given_the_degradation_controller_when_synthesized_then_a_critical_level_or_a_silent_controller_alarms(
    any_template,
):
    (alarm,) = _alarms(any_template, "DegradationLevel")
    assert alarm["Namespace"] == "Chirp"
    assert alarm["Threshold"] == 3
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["TreatMissingData"] == "breaching"  # the controller runs every minute: silence is a fault
    assert alarm["AlarmActions"]
