"""Cold starts of the Lambda functions, as Lambda runs them.

1. Import + init of each function's deployed artifact, in the Lambda environment: the unzipped assets of the AWS
   stage (prod, synthesized by the benchmark into .local/cold-start/cdk.out-prod: its layers are files, as Lambda on
   AWS runs them), and in the same runs, labelled, the local stage's (`make dev` leaves them in cdk.out/: its layers'
   pure-Python packages in zips, infra/config.py's zipped_layers), laid out as Lambda does (the function's code as
   the task root; its layers merged into one /opt, in order, later layers overwriting; the runtime's boto3 and
   botocore after them), on a bare Python 3.12 (`-S`: none of the project venv's packages), with Lambda's variables
   (`LAMBDA_TASK_ROOT`, `AWS_EXECUTION_ENV`, ... and the function's own environment as deployed in the local cloud).
   Each run is a fresh process that imports the handler (Lambda's init phase) and then invokes it once with a
   harmless event (its first invoke: what the composition builds lazily), against the same interpreter running `pass`
   in the same run. Plus where the init time goes (`-X importtime`, self time per package, once).
2. First invoke in the local cloud: for each deployed function (infra/catalog.py's functions, matched by
   their description), force a cold start (update_function_configuration with a new BENCH_NONCE variable,
   which makes the emulator start a new environment), time `invoke`, then time warm invokes.
   Events are harmless: API functions get GET /health (the api function answers it 404); the Kinesis and
   SQS consumers one unparseable record each, which they log and skip (an empty Records list would make
   Powertools' batch processor raise); the token authorizer a bearer token granted for the run (and revoked at
   its end), which it looks up and allows, as for a client's request (a refusal, raised as Lambda authorizers
   answer 401, would make MiniStack restart the worker: every invoke a cold one); the S3 consumer an empty
   Records list; the scheduled relay a
   scheduled event (it re-publishes any tweet stuck unpublished, which is idempotent); the deploy-time
   search schema a CloudFormation Delete (which leaves the index alone) answered to a token MiniStack
   never issued, and drops.
   BENCH_NONCE is removed again at the end (so each function's next start is cold once more).
   Baselines in the same runs, through the same worker path: two functions the benchmark creates and deletes again,
   whose handler returns None: one without layers (the emulator's own cold start: a fresh folder, the code unzipped,
   its interpreter started, its instrumentation imported), one with the layers every Chirp function has, unused
   (plus their extraction), one with the same layers deflated (as CDK zips a folder asset: the build before they
   were stored archives), and one with the same layers as they were built before their pure-Python packages went
   into one zip each (the zips extracted into python/: the same modules as thousands of files); the variants are
   published for the run and deleted again. What a Chirp function takes beyond the second is Chirp's: its init and
   first invoke.

Usage: .venv/bin/python bench/cold_start.py [--runs 5] [--cloud-runs 3] [--skip-cloud] [--only api,health]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
import zipfile
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

import boto3
import cloud
import paths
import report
import stats
from report import table
from stats import median

from infra.bundling import LAMBDA_SYS_PATH, RUNTIME_PACKAGES, SITE_PACKAGES
from infra.catalog import (
    FUNCTIONS,
    AuthorizerTrigger,
    DeployTrigger,
    FunctionSpec,
    KinesisTrigger,
    ResolverRoutes,
    ScheduleTrigger,
    SqsTrigger,
)

NAME = "cold_start"
WARM_INVOKES = 3  # per cold start
CDK_OUT = paths.ROOT / "cdk.out"
TEMPLATE = "Chirp-local.template.json"
LAYOUTS = paths.ROOT / ".local" / "cold-start"  # merged /opt per set of layers (hard links into cdk.out)
AWS_STAGE = "prod"
AWS_CDK_OUT = LAYOUTS / f"cdk.out-{AWS_STAGE}"
TARGET_MS = {"health": 300, "transcoder": 300, "indexer": 300}  # issue 12; every other function: 450
DEFAULT_TARGET_MS = 450

# Run by a bare interpreter (-S -E): sys.path as Lambda's python3.12 runtime builds it (the layers' .pth files
# processed: their zips), then the handler is imported (init) and invoked once with the event (first invoke).
# Times from after the interpreter's start.
LAMBDA_CHILD = (
    """
import importlib, json, os, sys, time
started, cpu_started = time.perf_counter(), time.process_time()
task, opt, runtime, handler, event_file = sys.argv[1:6]
"""
    + LAMBDA_SYS_PATH
    + """
os.chdir(task)
module_name, function_name = handler.rsplit(".", 1)
function = getattr(importlib.import_module(module_name), function_name)
initialized, cpu_initialized = time.perf_counter(), time.process_time()

class Context:
    function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
    function_version = "$LATEST"
    memory_limit_in_mb = int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:" + function_name
    aws_request_id = "cold-start-bench"
    log_group_name = os.environ["AWS_LAMBDA_LOG_GROUP_NAME"]
    log_stream_name = "bench"
    def get_remaining_time_in_millis(self):
        return 30000

with open(event_file) as f:
    event = json.load(f)
try:
    function(event, Context())
    outcome = "answered"
except Exception as error:  # a function's way to refuse (an authorizer's 401) is an answer too
    outcome = "raised " + type(error).__name__
invoked = time.perf_counter()
print(json.dumps({"init_ms": (initialized - started) * 1000, "init_cpu_ms": (cpu_initialized - cpu_started) * 1000,
                  "first_invoke_ms": (invoked - initialized) * 1000, "outcome": outcome}))
"""
)


def lambda_python() -> str:
    """The plain CPython 3.12 under the venv (the local cloud's functions run on the same build)."""
    return getattr(sys, "_base_executable", sys.executable)


def wall_ms(cmd: list[str], env: dict[str, str], cwd) -> tuple[float, str, str]:
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env, cwd=cwd, timeout=120)
    elapsed = (time.perf_counter() - started) * 1000
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:3])} failed: {done.stderr[-2000:]}")
    return elapsed, done.stdout, done.stderr


def link_tree(source: Path, target: Path) -> None:
    """Hard-links source's files into target, replacing what is there (a later layer wins, as in /opt)."""

    def link(src, dst):
        if os.path.lexists(dst):
            os.unlink(dst)
        os.link(src, dst)

    shutil.copytree(source, target, copy_function=link, dirs_exist_ok=True)


def merged_opt(layer_dirs: list[Path]) -> Path:
    """/opt as Lambda extracts the function's layers into it, in order; asset folders are named by their
    content's hash, so one merge serves every run until a layer changes."""
    folder = LAYOUTS / "-".join(d.name.removeprefix("asset.")[:12] for d in layer_dirs)
    if not (folder / "complete").exists():
        shutil.rmtree(folder, ignore_errors=True)
        for layer in layer_dirs:
            link_tree(layer, folder / "opt")
        (folder / "complete").touch()
    return folder / "opt"


def runtime_dir() -> Path:
    """The runtime's own packages (boto3, botocore and their dependencies), from the venv, alone on one path."""
    import boto3 as runtime_boto3

    folder = LAYOUTS / "runtime"
    folder.mkdir(parents=True, exist_ok=True)
    site = Path(runtime_boto3.__file__).parent.parent
    for name in RUNTIME_PACKAGES:
        link = folder / name
        if not link.exists():
            link.symlink_to(site / name)
    return folder


def synth_aws_stage() -> Path:
    """The AWS stage's cdk.out, synthesized here with its assets bundled (as `make synth-aws` does; an asset
    folder already there, named by its hash, is not built again)."""
    from infra.app import build_app

    # The asset paths in the template's metadata, as the CLI asks for them (artifacts reads them).
    context = {**json.loads((paths.ROOT / "cdk.json").read_text())["context"], "aws:cdk:enable-asset-metadata": True}
    app, _ = build_app(AWS_STAGE, context=context, outdir=str(AWS_CDK_OUT))
    app.synth()
    return AWS_CDK_OUT


def extracted(asset: Path) -> Path:
    """An asset as a folder: a folder asset as it is, an archive (a zipped layer's, infra/bundling.py
    layer_folder) extracted once, as Lambda extracts it (named by its hash: one extraction serves every run)."""
    if asset.is_dir():
        return asset
    folder, complete = LAYOUTS / "extracted" / asset.stem, LAYOUTS / "extracted" / f"{asset.stem}.complete"
    if not complete.exists():
        shutil.rmtree(folder, ignore_errors=True)
        with zipfile.ZipFile(asset) as archive:
            archive.extractall(folder)
        complete.touch()
    return folder


def artifacts(cdk_out: Path, template_name: str = TEMPLATE) -> dict[str, dict]:
    """catalog name -> its artifact: the code folder, handler and layer folders in a synthesized cdk.out."""
    template = cdk_out / template_name
    if not template.exists():
        raise SystemExit(f"{template} is missing: run `make dev` (or `make deploy`) first")
    resources = json.loads(template.read_text())["Resources"]
    asset = {key: cdk_out / r["Metadata"]["aws:asset:path"] for key, r in resources.items()
             if "aws:asset:path" in r.get("Metadata", {})}  # fmt: skip
    found = {}
    for spec in FUNCTIONS:
        for key, resource in resources.items():
            props = resource["Properties"]
            if resource["Type"] == "AWS::Lambda::Function" and props.get("Description") == spec.description:
                found[spec.name] = {
                    "code": asset[key],
                    "handler": props["Handler"],
                    "memory_mb": props.get("MemorySize", 128),
                    "layers": [extracted(asset[layer["Ref"]]) for layer in props.get("Layers", [])],
                }
    return found


def lambda_client(env: dict[str, str]):
    return boto3.client(
        "lambda",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )


def lambda_env(spec: FunctionSpec, artifact: dict, deployed_name: str, client, cloud_env: dict) -> dict[str, str]:
    """What Lambda gives the process: its own variables, the credentials and endpoint (MiniStack injects
    AWS_ENDPOINT_URL), and the function's environment as deployed."""
    variables = client.get_function_configuration(FunctionName=deployed_name).get("Environment", {})
    variables = {k: v for k, v in variables.get("Variables", {}).items() if k != "BENCH_NONCE"}
    base = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": str(artifact["code"]),
        "LAMBDA_RUNTIME_DIR": str(runtime_dir()),
        "_HANDLER": artifact["handler"],
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "AWS_LAMBDA_FUNCTION_NAME": deployed_name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(artifact["memory_mb"]),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{deployed_name}",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_REGION": cloud_env["AWS_DEFAULT_REGION"],
        "AWS_DEFAULT_REGION": cloud_env["AWS_DEFAULT_REGION"],
        "AWS_ACCESS_KEY_ID": cloud_env["AWS_ACCESS_KEY_ID"],
        "AWS_SECRET_ACCESS_KEY": cloud_env["AWS_SECRET_ACCESS_KEY"],
        "AWS_ENDPOINT_URL": cloud_env["AWS_ENDPOINT_URL"],
    }
    return {**base, **variables}


def package_self_ms(stderr: str, top: int = 6) -> list[dict]:
    """`-X importtime` self time summed per top-level package (what to defer or drop)."""
    totals: dict[str, int] = defaultdict(int)
    for line in stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+\d+ \| \s*(\S+)", line)
        if match:
            totals[match.group(2).split(".")[0]] += int(match.group(1))
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])[:top]
    return [{"package": name, "self_ms": round(us / 1000, 1)} for name, us in ranked]


def artifact_times(runs: int, only: set[str] | None, before: Path | None) -> tuple[float, list[dict]]:
    """Every function's init and first invoke, for the AWS stage's artifact, the local stage's (cdk.out) and, with
    `before`, another build's local artifacts too, interleaved in the same runs (all with the functions' variables
    as deployed here: the same names and settings)."""
    env = cloud.cloud_env()
    client = lambda_client(env)
    names = deployed_functions(client)
    builds = {
        "aws": artifacts(synth_aws_stage(), f"Chirp-{AWS_STAGE}.template.json"),
        "local": artifacts(CDK_OUT),
        **({"before": artifacts(before.resolve())} if before else {}),
    }
    specs = [s for s in sorted(FUNCTIONS, key=lambda s: s.name) if s.name in names and s.name in builds["aws"]]
    specs = [s for s in specs if only is None or s.name in only]
    python = lambda_python()
    LAYOUTS.mkdir(parents=True, exist_ok=True)
    envs, commands = {}, {}
    for spec in specs:
        event_file = LAYOUTS / f"event-{spec.name}.json"
        event_file.write_text(json.dumps(harmless_event(spec, env["AWS_ENDPOINT_URL"])[1]))
        for build, found in builds.items():
            if spec.name not in found:  # a function the build before did not have
                continue
            artifact = found[spec.name]
            envs[spec.name, build] = lambda_env(spec, artifact, names[spec.name], client, env)
            commands[spec.name, build] = [
                "-c", LAMBDA_CHILD, str(artifact["code"]), str(merged_opt(artifact["layers"])), str(runtime_dir()),
                artifact["handler"], str(event_file),
            ]  # fmt: skip
    # Once, unmeasured but for its breakdown (and the disk cache warm, as on a warm Lambda host).
    breakdown = {}
    for key, command in commands.items():
        _, _, stderr = wall_ms([python, "-S", "-E", "-X", "importtime", *command], envs[key], "/")
        breakdown[key] = package_self_ms(stderr)
    baseline, samples = [], {key: defaultdict(list) for key in commands}
    for _ in range(runs):
        baseline.append(wall_ms([python, "-S", "-E", "-c", "pass"], envs[specs[0].name, "aws"], "/")[0])
        for key, command in commands.items():
            elapsed, out, _ = wall_ms([python, "-S", "-E", *command], envs[key], "/")
            times = json.loads(out.strip().splitlines()[-1])
            samples[key]["init"].append(times["init_ms"])
            samples[key]["init_cpu"].append(times["init_cpu_ms"])
            samples[key]["first_invoke"].append(times["first_invoke_ms"])
            samples[key]["init_and_first_invoke"].append(times["init_ms"] + times["first_invoke_ms"])
            samples[key]["process"].append(elapsed)
            samples[key]["outcome"].append(times["outcome"])

    def summary(key) -> dict:
        return {
            "init_ms": round(median(samples[key]["init"]), 1),
            "init_cpu_ms": round(median(samples[key]["init_cpu"]), 1),
            "first_invoke_ms": round(median(samples[key]["first_invoke"]), 1),
            "init_and_first_invoke_ms": round(median(samples[key]["init_and_first_invoke"]), 1),
            "process_ms": round(median(samples[key]["process"]), 1),
            "init_runs_ms": [round(v, 1) for v in samples[key]["init"]],
            "first_invoke_outcomes": dict(Counter(samples[key]["outcome"])),
            "self_ms_by_package": breakdown[key],
        }

    results = []
    for spec in specs:
        now = summary((spec.name, "aws"))
        target = TARGET_MS.get(spec.name, DEFAULT_TARGET_MS)
        result = {"function": spec.name, **now, "target_ms": target, "meets_target": now["init_ms"] <= target}
        result["local"] = summary((spec.name, "local"))
        result["local_over_aws"] = round(result["local"]["init_ms"] / now["init_ms"], 2)
        if (spec.name, "before") in commands:
            result["before"] = summary((spec.name, "before"))
            result["before_over_now"] = round(result["before"]["init_ms"] / now["init_ms"], 2)
            result["before_over_now_with_first_invoke"] = round(
                result["before"]["init_and_first_invoke_ms"] / now["init_and_first_invoke_ms"], 2
            )
        results.append(result)
    return median(baseline), results


# --- the local cloud --------------------------------------------------------------------------------------


def api_event(path: str = "/health") -> dict:
    return {
        "resource": path,
        "path": path,
        "httpMethod": "GET",
        "headers": {"Accept": "application/json"},
        "multiValueHeaders": {"Accept": ["application/json"]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "requestId": f"bench-{uuid.uuid4().hex[:12]}",
            "stage": "v1",
            "resourcePath": path,
            "httpMethod": "GET",
            "path": f"/v1{path}",
            "accountId": "000000000000",
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": None,
        "isBase64Encoded": False,
    }


BENCH_TOKEN = f"bench-{uuid.uuid4().hex}"  # the token authorizer's, granted for the run by bench_grant


@contextlib.contextmanager
def bench_grant():
    """BENCH_TOKEN granted in the local cloud (to a user that does not exist: the authorizer only looks the token
    up) for the run, revoked at its end."""
    from chirp.composition import build_services
    from chirp.oauth.model import AccessGrant
    from chirp.oauth.service import token_hash

    store = build_services(cloud.cloud_settings()).client_store
    grant = AccessGrant(user_id="bench-cold-start", client_id="bench", scopes=["read"], created_at_ms=0)
    store.put_grant(token_hash(BENCH_TOKEN), grant)
    try:
        yield
    finally:
        store.delete_grant(token_hash(BENCH_TOKEN))


def harmless_event(spec: FunctionSpec, gateway: str) -> tuple[str, dict]:
    unreadable = base64.b64encode(b"cold-start benchmark: not a tweet").decode()
    if spec.triggered_by(ResolverRoutes):
        return "GET /health", api_event()
    if spec.triggered_by(KinesisTrigger):
        record = {
            "eventSource": "aws:kinesis",
            "eventID": "shardId-000000000000:bench",
            "eventName": "aws:kinesis:record",
            "awsRegion": "us-east-1",
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": "bench",
                "sequenceNumber": "1",
                "approximateArrivalTimestamp": time.time(),
                "data": unreadable,
            },
        }
        return "1 unparseable Kinesis record", {"Records": [record]}
    if spec.triggered_by(SqsTrigger):
        record = {
            "messageId": f"bench-{uuid.uuid4()}",
            "receiptHandle": "bench",
            "body": "cold-start benchmark: not a follower page",
            "attributes": {"ApproximateReceiveCount": "1"},
            "messageAttributes": {},
            "md5OfBody": "",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:bench",
            "awsRegion": "us-east-1",
        }
        return "1 unparseable SQS message", {"Records": [record]}
    if spec.triggered_by(AuthorizerTrigger):
        return "a granted bearer token", {
            "type": "TOKEN",
            "authorizationToken": f"Bearer {BENCH_TOKEN}",
            "methodArn": "arn:aws:execute-api:us-east-1:000000000000:bench/v1/GET/api/v1/timelines/home",
        }
    if spec.triggered_by(ScheduleTrigger):
        return "scheduled event", {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
    if deploy := spec.triggered_by(DeployTrigger):
        # A Delete leaves the index alone; MiniStack accepts the answer for a token it never issued and drops it.
        return "CloudFormation Delete", {
            "RequestType": "Delete",
            "ResponseURL": f"{gateway}/_ministack/cfn-response/bench-{uuid.uuid4()}",
            "StackId": "arn:aws:cloudformation:us-east-1:000000000000:stack/bench/1",
            "RequestId": str(uuid.uuid4()),
            "LogicalResourceId": "Bench",
            "ResourceType": deploy[0].resource_type,
            "PhysicalResourceId": "bench",
            "ResourceProperties": {},
        }
    return "empty Records", {"Records": []}


def deployed_functions(client) -> dict[str, str]:
    """catalog name -> deployed function name, matched by description, else by the CDK-generated name."""
    deployed = [f for page in client.get_paginator("list_functions").paginate() for f in page["Functions"]]
    found = {}
    for spec in FUNCTIONS:
        match = [f["FunctionName"] for f in deployed if f.get("Description") == spec.description]
        if not match:
            pattern = re.compile(rf"functions{re.escape(spec.name.replace('_', ''))}[0-9a-f]{{8}}-", re.IGNORECASE)
            match = [f["FunctionName"] for f in deployed if pattern.search(f["FunctionName"])]
        if len(match) == 1:
            found[spec.name] = match[0]
    return found


def wait_updated(client, name: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        config = client.get_function_configuration(FunctionName=name)
        if config.get("LastUpdateStatus") in (None, "Successful") and config.get("State") in (None, "Active"):
            return
        if config.get("LastUpdateStatus") == "Failed":
            raise SystemExit(f"{name}: update failed: {config.get('LastUpdateStatusReason')}")
        time.sleep(0.1)
    raise SystemExit(f"{name}: still updating after {timeout_s} s")


def set_nonce(client, name: str, nonce: str | None) -> None:
    """Sets (or, with None, removes) BENCH_NONCE in the function's current environment, leaving the rest as
    it is now (a deployment made meanwhile is kept), and waits until the update is done."""
    variables = dict(client.get_function_configuration(FunctionName=name).get("Environment", {}).get("Variables", {}))
    if nonce is None and "BENCH_NONCE" not in variables:
        return
    if nonce is None:
        variables.pop("BENCH_NONCE")
    else:
        variables["BENCH_NONCE"] = nonce
    client.update_function_configuration(FunctionName=name, Environment={"Variables": variables})
    wait_updated(client, name)


def invoke_ms(client, name: str, event: dict) -> tuple[float, str | None]:
    """(ms, None) for an invoke that ran the handler (its own answer, e.g. an HTTP 404, is fine), or
    (ms, the error) for one that failed, which is not a start-up time to report."""
    started = time.perf_counter()
    response = client.invoke(FunctionName=name, Payload=json.dumps(event).encode())
    elapsed = (time.perf_counter() - started) * 1000
    payload = response["Payload"].read()
    if response.get("FunctionError"):
        return elapsed, f"FunctionError {payload[:160].decode(errors='replace')}"
    return elapsed, None


# The baselines' handler: what the emulator's worker path costs with nothing of Chirp's to import or do.
NOOP_HANDLER = "def handler(event, context):\n    return None\n"
BASELINES = {
    "noop": "a handler returning None, no layers",
    "noop_with_layers": "the same with the layers every Chirp function has (unused)",
    "noop_with_deflated_layers": "the same with those layers' assets deflated, as CDK zips a folder (the build before)",
    "noop_with_unzipped_layers": "the same with those layers' zips extracted into python/, as files (the build before "
    "that)",
}


def common_layers(client, names: dict[str, str]) -> list[str]:
    """The layer ARNs every deployed Chirp function has (the dependencies and the domain), in their order."""
    layer_lists = [
        [layer["Arn"] for layer in client.get_function_configuration(FunctionName=name).get("Layers", [])]
        for name in names.values()
    ]
    return [arn for arn in layer_lists[0] if all(arn in layers for layers in layer_lists)]


def deflated_layer(folder: Path) -> bytes:
    """A layer's asset as CDK zips a folder asset (deflated): as the layers were before they were one stored
    archive each (the same files)."""
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as layer:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            layer.write(path, path.relative_to(folder).as_posix())
    return packed.getvalue()


def unzipped_layer(folder: Path) -> bytes:
    """A layer's asset as layers were before they zipped their pure-Python packages: each zip named in a .pth
    extracted into python/ as files (the same modules, sources and bytecode), everything else as it is."""
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as layer:
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix != ".pth"):
            if path.parent == folder / SITE_PACKAGES and path.suffix == ".zip":
                with zipfile.ZipFile(path) as zipped:
                    for member in zipped.infolist():
                        if not member.is_dir():
                            layer.writestr(f"python/{member.filename}", zipped.read(member))
            else:
                layer.write(path, path.relative_to(folder).as_posix())
    return packed.getvalue()


def publish_layer_variants(layer_arns: list[str], variant: Callable[[Path], bytes], client, run: str) -> list[str]:
    """The common layers built another way (`variant` of each layer's folder), published for this run; their ARNs
    in order."""
    # Every function lists the common layers first, in the same order, so any function's artifact names them.
    folders = next(iter(artifacts(CDK_OUT).values()))["layers"][: len(layer_arns)]
    return [
        client.publish_layer_version(
            LayerName=f"bench-cold-{variant.__name__.replace('_', '-')}-{index}-{run}",
            Content={"ZipFile": variant(folder)},
            CompatibleRuntimes=["python3.12"],
        )["LayerVersionArn"]
        for index, folder in enumerate(folders)
    ]


def create_baselines(client, names: dict[str, str], run: str) -> dict[str, str]:
    """Creates the baseline functions (named for this run) and returns baseline -> function name."""
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", NOOP_HANDLER)
    shared = common_layers(client, names)
    layers = {
        "noop": [],
        "noop_with_layers": shared,
        "noop_with_deflated_layers": publish_layer_variants(shared, deflated_layer, client, run),
        "noop_with_unzipped_layers": publish_layer_variants(shared, unzipped_layer, client, run),
    }
    created = {}
    for baseline in BASELINES:
        name = f"bench-cold-{baseline.replace('_', '-')}-{run}"
        client.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role="arn:aws:iam::000000000000:role/bench-cold-start",
            Handler="handler.handler",
            Code={"ZipFile": code.getvalue()},
            Layers=layers[baseline],
            Timeout=30,
            Description=f"cold_start benchmark baseline: {BASELINES[baseline]}",
        )
        created[baseline] = name
        wait_updated(client, name)
    return created


def first_invokes(runs: int, budget_s: float, only: set[str] | None) -> tuple[list[dict], dict[str, dict], int]:
    """Every deployed function's cold and warm invokes, and the baselines' in the same runs (interleaved)."""
    env = cloud.cloud_env()
    client = lambda_client(env)
    names = deployed_functions(client)
    missing = [spec.name for spec in FUNCTIONS if spec.name not in names]
    if missing:
        print(f"not deployed (skipped): {', '.join(missing)}")
    specs = [spec for spec in FUNCTIONS if spec.name in names and (only is None or spec.name in only)]
    run_id = uuid.uuid4().hex[:8]
    baselines = create_baselines(client, names, run_id)
    # label -> (deployed name, event description, event)
    targets = {spec.name: (names[spec.name], *harmless_event(spec, env["AWS_ENDPOINT_URL"])) for spec in specs}
    targets |= {baseline: (name, "{}", {}) for baseline, name in baselines.items()}
    samples = {label: {"cold": [], "warm": [], "errors": Counter()} for label in targets}
    started, done = time.monotonic(), 0
    try:
        for run in range(runs):
            if run and time.monotonic() - started > budget_s:
                print(f"stopping after {run} runs: over the {budget_s:.0f} s budget (--cloud-budget)")
                break
            line = []
            for label, (name, _, event) in targets.items():
                set_nonce(client, name, uuid.uuid4().hex)
                cold, error = invoke_ms(client, name, event)
                line.append(f"{label} {cold:,.0f} ms" + (" (failed)" if error else ""))
                if error:
                    samples[label]["errors"][error] += 1
                else:
                    samples[label]["cold"].append(cold)
                for _ in range(WARM_INVOKES):
                    warm, error = invoke_ms(client, name, event)
                    if error:
                        samples[label]["errors"][error] += 1
                    else:
                        samples[label]["warm"].append(warm)
            done = run + 1
            print(f"run {done}/{runs}, cold: " + ", ".join(line))
    finally:
        for spec in specs:
            set_nonce(client, names[spec.name], None)
        for name in baselines.values():
            client.delete_function(FunctionName=name)
        for layer in client.list_layers()["Layers"]:
            if layer["LayerName"].endswith(f"-{run_id}"):
                version = layer["LatestMatchingVersion"]["Version"]
                client.delete_layer_version(LayerName=layer["LayerName"], VersionNumber=version)
        print(f"removed BENCH_NONCE from {len(specs)} functions, deleted the {len(baselines)} baseline functions")

    def summary(label: str) -> dict:
        name, event_name, _ = targets[label]
        cold = median(samples[label]["cold"]) if samples[label]["cold"] else math.nan
        warm = median(samples[label]["warm"]) if samples[label]["warm"] else math.nan
        return {
            "deployed_as": name,
            "event": event_name,
            "failed_invokes": dict(samples[label]["errors"]),
            "cold_invoke_ms": round(cold, 1),
            "warm_invoke_ms": round(warm, 1),
            "cold_over_warm": round(cold / warm, 1),
            "cold_runs_ms": [round(v, 1) for v in samples[label]["cold"]],
        }

    results = [{"function": spec.name, **summary(spec.name)} for spec in specs]
    return results, {baseline: {"what": BASELINES[baseline], **summary(baseline)} for baseline in baselines}, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=stats.RUNS)
    parser.add_argument("--cloud-runs", type=int, default=3, help="cold starts per deployed function")
    parser.add_argument(
        "--cloud-budget", type=float, default=60, help="seconds after which no further round of cold starts begins"
    )
    parser.add_argument("--skip-cloud", action="store_true", help="only the deployed artifacts' init times")
    parser.add_argument("--only", help="comma-separated function names (default: every function)")
    parser.add_argument(
        "--before", type=Path, help="another build's cdk.out (e.g. of the main branch), measured in the same runs"
    )
    args = parser.parse_args()
    only = set(args.only.split(",")) if args.only else None

    with bench_grant():
        baseline, inits = artifact_times(args.runs, only, args.before)
        invokes, floors, cloud_runs = (
            ([], {}, 0) if args.skip_cloud else first_invokes(args.cloud_runs, args.cloud_budget, only)
        )
    print(f"\nbaseline (same run): bare `python3.12 -S -c pass` = {baseline:.1f} ms wall (median of {args.runs})\n")
    print(
        table(
            ["function", "init ms (AWS artifact)", "target", "local artifact (zipped) ms", "before ms",
             "first invoke ms", "process ms",
             "init self time by package (ms)"],
            [
                [
                    r["function"], f"{r['init_ms']:.0f}",
                    f"{r['target_ms']}" + ("" if r["meets_target"] else " MISSED"),
                    f"{r['local']['init_ms']:.0f} ({r['local_over_aws']:.2f}x)",
                    f"{r['before']['init_ms']:.0f} ({r['before_over_now']:.1f}x)" if "before" in r else "-",
                    f"{r['first_invoke_ms']:.0f}", f"{r['process_ms']:.0f}",
                    ", ".join(f"{p['package']} {p['self_ms']:.0f}" for p in r["self_ms_by_package"][:4]),
                ]
                for r in inits
            ],
        )
    )  # fmt: skip
    if invokes:
        print(f"\nlocal cloud (MiniStack), invoke round trip, medians of {cloud_runs} cold and "
              f"{cloud_runs * WARM_INVOKES} warm invokes per function (failed invokes left out)\n")  # fmt: skip
        print(
            table(
                ["function", "event", "cold ms", "warm ms", "cold / warm", "failed invokes"],
                [
                    [r["function"], r["event"], f"{r['cold_invoke_ms']:,.0f}", f"{r['warm_invoke_ms']:,.1f}",
                     f"{r['cold_over_warm']:.0f}x", sum(r["failed_invokes"].values())]
                    for r in [*invokes, *({"function": f"baseline: {k}", **v} for k, v in floors.items())]
                ],
            )
        )  # fmt: skip

    def spread(values: list[float]) -> str:
        return f"{min(values):,.0f}-{max(values):,.0f} ms (median {median(values):,.0f})"

    missed = [r["function"] for r in inits if not r["meets_target"]]
    compared = [r for r in inits if "before" in r]
    headlines = [
        report.headline(
            f"import + init as deployed on AWS (the {AWS_STAGE} stage's artifact: layers as files; Lambda layout and "
            f"variables), {len(inits)} functions",
            spread([r["init_ms"] for r in inits])
            + f"; init + first invoke {spread([r['init_and_first_invoke_ms'] for r in inits])}; "
            + (f"over target (300 ms health/transcoder/indexer, 450 others): {', '.join(missed)}" if missed
               else "every function within its target (300 ms health/transcoder/indexer, 450 others)"),
            f"bare `python3.12 -S -c pass`: {baseline:.0f} ms; the local stage's artifact (layers' packages in "
            f"zips), same runs: {spread([r['local']['init_ms'] for r in inits])}, "
            f"{median([r['local_over_aws'] for r in inits]):.2f}x (median per function)"
            + (f"; the build before, same runs ({len(compared)} functions it had): "
               f"{spread([r['before']['init_ms'] for r in compared])}, "
               f"{median([r['before_over_now'] for r in compared]):.2f}x; "
               f"init + first invoke {spread([r['before']['init_and_first_invoke_ms'] for r in compared])}, "
               f"{median([r['before_over_now_with_first_invoke'] for r in compared]):.2f}x (medians per function)"
               if compared else ""),
        )
    ]  # fmt: skip
    if invokes:
        failed = sum(sum(r["failed_invokes"].values()) for r in invokes)
        measured = [r for r in invokes if not math.isnan(r["cold_invoke_ms"])]
        floor = floors["noop_with_layers"]["cold_invoke_ms"]
        deflated = floors["noop_with_deflated_layers"]["cold_invoke_ms"]
        unzipped = floors["noop_with_unzipped_layers"]["cold_invoke_ms"]
        headlines.append(
            report.headline(
                f"first invoke in the local cloud (MiniStack), cold, {len(invokes)} functions",
                spread([r["cold_invoke_ms"] for r in measured]) + f"; {failed} failed invokes left out; "
                f"Chirp's part (beyond the no-op with the same layers): median "
                f"{median([r['cold_invoke_ms'] - floor for r in measured]):,.0f} ms",
                f"a no-op handler through the same worker path: {floors['noop']['cold_invoke_ms']:,.0f} ms without "
                f"layers, {floor:,.0f} ms with Chirp's two layers (extracted at every cold start; each one stored "
                f"archive, its pure-Python packages one zip), {deflated:,.0f} ms with the same layers deflated (the "
                f"build before, {deflated / floor:.2f}x), {unzipped:,.0f} ms with their packages as files, deflated "
                f"(the build before that, {unzipped / floor:.1f}x); warm invokes: "
                + spread([r["warm_invoke_ms"] for r in measured]),
            )
        )
    report.write_result(
        NAME,
        {
            "baseline": {
                "what": "bare `python3.12 -S -E -c pass` wall time, the interpreter and variables of the runs",
                "median_ms": round(baseline, 1),
            },
            "before": str(args.before) if args.before else None,
            "runs": {"artifact": args.runs, "cold_invokes": cloud_runs, "warm_invokes_per_cold": WARM_INVOKES},
            "python": lambda_python(),
            "artifact_init": inits,
            "first_invoke": invokes,
            "first_invoke_baselines": floors,
            "headline": headlines,
        },
    )


if __name__ == "__main__":
    main()
