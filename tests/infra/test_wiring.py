"""The catalog's wiring as synthesized: each function's environment holds exactly the settings its grants and
reads call for, named as chirp.settings.Settings names them, and the stack publishes their union."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Template

from infra.catalog import FUNCTIONS, FunctionSpec
from infra.config import stage_config
from infra.settings import Settings, variable
from infra.stack import SETTINGS_OUTPUT

POWERTOOLS = {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_TRACE_DISABLED"}
REDIS = {"REDIS_HOST", "REDIS_PORT", "REDIS_TLS", "REDIS_CLUSTER"}
SEARCH = {"OPENSEARCH_ENDPOINT", "OPENSEARCH_SCHEME", "OPENSEARCH_SIGV4"}
TIMELINES = {"POPULAR_THRESHOLD", "CELEBRITY_THRESHOLD", "INACTIVE_AFTER_S"}  # fan-out tiers, timeline expiry
TRENDS = {"TREND_MIN_ACCOUNTS", "TREND_RANKED_TTL_S", "TREND_NEW_ACCOUNT_S"}  # trend tuning, per stage
GRAPH = {"TWEETS_TABLE", "SOCIAL_TABLE"}
PUSHES = {"CONNECTIONS_TABLE", "WEBSOCKET_API_ID", "WEBSOCKET_STAGE"}  # chirp.realtime's pushes
# What rendering Mastodon's entities for a push reads (chirp.mastodon.views).
RENDERS_MASTODON = {"ENGAGEMENTS_TABLE", "MEDIA_BUCKET", "MEDIA_TABLE", "CLIENTS_TABLE"}
POISON = {"CONSUMER_FAILURES_QUEUE_URL"}  # stream consumers set unreadable records aside there
ENGAGEMENT = {"ENGAGEMENTS_TABLE", "ENGAGEMENTS_STREAM"}  # edges and counters; the stream their events go to
LEVEL = {"DEGRADATION_MANUAL", "DEGRADATION_AUTO", "RUNTIME_CONFIG_TTL_S"}  # the degradation level, re-read
# An HTTP function's guard: the level, the stage's rate limits, Redis for the counters and mirrored overrides.
GUARD = LEVEL | REDIS | {"RATE_LIMITS"}

MEDIA = {"MEDIA_BUCKET", "MEDIA_TABLE"}  # the objects, and the records of issued media ids
# Where media are served from on AWS (CloudFront): for the functions that render their URLs; none locally.
MEDIA_RENDERERS = {"api", "discovery", "mastodon", "notifier", "engagements"}

# What each function reads, written out: a grant or read added to the catalog must be added here too.
SETTINGS_BY_FUNCTION = {
    "health": {*GRAPH, "NEW_TWEETS_STREAM", *REDIS, *SEARCH, *LEVEL, "RATE_LIMITS"},
    "api": {*GRAPH, "NOTIFICATIONS_TABLE", "LEASES_TABLE", "IDEMPOTENCY_TABLE", "NEW_TWEETS_STREAM"}
    | MEDIA
    | ENGAGEMENT
    | GUARD
    | TIMELINES
    | PUSHES,  # a follow's notification, pushed
    "discovery": {*GRAPH, "ENGAGEMENTS_TABLE", *SEARCH, *GUARD, "TREND_LISTS_PARAMETER", *TRENDS, *MEDIA},
    "mastodon": {
        *GRAPH,
        "NOTIFICATIONS_TABLE",
        "LEASES_TABLE",
        "IDEMPOTENCY_TABLE",
        "CLIENTS_TABLE",
        "USER_POOL_CLIENT_ID",
        "NEW_TWEETS_STREAM",
        *MEDIA,
        "TREND_LISTS_PARAMETER",
        "RUNTIME_CONFIG_TTL_S",
        "MASTODON_STREAMING_URL",  # the streaming API's own domain, advertised ("" locally)
    }
    | ENGAGEMENT
    | REDIS
    | SEARCH
    | TIMELINES
    | TRENDS
    | PUSHES,
    "mastodon_auth": {"CLIENTS_TABLE"},
    "fanout": {*GRAPH, "FANOUT_QUEUE_URL", *REDIS, *TIMELINES, *POISON, *LEVEL},
    "indexer": {*SEARCH, "TWEETS_INDEX_REPLICAS", *POISON},  # it re-creates an index deleted by hand
    "trends": {*REDIS, *POISON, "SOCIAL_TABLE", *TRENDS, *LEVEL},
    # Notifications, and pushes to connected clients: the connected index, the @connections API, and the
    # connections table (a connection found gone is dropped).
    "notifier": {*GRAPH, "NOTIFICATIONS_TABLE", *REDIS, *POISON, *PUSHES, *RENDERS_MASTODON},
    # The WebSocket API's routes: connections stored and indexed, ID tokens checked against the user pool.
    "realtime": {*PUSHES, *REDIS, "USER_POOL_ID", "USER_POOL_CLIENT_ID", "CLIENTS_TABLE", "MASTODON_BASE_URL"},
    # Retweets go through the fan-out (tiers, followers, Redis, the page queue) and are pushed to connected
    # clients; notifications are aggregated.
    "engagements": {
        "ENGAGEMENTS_TABLE",
        *GRAPH,
        "NOTIFICATIONS_TABLE",
        "FANOUT_QUEUE_URL",
        *PUSHES,
        *RENDERS_MASTODON,
        *REDIS,
        *TIMELINES,
        *POISON,
    },
    "tweet_counter": {"ENGAGEMENTS_TABLE", *REDIS, *POISON},
    "fanout_worker": {*REDIS, "INACTIVE_AFTER_S"},  # a page names its followers: it reads no table
    "transcoder": MEDIA,
    "video_transcoder": MEDIA,
    "outbox_relay": {"TWEETS_TABLE", "NEW_TWEETS_STREAM", *ENGAGEMENT},
    "search_repair": {"TWEETS_TABLE", "NEW_TWEETS_STREAM", *SEARCH, "TWEETS_INDEX_REPLICAS"},
    "search_schema": {*SEARCH, "TWEETS_INDEX_REPLICAS"},
    "limit_overrides": {"LIMIT_OVERRIDES_PATH", "RUNTIME_CONFIG_TTL_S", *REDIS},
    # Its own level (written) and the operator's; what it watches; its thresholds.
    "degradation_controller": LEVEL | {"API_NAME", "API_STAGE", "FANOUT_FUNCTION", "CONTROLLER_TUNING"},
}


def _environment(template: Template, spec: FunctionSpec) -> dict:
    (function,) = [
        f
        for f in template.find_resources("AWS::Lambda::Function").values()
        if f["Properties"].get("Description") == spec.description
    ]
    return function["Properties"]["Environment"]["Variables"]


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda spec: spec.name)
def test_given_a_function_when_synthesized_then_its_environment_is_exactly_what_its_grants_and_reads_call_for(
    local_template, aws_template, spec
):
    expected = SETTINGS_BY_FUNCTION[spec.name]
    assert set(_environment(local_template, spec)) == POWERTOOLS | expected
    # On AWS, Redis needs its AUTH token, and only Redis users may read it; media URLs point to the distribution.
    aws_expected = expected | ({"REDIS_AUTH_SECRET_ARN"} if expected >= REDIS else set())
    aws_expected |= {"MEDIA_BASE_URL"} if spec.name in MEDIA_RENDERERS else set()
    assert set(_environment(aws_template, spec)) == POWERTOOLS | aws_expected


def test_given_the_indexer_when_synthesized_then_it_knows_no_table_stream_or_cache(local_template):
    (indexer,) = [spec for spec in FUNCTIONS if spec.name == "indexer"]
    env = _environment(local_template, indexer)
    assert not {"TWEETS_TABLE", "NEW_TWEETS_STREAM", "REDIS_HOST", "POPULAR_THRESHOLD"} & set(env)


def test_given_every_environment_when_synthesized_then_each_chirp_variable_is_a_settings_alias(any_template):
    aliases = {variable(field) for field in Settings.model_fields}
    for spec in FUNCTIONS:
        assert set(_environment(any_template, spec)) - POWERTOOLS <= aliases, spec.name


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_given_tuning_reads_when_synthesized_then_their_values_are_the_stages(local_template, aws_template, stage):
    template, config = (local_template if stage == "local" else aws_template), stage_config(stage)
    (fanout,) = [spec for spec in FUNCTIONS if spec.name == "fanout"]
    env = _environment(template, fanout)
    assert env["POPULAR_THRESHOLD"] == str(config.popular_threshold)
    assert env["CELEBRITY_THRESHOLD"] == str(config.celebrity_threshold)
    assert env["INACTIVE_AFTER_S"] == str(config.inactive_after_s)


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_given_structured_tuning_when_synthesized_then_functions_get_the_stages_values_as_json(
    local_template, aws_template, stage
):
    """Limits are configuration: each stage's tiers reach the guard as JSON, the controller its thresholds."""
    template, config = (local_template if stage == "local" else aws_template), stage_config(stage)
    by_name = {spec.name: spec for spec in FUNCTIONS}
    for name in ("api", "discovery", "health"):
        assert json.loads(_environment(template, by_name[name])["RATE_LIMITS"]) == config.rate_limits
    controller = _environment(template, by_name["degradation_controller"])
    assert json.loads(controller["CONTROLLER_TUNING"]) == config.controller_tuning
    assert controller["API_NAME"] == f"chirp-{stage}"
    assert _environment(template, by_name["api"])["DEGRADATION_MANUAL"] == f"/chirp/{stage}/degradation/manual"


def test_given_the_stack_when_synthesized_then_its_settings_output_is_every_functions_settings(any_template):
    """The local cloud writes this output to .local/cloud.env: shells, tests and benchmarks get the variables
    the functions get, valued as the functions get them."""
    output = any_template.find_outputs(SETTINGS_OUTPUT)[SETTINGS_OUTPUT]["Value"]
    published = _unjoin(output)
    union = {}
    for spec in FUNCTIONS:
        union.update({k: v for k, v in _environment(any_template, spec).items() if k not in POWERTOOLS})
    assert published.keys() == union.keys()
    assert all(published[k] == v for k, v in union.items() if isinstance(v, str))  # tokens are CFN expressions


def _unjoin(value) -> dict:
    """The output's JSON with each CloudFormation expression replaced by a placeholder."""
    if isinstance(value, str):
        return json.loads(value)
    _, parts = value["Fn::Join"]
    text = "".join(part if isinstance(part, str) else "<token>" for part in parts)
    return json.loads(text)
