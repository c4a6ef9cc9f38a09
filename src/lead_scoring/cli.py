"""Command-line tool: `lead-scoring <command>`.

Each command is a thin wrapper over a plain function of the package, so that the
function is what the tests exercise.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def _cmd_generate(args: argparse.Namespace) -> int:
    from lead_scoring.generate import GeneratorConfig, generate_dataset

    config = GeneratorConfig(
        n_leads=args.leads,
        seed=args.seed,
        end_date=args.end_date,
        chunk_size=args.chunk_size,
    )
    summary = generate_dataset(config, Path(args.out), progress=not args.quiet)
    for name, rows in summary.items():
        print(f"{name:12s} {rows:>12,d} rows -> {Path(args.out) / (name + '.parquet')}")
    return 0


def _cmd_where(args: argparse.Namespace) -> int:
    from lead_scoring.where import describe_results

    print(describe_results(_warehouse(args)))
    return 0


def _warehouse(args: argparse.Namespace) -> Path:
    """The --duckdb file, else env LEAD_SCORING_DUCKDB, else lead_scoring.duckdb."""
    from lead_scoring.publish import default_warehouse

    return Path(args.duckdb) if args.duckdb else default_warehouse()


def _cmd_publish(args: argparse.Namespace) -> int:
    from lead_scoring.publish import PublishError, default_out_dir, publish

    tables = None
    if args.tables is not None:
        tables = [name.strip() for name in args.tables.split(",") if name.strip()]
    try:
        summary = publish(
            _warehouse(args),
            Path(args.out) if args.out else default_out_dir(),
            tables,
        )
    except PublishError as exc:
        print(f"lead-scoring publish: error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(summary.lines()))
    return 0


def _cmd_sync_crm(args: argparse.Namespace) -> int:
    from lead_scoring.crm import (
        ENDPOINT_ENV,
        TOKEN_ENV,
        WATCH_DEADLINE_SECONDS,
        WATCH_MAX_RETRY_SECONDS,
        SyncConfig,
        SyncError,
        sync,
        watch,
    )
    from lead_scoring.crm_changes import default_changes_path
    from lead_scoring.crm_mapping import MAPPING_ENV, MappingError, load_mapping

    try:
        mapping = load_mapping(args.field_mapping or os.environ.get(MAPPING_ENV) or "default")
    except MappingError as exc:
        print(f"lead-scoring sync-crm: error: {exc}", file=sys.stderr)
        return 2
    config = SyncConfig(
        endpoint=args.endpoint or os.environ.get(ENDPOINT_ENV, ""),
        token=os.environ.get(TOKEN_ENV) or None,
        batch_size=args.batch_size,
        timeout=args.timeout,
        max_retry_seconds=_first(
            args.max_retry_seconds, WATCH_MAX_RETRY_SECONDS if args.watch else 300.0
        ),
        backoff_base=args.backoff_base,
        backoff_cap=args.backoff_cap,
        backoff_min=args.backoff_min,
        deadline_seconds=_first(
            args.deadline_seconds, WATCH_DEADLINE_SECONDS if args.watch else 900.0
        ),
        allow_insecure_http=args.allow_insecure_http,
        max_failures=args.max_failures,
        dry_run=args.dry_run,
        mapping=mapping,
        api_changes=Path(args.api_changes) if args.api_changes else default_changes_path(),
    )
    try:
        if args.watch is not None:
            cycles = watch(_warehouse(args), config, args.watch, out=_print_now)
            print(f"sync-crm --watch: stopped after {cycles} cycle(s)")
            return 0
        report = sync(_warehouse(args), config)
    except SyncError as exc:
        print(f"lead-scoring sync-crm: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("sync-crm --watch: interrupted during a cycle (what it had not committed is "
              "redone by the next run)", file=sys.stderr)
        return 130
    print(report.summary())
    return report.exit_code


def _first(value, default):
    return default if value is None else value


def _print_now(line: str) -> None:
    print(line, flush=True)  # a watch's lines reach a log or a pipe as they happen


def _add_env_duckdb(parser: argparse.ArgumentParser) -> None:
    """The --duckdb option, read by :func:`_warehouse`."""
    parser.add_argument(
        "--duckdb",
        help="warehouse file (default: $LEAD_SCORING_DUCKDB, else lead_scoring.duckdb)",
    )


def _cmd_state(args: argparse.Namespace) -> int:
    """backup-state and restore-state: one line per outcome, exit 2 on a StateError."""
    from lead_scoring.state import StateError, backup_state, restore_state

    try:
        if args.command == "backup-state":
            summary, done = backup_state(_warehouse(args), Path(args.out)), "backed up"
        else:
            summary, done = restore_state(_warehouse(args), Path(args.backup)), "restored"
    except StateError as exc:
        print(f"lead-scoring {args.command}: error: {exc}", file=sys.stderr)
        return 2
    print(f"{done} " + "\n".join(summary.lines()))
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from lead_scoring.report import build_report

    print(f"report: {build_report(_warehouse(args), Path(args.out))}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lead-scoring", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="write a synthetic B2B funnel (the four raw files)")
    gen.add_argument("--leads", type=int, required=True, help="number of leads")
    gen.add_argument("--seed", type=int, default=42, help="random seed (same seed, same files)")
    gen.add_argument("--out", required=True, help="output folder")
    gen.add_argument("--end-date", default="2025-06-30", help="last day of activity (UTC)")
    gen.add_argument("--chunk-size", type=int, default=50_000, help="leads per chunk")
    gen.add_argument("--quiet", action="store_true", help="no progress output")
    gen.set_defaults(func=_cmd_generate)

    where = sub.add_parser("where", help="say where the results of a build are")
    _add_env_duckdb(where)
    where.set_defaults(func=_cmd_where)

    pub = sub.add_parser(
        "publish",
        help="publish the BI tables as Parquet + a read-only DuckDB copy, replaced atomically",
    )
    _add_env_duckdb(pub)
    pub.add_argument(
        "--out",
        help="publish folder (default: $LEAD_SCORING_PUBLISH_DIR, else published)",
    )
    pub.add_argument(
        "--tables",
        help="comma-separated tables of schema main (default: lead_scoring.publish."
        "PUBLISHED_TABLES; absent ones are skipped and listed)",
    )
    pub.set_defaults(func=_cmd_publish)

    crm = sub.add_parser(
        "sync-crm",
        help="push the scores that changed since the last delivery to a CRM endpoint",
        description="Pushes the leads of scored_leads whose score changed, and the scoring "
        "API's changes (crm_changes.jsonl): per lead the newest scored_at wins. Token from env "
        "LEAD_SCORING_CRM_TOKEN (never printed). Exit code 3 when leads are left pending or "
        "failed, or a malformed line of the API's changes was skipped.",
    )
    crm.add_argument("--endpoint", help="URL to POST batches to (or env LEAD_SCORING_CRM_ENDPOINT)")
    _add_env_duckdb(crm)
    crm.add_argument(
        "--field-mapping",
        help="which scored_leads columns to send under which CRM property names: a YAML file "
        "or a built-in name (default, hubspot, salesforce); default: env "
        "LEAD_SCORING_CRM_FIELD_MAPPING or 'default'",
    )
    crm.add_argument(
        "--api-changes",
        metavar="PATH",
        help="the scoring API's changes to deliver too, read from where the last run stopped "
        "(default: $LEAD_SCORING_SERVE_DIR/crm_changes.jsonl, folder 'serve' when unset; an "
        "absent file is nothing to do)",
    )
    crm.add_argument(
        "--watch",
        type=float,
        metavar="SECONDS",
        help="keep running: every SECONDS, queue the API's and the batch's changes and deliver "
        "them, until Ctrl-C or SIGTERM; one line per cycle that did something; the warehouse "
        "is closed between cycles (a dbt build can run) and a cycle that finds it locked waits "
        "for the next",
    )
    crm.add_argument("--batch-size", type=int, default=100, help="leads per request")
    crm.add_argument("--dry-run", action="store_true", help="show what would be sent; send nothing")
    crm.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    crm.add_argument(
        "--max-retry-seconds",
        type=float,
        help="seconds a run (a --watch cycle) may spend retrying (waits and failed attempts); "
        "then it stops, leaves the rest pending and exits 3 (default 300; with --watch 30)",
    )
    crm.add_argument("--backoff-base", type=float, default=1.0, help="first backoff (seconds)")
    crm.add_argument("--backoff-cap", type=float, default=60.0, help="largest backoff (seconds)")
    crm.add_argument(
        "--backoff-min",
        type=float,
        default=0.5,
        help="shortest wait before a retry, even after Retry-After: 0 (seconds)",
    )
    crm.add_argument(
        "--deadline-seconds",
        type=float,
        help="wall-clock limit of the whole run (of a --watch cycle); then the rest is left "
        "pending (exit 3) and the warehouse is released (default 900; with --watch 60)",
    )
    crm.add_argument(
        "--allow-insecure-http",
        action="store_true",
        help="allow a plain http:// endpoint that is not on this machine (refused by default)",
    )
    crm.add_argument(
        "--max-failures",
        type=int,
        default=3,
        help="failures of the same payload after which a lead goes to the dead letter (not "
        "sent again until its score changes)",
    )
    crm.set_defaults(func=_cmd_sync_crm)

    backup = sub.add_parser(
        "backup-state",
        help="copy what no rebuild brings back (model registry, score history, model health, "
        "CRM outbox) to Parquet under --out/<UTC time>/",
    )
    _add_env_duckdb(backup)
    backup.add_argument("--out", default="state_backups", help="folder of the backups")
    backup.set_defaults(func=_cmd_state)

    restore = sub.add_parser(
        "restore-state",
        help="put a backup's state tables into a new warehouse, before its first dbt build",
    )
    _add_env_duckdb(restore)
    restore.add_argument("backup", help="a backup folder written by backup-state")
    restore.set_defaults(func=_cmd_state)

    report = sub.add_parser(
        "report", help="write the static HTML model card (index.html) from the warehouse"
    )
    _add_env_duckdb(report)
    report.add_argument("--out", default="reports", help="output folder (default: reports)")
    report.set_defaults(func=_cmd_report)

    from lead_scoring.serve.cli import add_serve_parser

    add_serve_parser(sub, _add_env_duckdb, _warehouse)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (FileNotFoundError, ValueError) as exc:
        print(f"lead-scoring {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
