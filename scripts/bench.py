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
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import NamedTuple

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
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # dbt's colours, left out of the progress lines


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


def _clock(seconds: float) -> str:
    return f"{int(seconds) // 60:02d}:{int(seconds) % 60:02d}"


def _is_progress(line: str) -> bool:
    """dbt's line for a model or seed starting or finishing, or any node failing."""
    if " of " not in line:
        return False
    if any(word in line for word in ("ERROR", "FAIL", "WARN")):
        return True
    return ("START" in line or "OK" in line) and (" model " in line or " seed " in line)


def _tree_size(path: Path) -> int:
    total = 0
    with contextlib.suppress(OSError):
        for entry in os.scandir(path):
            with contextlib.suppress(OSError):
                total += entry.stat(follow_symlinks=False).st_size
    return total


class _Monitor(threading.Thread):
    """Every few seconds: the size of DuckDB's spill folder (its peak is reported); every
    minute a heartbeat line, so that a long build is never a silent one."""

    def __init__(self, temp_dir: Path, process: subprocess.Popen, started: float) -> None:
        super().__init__(daemon=True)
        self.temp_dir, self.process, self.started = temp_dir, process, started
        self.peak_temp_bytes = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        last_beat = time.perf_counter()
        while not self.stopped.wait(2.0):
            size = _tree_size(self.temp_dir)
            self.peak_temp_bytes = max(self.peak_temp_bytes, size)
            if time.perf_counter() - last_beat >= 60:
                last_beat = time.perf_counter()
                print(
                    f"  [{_clock(last_beat - self.started)}] ... running; spill folder "
                    f"{size / 1024**3:.1f} GB (peak {self.peak_temp_bytes / 1024**3:.1f} GB)",
                    flush=True,
                )

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=5)


class DbtRun(NamedTuple):
    """What :func:`stream_dbt` measured of one dbt command."""

    returncode: int
    tail: list[str]  # the last lines dbt printed (for a failure's report)
    wall_seconds: float
    peak_rss_gb: float  # the dbt process, DuckDB and the Python models included
    peak_temp_gb: float  # DuckDB's spill folder


def stream_dbt(dbt_command: list[str], env: dict[str, str], warehouse: Path) -> DbtRun:
    """Run a dbt command in a wrapper process of its own (so the peak RSS it reports is this
    command's alone), echoing its progress lines with the elapsed time while it runs and
    watching DuckDB's spill folder next to ``warehouse``."""
    command = [sys.executable, "-c", MEASURE_CHILD, *dbt_command]
    started = time.perf_counter()
    tail: list[str] = []
    with tempfile.TemporaryFile(mode="w+") as stderr_file:  # a file, never an unread pipe
        process = subprocess.Popen(
            command, cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE, stderr=stderr_file, text=True
        )
        monitor = _Monitor(Path(str(warehouse) + ".tmp"), process, started)
        monitor.start()
        assert process.stdout is not None
        for line in process.stdout:
            line = ANSI.sub("", line.rstrip())
            tail = (tail + [line])[-60:]
            if _is_progress(line):
                elapsed = _clock(time.perf_counter() - started)
                print(f"  [{elapsed}] {line.split('  ', 1)[-1]}", flush=True)
        process.wait()
        stderr_file.seek(0)
        stderr = stderr_file.read().strip().splitlines()
    monitor.stop()
    last = stderr[-1] if stderr else ""  # the wrapper's last line; absent when it was killed
    peak_kb = int(last.split("=")[1]) if last.startswith("peak_rss_kb=") else 0
    return DbtRun(
        process.returncode,
        tail,
        time.perf_counter() - started,
        peak_kb / 1024**2,
        monitor.peak_temp_bytes / 1024**3,
    )


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
    run = stream_dbt(dbt_command, env, warehouse)
    if run.returncode != 0:
        print("\n".join(run.tail), file=sys.stderr)
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
        "wall_seconds": run.wall_seconds,
        "peak_rss_gb": run.peak_rss_gb,
        "peak_temp_gb": run.peak_temp_gb,
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
            f"peak RSS {result['peak_rss_gb']:.2f} GB, peak spill {result['peak_temp_gb']:.1f} GB; "
            f"rows {result['rows']}"
        )
        for stage, seconds in sorted(result["stages"].items()):
            print(f"   {stage:12s} {seconds:8.1f} s")
            report.append(
                f"| {n_leads:,} | {touchpoints:,} | {gen_seconds:.1f} | {stage} | {seconds:.1f} |"
            )
        report.append(
            f"| {n_leads:,} | {touchpoints:,} | {gen_seconds:.1f} | **build wall** "
            f"(peak RSS {result['peak_rss_gb']:.2f} GB, spill {result['peak_temp_gb']:.1f} GB) | "
            f"{result['wall_seconds']:.1f} |"
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
