"""`python -m chirp.cli audit|reindex|degrade|limits|switch-redis-layout`: operator commands, configured from the
environment like the Lambdas (`source .local/cloud.env` for the local cloud)."""

from __future__ import annotations

import argparse
import json
import sys

from chirp.adapters.outages import is_outage
from chirp.composition import services
from chirp.degradation.levels import Level


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


def degrade(args: argparse.Namespace) -> int:
    """Sets the operator's degradation level (it wins over the controller's), or `auto` to hand back; without a
    level, shows both."""
    store = services().level_store
    if args.level is not None:
        store.write_manual(None if args.level.lower() == "auto" else Level.parse(args.level))
    setting = store.read()
    manual = "auto (the controller decides)" if setting.manual is None else f"{setting.manual.value}"
    print(f"degradation level {setting.effective.value} ({setting.effective.name.lower()}): manual {manual}, "
          f"automatic {setting.auto.level.value} ({setting.auto.reason or 'no run yet'})")  # fmt: skip
    print(f"functions act on it within {services().settings.runtime_config_ttl_s:g} s")
    return 0


def limits(args: argparse.Namespace) -> int:
    """Raises (or lowers) one user's rate limits: `limits USER '*=100000/1h' tweets=3000/3h`, or `--clear`. The
    limit_overrides function mirrors them into Redis within a minute; where this shell reaches Redis (the local
    cloud), they are mirrored at once."""
    overrides = services().limit_overrides
    if args.clear:
        overrides.clear(args.user)
        print(f"{args.user}: the stage's tiers")
    else:
        specs = dict(spec.split("=", 1) for spec in args.spec)
        overrides.set(args.user, specs)
        print(f"{args.user}: {json.dumps(specs)} (in {overrides.name_for(args.user)})")
    try:
        print(f"mirrored into Redis: {services().override_mirror.run()} users with overrides")
    except Exception as error:
        if not is_outage(error):
            raise
        print("Redis is out of reach from here: the limit_overrides function mirrors it within a minute")
    return 0


def switch_redis_layout(args: argparse.Namespace) -> int:
    """Once every function runs the hash-tagged Redis layout: deletes the layout before's keys, and the timelines
    and marks written while both ran (each rebuilt from DynamoDB on its next read, as after a flush)."""
    from chirp.adapters.redis.timeline_cache import switch_layout

    deleted = switch_layout(services().redis)
    for pattern, count in deleted.items():
        print(f"{pattern}: {count} keys deleted")
    print(f"switch-redis-layout: {sum(deleted.values())} keys deleted; timelines are rebuilt on their next read")
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
    degrade_parser = commands.add_parser("degrade", help="set the degradation level (0-4, or auto), or show it")
    degrade_parser.add_argument("level", nargs="?", help="0 normal ... 4 read-only; auto: the controller decides")
    degrade_parser.set_defaults(run=degrade)
    limits_parser = commands.add_parser("limits", help="set one user's rate limits (class=count/window, * = all)")
    limits_parser.add_argument("user")
    limits_parser.add_argument("spec", nargs="*", help="e.g. '*=100000/1h' tweets=3000/3h")
    limits_parser.add_argument("--clear", action="store_true", help="back to the stage's tiers")
    limits_parser.set_defaults(run=limits)
    switch_parser = commands.add_parser(
        "switch-redis-layout", help="after deploying the hash-tagged Redis layout: drop the keys to rebuild"
    )
    switch_parser.set_defaults(run=switch_redis_layout)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
