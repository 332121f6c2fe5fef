"""`python -m chirp.cli audit`: operator commands, configured from the environment like the Lambdas
(`source .local/cloud.env` for the local cloud)."""

from __future__ import annotations

import argparse
import json
import sys

from chirp.composition import services
from chirp.timelines.audit import TimelineAuditor


def audit(args: argparse.Namespace) -> int:
    built = services()
    report = TimelineAuditor(
        built.timeline_cache, built.tweet_store, built.social_store, built.timelines.thresholds
    ).audit(args.user or None)
    for finding in report.findings:
        print(json.dumps({"user_id": finding.user_id, "missing": finding.missing, "extra": finding.extra,
                          "relation_mismatch": finding.relation_mismatch}))  # fmt: skip
    verdict = "clean" if report.clean else f"{len(report.findings)} timelines differ"
    print(f"audit: {report.users} live timelines checked, {verdict}")
    return 0 if report.clean else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chirp")
    commands = parser.add_subparsers(required=True)
    audit_parser = commands.add_parser("audit", help="compare every live home timeline with DynamoDB")
    audit_parser.add_argument("--user", action="append", help="audit only this user (repeatable)")
    audit_parser.set_defaults(run=audit)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
