"""Each function's IAM, pinned call by call: (action, resource) pairs as synthesized, with CloudFormation
expressions written out readably ({DataTweets.Arn}: the table's ARN). A grant added to the catalog, or a CDK
default that widens a role, fails here until the pin says so."""

from __future__ import annotations

import re

import pytest
from aws_cdk.assertions import Template

from infra.capabilities.search import domain_name
from infra.catalog import FUNCTIONS
from infra.config import stage_config

Calls = set[tuple[str, str]]

ENI = "arn:aws:ec2:{region}:{account}:network-interface/*"
SUBNETS = tuple(f"arn:aws:ec2:{{region}}:{{account}}:subnet/{{NetworkVpcprivateSubnet{i}Subnet}}" for i in (1, 2))
LAMBDA_SG = "arn:aws:ec2:{region}:{account}:security-group/{NetworkLambdaSg.GroupId}"
TWEETS, SOCIAL = "{DataTweets.Arn}", "{DataSocial.Arn}"
NOTIFICATIONS, IDEMPOTENCY, LEASES = "{DataNotifications.Arn}", "{DataIdempotency.Arn}", "{DataLeases.Arn}"
CLIENTS, CONNECTIONS = "{DataClients.Arn}", "{DataConnections.Arn}"
STREAM, DOMAIN, BUCKET = "{DataNewTweets.Arn}", "{SearchDomain.Arn}", "{MediaBucket.Arn}"
ENGAGEMENTS, ENGAGEMENT_STREAM = "{DataEngagementsTable.Arn}", "{DataEngagements.Arn}"
MEDIA = "{DataMediaTable.Arn}"
REDIS_SECRET = {
    ("secretsmanager:DescribeSecret", "{CacheAuthToken}"),
    ("secretsmanager:GetSecretValue", "{CacheAuthToken}"),
}


def _parameter(path: str) -> str:
    """A runtime parameter's ARN; {stage} is the stage's name (parameters are named /chirp/<stage>/...)."""
    return f"arn:aws:ssm:{{region}}:{{account}}:parameter/chirp/{{stage}}/{path}"


# Both degradation level parameters, read together; the folder of per-user limit overrides, read by path.
KNOWS_LEVEL = {
    ("ssm:GetParameters", _parameter("degradation/manual")),
    ("ssm:GetParameters", _parameter("degradation/auto")),
}
READS_OVERRIDES = {("ssm:GetParametersByPath", _parameter("limits/users"))}


def _on(resource: str, *actions: str) -> Calls:
    return {(action, resource) for action in actions}


# A push renders Mastodon's entities for the connections that speak Mastodon: profiles, parents and originals,
# counts, media with their descriptions and signed URLs; nothing written.
RENDERS_MASTODON = {
    *_on(SOCIAL, "dynamodb:GetItem", "dynamodb:BatchGetItem"),
    ("dynamodb:BatchGetItem", TWEETS),
    ("dynamodb:BatchGetItem", ENGAGEMENTS),
    ("dynamodb:BatchGetItem", MEDIA),
    ("dynamodb:BatchGetItem", CLIENTS),
    ("s3:GetObject", f"{BUCKET}/media/*"),
}


def _sends_to(queue: str) -> Calls:
    return _on(f"{{Queues{queue}.Arn}}", "sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl")


# What CDK grants a stream consumer's event source mapping (Lambda reads the stream with the role).
def _consumes(stream: str) -> Calls:
    return _on(
        stream,
        "kinesis:DescribeStream",
        "kinesis:DescribeStreamConsumer",
        "kinesis:DescribeStreamSummary",
        "kinesis:GetRecords",
        "kinesis:GetShardIterator",
        "kinesis:ListShards",
        "kinesis:ListStreams",
        "kinesis:SubscribeToShard",
    )


CONSUMES_STREAM = _consumes(STREAM)
# Pushing to connected clients: PostToConnection on the WebSocket API's stage only; a gone connection is deleted.
POSTS_TO_CONNECTIONS = (
    "execute-api:ManageConnections",
    "arn:aws:execute-api:{region}:{account}:{WebSocketApi}/v1/POST/@connections/*",
)
PUSHES = {
    POSTS_TO_CONNECTIONS,
    ("dynamodb:DeleteItem", CONNECTIONS),
    ("dynamodb:Scan", CONNECTIONS),  # the connected index rebuilt when Redis lost it
}
POISON = _sends_to("ConsumerFailures")

# Every function's calls but its logs and VPC placement (pinned for all in the next test), on an AWS stage; the
# local stage is the same without the Redis AUTH secret.
CALLS: dict[str, Calls] = {
    "health": {
        *_on(TWEETS, "dynamodb:DescribeTable"),
        *_on(SOCIAL, "dynamodb:DescribeTable"),
        ("kinesis:DescribeStreamSummary", STREAM),
        ("es:ESHttpGet", f"{DOMAIN}/_cluster/health"),
        *REDIS_SECRET,
        *KNOWS_LEVEL,
    },
    "api": {
        *_on(TWEETS, "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"),
        ("dynamodb:Query", f"{TWEETS}/index/user_tweets"),
        *_on(
            SOCIAL,
            "dynamodb:GetItem",
            "dynamodb:BatchGetItem",
            "dynamodb:Query",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
        ),
        ("dynamodb:Query", f"{SOCIAL}/index/inverted"),
        *_on(NOTIFICATIONS, "dynamodb:PutItem", "dynamodb:Query"),  # a follow's notification: in its transaction
        *_on(IDEMPOTENCY, "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"),
        *_on(LEASES, "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"),
        *_on(ENGAGEMENTS, "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"),
        *{
            ("dynamodb:Query", f"{ENGAGEMENTS}/index/{index}")
            for index in ("likes_by_tweet", "retweets_by_tweet", "likes_by_user", "bookmarks_by_user")
        },
        ("kinesis:PutRecord", STREAM),
        ("kinesis:PutRecord", ENGAGEMENT_STREAM),
        ("s3:PutObject", f"{BUCKET}/uploads/*"),
        ("s3:PutObject", f"{BUCKET}/videos/*"),
        ("s3:GetObject", f"{BUCKET}/media/*"),
        ("s3:DeleteObjectTagging", f"{BUCKET}/media/*"),  # attaching keeps the variants
        *_on(MEDIA, "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"),
        *PUSHES,  # a follow's notification, to the followee's connected clients
        *REDIS_SECRET,
        *KNOWS_LEVEL,
    },
    # The REST API's calls (it posts, reads and follows through the same services), and the clients table; the
    # password grant's InitiateAuth is a public Cognito call, in no policy.
    "mastodon": {
        *_on(TWEETS, "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"),
        ("dynamodb:Query", f"{TWEETS}/index/user_tweets"),
        *_on(
            SOCIAL,
            "dynamodb:GetItem",
            "dynamodb:BatchGetItem",
            "dynamodb:Query",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
        ),
        ("dynamodb:Query", f"{SOCIAL}/index/inverted"),
        *_on(NOTIFICATIONS, "dynamodb:PutItem", "dynamodb:Query"),  # a follow's notification: in its transaction
        *_on(IDEMPOTENCY, "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"),
        *_on(LEASES, "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"),
        *_on(
            CLIENTS,
            "dynamodb:GetItem",
            "dynamodb:BatchGetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
        ),
        *_on(ENGAGEMENTS, "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"),
        *{
            ("dynamodb:Query", f"{ENGAGEMENTS}/index/{index}")
            for index in ("likes_by_tweet", "retweets_by_tweet", "likes_by_user", "bookmarks_by_user")
        },
        ("kinesis:PutRecord", ENGAGEMENT_STREAM),
        ("ssm:GetParameters", _parameter("trends/lists")),
        ("kinesis:PutRecord", STREAM),
        ("s3:PutObject", f"{BUCKET}/uploads/*"),
        ("s3:PutObject", f"{BUCKET}/videos/*"),
        ("s3:GetObject", f"{BUCKET}/media/*"),
        ("s3:DeleteObjectTagging", f"{BUCKET}/media/*"),  # attaching keeps the variants
        *_on(MEDIA, "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"),
        ("es:ESHttpPost", f"{DOMAIN}/tweets/_search"),
        *PUSHES,  # a follow's notification, to the followee's connected clients
        *REDIS_SECRET,
    },
    "discovery": {
        ("dynamodb:BatchGetItem", TWEETS),
        # Profiles; a handle; the caller's blocks and mutes, and who blocks the caller (kept out of search).
        *_on(SOCIAL, "dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query"),
        ("dynamodb:Query", f"{SOCIAL}/index/inverted"),
        ("dynamodb:BatchGetItem", ENGAGEMENTS),
        ("dynamodb:BatchGetItem", MEDIA),  # hits' media...
        ("s3:GetObject", f"{BUCKET}/media/*"),  # ...and their variants' signed URLs (nothing written)
        ("es:ESHttpPost", f"{DOMAIN}/tweets/_search"),
        ("ssm:GetParameters", _parameter("trends/lists")),
        *REDIS_SECRET,
        *KNOWS_LEVEL,
    },
    "mastodon_auth": {("dynamodb:GetItem", CLIENTS)},  # a token's grant, by its hash: nothing else
    "fanout": {
        ("dynamodb:GetItem", SOCIAL),
        ("dynamodb:Query", f"{SOCIAL}/index/inverted"),
        ("dynamodb:Query", f"{TWEETS}/index/user_tweets"),
        ("dynamodb:BatchGetItem", TWEETS),  # deferred tweets, read back to push them
        ("dynamodb:UpdateItem", TWEETS),  # a tweet received is confirmed published (out of the outbox)
        *_sends_to("FanoutPages"),
        *POISON,
        *CONSUMES_STREAM,
        *REDIS_SECRET,
        *KNOWS_LEVEL,
    },
    "indexer": {
        ("es:ESHttpPost", f"{DOMAIN}/_bulk"),
        ("es:ESHttpPost", f"{DOMAIN}/tweets/_bulk"),
        ("es:ESHttpPut", f"{DOMAIN}/tweets"),
        *POISON,
        *_sends_to("IndexFailures"),  # Lambda's on-failure pointers, sent with the function's role
        *CONSUMES_STREAM,
    },
    "trends": {("dynamodb:BatchGetItem", SOCIAL), *POISON, *CONSUMES_STREAM, *REDIS_SECRET, *KNOWS_LEVEL},
    "notifier": {
        ("dynamodb:GetItem", TWEETS),
        # Handles, blocks and mutes; a push reads the author's follower count and pages and checks connected
        # users' follows and mutes in batches.
        *_on(SOCIAL, "dynamodb:GetItem", "dynamodb:BatchGetItem"),
        ("dynamodb:Query", f"{SOCIAL}/index/inverted"),
        ("dynamodb:BatchWriteItem", NOTIFICATIONS),
        *PUSHES,
        *RENDERS_MASTODON,
        *POISON,
        *CONSUMES_STREAM,
        *REDIS_SECRET,
    },
    "realtime": {
        *_on(CONNECTIONS, "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"),
        ("dynamodb:GetItem", CLIENTS),  # a Mastodon token's grant, by its hash
        POSTS_TO_CONNECTIONS,  # answers frames on the connection
        *REDIS_SECRET,
    },
    "engagements": {
        ("dynamodb:BatchGetItem", ENGAGEMENTS),
        *_on(SOCIAL, "dynamodb:GetItem", "dynamodb:BatchGetItem"),  # a retweet's push checks follows and mutes
        ("dynamodb:Query", f"{SOCIAL}/index/inverted"),
        ("dynamodb:Query", f"{TWEETS}/index/user_tweets"),
        *_on(NOTIFICATIONS, "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"),
        *_sends_to("FanoutPages"),
        *PUSHES,  # retweets to the retweeter's connected followers
        *RENDERS_MASTODON,
        *POISON,
        *_consumes(ENGAGEMENT_STREAM),
        *REDIS_SECRET,
    },
    "tweet_counter": {
        *_on(ENGAGEMENTS, "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"),
        *POISON,
        *CONSUMES_STREAM,
        *REDIS_SECRET,
    },
    "fanout_worker": {
        *_on(
            "{QueuesFanoutPages.Arn}",
            "sqs:ReceiveMessage",
            "sqs:ChangeMessageVisibility",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "sqs:GetQueueUrl",
        ),
        *REDIS_SECRET,
    },
    "transcoder": {
        ("s3:GetObject", f"{BUCKET}/uploads/*"),
        ("s3:PutObject", f"{BUCKET}/media/*"),
        ("s3:PutObjectTagging", f"{BUCKET}/media/*"),  # variants are written tagged unattached
        ("dynamodb:UpdateItem", MEDIA),  # the outcome, recorded on the upload's ticket
    },
    "video_transcoder": {
        ("s3:GetObject", f"{BUCKET}/videos/*"),
        ("s3:PutObject", f"{BUCKET}/media/*"),  # renditions in parts too: multipart upload needs only PutObject
        ("s3:PutObjectTagging", f"{BUCKET}/media/*"),
        ("dynamodb:UpdateItem", MEDIA),
    },
    "outbox_relay": {
        ("dynamodb:Query", f"{TWEETS}/index/outbox"),
        *_on(TWEETS, "dynamodb:GetItem", "dynamodb:UpdateItem"),
        ("kinesis:PutRecord", STREAM),
        *_on(ENGAGEMENTS, "dynamodb:Query", "dynamodb:DeleteItem"),
        ("kinesis:PutRecord", ENGAGEMENT_STREAM),
    },
    "search_repair": {
        *_on(TWEETS, "dynamodb:BatchGetItem", "dynamodb:Scan"),
        *_on(STREAM, "kinesis:GetShardIterator", "kinesis:GetRecords"),
        ("es:ESHttpPost", f"{DOMAIN}/_bulk"),
        ("es:ESHttpPost", f"{DOMAIN}/tweets/_bulk"),
        ("es:ESHttpPut", f"{DOMAIN}/tweets"),
        *_on(
            "{QueuesIndexFailures.Arn}",
            "sqs:ReceiveMessage",
            "sqs:ChangeMessageVisibility",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "sqs:GetQueueUrl",
        ),
    },
    "limit_overrides": {*READS_OVERRIDES, *REDIS_SECRET},  # read from SSM, mirrored into Redis
    "degradation_controller": {
        *KNOWS_LEVEL,
        ("ssm:PutParameter", _parameter("degradation/auto")),  # only the automatic level; nothing deletes
        ("cloudwatch:GetMetricData", "*"),  # no resource-level permission exists for it
    },
    "search_schema": {
        ("es:ESHttpPut", f"{DOMAIN}/tweets"),
        ("es:ESHttpPut", f"{DOMAIN}/tweets/_mapping"),
        ("es:ESHttpPut", f"{DOMAIN}/tweets/_settings"),
        ("es:ESHttpGet", f"{DOMAIN}/_cluster/health/tweets"),
    },
}


def _basics(function: str, tracing: bool) -> Calls:
    """Logs to its own group; ENIs created only in the functions' subnets with their security group."""
    logs = f"{{Functions{function.replace('_', '')}Logs.Arn}}"
    return {
        *_on(logs, "logs:CreateLogStream", "logs:PutLogEvents"),
        *{("ec2:CreateNetworkInterface", resource) for resource in (ENI, *SUBNETS, LAMBDA_SG)},
        *_on(ENI, "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"),
        ("ec2:DescribeNetworkInterfaces", "*"),
        *(_on("*", "xray:PutTraceSegments", "xray:PutTelemetryRecords") if tracing else set()),
    }


_PSEUDO = {"AWS::Partition": "aws", "AWS::Region": "{region}", "AWS::AccountId": "{account}"}


def _readable(value) -> str:
    """A CloudFormation value as text: logical ids without their hash, pseudo parameters as placeholders."""
    if isinstance(value, str):
        return value
    if "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        return f"{{{_unhashed(logical_id)}.{attribute}}}"
    if "Ref" in value:
        return _PSEUDO.get(value["Ref"], f"{{{_unhashed(value['Ref'])}}}")
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(_readable(part) for part in parts)
    raise ValueError(f"unexpected expression {value}")


def _unhashed(logical_id: str) -> str:
    return re.sub(r"[0-9A-F]{8}$", "", logical_id)


def _listed(value) -> list:
    return value if isinstance(value, list) else [value]


def role_calls(template: Template, function: str) -> Calls:
    """Every (action, resource) the function's role allows; statements merged by CDK are flattened."""
    prefix = f"Functions{function.replace('_', '')}Role"
    policies = [p for name, p in template.find_resources("AWS::IAM::Policy").items() if name.startswith(prefix)]
    assert len(policies) == 1, f"{function}: {len(policies)} policies"
    calls = set()
    for statement in policies[0]["Properties"]["PolicyDocument"]["Statement"]:
        assert statement["Effect"] == "Allow", statement
        assert "Condition" not in statement, statement
        for action in _listed(statement["Action"]):
            calls.update((action, _readable(resource)) for resource in _listed(statement["Resource"]))
    return calls


@pytest.mark.parametrize("stage", ["local", "prod"])
@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda spec: spec.name)
def test_given_a_function_when_synthesized_then_its_role_allows_exactly_its_pinned_calls(
    local_template, aws_template, stage, spec
):
    template, config = (local_template if stage == "local" else aws_template), stage_config(stage)
    expected = CALLS[spec.name] if config.redis_tls_and_auth else CALLS[spec.name] - REDIS_SECRET
    expected = {(action, resource.replace("{stage}", stage)) for action, resource in expected}
    assert role_calls(template, spec.name) == expected | _basics(spec.name, config.tracing)


def test_given_every_function_role_when_synthesized_then_it_has_no_managed_or_inline_policy(any_template):
    roles = {
        name: role
        for name, role in any_template.find_resources("AWS::IAM::Role").items()
        if name.startswith("Functions")
    }
    assert len(roles) == len(FUNCTIONS)
    for name, role in roles.items():
        assert "ManagedPolicyArns" not in role["Properties"], name
        assert "Policies" not in role["Properties"], name


def test_given_every_role_when_synthesized_then_no_function_may_scan_or_manage_a_table(any_template):
    """Nobody deletes a table or changes it, only the search repair scans the tweets (a reindex) and the pushers the
    connections (the connected index rebuilt); batch writes only where notifications are stored."""
    pushers = {"notifier", "engagements", "api", "mastodon"}
    for spec in FUNCTIONS:
        actions = {action for action, _ in role_calls(any_template, spec.name)}
        dynamodb = {action for action in actions if action.startswith("dynamodb:")}
        assert not dynamodb & {"dynamodb:DeleteTable", "dynamodb:UpdateTable", "dynamodb:*"}
        scans = {r for a, r in role_calls(any_template, spec.name) if a == "dynamodb:Scan"}
        expected = {TWEETS} if spec.name == "search_repair" else {CONNECTIONS} if spec.name in pushers else set()
        assert scans == expected, spec.name
        assert not {a for a in dynamodb if a.startswith(("dynamodb:GetRecords", "dynamodb:GetShardIterator"))}
        batch_writes = {r for a, r in role_calls(any_template, spec.name) if a == "dynamodb:BatchWriteItem"}
        assert batch_writes <= {NOTIFICATIONS}, spec.name


def test_given_the_indexer_when_synthesized_then_it_bulk_indexes_and_creates_the_index_but_deletes_nothing(
    any_template,
):
    calls = role_calls(any_template, "indexer")
    search = {(action, resource) for action, resource in calls if action.startswith("es:")}
    assert search == {
        ("es:ESHttpPost", f"{DOMAIN}/_bulk"),
        ("es:ESHttpPost", f"{DOMAIN}/tweets/_bulk"),
        ("es:ESHttpPut", f"{DOMAIN}/tweets"),
    }
    for spec in FUNCTIONS:  # and no function may delete by HTTP, nor reach the whole domain
        for action, resource in role_calls(any_template, spec.name):
            if action.startswith("es:"):
                assert action != "es:ESHttpDelete", (spec.name, resource)
                assert "*" not in action + resource, (spec.name, action, resource)


def test_given_the_outbox_relay_when_synthesized_then_it_reads_the_outbox_and_clears_marks_only(any_template):
    dynamodb = {(a, r) for a, r in role_calls(any_template, "outbox_relay") if a.startswith("dynamodb:")}
    assert dynamodb == {
        ("dynamodb:Query", f"{TWEETS}/index/outbox"),
        ("dynamodb:GetItem", TWEETS),
        ("dynamodb:UpdateItem", TWEETS),
        ("dynamodb:Query", ENGAGEMENTS),  # the engagement outbox's partitions
        ("dynamodb:DeleteItem", ENGAGEMENTS),  # an event published: its outbox entry
    }


def test_given_the_engagement_writers_when_synthesized_then_only_the_api_writes_edges_and_nobody_deletes_tweets(
    any_template,
):
    """Likes and retweets are made by the APIs alone (Chirp's and Mastodon's favourites and reblogs: edge and count
    in one transaction); the reply counter puts
    markers and moves counts; the engagements consumer only reads them; no function may delete a tweet item."""
    for spec in FUNCTIONS:
        calls = role_calls(any_template, spec.name)
        writes = {a for a, r in calls if r == ENGAGEMENTS and a.endswith(("PutItem", "UpdateItem", "DeleteItem"))}
        expected = {
            "api": {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"},
            "mastodon": {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"},
            "tweet_counter": {"dynamodb:PutItem", "dynamodb:UpdateItem"},
            "outbox_relay": {"dynamodb:DeleteItem"},
        }.get(spec.name, set())
        assert writes == expected, spec.name
        assert ("dynamodb:DeleteItem", TWEETS) not in calls, spec.name


def test_given_the_api_when_synthesized_then_it_writes_tables_item_by_item_and_queries_named_indexes(any_template):
    calls = role_calls(any_template, "api")
    assert ("dynamodb:Scan", TWEETS) not in calls
    assert not {r for a, r in calls if a == "dynamodb:Query" and r.endswith("/index/*")}
    assert not {(a, r) for a, r in calls if a == "dynamodb:DeleteItem" and r in (TWEETS, NOTIFICATIONS)}


def test_given_runtime_parameters_when_synthesized_then_only_the_controller_writes_and_only_its_own_level(
    any_template,
):
    """Operators set the manual level and the overrides with their own credentials; no function deletes a
    parameter; the controller writes the automatic level and nothing else."""
    for spec in FUNCTIONS:
        ssm = {(a, r) for a, r in role_calls(any_template, spec.name) if a.startswith("ssm:")}
        assert {a for a, _ in ssm} <= {"ssm:GetParameters", "ssm:GetParametersByPath", "ssm:PutParameter"}, spec.name
        writes = {r for a, r in ssm if a == "ssm:PutParameter"}
        if spec.name == "degradation_controller":
            assert len(writes) == 1
            assert next(iter(writes)).endswith("/degradation/auto")
        else:
            assert not writes, spec.name


def test_given_vpc_placement_when_synthesized_then_only_describing_enis_is_unscoped(any_template):
    for spec in FUNCTIONS:
        ec2 = {(a, r) for a, r in role_calls(any_template, spec.name) if a.startswith("ec2:")}
        assert {a for a, r in ec2 if r == "*"} == {"ec2:DescribeNetworkInterfaces"}, spec.name
        created_in = {r for a, r in ec2 if a == "ec2:CreateNetworkInterface"}
        assert created_in == {ENI, *SUBNETS, LAMBDA_SG}, spec.name


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_given_the_search_domain_when_synthesized_then_its_access_policy_names_only_this_domain(
    local_template, aws_template, stage
):
    template = local_template if stage == "local" else aws_template
    (domain,) = template.find_resources("AWS::OpenSearchService::Domain").values()
    name = domain_name(stage_config(stage))
    assert domain["Properties"]["DomainName"] == name
    (statement,) = domain["Properties"]["AccessPolicies"]["Statement"]
    assert _readable(statement["Resource"]) == f"arn:aws:es:{{region}}:{{account}}:domain/{name}/*"
    assert _readable(statement["Principal"]["AWS"]) == "arn:aws:iam::{account}:root"
