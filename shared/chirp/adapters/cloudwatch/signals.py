"""The controller's signals from CloudWatch, in one GetMetricData call over the window: API Gateway's Latency
(p99) and 5XXError and Count (sums) for the REST API's stage, and the fan-out consumer's IteratorAge (maximum).
Each query's period is the whole window, so each answers one value; a metric without data answers none."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from chirp.degradation.controller import Signals


class CloudWatchSignals:
    def __init__(
        self,
        client,
        *,
        api_name: str,
        api_stage: str,
        fanout_function: str,
        clock: Callable[[], float] = time.time,
    ):
        self.client, self.clock = client, clock
        self.api = [{"Name": "ApiName", "Value": api_name}, {"Name": "Stage", "Value": api_stage}]
        self.fanout = [{"Name": "FunctionName", "Value": fanout_function}]

    def signals(self, window_s: int) -> Signals:
        end = self.clock()
        queries = {
            "p99": ("AWS/ApiGateway", "Latency", self.api, "p99"),
            "errors": ("AWS/ApiGateway", "5XXError", self.api, "Sum"),
            "requests": ("AWS/ApiGateway", "Count", self.api, "Sum"),
            "age": ("AWS/Lambda", "IteratorAge", self.fanout, "Maximum"),
        }
        answer = self.client.get_metric_data(
            MetricDataQueries=[
                {
                    "Id": query_id,
                    "MetricStat": {
                        "Metric": {"Namespace": namespace, "MetricName": name, "Dimensions": dimensions},
                        "Period": window_s,
                        "Stat": stat,
                    },
                }
                for query_id, (namespace, name, dimensions, stat) in queries.items()
            ],
            StartTime=datetime.fromtimestamp(end - window_s, UTC),
            EndTime=datetime.fromtimestamp(end, UTC),
        )
        values = {result["Id"]: result["Values"] for result in answer["MetricDataResults"]}

        def worst(query_id: str) -> float | None:
            return max(values.get(query_id) or [], default=None)

        return Signals(
            api_p99_ms=worst("p99"),
            api_errors=sum(values.get("errors") or []),
            api_requests=sum(values.get("requests") or []),
            iterator_age_ms=worst("age"),
        )
