"""Integration fixtures: the domain wired to the local cloud's real DynamoDB, Kinesis and Redis."""

from __future__ import annotations

import os
import uuid

import pytest

from chirp import service as service_module
from chirp.models import Profile
from chirp.service import Services, build_services
from chirp.settings import Settings, get_settings
from infra.config import LOCAL
from tests.conftest import read_cloud_env


@pytest.fixture(scope="session")
def cloud_settings() -> Settings:
    env = read_cloud_env()
    redis_host, redis_port = env["CHIRP_REDIS_URL"].removeprefix("redis://").split("/")[0].split(":")
    values = {
        **{k: v for k, v in env.items() if k.startswith("AWS_")},
        "TWEETS_TABLE": env["CHIRP_OUTPUT_TweetsTable"],
        "SOCIAL_TABLE": env["CHIRP_OUTPUT_SocialTable"],
        "NEW_TWEETS_STREAM": env["CHIRP_OUTPUT_NewTweetsStream"],
        "FANOUT_QUEUE_URL": env["CHIRP_OUTPUT_FanoutQueueUrl"],
        "REDIS_HOST": redis_host,
        "REDIS_PORT": redis_port,
        "OPENSEARCH_ENDPOINT": env["CHIRP_OPENSEARCH_URL"].removeprefix("http://"),
        # The local stage's thresholds (infra/config.py): the deployed consumer sees the same tweets.
        "POPULAR_THRESHOLD": str(LOCAL.popular_threshold),
        "CELEBRITY_THRESHOLD": str(LOCAL.celebrity_threshold),
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    os.environ.update(values)  # handlers loaded by the tests read the same environment
    # Drop what an earlier test may have cached from another environment.
    get_settings.cache_clear()
    service_module.services.cache_clear()
    return Settings.from_env(values)


@pytest.fixture(scope="session")
def services(cloud_settings) -> Services:
    return build_services(cloud_settings)


@pytest.fixture
def make_user(services):
    def create() -> str:
        user_id = f"it-{uuid.uuid4().hex[:12]}"
        services.graph.social.create_profile(Profile(user_id=user_id, handle=user_id[3:15], display_name=user_id))
        return user_id

    return create
