"""The VPC every Lambda, the cache and the search domain live in. The AWS APIs with heavy traffic go through
endpoints (DynamoDB, S3, Kinesis); the rest through NAT on AWS stages (locally the emulator ignores the VPC)."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.config import StageConfig

# A literal CIDR: the local emulator has no GetAtt Vpc.CidrBlock, and SG-to-SG rules emit
# AWS::EC2::SecurityGroupIngress, which it rejects. Rules by CIDR work in both places.
VPC_CIDR = "10.42.0.0/16"
REDIS_PORT = 6390  # not the default port (AwsSolutions-AEC5)


class Network(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig):
        super().__init__(scope, construct_id)
        egress = config.nat_gateways > 0
        private = ec2.SubnetType.PRIVATE_WITH_EGRESS if egress else ec2.SubnetType.PRIVATE_ISOLATED
        subnets = [ec2.SubnetConfiguration(name="private", subnet_type=private, cidr_mask=20)]
        if egress:  # the NAT gateways' own subnets; nothing else is placed there
            subnets.append(ec2.SubnetConfiguration(name="nat", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24))
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(VPC_CIDR),
            max_azs=2,
            nat_gateways=config.nat_gateways,
            subnet_configuration=subnets,
            gateway_endpoints={
                "DynamoDb": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.DYNAMODB),
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3),
            },
        )
        self.private_subnets = ec2.SubnetSelection(subnet_type=private)
        if config.vpc_flow_logs:
            self.vpc.add_flow_log(
                "FlowLog",
                destination=ec2.FlowLogDestination.to_cloud_watch_logs(
                    logs.LogGroup(self, "FlowLogs", retention=logs.RetentionDays.ONE_MONTH)
                ),
            )

        self.lambda_sg = self._security_group("LambdaSg", "Chirp Lambdas: egress only")
        self.redis_sg = self._security_group("RedisSg", "Chirp Redis: from inside the VPC")
        self.redis_sg.add_ingress_rule(ec2.Peer.ipv4(VPC_CIDR), ec2.Port.tcp(REDIS_PORT), "Redis from the VPC")
        self.search_sg = self._security_group("SearchSg", "Chirp OpenSearch: HTTPS from inside the VPC")
        self.search_sg.add_ingress_rule(ec2.Peer.ipv4(VPC_CIDR), ec2.Port.tcp(443), "HTTPS from the VPC")
        endpoint_sg = self._security_group("EndpointSg", "Interface endpoints: HTTPS from inside the VPC")
        endpoint_sg.add_ingress_rule(ec2.Peer.ipv4(VPC_CIDR), ec2.Port.tcp(443), "HTTPS from the VPC")
        # Kinesis carries every tweet and engagement: privately, without NAT's per-GB charge. The other AWS APIs
        # Lambdas call (SQS, Secrets Manager, Cognito, SSM, CloudWatch, @connections) are light: through NAT.
        endpoints = {"Kinesis": ec2.InterfaceVpcEndpointAwsService.KINESIS_STREAMS}
        for name, service in endpoints.items():
            self.vpc.add_interface_endpoint(
                name, service=service, subnets=self.private_subnets, security_groups=[endpoint_sg], open=False
            )

    def _security_group(self, construct_id: str, description: str) -> ec2.SecurityGroup:
        return ec2.SecurityGroup(self, construct_id, vpc=self.vpc, description=description, allow_all_outbound=True)
