"""AWS clients, one per service and process, all from one botocore session (each session costs tens of ms).

botocore directly, not boto3: boto3 adds nothing these clients use, and importing it (with s3transfer) costs a
cold start tens of milliseconds more."""

from __future__ import annotations

from functools import cache

import botocore.session
from botocore.config import Config

from chirp.settings import Settings

# Fail fast: a Lambda stuck on a dead dependency costs its whole timeout.
_BOTO_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3})
# S3 presigned URLs must be SigV4: botocore otherwise signs us-east-1 URLs with SigV2, which does not bind
# the Content-Type (and other services reject "s3v4", so S3 alone gets it).
_S3_CONFIG = _BOTO_CONFIG.merge(Config(signature_version="s3v4"))


@cache
def session() -> botocore.session.Session:
    return botocore.session.get_session()


@cache
def aws_client(service: str, settings: Settings):
    config = _S3_CONFIG if service == "s3" else _BOTO_CONFIG
    return session().create_client(service, region_name=settings.region, config=config)
