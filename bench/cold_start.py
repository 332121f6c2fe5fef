"""Cold starts of the Lambda handlers.

1. Import time of each function's entry point (as the catalog names it), each time in a fresh interpreter (the
   project venv, with the environment tests/integration/conftest.py builds for the local cloud): time.perf_counter()
   around loading the module, and the whole process's wall time, against `python -c pass` (interpreter
   start-up) in the same run; plus the handler's heaviest imports (`python -X importtime`, once).
2. First invoke in the local cloud: for each deployed function (infra/catalog.py's functions, matched by
   their description), force a cold start (update_function_configuration with a new BENCH_NONCE variable,
   which makes the emulator start a new environment), time `invoke`, then time warm invokes.
   Events are harmless: API functions get GET /health (the api function answers it 404); the Kinesis and
   SQS consumers one unparseable record each, which they log and skip (an empty Records list would make
   Powertools' batch processor raise); the S3 consumer an empty Records list; the scheduled relay a
   scheduled event (it re-publishes any tweet stuck unpublished, which is idempotent); the deploy-time
   search schema a CloudFormation Delete (which leaves the index alone) answered to a token MiniStack
   never issued, and drops.
   BENCH_NONCE is removed again at the end (so each function's next start is cold once more).

Usage: .venv/bin/python bench/cold_start.py [--runs 5] [--cloud-runs 3] [--skip-cloud]
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import os
import re
import subprocess
import sys
import time
import uuid
from collections import Counter

import boto3
import cloud
import paths
import report
import stats
from report import table
from stats import median

from infra.catalog import (
    FUNCTIONS,
    DeployTrigger,
    FunctionSpec,
    KinesisTrigger,
    ResolverRoutes,
    ScheduleTrigger,
    SqsTrigger,
)

NAME = "cold_start"
WARM_INVOKES = 3  # per cold start
LOAD_HANDLER = """
import importlib.util, sys, time
started = time.perf_counter()
spec = importlib.util.spec_from_file_location("handler", sys.argv[1])
module = importlib.util.module_from_spec(spec)
sys.modules["handler"] = module
spec.loader.exec_module(module)
print(time.perf_counter() - started)
"""


def subprocess_env() -> dict[str, str]:
    env = {**os.environ, **cloud.cloud_values()}
    env["PYTHONPATH"] = os.pathsep.join([str(paths.ROOT / "shared"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def wall_ms(cmd: list[str], env: dict[str, str], cwd) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env, cwd=cwd, timeout=120)
    elapsed = (time.perf_counter() - started) * 1000
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:3])} failed: {done.stderr[-1000:]}")
    return elapsed, done.stdout


def heaviest_imports(handler, env, cwd, top: int = 5) -> list[dict]:
    """The handler's direct imports with the largest cumulative import time (python -X importtime)."""
    cmd = [sys.executable, "-X", "importtime", "-c", LOAD_HANDLER, str(handler)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env, cwd=cwd)
    rows = []
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)", line)
        if match and not match.group(3):  # no indent: imported by the handler itself (or the loader)
            rows.append({"module": match.group(4), "cumulative_ms": round(int(match.group(2)) / 1000, 1)})
    return sorted(rows, key=lambda r: -r["cumulative_ms"])[:top]


def import_times(runs: int) -> tuple[float, list[dict]]:
    env = subprocess_env()
    baseline = []
    handlers = {spec.name: spec.handler_file for spec in sorted(FUNCTIONS, key=lambda spec: spec.name)}
    samples = {name: {"import": [], "process": []} for name in handlers}
    # First, unmeasured but for its breakdown: -X importtime (bytecode caches written, disk cache warm).
    heaviest = {name: heaviest_imports(h, env, h.parent) for name, h in handlers.items()}
    for _ in range(runs):
        baseline.append(wall_ms([sys.executable, "-c", "pass"], env, paths.ROOT)[0])
        for name, handler in handlers.items():
            elapsed, out = wall_ms([sys.executable, "-c", LOAD_HANDLER, str(handler)], env, handler.parent)
            samples[name]["import"].append(float(out.strip().splitlines()[-1]) * 1000)
            samples[name]["process"].append(elapsed)
    results = []
    for name in handlers:
        results.append({
            "function": name,
            "import_ms": round(median(samples[name]["import"]), 1),
            "process_ms": round(median(samples[name]["process"]), 1),
            "heaviest_imports": heaviest[name],
        })  # fmt: skip
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


def first_invokes(runs: int, budget_s: float) -> tuple[list[dict], int]:
    env = cloud.cloud_env()
    client = boto3.client(
        "lambda",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    names = deployed_functions(client)
    missing = [spec.name for spec in FUNCTIONS if spec.name not in names]
    if missing:
        print(f"not deployed (skipped): {', '.join(missing)}")
    specs = [spec for spec in FUNCTIONS if spec.name in names]
    samples = {spec.name: {"cold": [], "warm": [], "errors": Counter()} for spec in specs}
    started, done = time.monotonic(), 0
    try:
        for run in range(runs):
            if run and time.monotonic() - started > budget_s:
                print(f"stopping after {run} runs: over the {budget_s:.0f} s budget (--cloud-budget)")
                break
            line = []
            for spec in specs:
                name, (_, event) = names[spec.name], harmless_event(spec, env["AWS_ENDPOINT_URL"])
                set_nonce(client, name, uuid.uuid4().hex)
                cold, error = invoke_ms(client, name, event)
                line.append(f"{spec.name} {cold:,.0f} ms" + (" (failed)" if error else ""))
                if error:
                    samples[spec.name]["errors"][error] += 1
                else:
                    samples[spec.name]["cold"].append(cold)
                for _ in range(WARM_INVOKES):
                    warm, error = invoke_ms(client, name, event)
                    if error:
                        samples[spec.name]["errors"][error] += 1
                    else:
                        samples[spec.name]["warm"].append(warm)
            done = run + 1
            print(f"run {done}/{runs}, cold: " + ", ".join(line))
    finally:
        for spec in specs:
            set_nonce(client, names[spec.name], None)
        print(f"removed BENCH_NONCE from {len(specs)} functions")
    results = []
    for spec in specs:
        cold = median(samples[spec.name]["cold"]) if samples[spec.name]["cold"] else math.nan
        warm = median(samples[spec.name]["warm"]) if samples[spec.name]["warm"] else math.nan
        results.append({
            "function": spec.name,
            "deployed_as": names[spec.name],
            "event": harmless_event(spec, env["AWS_ENDPOINT_URL"])[0],
            "failed_invokes": dict(samples[spec.name]["errors"]),
            "cold_invoke_ms": round(cold, 1),
            "warm_invoke_ms": round(warm, 1),
            "cold_over_warm": round(cold / warm, 1),
            "cold_runs_ms": [round(v, 1) for v in samples[spec.name]["cold"]],
        })  # fmt: skip
    return results, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=stats.RUNS)
    parser.add_argument("--cloud-runs", type=int, default=3, help="cold starts per deployed function")
    parser.add_argument(
        "--cloud-budget", type=float, default=60, help="seconds after which no further round of cold starts begins"
    )
    parser.add_argument("--skip-cloud", action="store_true", help="only the import times")
    args = parser.parse_args()

    baseline, imports = import_times(args.runs)
    print(f"\nbaseline (same run): `python -c pass` = {baseline:.1f} ms wall (median of {args.runs})\n")
    print(
        table(
            ["handler", "import ms", "process ms", "process - baseline", "heaviest direct imports (cumulative ms)"],
            [
                [
                    r["function"], f"{r['import_ms']:.0f}", f"{r['process_ms']:.0f}",
                    f"{r['process_ms'] - baseline:.0f}",
                    ", ".join(f"{i['module']} {i['cumulative_ms']:.0f}" for i in r["heaviest_imports"][:3]),
                ]
                for r in imports
            ],
        )
    )  # fmt: skip
    invokes, cloud_runs = ([], 0) if args.skip_cloud else first_invokes(args.cloud_runs, args.cloud_budget)
    if invokes:
        print(f"\nlocal cloud (MiniStack), invoke round trip, medians of {cloud_runs} cold and "
              f"{cloud_runs * WARM_INVOKES} warm invokes per function (failed invokes left out)\n")  # fmt: skip
        print(
            table(
                ["function", "event", "cold ms", "warm ms", "cold / warm", "failed invokes"],
                [
                    [r["function"], r["event"], f"{r['cold_invoke_ms']:,.0f}", f"{r['warm_invoke_ms']:,.1f}",
                     f"{r['cold_over_warm']:.0f}x", sum(r["failed_invokes"].values())]
                    for r in invokes
                ],
            )
        )  # fmt: skip

    def spread(values: list[float]) -> str:
        return f"{min(values):,.0f}-{max(values):,.0f} ms (median {median(values):,.0f})"

    headlines = [
        report.headline(
            f"handler import time, fresh interpreter, {len(imports)} handlers",
            spread([r["import_ms"] for r in imports]) + "; whole process " + spread([r["process_ms"] for r in imports]),
            f"`python -c pass`: {baseline:.0f} ms",
        )
    ]
    if invokes:
        failed = sum(sum(r["failed_invokes"].values()) for r in invokes)
        headlines.append(
            report.headline(
                f"first invoke in the local cloud (MiniStack), cold, {len(invokes)} functions",
                spread([r["cold_invoke_ms"] for r in invokes]) + f"; {failed} failed invokes left out",
                "warm invokes: " + spread([r["warm_invoke_ms"] for r in invokes]),
            )
        )
    report.write_result(
        NAME,
        {
            "baseline": {
                "what": "`python -c pass` wall time, same interpreter and env",
                "median_ms": round(baseline, 1),
            },
            "runs": {"imports": args.runs, "cold_invokes": cloud_runs, "warm_invokes_per_cold": WARM_INVOKES},
            "python": sys.executable,
            "imports": imports,
            "first_invoke": invokes,
            "headline": headlines,
        },
    )


if __name__ == "__main__":
    main()
