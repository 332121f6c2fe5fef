"""End-to-end fixtures: real Cognito users (sign-up + sign-in against the deployed user pool)."""

from __future__ import annotations

import pytest

from localstack.api_client import Accounts, User
from tests.conftest import eventually  # noqa: F401 - the e2e tests import it from here


@pytest.fixture(scope="session")
def accounts(cloud_env) -> Accounts:
    return Accounts(cloud_env)


@pytest.fixture(scope="session")
def new_user(accounts):
    """Signs a new user up and in, then creates their Chirp profile through the API."""

    def create(prefix: str = "u") -> User:
        return accounts.create(prefix)

    return create
