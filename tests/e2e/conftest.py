"""End-to-end fixtures: real Cognito users (sign-up + sign-in against the deployed user pool)."""

from __future__ import annotations

import time

import pytest

from localstack.api_client import Accounts, User


@pytest.fixture(scope="session")
def accounts(cloud_env) -> Accounts:
    return Accounts(cloud_env)


@pytest.fixture(scope="session")
def new_user(accounts):
    """Signs a new user up and in, then creates their Chirp profile through the API."""

    def create(prefix: str = "u") -> User:
        return accounts.create(prefix)

    return create


def eventually(check, timeout_s: float = 30.0, interval_s: float = 0.25):
    """Polls until check() returns a truthy value (asynchronous fan-out), or fails with the last value."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval_s)
