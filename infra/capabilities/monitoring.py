"""Alarms to one encrypted SNS topic: consumer lag, failed work waiting in a failure or dead-letter queue,
Lambda errors, API 5xx, dependencies that GET /health found down, a critical degradation level."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as aws_lambda
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.capabilities.names import pascal_case
from infra.catalog import consumer_failure_queues
from infra.config import StageConfig

# A consumer whose oldest unprocessed record stays older than this for ITERATOR_AGE_MINUTES minutes in a row is
# falling behind the stream (the fan-out target is seconds; one slow batch is not lag).
MAX_ITERATOR_AGE_MS = 60_000
ITERATOR_AGE_MINUTES = 5
AT_LEAST = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        functions: dict[str, aws_lambda.Function],
        consumers: dict[str, aws_lambda.Function],
        failure_queues: dict[str, sqs.Queue],
        rest_apis: dict[str, apigw.RestApi],
    ):
        super().__init__(scope, construct_id)
        key = kms.Key(self, "AlarmsKey", enable_key_rotation=True, removal_policy=config.removal_policy)
        self.topic = sns.Topic(self, "Alarms", master_key=key, enforce_ssl=True)
        notify = actions.SnsAction(self.topic)

        def alarm(
            name: str,
            metric: cloudwatch.IMetric,
            threshold: float,
            description: str,
            missing_data: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING,
            comparison: cloudwatch.ComparisonOperator = AT_LEAST,
            periods: int = 1,
        ) -> None:
            cloudwatch.Alarm(
                self,
                name,
                metric=metric,
                threshold=threshold,
                evaluation_periods=periods,
                datapoints_to_alarm=periods,
                comparison_operator=comparison,
                treat_missing_data=missing_data,
                alarm_description=description,
            ).add_alarm_action(notify)

        for name, queue in failure_queues.items():
            what = (
                "a stream consumer gave up on a record"
                if name in consumer_failure_queues()
                else "a message failed every receive allowed"
            )
            alarm(
                pascal_case(name),
                queue.metric_approximate_number_of_messages_visible(statistic="Maximum", period=Duration.minutes(1)),
                0,
                f"Failed work is waiting: {what}; it is in the {name} queue (inspect it, then redrive or drop it)",
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            )
        for name, rest_api in rest_apis.items():
            alarm(
                "Api5xx" if name == "chirp" else f"{pascal_case(name)}Api5xx",
                rest_api.metric_server_error(period=Duration.minutes(1)),
                5,
                f"The {name} API answers with server errors",
            )
        alarm(
            "UnhealthyDependencies",
            # Published by the health function every minute and at each GET /health (Powertools EMF:
            # namespace, service). Five minutes without a value means the check itself is failing.
            cloudwatch.Metric(
                namespace="Chirp",
                metric_name="UnhealthyDependencies",
                dimensions_map={"service": "chirp"},
                statistic="Maximum",
                period=Duration.minutes(5),
            ),
            1,
            "The health check found a dependency (DynamoDB, Kinesis, Redis, OpenSearch) down, or did not run",
            missing_data=cloudwatch.TreatMissingData.BREACHING,
        )
        alarm(
            "DegradationCritical",
            # Published by the degradation controller every minute: the level in force (manual or automatic).
            # Five minutes without a value means the controller itself is not running.
            cloudwatch.Metric(
                namespace="Chirp",
                metric_name="DegradationLevel",
                dimensions_map={"service": "chirp"},
                statistic="Maximum",
                period=Duration.minutes(5),
            ),
            3,
            "Chirp is at degradation level 3 or 4 (search off, fan-out deferred, or read-only), or the degradation "
            "controller stopped running; see README, Degradation levels",
            missing_data=cloudwatch.TreatMissingData.BREACHING,
        )
        for name, function in functions.items():
            alarm(f"{name}Errors", function.metric_errors(period=Duration.minutes(1)), 1, f"{name} raised")
        for name, function in consumers.items():
            age = cloudwatch.Metric(
                namespace="AWS/Lambda",
                metric_name="IteratorAge",
                dimensions_map={"FunctionName": function.function_name},
                statistic="Maximum",
                period=Duration.minutes(1),
            )
            alarm(
                f"{name}IteratorAge",
                age,
                MAX_ITERATOR_AGE_MS,
                f"{name} lags behind the stream: its oldest record has waited over {MAX_ITERATOR_AGE_MS // 1000} s "
                f"for {ITERATOR_AGE_MINUTES} minutes",
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                periods=ITERATOR_AGE_MINUTES,
            )
