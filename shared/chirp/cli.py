"""`python -m chirp.cli audit|reindex`: operator commands, configured from the environment like the Lambdas
(`source .local/cloud.env` for the local cloud)."""

from __future__ import annotations

import argparse
import json
import sys

from chirp.composition import services


def audit(args: argparse.Namespace) -> int:
    report = services().auditor().audit(args.user or None)
    for finding in report.findings:
        print(json.dumps({"user_id": finding.user_id, "missing": finding.missing, "extra": finding.extra,
                          "unindexed": finding.unindexed, "relation_mismatch": finding.relation_mismatch}))  # fmt: skip
    for count in report.count_findings:
        print(json.dumps(count.__dict__))
    differ = f"{len(report.findings)} timelines and {len(report.count_findings)} counts differ"
    checked = f"{report.users} live timelines and the counts of their {report.tweets_counted} tweets checked"
    print(f"audit: {checked}, {'clean' if report.clean else differ}")
    return 0 if report.clean else 1


def reindex(args: argparse.Namespace) -> int:
    """Indexes every tweet of the table again (here, straight to OpenSearch; on AWS the search_repair function
    does the same inside the VPC)."""
    total = 0
    for segment in range(args.segments):
        key = None
        while True:
            indexed, key = services().search_repair.reindex(
                segment=segment, total_segments=args.segments, start_key=key, keep_going=lambda: True
            )
            total += indexed
            if key is None:
                break
    print(f"reindex: {total} tweets indexed")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chirp")
    commands = parser.add_subparsers(required=True)
    audit_parser = commands.add_parser("audit", help="compare every live home timeline with DynamoDB")
    audit_parser.add_argument("--user", action="append", help="audit only this user (repeatable)")
    audit_parser.set_defaults(run=audit)
    reindex_parser = commands.add_parser("reindex", help="index every tweet of DynamoDB again")
    reindex_parser.add_argument("--segments", type=int, default=1, help="parallel scan segments, one after another")
    reindex_parser.set_defaults(run=reindex)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
