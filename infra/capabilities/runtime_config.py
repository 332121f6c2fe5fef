"""The runtime parameters operators change without a deploy (catalog.PARAMETERS), in SSM Parameter Store: the
degradation level parameters, created with their initial values. The per-user limit overrides are a folder that
operators fill (`make limits-override`, or `aws ssm put-parameter`), so nothing is created for it."""

from __future__ import annotations

from aws_cdk import aws_ssm as ssm
from constructs import Construct

from infra.capabilities.grants import parameter_name
from infra.capabilities.names import pascal_case
from infra.catalog import PARAMETERS
from infra.config import StageConfig


class RuntimeConfig(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig):
        super().__init__(scope, construct_id)
        self.parameters = {
            name: ssm.StringParameter(
                self,
                pascal_case(name),
                parameter_name=parameter_name(config, name),
                string_value=declared.initial,
                description=f"Chirp runtime setting {declared.path} (read by functions within their cache period)",
            )
            for name, declared in PARAMETERS.items()
            if not declared.is_folder
        }
