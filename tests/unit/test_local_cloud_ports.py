"""The launcher's ports and Redis modes, read from the environment, and the emulator's workers' folders it clears
(localstack/ministack_cloud.py)."""

from __future__ import annotations

import pytest

from localstack import ministack_cloud
from localstack.ministack_cloud import CloudError, Ports


@pytest.fixture
def env(monkeypatch):
    for name in ("CHIRP_REDIS_PORT", "CHIRP_REDIS_CLUSTER_PORTS", "CHIRP_REDIS_CLUSTER_BUS_PORTS", "CHIRP_REDIS"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_given_only_the_redis_port_when_read_then_the_cluster_masters_follow_it_with_their_bus_ports(env):
    env.setenv("CHIRP_REDIS_PORT", "7000")
    ports = Ports.from_env()
    assert ports.redis_cluster == (7000, 7001, 7002)
    assert ports.redis_cluster_bus == (17000, 17001, 17002)


def test_given_explicit_cluster_ports_when_read_then_they_are_the_masters_and_their_bus_ports(env):
    env.setenv("CHIRP_REDIS_PORT", "7000")
    env.setenv("CHIRP_REDIS_CLUSTER_PORTS", "7000,7100, 7200")
    env.setenv("CHIRP_REDIS_CLUSTER_BUS_PORTS", "8000,8001,8002")
    ports = Ports.from_env()
    assert ports.redis_cluster == (7000, 7100, 7200)
    assert ports.redis_cluster_bus == (8000, 8001, 8002)


def test_given_cluster_ports_not_starting_at_the_redis_port_when_read_then_they_are_refused_naming_both(env):
    # The emulator's ElastiCache reports CHIRP_REDIS_PORT: a first master elsewhere was silently replaced by it
    env.setenv("CHIRP_REDIS_PORT", "7000")
    env.setenv("CHIRP_REDIS_CLUSTER_PORTS", "7001,7100,7200")
    with pytest.raises(CloudError, match=r"CHIRP_REDIS_CLUSTER_PORTS must start with CHIRP_REDIS_PORT \(7000\)"):
        Ports.from_env()


def test_given_a_high_redis_port_when_read_then_no_bus_port_is_guessed_and_cluster_mode_names_the_variable(env):
    env.setenv("CHIRP_REDIS_PORT", "60000")
    ports = Ports.from_env()
    assert ports.redis_cluster_bus is None
    assert [node.name for node in ministack_cloud.redis_servers(ports, "single")] == ["redis"]
    with pytest.raises(CloudError, match="CHIRP_REDIS_CLUSTER_BUS_PORTS"):
        ministack_cloud.redis_servers(ports, "cluster")


@pytest.mark.parametrize("raw", ["7000,7001", "7000,x,7002", "7000,7001,70000"])
def test_given_malformed_cluster_ports_when_read_then_the_error_names_the_variable(env, raw):
    env.setenv("CHIRP_REDIS_CLUSTER_PORTS", raw)
    with pytest.raises(CloudError, match="CHIRP_REDIS_CLUSTER_PORTS"):
        Ports.from_env()


def test_given_an_unknown_redis_mode_when_starting_then_it_is_refused_before_anything_starts(env):
    env.setenv("CHIRP_REDIS", "sentinel")
    with pytest.raises(CloudError, match="CHIRP_REDIS='sentinel'"):
        ministack_cloud.start_redis(Ports.from_env(), timeout=1)


@pytest.fixture
def stopped_ministack(tmp_path, monkeypatch):
    """A MiniStack of the launcher on a closed port, its state under tmp_path, with a stale worker's folder."""
    monkeypatch.setattr(ministack_cloud, "STATE_DIR", tmp_path)
    monkeypatch.setattr(ministack_cloud, "RUN_DIR", tmp_path / "run")
    monkeypatch.setattr(ministack_cloud, "port_open", lambda port: False)
    ministack = ministack_cloud.MiniStack(Ports.from_env())
    stale = tmp_path / "tmp" / "ministack-lambda-Chirp-local-Functionsapi-stale" / "layer_0"
    stale.mkdir(parents=True)
    (stale / "python.zip").write_bytes(b"x" * 1024)
    return ministack


def test_given_workers_folders_left_when_ministack_is_stopped_then_they_are_removed(stopped_ministack):
    stopped_ministack.stop()
    assert stopped_ministack.workers_dir.is_dir()
    assert list(stopped_ministack.workers_dir.iterdir()) == []


def test_given_workers_folders_left_by_a_killed_ministack_when_one_starts_then_they_are_removed(
    stopped_ministack, monkeypatch
):
    monkeypatch.setattr(ministack_cloud.MiniStack, "install", lambda self: None)
    _, env = stopped_ministack.command()
    assert env["TMPDIR"] == str(stopped_ministack.workers_dir)
    assert list(stopped_ministack.workers_dir.iterdir()) == []


def test_given_a_ministack_answering_on_the_port_when_cleared_then_its_workers_folders_stay(
    stopped_ministack, monkeypatch
):
    monkeypatch.setattr(ministack_cloud, "port_open", lambda port: True)
    stopped_ministack.clear_workers_dir()
    assert len(list(stopped_ministack.workers_dir.iterdir())) == 1
