"""The docker-free local cloud: MiniStack + redis-server + OpenSearch, and the CDK app deployed into it.

Usage: python localstack/ministack_cloud.py {up,down,status,deploy} | {stop,start} SERVER

Every server binds to 127.0.0.1, on a port read from the environment (see `Ports`), and writes its
log under `.local/logs/`. A server is started once and recorded in `.local/run/<name>.pid`; `up` run
again reuses what answers, and `down` stops exactly the process groups it recorded.
Standard library only: it runs before any venv exists.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import json
import os
import pwd
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATE_DIR = Path(os.environ.get("CHIRP_LOCAL_DIR", ROOT / ".local"))
LOG_DIR = STATE_DIR / "logs"
RUN_DIR = STATE_DIR / "run"
ENV_FILE = STATE_DIR / "cloud.env"
OUTPUTS_FILE = STATE_DIR / "outputs.json"
MINISTACK_VENV = STATE_DIR / "ministack-venv"
OPENSEARCH_VERSION = os.environ.get("CHIRP_OPENSEARCH_VERSION", "2.19.1")
OPENSEARCH_ARTIFACT = f"org.opensearch.distribution.integ-test-zip:opensearch:{OPENSEARCH_VERSION}:zip"
OPENSEARCH_USER = "chirp-opensearch"
REGION = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
STACK_NAME = "Chirp-local"
# The local stage's Mastodon domain (infra/config.py LOCAL.mastodon_domain; a test keeps the two equal): the
# host-root proxy sends it as Host, and MiniStack routes it through the stack's base path mapping.
MASTODON_DOMAIN = "mastodon.chirp.test"
# The stack output holding every Chirp setting the functions get, by variable (infra/stack.py: SETTINGS_OUTPUT).
SETTINGS_OUTPUT = "SettingsEnvironment"


class CloudError(Exception):
    """A problem the user can fix; printed without a stack trace."""


@dataclass(frozen=True)
class Ports:
    # Defaults avoid the well-known ports of a system redis/OpenSearch that may already run here.
    gateway: int
    redis: int
    opensearch: int
    opensearch_transport: int
    mastodon: int  # the host-root proxy serving the Mastodon API (default: the gateway's port + 1)
    # `make dev REDIS=cluster`: three masters, the first on `redis` (the port the emulator's ElastiCache reports),
    # each with a cluster bus port (default: its port + 10000).
    redis_cluster: tuple[int, int, int]
    redis_cluster_bus: tuple[int, int, int] | None  # None: a default would pass 65535; set the variable

    @classmethod
    def from_env(cls) -> Ports:
        def checked(name: str, raw: str) -> int:
            if not raw.isdigit() or not 0 < int(raw) < 65536:
                raise CloudError(f"{name}={raw!r} is not a TCP port number")
            return int(raw)

        def port(name: str, default: int) -> int:
            return checked(name, os.environ.get(name, str(default)))

        def three_ports(name: str, defaults: list[int]) -> tuple[int, int, int]:
            raw = os.environ.get(name) or ",".join(map(str, defaults))
            values = [checked(name, value.strip()) for value in raw.split(",")]
            if len(values) != 3:
                raise CloudError(f"{name}={raw!r}: three comma-separated ports, one per master")
            return values[0], values[1], values[2]

        gateway, redis = port("CHIRP_GATEWAY_PORT", 4566), port("CHIRP_REDIS_PORT", 6380)
        nodes = three_ports("CHIRP_REDIS_CLUSTER_PORTS", [redis, redis + 1, redis + 2])
        if nodes[0] != redis:  # the emulator's ElastiCache reports CHIRP_REDIS_PORT: the cluster is reached there
            raise CloudError(f"CHIRP_REDIS_CLUSTER_PORTS must start with CHIRP_REDIS_PORT ({redis}), not {nodes[0]}")
        bus = "CHIRP_REDIS_CLUSTER_BUS_PORTS"
        defaults = [node + 10_000 for node in nodes]
        return cls(
            gateway=gateway,
            redis=redis,
            opensearch=port("CHIRP_OPENSEARCH_PORT", 9201),
            opensearch_transport=port("CHIRP_OPENSEARCH_TRANSPORT_PORT", 9301),
            mastodon=port("CHIRP_MASTODON_PORT", gateway + 1),
            redis_cluster=nodes,
            redis_cluster_bus=three_ports(bus, defaults) if os.environ.get(bus) or max(defaults) < 65536 else None,
        )


def log(message: str) -> None:
    print(f"[localcloud] {message}", flush=True)


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def find_python312() -> str:
    candidates = [os.environ.get("CHIRP_PYTHON", ""), shutil.which("python3.12") or ""]
    candidates += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.12.*/bin/python3.12")))
    check = "import sys; assert sys.version_info[:2] == (3, 12)"
    for candidate in candidates:
        # A pyenv shim named python3.12 may still run another version: ask the interpreter itself.
        if candidate and subprocess.run([candidate, "-c", check], capture_output=True).returncode == 0:
            return candidate
    raise CloudError(
        "Python 3.12 not found (the Lambda runtime's version). Install it (e.g. `pyenv install 3.12`) "
        "or point CHIRP_PYTHON at a python3.12 binary."
    )


def require_tool(name: str, hint: str) -> str:
    path = shutil.which(name)
    if not path:
        raise CloudError(f"`{name}` not found. {hint}")
    return path


class Server:
    """A process started by this launcher and recorded by PID in its own process group."""

    def __init__(self, name: str, port: int):
        self.name, self.port = name, port
        self.pid_file = RUN_DIR / f"{name}.pid"
        self.log_file = LOG_DIR / f"{name}.log"

    def recorded_pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
            os.kill(pid, 0)
            return pid
        except (FileNotFoundError, ValueError, ProcessLookupError):
            return None

    def healthy(self) -> bool:
        raise NotImplementedError

    def running(self) -> bool:
        """Started by this launcher and answering (a PID file alone may be stale, its PID reused)."""
        return self.recorded_pid() is not None and self.healthy()

    def command(self) -> tuple[list[str], dict[str, str]]:
        raise NotImplementedError

    def run_as(self) -> str | None:
        """The user to run as, when not the caller (OpenSearch refuses to run as root)."""
        return None

    def ensure_running(self, timeout: float) -> None:
        running = self.recorded_pid()
        if running and self.healthy():
            log(f"{self.name}: already running on 127.0.0.1:{self.port} (reused)")
            return
        if running:
            raise CloudError(
                f"{self.name} (pid {running}) runs but does not answer on port {self.port}; "
                f"see {self.log_file}, or run `make down` and retry."
            )
        if port_open(self.port):
            raise CloudError(
                f"port {self.port} for {self.name} is in use by another process. "
                f"Stop it, or choose another port (see README: CHIRP_*_PORT variables)."
            )
        argv, env = self.command()
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        RUN_DIR.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as log_handle:
            process = subprocess.Popen(
                argv,
                env={**os.environ, **env},
                stdout=log_handle,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=STATE_DIR,
                start_new_session=True,
                user=self.run_as(),
            )
        self.pid_file.write_text(str(process.pid))
        started = time.monotonic()
        deadline = started + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self.pid_file.unlink(missing_ok=True)
                raise CloudError(f"{self.name} exited with code {process.returncode}; see {self.log_file}")
            if self.healthy():
                log(f"{self.name}: up on 127.0.0.1:{self.port} in {time.monotonic() - started:.1f}s")
                return
            time.sleep(0.3)
        self.stop()
        raise CloudError(f"{self.name} did not become healthy within {timeout:.0f}s; see {self.log_file}")

    def stop(self) -> None:
        pid = self.recorded_pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return
        # The server runs in a session of its own: its group holds it and every child (Lambda workers).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and _group_alive(pid):
            time.sleep(0.2)
        if _group_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        log(f"{self.name}: stopped (pid {pid})")


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


CLUSTER_DIR = STATE_DIR / "redis-cluster"  # the masters' cluster config files (forgotten at `down`)
REDIS_MODES = ("single", "cluster")
REDIS_NAMES = ("redis", "redis-2", "redis-3")  # the single server is the cluster's first master


def redis_reply(port: int, command: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
        sock.sendall(command + b"\r\n")
        return sock.recv(4096)


class Redis(Server):
    """One redis-server; with a cluster bus port, a master of the local Redis Cluster."""

    def __init__(self, name: str, port: int, cluster_bus: int | None = None):
        super().__init__(name, port)
        self.cluster_bus = cluster_bus

    def healthy(self) -> bool:
        try:
            return redis_reply(self.port, b"PING").startswith(b"+PONG")
        except OSError:
            return False

    def mode(self) -> str:
        """What the running server is (a cluster master answers CLUSTER INFO; a plain one refuses it)."""
        return "single" if redis_reply(self.port, b"CLUSTER INFO").startswith(b"-") else "cluster"

    def command(self) -> tuple[list[str], dict[str, str]]:
        binary = require_tool("redis-server", "Install it: `sudo apt-get install -y redis-server`.")
        argv = [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"]
        if self.cluster_bus is not None:
            CLUSTER_DIR.mkdir(parents=True, exist_ok=True)
            argv += ["--cluster-enabled", "yes", "--cluster-port", str(self.cluster_bus)]
            argv += ["--cluster-config-file", str(CLUSTER_DIR / f"nodes-{self.port}.conf")]
        return argv, {}


def redis_servers(ports: Ports, mode: str) -> list[Redis]:
    if mode == "single":
        return [Redis("redis", ports.redis)]
    if ports.redis_cluster_bus is None:
        raise CloudError("a cluster bus port would pass 65535: set CHIRP_REDIS_CLUSTER_BUS_PORTS (three ports)")
    return [Redis(*node) for node in zip(REDIS_NAMES, ports.redis_cluster, ports.redis_cluster_bus, strict=True)]


def running_redis_mode(ports: Ports) -> str | None:
    first = Redis("redis", ports.redis)
    return first.mode() if first.running() else None


def start_redis(ports: Ports, timeout: float) -> str:
    """Starts Redis as asked (CHIRP_REDIS=single|cluster; unset: as it runs, else single) and returns the mode. A
    Redis running in the other mode is restarted: it holds only what DynamoDB rebuilds."""
    asked = os.environ.get("CHIRP_REDIS", "")
    if asked not in ("", *REDIS_MODES):
        raise CloudError(f"CHIRP_REDIS={asked!r}: one of {', '.join(REDIS_MODES)} (make dev REDIS=cluster)")
    running = running_redis_mode(ports)
    mode = asked or running or "single"
    if running and running != mode:
        log(f"redis: running as {running}, asked for {mode}: restarting it (it holds only rebuildable data)")
        stop_redis(ports)
    nodes = redis_servers(ports, mode)
    for node in nodes:
        node.ensure_running(timeout=timeout)
    if mode == "cluster":
        form_cluster(nodes)
    return mode


def form_cluster(nodes: list[Redis]) -> None:
    if b"cluster_state:ok" in redis_reply(nodes[0].port, b"CLUSTER INFO"):
        return
    redis_cli = require_tool("redis-cli", "It comes with redis-server: `sudo apt-get install -y redis-tools`.")
    addresses = [f"127.0.0.1:{node.port}" for node in nodes]
    subprocess.run(
        [redis_cli, "--cluster", "create", *addresses, "--cluster-replicas", "0", "--cluster-yes"],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while not all(b"cluster_state:ok" in redis_reply(node.port, b"CLUSTER INFO") for node in nodes):
        if time.monotonic() > deadline:
            raise CloudError(f"the Redis Cluster on {', '.join(addresses)} did not reach cluster_state:ok in 30s")
        time.sleep(0.2)
    log(f"redis: cluster of {len(nodes)} masters on {', '.join(addresses)}")


def all_redis(ports: Ports) -> list[Redis]:
    """Every Redis this launcher may have started, whatever the mode: to list, stop, or start again by name (a
    master with a cluster config file rejoins its cluster)."""
    buses = ports.redis_cluster_bus or (None, None, None)
    return [
        Redis(name, port, bus if (CLUSTER_DIR / f"nodes-{port}.conf").exists() else None)
        for name, port, bus in zip(REDIS_NAMES, ports.redis_cluster, buses, strict=True)
    ]


def stop_redis(ports: Ports) -> None:
    for node in all_redis(ports):
        node.stop()
    shutil.rmtree(CLUSTER_DIR, ignore_errors=True)


class OpenSearch(Server):
    def __init__(self, port: int, transport_port: int, *, keep_data: Callable[[], bool]):
        super().__init__("opensearch", port)
        self.transport_port, self.keep_data = transport_port, keep_data
        self.home = STATE_DIR / f"opensearch-{OPENSEARCH_VERSION}"
        self.data_dir = STATE_DIR / "opensearch-data"
        self.tmp_dir = STATE_DIR / "opensearch-tmp"

    def healthy(self) -> bool:
        return http_ok(f"http://127.0.0.1:{self.port}/_cluster/health?wait_for_status=yellow&timeout=1s")

    def install(self) -> None:
        if (self.home / "bin" / "opensearch").exists():
            return
        require_tool("java", "Install a JDK 17+: `sudo apt-get install -y openjdk-17-jre-headless`.")
        archive = Path.home() / ".m2/repository/org/opensearch/distribution/integ-test-zip/opensearch"
        archive = archive / OPENSEARCH_VERSION / f"opensearch-{OPENSEARCH_VERSION}.zip"
        if not archive.exists():
            mvn = require_tool("mvn", "Install Maven: `sudo apt-get install -y maven`.")
            log(f"opensearch: fetching {OPENSEARCH_ARTIFACT} from Maven Central (cached in ~/.m2)")
            subprocess.run(
                [mvn, "-q", "dependency:get", f"-Dartifact={OPENSEARCH_ARTIFACT}", "-Dtransitive=false"],
                check=True,
            )
        STATE_DIR.mkdir(parents=True, exist_ok=True)
        shutil.unpack_archive(archive, STATE_DIR)
        for script in (self.home / "bin").iterdir():
            script.chmod(0o755)

    def run_as(self) -> str | None:
        if os.geteuid() != 0:
            return None
        try:
            pwd.getpwnam(OPENSEARCH_USER)
        except KeyError:
            log(f"opensearch: refuses to run as root; creating system user {OPENSEARCH_USER}")
            subprocess.run(
                ["useradd", "--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin",
                 OPENSEARCH_USER],
                check=True,
            )  # fmt: skip
        for folder in (self.home, self.data_dir, self.tmp_dir, LOG_DIR / "opensearch"):
            folder.mkdir(parents=True, exist_ok=True)
            shutil.chown(folder, OPENSEARCH_USER, OPENSEARCH_USER)
            for path in folder.rglob("*"):
                shutil.chown(path, OPENSEARCH_USER, OPENSEARCH_USER)
        return OPENSEARCH_USER

    def command(self) -> tuple[list[str], dict[str, str]]:
        self.install()
        # A fresh local cloud begins empty (documents from an earlier one would point at tweets that no
        # longer exist), while OpenSearch restarted beside a running MiniStack keeps its documents: their
        # tweets are still there and would not be indexed again.
        if not self.keep_data():
            shutil.rmtree(self.data_dir, ignore_errors=True)
        data = self.data_dir
        argv = [
            str(self.home / "bin" / "opensearch"),
            "-E", "discovery.type=single-node",
            "-E", "network.host=127.0.0.1",
            "-E", f"http.port={self.port}",
            "-E", f"transport.port={self.transport_port}",
            "-E", f"path.data={data}",
            "-E", f"path.logs={LOG_DIR / 'opensearch'}",
            # A dev node shares a disk with everything else: past 90% full it would stop allocating shards
            # and every search would answer 503. Disk space is the machine's problem here, not the index's.
            "-E", "cluster.routing.allocation.disk.threshold_enabled=false",
        ]  # fmt: skip
        heap = os.environ.get("CHIRP_OPENSEARCH_HEAP", "512m")
        # This distribution ships no JDK: point it at the machine's (OpenSearch 2.x runs on JDK 17).
        java = Path(require_tool("java", "Install a JDK 17+: `sudo apt-get install -y openjdk-17-jre-headless`."))
        java_home = os.environ.get("JAVA_HOME") or str(java.resolve().parent.parent)
        env = {"OPENSEARCH_JAVA_OPTS": f"-Xms{heap} -Xmx{heap}", "OPENSEARCH_JAVA_HOME": java_home}
        return argv, {**env, "OPENSEARCH_TMPDIR": str(self.tmp_dir)}


class MiniStack(Server):
    def __init__(self, ports: Ports):
        super().__init__("ministack", ports.gateway)
        self.ports = ports
        # Its TMPDIR: a folder per Lambda worker (the code and layers extracted, about 40 MB each), which it
        # removes when it retires a worker but not when it is stopped, so every stop left them (6 GB on a
        # machine after a few weeks of `make dev` and `make down`).
        self.workers_dir = STATE_DIR / "tmp"

    def stop(self) -> None:
        super().stop()
        self.clear_workers_dir()

    def clear_workers_dir(self) -> None:
        """Empties the workers' folder, unless a MiniStack answers on the port (one not recorded here would be
        using it)."""
        if port_open(self.port):
            return
        shutil.rmtree(self.workers_dir, ignore_errors=True)
        self.workers_dir.mkdir(parents=True, exist_ok=True)

    def healthy(self) -> bool:
        return http_ok(f"http://127.0.0.1:{self.port}/_ministack/health")

    def install(self) -> None:
        marker = MINISTACK_VENV / ".requirements"
        requirements = (ROOT / "localstack" / "requirements.txt").read_text()
        if marker.exists() and marker.read_text() == requirements:
            return
        log("ministack: creating its venv (Python 3.12, as the Lambda runtime)")
        subprocess.run([find_python312(), "-m", "venv", str(MINISTACK_VENV)], check=True)
        pip = [str(MINISTACK_VENV / "bin" / "pip"), "install", "-q", "--disable-pip-version-check"]
        subprocess.run([*pip, "-r", str(ROOT / "localstack" / "requirements.txt")], check=True)
        marker.write_text(requirements)

    def command(self) -> tuple[list[str], dict[str, str]]:
        self.install()
        env = {
            "GATEWAY_PORT": str(self.port),
            "BIND_HOST": "127.0.0.1",
            "MINISTACK_HOST": "127.0.0.1",
            "LAMBDA_EXECUTOR": "local",
            # Chirp uses neither; both would listen on fixed ports on every interface.
            "IOT_MTLS_ENABLED": "0",
            "SFTP_ENABLED": "0",
            "REDIS_HOST": "127.0.0.1",
            "REDIS_PORT": str(self.ports.redis),
            "MINISTACK_OPENSEARCH_ENDPOINT": f"127.0.0.1:{self.ports.opensearch}",
            "MINISTACK_REGION": REGION,
            "S3_DATA_DIR": str(STATE_DIR / "ministack-s3"),
            "TMPDIR": str(self.workers_dir),
        }
        self.clear_workers_dir()  # what a MiniStack killed before left (stopped otherwise than by `stop`)
        return [str(MINISTACK_VENV / "bin" / "ministack")], env


class HostRootProxy(Server):
    """Serves the Mastodon API's custom domain at the root of a loopback port (localstack/host_root_proxy.py):
    Mastodon clients need an API at a host root, and `*.test` names resolve nowhere."""

    def __init__(self, ports: Ports):
        super().__init__("mastodon-proxy", ports.mastodon)
        self.upstream = ports.gateway

    def healthy(self) -> bool:
        return http_ok(f"http://127.0.0.1:{self.port}/_proxy/health")

    def command(self) -> tuple[list[str], dict[str, str]]:
        script = ROOT / "localstack" / "host_root_proxy.py"
        argv = [sys.executable, str(script), "--port", str(self.port), "--upstream-port", str(self.upstream)]
        return [*argv, "--domain", MASTODON_DOMAIN, "--cloud-env", str(ENV_FILE)], {}


def servers(ports: Ports) -> list[Server]:
    """Every server but Redis's (start_redis, stop_redis: one or three of them)."""
    ministack = MiniStack(ports)
    return [
        OpenSearch(ports.opensearch, ports.opensearch_transport, keep_data=ministack.running),
        ministack,
        HostRootProxy(ports),
    ]


def aws_env(ports: Ports) -> dict[str, str]:
    endpoint = f"http://127.0.0.1:{ports.gateway}"
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ENDPOINT_URL_S3": endpoint,
        "EDGE_PORT": str(ports.gateway),
        "LOCALSTACK_HOSTNAME": "127.0.0.1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "CDK_DEFAULT_ACCOUNT": "000000000000",
        "CDK_DEFAULT_REGION": REGION,
        "CHIRP_STAGE": "local",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }


def deploy(ports: Ports) -> None:
    cdklocal = ROOT / "node_modules" / ".bin" / "cdklocal"
    if not cdklocal.exists():
        raise CloudError("cdklocal is missing: run `make install` (npm ci) first.")
    env = {**os.environ, **aws_env(ports)}
    env["PATH"] = f"{ROOT / '.venv' / 'bin'}{os.pathsep}{env['PATH']}"
    started = time.monotonic()
    quiet = ["--progress", "events", "--ci"]
    subprocess.run([str(cdklocal), "bootstrap", *quiet], cwd=ROOT, env=env, check=True)
    # The running Redis decides the shard count: a cluster's functions must route by slot.
    shards = ["-c", "redis_shards=3"] if running_redis_mode(ports) == "cluster" else []
    subprocess.run(
        [str(cdklocal), "deploy", STACK_NAME, "--require-approval", "never", *quiet, *shards,
         "--outputs-file", str(OUTPUTS_FILE)],
        cwd=ROOT, env=env, check=True,
    )  # fmt: skip
    log(f"deployed {STACK_NAME} in {time.monotonic() - started:.1f}s")
    apply_reserved_concurrency(ports)
    write_env_file(ports)


def apply_reserved_concurrency(ports: Ports) -> None:
    """MiniStack's CloudFormation ignores a function's ReservedConcurrentExecutions, though its Lambda enforces the
    setting made through the API: set it (or remove it) as the deployed template declares, so that load is shed
    locally where it is on AWS. Uses the project venv's boto3 (deploying needs `make install` anyway)."""
    import boto3

    env = aws_env(ports)
    clients = {
        service: boto3.client(
            service,
            endpoint_url=env["AWS_ENDPOINT_URL"],
            region_name=REGION,
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        )
        for service in ("cloudformation", "lambda")
    }
    template = json.loads((ROOT / "cdk.out" / f"{STACK_NAME}.template.json").read_text())
    declared = {
        logical_id: resource.get("Properties", {}).get("ReservedConcurrentExecutions")
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function"
    }
    reserved = {}
    for resource in clients["cloudformation"].describe_stack_resources(StackName=STACK_NAME)["StackResources"]:
        if resource["LogicalResourceId"] not in declared:
            continue
        name, value = resource["PhysicalResourceId"], declared[resource["LogicalResourceId"]]
        if value is None:
            with contextlib.suppress(clients["lambda"].exceptions.ResourceNotFoundException):
                clients["lambda"].delete_function_concurrency(FunctionName=name)
        else:
            clients["lambda"].put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=int(value))
            reserved[resource["LogicalResourceId"]] = int(value)
    log(f"reserved concurrency (which MiniStack's CloudFormation skips): {reserved}")


def write_env_file(ports: Ports) -> dict[str, str]:
    """Record where everything answers, for the tests, benchmarks and the user's shell."""
    outputs = json.loads(OUTPUTS_FILE.read_text())[STACK_NAME]
    # The variables chirp.settings reads, as the deployed Lambdas get them (names and values from the stack):
    # tools run from a shell (the auditor, benchmarks, integration tests) see the same deployment.
    settings = json.loads(outputs.pop(SETTINGS_OUTPUT))
    api_url = f"http://127.0.0.1:{ports.gateway}/_aws/execute-api/{outputs['RestApiId']}/{outputs['RestApiStage']}"
    values = {
        **aws_env(ports),
        "CHIRP_API_URL": api_url,
        # The Mastodon API at a host root (the proxy in front of the custom domain): where clients point.
        "CHIRP_MASTODON_URL": f"http://127.0.0.1:{ports.mastodon}",
        "CHIRP_REDIS_URL": f"redis://127.0.0.1:{ports.redis}/0",
        "CHIRP_OPENSEARCH_URL": f"http://127.0.0.1:{ports.opensearch}",
        **{f"CHIRP_OUTPUT_{key}": str(value) for key, value in outputs.items()},
        **settings,
        "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon here
    }
    ENV_FILE.write_text("".join(f"export {key}={shlex.quote(value)}\n" for key, value in values.items()))
    return values


def cmd_up(ports: Ports) -> None:
    started = time.monotonic()
    timeout = float(os.environ.get("CHIRP_START_TIMEOUT", "180"))
    start_redis(ports, timeout)
    for server in servers(ports):
        server.ensure_running(timeout=timeout)
    deploy(ports)
    values = write_env_file(ports)
    log(f"local cloud ready in {time.monotonic() - started:.1f}s")
    log(f"API URL: {values['CHIRP_API_URL']}/")
    log(f"try: curl {values['CHIRP_API_URL']}/health")
    log(f"Mastodon API (point Mastodon.py or toot here): {values['CHIRP_MASTODON_URL']}")
    log(f"environment for tests and shells: source {ENV_FILE}")


def cmd_down(ports: Ports) -> None:
    for server in reversed(servers(ports)):
        server.stop()
    stop_redis(ports)


def cmd_status(ports: Ports) -> None:
    started_redis = [node for node in all_redis(ports) if node.name == "redis" or node.recorded_pid()]
    for server in [*started_redis, *servers(ports)]:
        pid = server.recorded_pid()
        state = "healthy" if pid and server.healthy() else ("unhealthy" if pid else "stopped")
        log(f"{server.name:<11} port {server.port:<6} pid {pid or '-':<8} {state}")


def one_server(ports: Ports, name: str | None) -> Server:
    by_name = {server.name: server for server in [*all_redis(ports), *servers(ports)]}
    if name not in by_name:
        raise CloudError(f"name one server: {', '.join(by_name)}")
    return by_name[name]


def cmd_stop(ports: Ports, name: str | None) -> None:
    """Stops one server, the others running on: how the fault-injection suite (make chaos) takes it away."""
    one_server(ports, name).stop()


def cmd_start(ports: Ports, name: str | None) -> None:
    """Starts one stopped server again, without a deploy (Redis comes back empty; OpenSearch with its data)."""
    one_server(ports, name).ensure_running(timeout=float(os.environ.get("CHIRP_START_TIMEOUT", "180")))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("action", choices=["up", "down", "status", "deploy", "stop", "start"])
    parser.add_argument(
        "server", nargs="?", help="stop/start: the one server (redis[-2|-3], opensearch, ministack, mastodon-proxy)"
    )
    args = parser.parse_args()
    try:
        ports = Ports.from_env()
        if args.action in ("stop", "start"):
            {"stop": cmd_stop, "start": cmd_start}[args.action](ports, args.server)
        else:
            {"up": cmd_up, "down": cmd_down, "status": cmd_status, "deploy": deploy}[args.action](ports)
    except CloudError as error:
        log(f"error: {error}")
        return 1
    except subprocess.CalledProcessError as error:
        log(f"error: `{' '.join(map(str, error.cmd))}` failed with exit code {error.returncode}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
