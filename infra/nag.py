"""cdk-nag (AwsSolutions) as a validation plugin: synth fails on any finding not acknowledged here.

Every acknowledgment is scoped to the narrowest construct it concerns and says why.
"""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

from infra.capabilities.names import pascal_case
from infra.catalog import FUNCTIONS, ResolverRoutes, consumer_failure_queues
from infra.config import StageConfig
from infra.routes import resolver_routes
from infra.stack import ChirpStack


def _ack(scope: IConstruct, rule: str, reason: str) -> None:
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=f"AwsSolutions::AwsSolutions-{rule}", reason=reason))


def add_nag_checks(app: cdk.App, stack: ChirpStack, config: StageConfig) -> None:
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    node = stack.node

    for function in node.find_child("Functions").node.children:
        if isinstance(function, cdk.aws_lambda.Function):
            _ack(function, "L1", "Python 3.12 is pinned: the local cloud, the test venv and the layer build match it")
    for role in node.find_child("Functions").node.children:
        if isinstance(role, cdk.aws_iam.Role):
            _ack(role, "IAM5[Resource::*]", "ec2:DescribeNetworkInterfaces, X-Ray's calls and cloudwatch:GetMetricData "
                 "(the degradation controller's) take no resource ARN")  # fmt: skip
            _ack(role, "IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:network-interface/*]",
                 "Lambda creates the VPC ENIs under ids unknown in advance; creation is scoped to Chirp's subnets "
                 "and the functions' security group")  # fmt: skip
            for prefix in ("uploads", "videos", "media"):
                _ack(role, f"IAM5[Resource::<MediaBucket4022EBBF.Arn>/{prefix}/*]",
                     f"objects under {prefix}/ of Chirp's own media bucket")  # fmt: skip

    queues = node.find_child("Queues").node
    for name in consumer_failure_queues():
        _ack(queues.find_child(pascal_case(name)), "SQS3",
             "this queue is itself the on-failure destination of stream consumers")  # fmt: skip

    domain = node.find_child("Search").node.find_child("Domain")
    _ack(domain, "OS3", "VPC-private domain: reachable only through its security group, with SigV4-signed requests")
    _ack(domain, "OS5", "the access policy (this account's principals, signed requests) is a property override "
         "the rule cannot read; see capabilities/search.py")  # fmt: skip
    _ack(domain, "OS4", "two data nodes across two zones; dedicated masters pay off from larger clusters")
    if not config.opensearch_slow_logs:
        for logs in ("SEARCH_SLOW_LOGS", "INDEX_SLOW_LOGS"):
            _ack(domain, f"OS9[LogExport::{logs}]", "local stage: the emulator cannot run the log-publishing resource")
    for child in domain.node.children:
        if child.node.id.startswith("ESLogGroupPolicy"):  # CDK's resource policy call for the slow logs
            _ack(child, "IAM5[Resource::*]", "logs:PutResourcePolicy takes no resource ARN")
    if config.opensearch_data_nodes == 1:
        _ack(domain, "OS7", "local stage: a single node; AWS stages spread two data nodes over two zones")
    # CDK's own singleton providers (S3 notifications; on AWS the OpenSearch log-group policy), built
    # by CDK with its own roles: acknowledged on those constructs only.
    for child in node.children:
        if child.node.id.startswith(("BucketNotificationsHandler", "AWS679f53fac002430cb0da5b7982bd2287")):
            _ack(child, "IAM5[Resource::*]", "CDK's own custom-resource provider calls APIs without resource ARNs")
            _ack(child, "IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
                 "CDK builds its custom-resource provider with this role")  # fmt: skip

    media = node.find_child("Media").node
    if config.media_cdn:
        delivery = media.find_child("Delivery")
        _ack(delivery, "CFR4", "the default *.cloudfront.net certificate accepts TLSv1; a TLS 1.2 minimum needs a "
             "custom media domain with its own certificate, which the stage does not have yet")  # fmt: skip
        _ack(delivery, "CFR1", "a public social network's media are for every country")
        _ack(delivery, "CFR2", "only immutable variants are served, cached at the edge; a WAF web ACL comes with "
             "the public launch, as for the APIs")  # fmt: skip

    cache = node.find_child("Cache")
    if config.redis_tls_and_auth:
        _ack(cache.node.find_child("AuthToken"), "SMG4",
             "rotating an ElastiCache AUTH token needs a coordinated ROTATE/SET on the replication group")  # fmt: skip
    else:
        redis = cache.node.find_child("Redis")
        _ack(redis, "AEC3", "local stage: the stand-in is a loopback redis-server without TLS")
        _ack(redis, "AEC6", "local stage: the stand-in is a loopback redis-server without AUTH")
    if config.redis_replicas == 0:
        _ack(
            cache.node.find_child("Redis"),
            "AEC4",
            "local stage: a single node; AWS stages run a replica in another zone",
        )

    users = node.find_child("Auth").node.find_child("Users")
    _ack(users, "COG2", "TOTP MFA is offered to every user; a consumer social app cannot require it")
    _ack(users, "COG8", "the Plus feature plan's threat protection is a per-user cost decided at launch")

    for name, api in stack.apis.items():
        rest = api.rest_api
        _ack(rest, "APIG3", "stage throttling limits abuse today; a WAF web ACL comes with the public launch")
        if name == "chirp":
            push_logs = "arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
            _ack(
                rest,
                f"IAM4[Policy::{push_logs}]",
                "API Gateway's account-level logging role is AWS's own managed policy",
            )
        public = {
            (route.method, route.path)
            for spec in FUNCTIONS
            for trigger in spec.triggered_by(ResolverRoutes)
            if trigger.api == name
            for route in resolver_routes(spec)
            if route.public
        }
        for method in rest.methods:
            if method.http_method == "OPTIONS":
                _ack(method, "APIG4", "CORS preflight: browsers send it without credentials; the gateway answers it")
                _ack(method, "COG4", "CORS preflight: browsers send it without credentials; the gateway answers it")
            elif (method.http_method, method.resource.path) in public:
                reason = f"{method.http_method} {method.resource.path} is public by design: declared so by its handler"
                _ack(method, "APIG4", reason)
                _ack(method, "COG4", reason)
            elif name != "chirp":
                _ack(method, "COG4", "authorized by the API's token authorizer (Chirp's own tokens), not Cognito")
    websocket = node.find_child("WebSocket")
    for route in websocket.node.children:
        if isinstance(route, cdk.aws_apigatewayv2.CfnRoute):
            _ack(route, "APIG4", "$connect checks the REST API's ID tokens in its function (WebSocket APIs have no "
                 "Cognito authorizer); later frames arrive on the connection it authenticated")  # fmt: skip
    api_ref = stack.resolve(stack.get_logical_id(websocket.node.find_child("Api").node.default_child))
    for role in node.find_child("Functions").node.children:
        if isinstance(role, cdk.aws_iam.Role):
            _ack(role, f"IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<{api_ref}>"
                 "/v1/POST/@connections/*]", "connection ids are made per client as it connects")  # fmt: skip
    if not config.vpc_flow_logs:
        _ack(node.find_child("Network"), "VPC7", "local stage: the emulator rejects AWS::EC2::FlowLog")
