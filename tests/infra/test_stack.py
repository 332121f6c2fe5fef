"""Template assertions on both stages; synthesis itself proves cdk-nag (AwsSolutions) finds nothing."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match, Template

from infra.catalog import (
    FUNCTIONS,
    PARAMETERS,
    TABLES,
    Access,
    DeployTrigger,
    KinesisTrigger,
    SearchAccess,
)
from infra.config import stage_config


def _resources(template: Template, resource_type: str) -> dict:
    return template.find_resources(resource_type)


def test_given_the_catalog_when_synthesized_then_every_function_runs_python_312_in_the_vpc_with_its_layers(
    any_template,
):
    functions = {
        name: resource
        for name, resource in _resources(any_template, "AWS::Lambda::Function").items()
        if resource["Properties"].get("Handler") in {spec.handler for spec in FUNCTIONS}
    }
    assert len(functions) == len(FUNCTIONS)
    extra = {spec.description: len(spec.extra_layers) for spec in FUNCTIONS}
    for resource in functions.values():
        props = resource["Properties"]
        assert props["Runtime"] == "python3.12"
        assert len(props["Layers"]) == 2 + extra[props["Description"]]  # dependencies, domain, and its own
        assert props["VpcConfig"]["SubnetIds"]


def test_given_any_stage_when_synthesized_then_data_is_encrypted_and_recoverable(any_template):
    tables = _resources(any_template, "AWS::DynamoDB::Table")
    assert len(tables) == len(TABLES)
    for table in tables.values():
        props = table["Properties"]
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        assert props["SSESpecification"]["SSEEnabled"] is True
    any_template.has_resource_properties(
        "AWS::Kinesis::Stream", {"StreamEncryption": {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"}}
    )
    any_template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "PublicAccessBlockConfiguration": Match.object_like({"BlockPublicAcls": True}),
            "LoggingConfiguration": Match.any_value(),
        },
    )


def test_given_an_aws_stage_when_synthesized_then_redis_has_tls_and_auth_and_search_is_https_in_the_vpc(aws_template):
    aws_template.has_resource_properties(
        "AWS::ElastiCache::ReplicationGroup",
        {"TransitEncryptionEnabled": True, "AuthToken": Match.any_value(), "MultiAZEnabled": True},
    )
    aws_template.has_resource_properties(
        "AWS::OpenSearchService::Domain",
        {
            "VPCOptions": Match.object_like({"SubnetIds": Match.any_value()}),
            "DomainEndpointOptions": Match.object_like({"EnforceHTTPS": True}),
            "NodeToNodeEncryptionOptions": {"Enabled": True},
            "LogPublishingOptions": Match.any_value(),
        },
    )
    aws_template.resource_count_is("AWS::EC2::FlowLog", 1)


def test_given_an_aws_stage_when_synthesized_then_redis_runs_in_cluster_mode_and_functions_route_by_slot(
    aws_template,
):
    aws_template.has_resource_properties(
        "AWS::ElastiCache::ReplicationGroup",
        {
            "NumNodeGroups": 3,
            "ReplicasPerNodeGroup": 1,
            "CacheParameterGroupName": "default.redis7.cluster.on",
            "AutomaticFailoverEnabled": True,
            "NumCacheClusters": Match.absent(),
        },
    )
    redis_users = [
        env
        for function in _resources(aws_template, "AWS::Lambda::Function").values()
        if "REDIS_HOST" in (env := function["Properties"].get("Environment", {}).get("Variables", {}))
    ]
    assert redis_users
    for env in redis_users:
        assert env["REDIS_CLUSTER"] == "true"
        assert "ConfigurationEndPoint.Address" in json.dumps(env["REDIS_HOST"])


def test_given_an_aws_stage_when_synthesized_then_private_subnets_reach_what_no_endpoint_serves_through_nat(
    aws_template,
):
    """@connections (pushes) has no VPC endpoint; Cognito's JWKS, SSM and CloudWatch are reached the same way."""
    aws_template.resource_count_is("AWS::EC2::NatGateway", 1)
    nat_routes = [
        route["Properties"]
        for route in _resources(aws_template, "AWS::EC2::Route").values()
        if "NatGatewayId" in route["Properties"]
    ]
    assert len(nat_routes) == 2  # one per private subnet (two zones)
    assert all(route["DestinationCidrBlock"] == "0.0.0.0/0" for route in nat_routes)
    endpoints = json.dumps(_resources(aws_template, "AWS::EC2::VPCEndpoint"))
    for private_path in ("dynamodb", "s3", "kinesis-streams"):
        assert private_path in endpoints


def test_given_the_local_stage_when_synthesized_then_its_subnets_are_isolated(local_template):
    local_template.resource_count_is("AWS::EC2::NatGateway", 0)
    local_template.resource_count_is("AWS::EC2::InternetGateway", 0)


def test_given_the_local_stage_when_synthesized_then_redis_is_one_primary_unless_shards_are_asked():
    local = stage_config("local")
    assert local.redis_shards == 0
    assert stage_config("local", redis_shards="3").redis_shards == 3
    assert stage_config("prod", redis_shards="0").redis_shards == 0
    for refused in ("1", "2", "501", "three", "-3"):
        with pytest.raises(ValueError, match="redis_shards"):
            stage_config("local", redis_shards=refused)


def test_given_the_local_stage_when_synthesized_then_only_the_named_differences_apply(local_template):
    local_template.has_resource_properties(
        "AWS::ElastiCache::ReplicationGroup", {"TransitEncryptionEnabled": False, "AuthToken": Match.absent()}
    )
    # The emulator rejects these resource types: they must not appear locally.
    for rejected in ("AWS::EC2::FlowLog", "AWS::EC2::SecurityGroupIngress"):
        local_template.resource_count_is(rejected, 0)
    for function in _resources(local_template, "AWS::Lambda::Function").values():
        env = function["Properties"].get("Environment", {}).get("Variables", {})
        assert env.get("OPENSEARCH_SCHEME", "http") == "http"
        assert env.get("OPENSEARCH_SIGV4", "false") == "false"
        assert env.get("REDIS_TLS", "false") == "false"
        assert env.get("REDIS_CLUSTER", "false") == "false"
        assert "REDIS_AUTH_SECRET_ARN" not in env


def test_given_health_when_synthesized_then_its_role_can_only_describe_and_read(any_template):
    policies = _resources(any_template, "AWS::IAM::Policy")
    health = next(policy for name, policy in policies.items() if name.startswith("FunctionshealthRole"))
    actions = {
        action
        for statement in health["Properties"]["PolicyDocument"]["Statement"]
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    }
    writes = {a for a in actions if a.split(":")[1].startswith(("Put", "Update", "Delete", "BatchWrite"))}
    assert writes <= {
        "logs:PutLogEvents",
        "ec2:DeleteNetworkInterface",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
    }
    assert "dynamodb:DescribeTable" in actions


def test_given_the_api_when_synthesized_then_health_is_public_and_it_logs_access(any_template):
    any_template.has_resource_properties("AWS::ApiGateway::Method", {"HttpMethod": "GET", "AuthorizationType": "NONE"})
    any_template.has_resource_properties(
        "AWS::ApiGateway::Stage", {"StageName": "v1", "AccessLogSetting": Match.object_like({})}
    )


def test_given_stream_consumers_when_synthesized_then_their_mappings_bound_retries_and_report_partial_failures(
    any_template,
):
    triggers = [trigger for spec in FUNCTIONS for trigger in spec.triggered_by(KinesisTrigger)]
    mappings = [
        m["Properties"]
        for m in _resources(any_template, "AWS::Lambda::EventSourceMapping").values()
        if "StartingPosition" in m["Properties"]
    ]
    assert len(mappings) == len(triggers) >= 1
    for props, trigger in zip(mappings, triggers, strict=True):
        assert props["BatchSize"] == trigger.batch_size
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert props["BisectBatchOnFunctionError"] is True
        assert props["MaximumRetryAttempts"] == trigger.retry_attempts
        assert props["MaximumRecordAgeInSeconds"] == trigger.max_record_age_s
        assert "OnFailure" in props["DestinationConfig"]


def test_given_the_popular_tier_when_synthesized_then_pages_flow_through_a_queue_with_a_dead_letter_queue(
    any_template,
):
    any_template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {"FunctionResponseTypes": ["ReportBatchItemFailures"], "EventSourceArn": Match.any_value(), "BatchSize": 10},
    )
    any_template.has_resource_properties(
        "AWS::SQS::Queue",
        {"RedrivePolicy": Match.object_like({"maxReceiveCount": 5}), "KmsMasterKeyId": "alias/aws/sqs"},
    )


def test_given_the_media_bucket_when_synthesized_then_images_and_videos_trigger_their_own_transcoder(any_template):
    notifications = _resources(any_template, "Custom::S3BucketNotifications")
    (notification,) = notifications.values()
    configs = notification["Properties"]["NotificationConfiguration"]["LambdaFunctionConfigurations"]
    assert [config["Events"] for config in configs] == [["s3:ObjectCreated:*"]] * 2
    prefixes = sorted(rule["Value"] for config in configs for rule in config["Filter"]["Key"]["FilterRules"])
    assert prefixes == ["uploads/", "videos/"]  # no overlap: S3 refuses two notifications for one key


def test_given_the_transcoders_when_synthesized_then_lambda_retries_each_upload_as_often_as_they_count_tries(
    any_template,
):
    """The transcoders count TRANSCODE_TRIES against Lambda's default for asynchronous invocations, two retries
    (its own resource, AWS::Lambda::EventInvokeConfig, would take the stack to CloudFormation's limit's headroom):
    no configuration may change it."""
    from chirp.media.model import TRANSCODE_TRIES

    assert TRANSCODE_TRIES == 2  # Lambda's documented default: the last invocation records the rejection
    assert not _resources(any_template, "AWS::Lambda::EventInvokeConfig")


def test_given_the_media_bucket_when_synthesized_then_uploads_and_abandoned_parts_go_after_a_day(any_template):
    rules = [
        rule
        for bucket in _resources(any_template, "AWS::S3::Bucket").values()
        for rule in bucket["Properties"].get("LifecycleConfiguration", {}).get("Rules", [])
        if rule.get("Prefix") in ("uploads/", "videos/")
    ]
    assert rules == [
        {
            "Id": rule_id,
            "Prefix": prefix,
            "ExpirationInDays": 1,
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
            "Status": "Enabled",
        }
        for rule_id, prefix in (("ForgetUploads", "uploads/"), ("ForgetVideos", "videos/"))
    ]


def test_given_the_media_bucket_when_synthesized_then_variants_still_tagged_unattached_go_after_a_day(any_template):
    rules = [
        rule
        for bucket in _resources(any_template, "AWS::S3::Bucket").values()
        for rule in bucket["Properties"].get("LifecycleConfiguration", {}).get("Rules", [])
        if rule.get("Prefix") == "media/"
    ]
    assert rules == [
        {
            "Id": "ForgetUnattachedMedia",
            "Prefix": "media/",
            "TagFilters": [{"Key": "chirp-attached", "Value": "no"}],
            "ExpirationInDays": 1,
            "Status": "Enabled",
        }
    ]


def test_given_the_video_transcoder_when_synthesized_then_it_has_the_layers_memory_time_and_storage_it_needs(
    any_template,
):
    functions = _resources(any_template, "AWS::Lambda::Function").values()
    (video,) = [f["Properties"] for f in functions if f["Properties"].get("Description", "").startswith("S3 videos/")]
    assert (video["MemorySize"], video["Timeout"], video["EphemeralStorage"]) == (3008, 900, {"Size": 2048})
    assert len(video["Layers"]) == 4  # dependencies, domain, media (Pillow, for the poster) and video (PyAV)
    others = [f["Properties"] for f in functions if f["Properties"] is not video]
    assert all("EphemeralStorage" not in f for f in others)


def test_given_the_search_schema_when_synthesized_then_the_deploy_applies_it_after_the_domain_and_grants(
    any_template,
):
    ((spec, deploy),) = _deployed()
    (resource,) = _resources(any_template, deploy.resource_type).values()
    (token_function,) = resource["Properties"]["ServiceToken"]["Fn::GetAtt"][:1]
    assert any_template.to_json()["Resources"][token_function]["Properties"]["Description"] == spec.description
    # Given a new digest when search/schema.py changes, CloudFormation re-runs it (an Update) on the next deploy.
    assert len(resource["Properties"]["InputsDigest"]) == 64
    depends_on = set(resource["DependsOn"])
    assert any(name.startswith("SearchDomain") for name in depends_on)
    assert any(name.startswith(f"Functions{spec.name.replace('_', '')}Role") for name in depends_on)
    # Then the functions that read or write the index are updated only after it is applied.
    (logical_id,) = _resources(any_template, deploy.resource_type).keys()
    functions = _resources(any_template, "AWS::Lambda::Function")
    for name in deploy.before:
        (function,) = [f for f in functions.values() if f["Properties"].get("Description") == _described(name)]
        assert logical_id in function.get("DependsOn", [])


def _deployed() -> list[tuple]:
    return [(spec, trigger) for spec in FUNCTIONS for trigger in spec.triggered_by(DeployTrigger)]


def _described(function_name: str) -> str:
    return next(spec.description for spec in FUNCTIONS if spec.name == function_name)


def test_given_the_search_schema_when_synthesized_then_its_role_makes_only_the_schema_calls(any_template):
    policies = _resources(any_template, "AWS::IAM::Policy")
    schema = next(policy for name, policy in policies.items() if name.startswith("FunctionssearchschemaRole"))
    search_statements = [
        statement
        for statement in schema["Properties"]["PolicyDocument"]["Statement"]
        if any(action.startswith("es:") for action in _listed(statement["Action"]))
    ]
    # Flattened to (action, path) pairs: IAM policy minimization may merge statements of one action.
    calls = sorted(
        (action, resource["Fn::Join"][1][-1])
        for statement in search_statements
        for action in _listed(statement["Action"])
        for resource in _listed(statement["Resource"])
    )
    assert calls == [
        ("es:ESHttpGet", "/_cluster/health/tweets"),
        ("es:ESHttpPut", "/tweets"),
        ("es:ESHttpPut", "/tweets/_mapping"),
        ("es:ESHttpPut", "/tweets/_settings"),
    ]


def _listed(value) -> list:
    return value if isinstance(value, list) else [value]


def test_given_the_health_metric_when_synthesized_then_a_dependency_down_raises_an_alarm(any_template):
    any_template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Namespace": "Chirp",
            "MetricName": "UnhealthyDependencies",
            "Dimensions": [{"Name": "service", "Value": "chirp"}],
            "Threshold": 1,
            "Period": 300,
            "TreatMissingData": "breaching",  # a check that stopped running is an alarm too
            "AlarmActions": Match.any_value(),
        },
    )
    # And the check runs every minute whether or not anybody calls GET /health.
    rules = _resources(any_template, "AWS::Events::Rule")
    scheduled = [json.dumps(rule["Properties"]["Targets"][0]["Arn"]) for rule in rules.values()]  # or an alias
    assert any('"Functionshealth' in target for target in scheduled)


def test_given_the_search_schema_when_synthesized_then_its_digest_is_the_one_the_function_checks(any_template):
    """The function applies only a request for its own schema (anything else is a rollback): the digest the
    deploy passes must be the one the shipped module computes, or every deploy would apply nothing."""
    from chirp.search.schema import schema_digest

    ((_, deploy),) = _deployed()
    (resource,) = _resources(any_template, deploy.resource_type).values()
    assert resource["Properties"]["InputsDigest"] == schema_digest()


@pytest.mark.parametrize(("layer", "carriers"), [("media", 2), ("video", 1)])
def test_given_the_media_libraries_when_synthesized_then_only_the_transcoders_carry_their_layers(
    local_template, layer, carriers
):
    functions = local_template.find_resources("AWS::Lambda::Function")
    with_layer = {
        properties["Properties"]["Description"]
        for properties in functions.values()
        if any(f"{layer.title()}Layer" in str(ref) for ref in properties["Properties"].get("Layers", []))
    }
    assert with_layer == {spec.description for spec in FUNCTIONS if layer in spec.extra_layers}
    assert len(with_layer) == carriers  # Pillow: both transcoders (the video poster); PyAV: the video one only


def test_given_opensearch_clients_when_synthesized_then_only_functions_that_search_or_index_carry_their_layer(
    local_template,
):
    """The search layer (opensearch-py, requests) goes with every grant to use the index, not to health, which
    only reads the cluster's health (one signed GET, chirp.adapters.probes)."""
    functions = local_template.find_resources("AWS::Lambda::Function")
    with_layer = {
        properties["Properties"]["Description"]
        for properties in functions.values()
        if any("SearchLayer" in str(ref) for ref in properties["Properties"].get("Layers", []))
    }
    uses_index = {
        spec.description
        for spec in FUNCTIONS
        if any(isinstance(grant, SearchAccess) and grant.access is not Access.DESCRIBE for grant in spec.grants)
    }
    assert with_layer == uses_index


def test_given_an_aws_stage_when_synthesized_then_marked_functions_snap_start_and_are_invoked_through_their_alias(
    aws_template, local_template
):
    snapped = {spec.description for spec in FUNCTIONS if spec.snap_start}
    assert snapped  # the API and the stream consumers
    functions = _resources(aws_template, "AWS::Lambda::Function")
    by_description = {
        f["Properties"]["Description"]: name
        for name, f in functions.items()
        if f["Properties"].get("Handler") == "handler.lambda_handler"  # ours, not CDK's helper functions
    }
    for description, logical_id in by_description.items():
        snap = functions[logical_id]["Properties"].get("SnapStart")
        assert (snap == {"ApplyOn": "PublishedVersions"}) == (description in snapped), description
    aliases = _resources(aws_template, "AWS::Lambda::Alias")
    assert len(aliases) == len(snapped)
    alias_ids = set(aliases)
    # Every stream consumer's mapping invokes the alias (the snapshot), not $LATEST
    for mapping in _resources(aws_template, "AWS::Lambda::EventSourceMapping").values():
        target = json.dumps(mapping["Properties"]["FunctionName"])
        through_alias = any(f'"{alias}"' in target for alias in alias_ids)
        if "StartingPosition" in mapping["Properties"]:  # a stream (queues have none)
            assert through_alias, target
        else:
            assert not through_alias, target
    # Locally there are no snapshots: nothing is versioned
    assert not _resources(local_template, "AWS::Lambda::Alias")


def _function(template: Template, spec) -> dict:
    (function,) = [
        f["Properties"]
        for f in _resources(template, "AWS::Lambda::Function").values()
        if f["Properties"].get("Description") == spec.description
    ]
    return function


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_given_route_classes_when_synthesized_then_each_http_function_reserves_the_stages_concurrency(
    local_template, aws_template, stage
):
    """Load shedding by priority: search and trends run in a function of their own with a small reservation, so
    a flood of them is throttled there while posting and home timelines keep the API's; the controller runs alone."""
    template, config = (local_template if stage == "local" else aws_template), stage_config(stage)
    reserved = {spec.name: _function(template, spec).get("ReservedConcurrentExecutions") for spec in FUNCTIONS}
    declared = {
        spec.name: getattr(config, spec.reserved_concurrency) for spec in FUNCTIONS if spec.reserved_concurrency
    }
    assert {name: value for name, value in reserved.items() if value is not None} == declared
    assert set(declared) == {"api", "discovery", "health", "degradation_controller"}
    assert declared["discovery"] < declared["api"]
    assert declared["degradation_controller"] == 1


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_given_runtime_parameters_when_synthesized_then_the_level_parameters_exist_with_their_defaults(
    local_template, aws_template, stage
):
    template = local_template if stage == "local" else aws_template
    parameters = {
        p["Properties"]["Name"]: p["Properties"]["Value"] for p in _resources(template, "AWS::SSM::Parameter").values()
    }
    assert parameters == {
        f"/chirp/{stage}/degradation/manual": "auto",
        f"/chirp/{stage}/degradation/auto": PARAMETERS["degradation_auto"].initial,
        f"/chirp/{stage}/trends/lists": PARAMETERS["trend_lists"].initial,
    }
