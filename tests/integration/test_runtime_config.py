"""The runtime settings against the local cloud's SSM and CloudWatch: the level parameters (as deployed, and
under names of the test's own), per-user limit overrides read by path (pages of ten), and the controller's
signals read back from metrics put to CloudWatch."""

from __future__ import annotations

import time
import uuid

import pytest

from chirp.adapters.aws import aws_client
from chirp.adapters.cloudwatch.signals import CloudWatchSignals
from chirp.adapters.ssm.runtime_config import SsmLevelStore, SsmLimitOverrides
from chirp.degradation.controller import ControllerState
from chirp.degradation.levels import Level
from chirp.limits.model import EndpointClass, Limit, Subject
from chirp.limits.service import OverrideMirror


@pytest.fixture
def ssm(cloud_settings):
    return aws_client("ssm", cloud_settings)


@pytest.fixture
def folder(ssm):
    """A parameter folder of the test's own, emptied afterwards."""
    path = f"/chirp/it-{uuid.uuid4().hex[:8]}"
    yield path
    names = [
        p["Name"]
        for page in ssm.get_paginator("get_parameters_by_path").paginate(Path=path, Recursive=True)
        for p in page["Parameters"]
    ]
    for start in range(0, len(names), 10):
        ssm.delete_parameters(Names=names[start : start + 10])


def test_given_the_deployed_stack_when_its_level_is_read_then_no_override_and_level_0(ssm, cloud_settings):
    setting = SsmLevelStore(
        ssm, cloud_settings.degradation_manual_parameter, cloud_settings.degradation_auto_parameter
    ).read()

    assert setting.manual is None
    assert setting.effective in set(Level)


def test_given_no_parameters_when_read_then_the_defaults_and_written_levels_read_back(ssm, folder):
    store = SsmLevelStore(ssm, f"{folder}/manual", f"{folder}/auto")
    assert (store.read().manual, store.read().auto) == (None, ControllerState())

    store.write_auto(ControllerState(level=Level.WARNING, calm_runs=1, reason="p99"))
    store.write_manual(Level.SURVIVAL)
    assert store.read().effective is Level.SURVIVAL
    assert store.read().auto.reason == "p99"

    store.write_manual(None)
    assert ssm.get_parameter(Name=f"{folder}/manual")["Parameter"]["Value"] == "auto"
    assert store.read().effective is Level.WARNING


def test_given_an_operator_writing_a_bare_or_bad_level_when_read_then_bare_works_and_bad_is_ignored(ssm, folder):
    store = SsmLevelStore(ssm, f"{folder}/manual", f"{folder}/auto")
    ssm.put_parameter(Name=f"{folder}/auto", Value="3", Type="String")
    ssm.put_parameter(Name=f"{folder}/manual", Value="loud", Type="String")

    setting = store.read()

    assert (setting.manual, setting.effective) == (None, Level.CRITICAL)


def test_given_overrides_for_many_users_when_read_then_every_page_is_loaded_and_bad_ones_are_ignored(ssm, folder):
    overrides = SsmLimitOverrides(ssm, f"{folder}/users")
    for i in range(23):  # three pages of ten
        overrides.set(f"user{i:02}", {"*": "1000/1m", "search": "5/1s"})
    ssm.put_parameter(Name=f"{folder}/users/broken", Value="{not json", Type="String")

    loaded = overrides.all_overrides()

    assert len(loaded) == 23
    assert loaded["user22"] == {None: Limit(1000, 60), EndpointClass.SEARCH: Limit(5, 1)}
    assert "broken" not in loaded  # ignored, logged
    overrides.clear("user22")
    overrides.clear("user22")  # twice: nothing to clear is fine
    assert "user22" not in overrides.all_overrides()


def test_given_overrides_in_ssm_when_the_mirror_runs_then_redis_holds_them_for_the_limiter(ssm, folder, services):
    overrides = SsmLimitOverrides(ssm, f"{folder}/users")
    user = f"it-{uuid.uuid4().hex[:10]}"
    overrides.set(user, {"tweets": "2/1h"})
    mirror = OverrideMirror(overrides, services.limit_store)

    assert mirror.run() == 1  # only this folder's: the test's own path
    assert services.limit_store.hit(Subject("user", user), EndpointClass.TWEETS, Limit(300, 10_800))[1] == Limit(
        2, 3600
    )
    overrides.clear(user)
    assert mirror.run() == 0


def test_given_an_override_naming_no_class_when_set_then_it_is_refused_before_reaching_ssm(ssm, folder):
    overrides = SsmLimitOverrides(ssm, f"{folder}/users")

    with pytest.raises(ValueError, match="tweet"):
        overrides.set("someone", {"tweet": "10/1m"})
    assert overrides.all_overrides() == {}


def test_given_api_metrics_in_cloudwatch_when_the_controller_reads_its_signals_then_p99_errors_requests_and_age(
    cloud_settings,
):
    cloudwatch = aws_client("cloudwatch", cloud_settings)
    api, function = f"it-{uuid.uuid4().hex[:8]}", f"it-fanout-{uuid.uuid4().hex[:8]}"
    dimensions = [{"Name": "ApiName", "Value": api}, {"Name": "Stage", "Value": "v1"}]
    cloudwatch.put_metric_data(
        Namespace="AWS/ApiGateway",
        MetricData=[
            {"MetricName": "Latency", "Dimensions": dimensions, "Values": [100.0, 3_000.0], "Counts": [99.0, 1.0]},
            {"MetricName": "Count", "Dimensions": dimensions, "Value": 100.0},
            {"MetricName": "5XXError", "Dimensions": dimensions, "Value": 7.0},
        ],
    )
    cloudwatch.put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[{"MetricName": "IteratorAge", "Dimensions": [{"Name": "FunctionName", "Value": function}],
                     "Value": 90_000.0}],
    )  # fmt: skip
    source = CloudWatchSignals(cloudwatch, api_name=api, api_stage="v1", fanout_function=function)

    signals = source.signals(window_s=60)

    assert 100 < signals.api_p99_ms <= 3_000
    assert (signals.api_errors, signals.api_requests, signals.error_rate) == (7.0, 100.0, 0.07)
    assert signals.iterator_age_ms == 90_000.0
    quiet = CloudWatchSignals(cloudwatch, api_name=f"{api}-x", api_stage="v1", fanout_function=f"{function}-x")
    assert quiet.signals(window_s=60) == type(signals)(None, 0, 0, None)  # no data: no signal


def test_given_fed_metrics_older_than_the_window_when_read_then_they_are_not_signals(cloud_settings):
    cloudwatch = aws_client("cloudwatch", cloud_settings)
    api = f"it-{uuid.uuid4().hex[:8]}"
    dimensions = [{"Name": "ApiName", "Value": api}, {"Name": "Stage", "Value": "v1"}]
    cloudwatch.put_metric_data(
        Namespace="AWS/ApiGateway",
        MetricData=[{"MetricName": "Count", "Dimensions": dimensions, "Value": 5.0, "Timestamp": time.time() - 600}],
    )

    source = CloudWatchSignals(cloudwatch, api_name=api, api_stage="v1", fanout_function="x")
    assert source.signals(60).api_requests == 0
