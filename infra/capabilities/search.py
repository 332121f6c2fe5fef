"""The OpenSearch domain tweets are indexed in: VPC-private, encrypted, HTTPS on AWS."""

from __future__ import annotations

import re

from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_opensearchservice as opensearch
from constructs import Construct

from infra.capabilities.network import Network
from infra.config import StageConfig

DOMAIN_NAME = re.compile(r"[a-z][a-z0-9-]{2,27}")  # OpenSearch Service's rule for domain names


def domain_name(config: StageConfig) -> str:
    """One domain per stage (and one stage per account and region, as the stack is named after it)."""
    name = f"chirp-{config.name}".lower()
    if not DOMAIN_NAME.fullmatch(name):
        raise ValueError(f"stage {config.name!r} makes an invalid OpenSearch domain name {name!r}")
    return name


class Search(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig, network: Network):
        super().__init__(scope, construct_id)
        zone_aware = config.opensearch_data_nodes > 1
        # One subnet per data node's zone: a single-node domain takes exactly one subnet.
        private = network.vpc.select_subnets(subnet_type=network.private_subnets.subnet_type).subnets
        subnets = private if zone_aware else private[:1]
        self.domain = opensearch.Domain(
            self,
            "Domain",
            # Named, so that its own access policy can name it (a generated name is known only once it exists).
            domain_name=domain_name(config),
            version=opensearch.EngineVersion.OPENSEARCH_2_19,
            capacity=opensearch.CapacityConfig(
                data_nodes=config.opensearch_data_nodes,
                data_node_instance_type=config.opensearch_instance_type,
                multi_az_with_standby_enabled=False,
            ),
            ebs=opensearch.EbsOptions(volume_size=10, volume_type=ec2.EbsDeviceVolumeType.GP3),
            zone_awareness=opensearch.ZoneAwarenessConfig(enabled=zone_aware, availability_zone_count=2)
            if zone_aware
            else None,
            vpc=network.vpc,
            vpc_subnets=[ec2.SubnetSelection(subnets=subnets)],
            security_groups=[network.search_sg],
            enforce_https=True,
            node_to_node_encryption=True,
            encryption_at_rest=opensearch.EncryptionAtRestOptions(enabled=True),
            logging=opensearch.LoggingOptions(
                slow_search_log_enabled=True, slow_index_log_enabled=True, app_log_enabled=True
            )
            if config.opensearch_slow_logs
            else None,
            removal_policy=config.removal_policy,
        )
        # Only signed requests from this account's principals (the Lambda roles, each allowed its own paths) reach
        # this domain's data. Set on the L1 resource: the L2's access_policies go through a Node.js custom resource
        # the emulator lacks. The ARN is built from the name: the resource cannot refer to its own Arn attribute.
        own_paths = Stack.of(self).format_arn(service="es", resource="domain", resource_name=f"{domain_name(config)}/*")
        statement = iam.PolicyStatement(
            principals=[iam.AccountRootPrincipal()], actions=["es:ESHttp*"], resources=[own_paths]
        )
        policy = iam.PolicyDocument(statements=[statement])
        self.domain.node.default_child.add_property_override("AccessPolicies", policy.to_json())
        self.endpoint = self.domain.domain_endpoint
