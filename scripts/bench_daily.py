"""Benchmark of the daily run against the full build: wall time and peak memory of each.

A full `dbt build` on the export of day L-1, then the next day's run on the export of day L.

    .venv/bin/python scripts/bench_daily.py --leads 100000     (make bench-daily)

On the bench's generated funnel (bench_data/leads_<N>, generated with ``lead-scoring generate
--leads N --seed 7`` as scripts/bench.py does when absent), L is the funnel's last data day.
Both runs are the command a team runs every day, unchanged: ``dbt build`` with the same vars
(``raw_data_path`` = bench_data/daily_<N>/export, ``ml_retrain`` false: a daily run scores with
the active model; no ``scoring_date``: the latest event of the export), the same warehouse and
the same target folder (so dbt re-reads its parsed project instead of parsing it again, as it
does day after day). The export of L-1 (lead_scoring.generate.daily: a share of the touchpoints
late by up to two days, a few old events redelivered) is written to the export folder and built
in full on an empty warehouse (a first build trains); then the export of L replaces it and the
daily run builds day L. The target is a daily run taking at most 20% of the full build's wall
time: what the incremental models (doc `incremental_ledger`) are for.

Reported: wall time and peak RSS of each run (the dbt process, DuckDB included, measured by
scripts/bench.py's wrapper), the ratio, the slowest models of each, the row counts of the main
tables. Progress lines stream while dbt runs (scripts/bench.py's monitor).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
from bench import BIN, PROJECT_DIR, stream_dbt

from lead_scoring.generate.daily import LateArrivals, Redeliveries, data_range, write_export
from lead_scoring.warehouse import open_warehouse

TARGET_RATIO = 0.20
MAIN_TABLES = (
    "stg_crm__leads",
    "stg_web__touchpoints",
    "int_touchpoints_sessionized",
    "int_lead_activity_daily",
    "fct_lead_features",
    "fct_touchpoint_attribution",
    "scored_leads",
    "scored_leads_history",
)
LATE = LateArrivals(share=0.05, max_days=2)
REDELIVER = Redeliveries(share=0.001, after_days=10)


def generate(data_dir: Path, n_leads: int, seed: int) -> None:
    """The bench's funnel, generated as scripts/bench.py does when it is absent."""
    if (data_dir / "touchpoints.parquet").exists():
        print(f"funnel: {data_dir} (present)", flush=True)
        return
    print(f"funnel: generating {n_leads:,} leads (seed {seed}) into {data_dir}", flush=True)
    command = [str(BIN / "lead-scoring"), "generate", "--leads", str(n_leads), "--seed",
               str(seed), "--out", str(data_dir), "--quiet"]  # fmt: skip
    subprocess.run(command, check=True)


def timed_dbt(label: str, args: list[str], dbt_vars: dict, work_dir: Path) -> dict:
    """Run dbt with args on the warehouse of work_dir, streaming its progress; its wall time,
    peak RSS (the wrapper of scripts/bench.py), peak spill and slowest models."""
    warehouse = work_dir / "warehouse.duckdb"
    target = work_dir / "target"
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(PROJECT_DIR),
        "DBT_TARGET_PATH": str(target),
        "DBT_LOG_PATH": str(work_dir / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_USE_COLORS": "false",
        "LEAD_SCORING_DUCKDB": str(warehouse),
    }
    dbt_command = [str(BIN / "dbt"), *args, "--vars", json.dumps(dbt_vars)]
    print(f"\n== {label}: {' '.join(dbt_command[1:])}", flush=True)
    run = stream_dbt(dbt_command, env, warehouse)
    if run.returncode != 0:
        print("\n".join(run.tail), file=sys.stderr)
        raise SystemExit(f"{label}: dbt failed (return code {run.returncode})")
    results = json.loads((target / "run_results.json").read_text())["results"]
    models = sorted(
        (r["execution_time"], r["unique_id"].split(".")[-1])
        for r in results
        if r["unique_id"].startswith("model.")
    )
    return {
        "wall_seconds": run.wall_seconds,
        "peak_rss_gb": run.peak_rss_gb,
        "peak_temp_gb": run.peak_temp_gb,
        "nodes": len(results),
        "slowest_models": models[::-1][:8],
        "rows": row_counts(warehouse),
    }


def row_counts(warehouse: Path) -> dict[str, int]:
    con = open_warehouse(warehouse)
    counts = {}
    try:
        for table in MAIN_TABLES:
            with contextlib.suppress(duckdb.Error):
                counts[table] = con.execute(f"select count(*) from {table}").fetchall()[0][0]
    finally:
        con.close()
    return counts


def _count(rows: dict[str, int], table: str) -> str:
    return f"{rows[table]:,}" if table in rows else "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=PROJECT_DIR / "bench_data")
    args = parser.parse_args(argv)
    data_dir = args.out / f"leads_{args.leads}"
    work_dir = args.out / f"daily_{args.leads}"
    generate(data_dir, args.leads, args.seed)
    con = duckdb.connect()
    last = data_range(con, data_dir)[1]
    con.close()
    days = (last - dt.timedelta(days=1), last)
    export = work_dir / "export"
    for stale in ("warehouse.duckdb", "warehouse.duckdb.wal"):
        (work_dir / stale).unlink(missing_ok=True)
    shutil.rmtree(work_dir / "target", ignore_errors=True)
    # the command of every day: the same vars, warehouse and target folder
    dbt_vars = {"raw_data_path": str(export), "ml_retrain": False}
    runs = {}
    for label, day in (("full build", days[0]), ("daily run", days[1])):
        shutil.rmtree(export, ignore_errors=True)
        started = time.perf_counter()
        counts = write_export(data_dir, export, day, late=LATE, redeliver=REDELIVER)
        print(f"export of {day}: {counts} ({time.perf_counter() - started:.1f} s)", flush=True)
        runs[label] = timed_dbt(label.replace(" ", "_"), ["build"], dbt_vars, work_dir)
    full, daily = runs["full build"], runs["daily run"]
    ratio = daily["wall_seconds"] / full["wall_seconds"]
    lines = [
        f"# Daily run against full build: {args.leads:,} leads (seed {args.seed}), L = {last}",
        "",
        "| run | export | wall s | peak RSS GB | peak spill GB | nodes |",
        "|---|---|---|---|---|---|",
    ]
    for (label, run), day in zip(runs.items(), days, strict=True):
        lines.append(
            f"| {label} | {day} | {run['wall_seconds']:.1f} | {run['peak_rss_gb']:.2f} | "
            f"{run['peak_temp_gb']:.1f} | {run['nodes']} |"
        )
    verdict = "met" if ratio <= TARGET_RATIO else "missed"
    lines += [
        "",
        f"daily / full wall time: {ratio:.1%} (target <= {TARGET_RATIO:.0%}: {verdict})",
        "",
        "| table | rows after the full build | rows after the daily run |",
        "|---|---|---|",
        *(
            f"| {table} | {_count(full['rows'], table)} | {_count(daily['rows'], table)} |"
            for table in MAIN_TABLES
        ),
        "",
        *(
            f"slowest models, {label}: "
            + ", ".join(f"{name} {sec:.1f}s" for sec, name in run["slowest_models"])
            for label, run in runs.items()
        ),
    ]
    report = "\n".join(lines) + "\n"
    (work_dir / "results.md").write_text(report)
    print("\n" + report + f"\nwritten to {work_dir / 'results.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
