"""Benchmark: generate N leads, run the full `dbt build`, report time per stage and peak memory.

    .venv/bin/python scripts/bench.py --leads 10000 100000

Data and warehouses go to bench_data/ (ignored by git). Stage times are the sums
of the dbt node times of each layer (2 threads run nodes side by side, so the
sum can exceed the wall time); "wall" is the whole `dbt build`, tests included.
Peak RSS is the largest resident set of the dbt process (DuckDB runs in it).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import duckdb

from lead_scoring.warehouse import open_warehouse

PROJECT_DIR = Path(__file__).resolve().parents[1]
MEASURE_CHILD = (
    "import resource, subprocess, sys; "
    "code = subprocess.run(sys.argv[1:]).returncode; "
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss; "
    "print('peak_rss_kb=%d' % peak, file=sys.stderr); "
    "sys.exit(code)"
)
BIN = Path(sys.executable).parent


STAGE_TAGS = ("staging", "attribution", "features", "ml", "scoring", "monitoring")


def stage_of(node: dict) -> str:
    """Group a dbt node into a pipeline stage by its job tag (dbt_project.yml tags every model
    folder: staging, attribution, features, ml, scoring, monitoring); scoring counts as ml."""
    unique_id = node["unique_id"]
    if unique_id.startswith(("test.", "unit_test.")):
        return "tests"
    if unique_id.startswith("seed."):
        return "seeds"
    tags = node.get("tags") or node.get("config", {}).get("tags") or []
    for tag in STAGE_TAGS:
        if tag in tags:
            return "ml" if tag == "scoring" else tag
    return "other"


def run_build(data_dir: Path, work_dir: Path) -> dict:
    work_dir.mkdir(parents=True, exist_ok=True)
    warehouse = work_dir / "warehouse.duckdb"
    for stale in (warehouse, Path(str(warehouse) + ".wal")):
        stale.unlink(missing_ok=True)
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(PROJECT_DIR),
        "DBT_TARGET_PATH": str(work_dir / "target"),
        "DBT_LOG_PATH": str(work_dir / "logs"),
        "LEAD_SCORING_DUCKDB": str(warehouse),
    }
    dbt_command = [
        str(BIN / "dbt"),
        "build",
        "--vars",
        json.dumps({"raw_data_path": str(data_dir)}),
    ]
    # a wrapper process per build, so the peak RSS it reports is this build's alone
    command = [sys.executable, "-c", MEASURE_CHILD, *dbt_command]
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=PROJECT_DIR, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    peak_kb = int(completed.stderr.strip().splitlines()[-1].split("=")[1])
    if completed.returncode != 0:
        print(completed.stdout[-5000:], file=sys.stderr)
        raise SystemExit(f"dbt build failed on {data_dir}")
    results = json.loads((work_dir / "target" / "run_results.json").read_text())
    manifest = json.loads((work_dir / "target" / "manifest.json").read_text())
    nodes = {**manifest["nodes"], **manifest.get("unit_tests", {})}
    stages: dict[str, float] = defaultdict(float)
    models: list[tuple[float, str]] = []
    for result in results["results"]:
        node = nodes.get(result["unique_id"], {"unique_id": result["unique_id"]})
        stages[stage_of(node)] += result["execution_time"]
        if result["unique_id"].startswith("model."):
            models.append((result["execution_time"], result["unique_id"].split(".")[-1]))
    con_rows = {}
    con = open_warehouse(warehouse)
    for table in ("stg_crm__leads", "stg_web__touchpoints", "fct_lead_features", "scored_leads"):
        with contextlib.suppress(duckdb.Error):
            con_rows[table] = con.execute(f"select count(*) from {table}").fetchall()[0][0]
    con.close()
    return {
        "wall_seconds": wall,
        "peak_rss_gb": peak_kb / 1024 / 1024,
        "stages": dict(stages),
        "slowest_models": sorted(models, reverse=True)[:8],
        "rows": con_rows,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leads", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", default=str(PROJECT_DIR / "bench_data"))
    args = parser.parse_args()
    out = Path(args.out)
    report = ["| leads | touchpoints | generate s | stage | seconds |", "|---|---|---|---|---|"]
    for n_leads in args.leads:
        data_dir = out / f"leads_{n_leads}"
        gen_seconds = 0.0
        if not (data_dir / "touchpoints.parquet").exists():
            started = time.perf_counter()
            subprocess.run(
                [
                    str(BIN / "lead-scoring"),
                    "generate",
                    "--leads",
                    str(n_leads),
                    "--seed",
                    str(args.seed),
                    "--out",
                    str(data_dir),
                    "--quiet",
                ],
                check=True,
            )
            gen_seconds = time.perf_counter() - started
        result = run_build(data_dir, out / f"build_{n_leads}")
        touchpoints = result["rows"].get("stg_web__touchpoints", 0)
        print(
            f"\n== {n_leads:,} leads: dbt build {result['wall_seconds']:.1f} s wall, "
            f"peak RSS {result['peak_rss_gb']:.2f} GB; rows {result['rows']}"
        )
        for stage, seconds in sorted(result["stages"].items()):
            print(f"   {stage:12s} {seconds:8.1f} s")
            report.append(
                f"| {n_leads:,} | {touchpoints:,} | {gen_seconds:.1f} | {stage} | {seconds:.1f} |"
            )
        report.append(
            f"| {n_leads:,} | {touchpoints:,} | {gen_seconds:.1f} | **build wall** "
            f"(peak RSS {result['peak_rss_gb']:.2f} GB) | {result['wall_seconds']:.1f} |"
        )
        print(
            "   slowest models:",
            ", ".join(f"{name} {sec:.1f}s" for sec, name in result["slowest_models"]),
        )
    (out / "results.md").write_text("\n".join(report) + "\n")
    print("\n" + "\n".join(report))
    print(f"\nwritten to {out / 'results.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
