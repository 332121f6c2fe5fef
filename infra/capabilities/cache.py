"""ElastiCache Redis: timelines, caches, counters. TLS + AUTH and cluster mode on AWS; locally the launcher's
redis-server (one, or a cluster of three with `make dev REDIS=cluster`)."""

from __future__ import annotations

from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.capabilities.network import REDIS_PORT, Network
from infra.config import StageConfig


class Cache(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig, network: Network):
        super().__init__(scope, construct_id)
        subnets = elasticache.CfnSubnetGroup(
            self,
            "Subnets",
            description="Chirp Redis subnets",
            subnet_ids=network.vpc.select_subnets(subnet_type=network.private_subnets.subnet_type).subnet_ids,
        )
        self.auth_secret: secretsmanager.Secret | None = None
        auth_token = None
        if config.redis_tls_and_auth:
            self.auth_secret = secretsmanager.Secret(
                self,
                "AuthToken",
                description="Chirp Redis AUTH token",
                generate_secret_string=secretsmanager.SecretStringGenerator(
                    exclude_punctuation=True, password_length=64
                ),
            )
            auth_token = self.auth_secret.secret_value.unsafe_unwrap()
        multi_az = config.redis_replicas > 0
        if config.redis_shards:
            # Cluster mode: the keys' slots spread over the shards, each a primary and its replicas; clients find
            # the shards through the configuration endpoint. Failover is required in cluster mode.
            size = {
                "num_node_groups": config.redis_shards,
                "replicas_per_node_group": config.redis_replicas,
                "cache_parameter_group_name": "default.redis7.cluster.on",
            }
        else:
            size = {"num_cache_clusters": 1 + config.redis_replicas}
        self.replication_group = elasticache.CfnReplicationGroup(
            self,
            "Redis",
            replication_group_description="Chirp timelines, caches and counters",
            engine="redis",
            engine_version="7.1",
            cache_node_type=config.redis_node_type,
            **size,
            automatic_failover_enabled=multi_az or bool(config.redis_shards),
            multi_az_enabled=multi_az,
            port=REDIS_PORT,
            cache_subnet_group_name=subnets.ref,
            security_group_ids=[network.redis_sg.security_group_id],
            at_rest_encryption_enabled=True,
            transit_encryption_enabled=config.redis_tls_and_auth,
            auth_token=auth_token,
        )
        self.cluster = bool(config.redis_shards)
        group = self.replication_group
        if self.cluster:
            self.host, self.port = group.attr_configuration_end_point_address, group.attr_configuration_end_point_port
        else:
            self.host, self.port = group.attr_primary_end_point_address, group.attr_primary_end_point_port
