"""AWS clients, one per service and process, all from one botocore session (each session costs tens of ms).

botocore directly, not boto3: boto3 adds nothing these clients use, and importing it (with s3transfer) costs a
cold start tens of milliseconds more."""

from __future__ import annotations

from functools import cache

import botocore.session
from botocore.config import Config
from botocore.loaders import Loader

from chirp.settings import Settings

# The services Chirp calls. A client of another is refused (UnknownServiceError): add it here.
SERVICES = (
    "apigatewaymanagementapi", "cloudwatch", "cognito-idp", "dynamodb", "kinesis", "s3", "secretsmanager", "sqs", "ssm",
)  # fmt: skip

# Fail fast: a Lambda stuck on a dead dependency costs its whole timeout.
_BOTO_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3})
# S3 presigned URLs must be SigV4: botocore otherwise signs us-east-1 URLs with SigV2, which does not bind
# the Content-Type (and other services reject "s3v4", so S3 alone gets it).
_S3_CONFIG = _BOTO_CONFIG.merge(Config(signature_version="s3v4"))


class _ChirpServicesLoader(Loader):
    """botocore's data loader, knowing which services exist from SERVICES: the stock one lists botocore's 400-odd
    service folders and stats each (about 900 listdir and 2,600 stat calls) to check a client's service, which
    was about 30 ms of the first client's creation in every cold start."""

    def list_available_services(self, type_name: str) -> list[str]:
        return list(SERVICES)


@cache
def session() -> botocore.session.Session:
    built = botocore.session.get_session()
    stock = built.get_component("data_loader")  # the session's own, for its search paths (AWS_DATA_PATH first)
    built.register_component(
        "data_loader", _ChirpServicesLoader(extra_search_paths=stock.search_paths, include_default_search_paths=False)
    )
    return built


@cache
def aws_client(service: str, settings: Settings):
    config = _S3_CONFIG if service == "s3" else _BOTO_CONFIG
    return session().create_client(service, region_name=settings.region, config=config)
