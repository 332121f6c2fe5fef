"""Integration fixtures: the domain wired to the local cloud's real DynamoDB, Kinesis and Redis."""

from __future__ import annotations

import os
import uuid

import pytest

from chirp import composition as service_module
from chirp.composition import Services, build_services
from chirp.settings import Settings, get_settings
from chirp.social.model import Profile
from tests.conftest import read_cloud_env


@pytest.fixture(scope="session")
def cloud_settings() -> Settings:
    # cloud.env carries the variables the deployed Lambdas get (tables, stream, queue, Redis, thresholds).
    values = read_cloud_env()
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
        services.social_store.create_profile(Profile(user_id=user_id, handle=user_id[3:15], display_name=user_id))
        return user_id

    return create


@pytest.fixture
def make_celebrity(services, make_user):
    """A user with exactly the celebrity threshold's followers; answers (celebrity, followers)."""

    def create() -> tuple[str, list[str]]:
        celebrity = make_user()
        followers = [make_user() for _ in range(services.timelines.thresholds.celebrity)]
        for follower in followers:
            services.social.follow(follower, celebrity)
        return celebrity, followers

    return create
