"""Fault injection against the running local cloud (`make chaos`): servers are stopped and started by the
launcher (by PID, loopback only), Redis is flushed, the stream is fed replays and poison. Every wait is bounded.
The suite ends with the consistency auditor over every user it made."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable

import pytest

from chirp.composition import Services, build_services
from chirp.settings import Settings
from localstack.api_client import Accounts, User
from tests.conftest import ROOT, eventually  # noqa: F401 - the chaos tests import it from here

LAUNCHER = [sys.executable, str(ROOT / "localstack" / "ministack_cloud.py")]


@pytest.fixture(scope="session")
def services(cloud_env) -> Services:
    os.environ.update(cloud_env)  # boto3 finds the local cloud's endpoint and credentials there
    return build_services(Settings.from_env(cloud_env))


@pytest.fixture(scope="session")
def participants() -> list[User]:
    return []


@pytest.fixture(scope="session")
def new_user(cloud_env, participants) -> Callable[[str], User]:
    accounts = Accounts(cloud_env)

    def create(prefix: str = "chaos") -> User:
        participants.append(accounts.create(prefix))
        return participants[-1]

    return create


def launcher(action: str, server: str) -> None:
    subprocess.run([*LAUNCHER, action, server], check=True, timeout=240)


@pytest.fixture
def redis_servers(cloud_env) -> list[str]:
    """The launcher's names for every Redis server the cloud runs: a whole outage stops them all (one master of a
    cluster down leaves the others serving their slots, which is not the fault under test)."""
    return ["redis", "redis-2", "redis-3"] if cloud_env.get("REDIS_CLUSTER") == "true" else ["redis"]


@pytest.fixture
def stopped():
    """Stops a server for the test and always starts it again, whatever the test did."""
    taken: list[str] = []

    def stop(server: str) -> None:
        launcher("stop", server)
        taken.append(server)

    yield stop
    for server in taken:
        launcher("start", server)


@pytest.fixture(scope="session", autouse=True)
def audited_at_the_end(services, participants):
    """After every fault: each participant's home timeline is what DynamoDB says it must be."""
    yield
    for user in participants:  # a timeline the faults dropped is rebuilt on its owner's next read
        user.call("GET", "/timelines/home")
    report = services.auditor().audit([user.user_id for user in participants])
    assert report.clean, [f for f in report.findings]
