"""Shared pytest helpers: run dbt in a throw-away warehouse, write small raw files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
DBT = str(Path(sys.executable).parent / "dbt")
SAMPLE_HISTORY_T1 = "2025-05-20"
# the A/B test of the model against the rule points runs in every build of sample_history, so
# that its matured run (T1) has an experiment to report (tests/python/test_experiment_e2e.py)
SAMPLE_HISTORY_VARS = {"experiment_rules_share": 0.5}


@dataclass
class DbtRun:
    returncode: int
    output: str
    duckdb_path: Path

    def query(self, sql: str):
        con = duckdb.connect(str(self.duckdb_path), read_only=True)
        try:
            return con.sql(sql).df()
        finally:
            con.close()


def dbt_env(workdir: Path, duckdb_path: Path) -> dict[str, str]:
    """The environment of a dbt run on this project with its target and logs in workdir."""
    return {
        **os.environ,
        "DBT_PROFILES_DIR": str(PROJECT_DIR),
        "DBT_TARGET_PATH": str(workdir / "target"),
        "DBT_LOG_PATH": str(workdir / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "LEAD_SCORING_DUCKDB": str(duckdb_path),
    }


def run_dbt(
    args: list[str],
    workdir: Path,
    dbt_vars: dict | None = None,
    duckdb_path: Path | None = None,
    timeout: int = 900,
    env: dict | None = None,
) -> DbtRun:
    """Run the dbt CLI on this project with its warehouse, target and logs in workdir
    (``env``: extra environment variables)."""
    workdir.mkdir(parents=True, exist_ok=True)
    duckdb_path = duckdb_path or workdir / "warehouse.duckdb"
    env = {**dbt_env(workdir, duckdb_path), **(env or {})}
    command = [DBT, *args]
    if dbt_vars:
        command += ["--vars", json.dumps(dbt_vars)]
    completed = subprocess.run(
        command,
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return DbtRun(completed.returncode, completed.stdout + completed.stderr, duckdb_path)


def write_tiny_raw(folder: Path, fmt: str = "parquet") -> Path:
    """Write a minimal valid raw data set (two leads) in the given format."""
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    tables = {
        "leads": """
            select * from (values
                ('L1', timestamp '2025-01-01 10:00', 'a@acme.com', 'Acme', 'VP Sales', '51-200',
                 'software', 'US', 'webinar', 'salesforce'),
                ('L2', timestamp '2025-01-02 10:00', 'b@beta.io', 'Beta', 'Intern', '1-10',
                 'retail', 'DE', 'organic_search', null)
            ) as t(lead_id, created_at, email, company_name, job_title, company_size, industry,
                   country, lead_source, tech_stack)""",
        "touchpoints": """
            select * from (values
                ('E1', 'L1', timestamp '2025-01-05 10:00', 'page_view', null, 'google', 'cpc',
                 'ps_brand', null, '/pricing', null, null, 30),
                ('E2', 'L2', timestamp '2025-01-06 10:00', 'page_view', 'direct', null, null,
                 null, null, '/', null, 's1', 12)
            ) as t(event_id, lead_id, occurred_at, event_type, channel, utm_source, utm_medium,
                   utm_campaign, referrer_domain, page_url, asset_name, session_id,
                   duration_seconds)""",
        "conversions": """
            select * from (values ('L1', timestamp '2025-01-05 12:00', 'opportunity', 1000.0))
                as t(lead_id, converted_at, conversion_type, amount)""",
        "ad_spend": """
            select * from (values (date '2025-01-05', 'paid_search', 'ps_brand', 10.0))
                as t(spend_date, channel, utm_campaign, spend)""",
    }
    for name, query in tables.items():
        target = folder / f"{name}.{fmt}"
        option = "(format parquet)" if fmt == "parquet" else "(format csv, header true)"
        escaped = str(target).replace("'", "''")
        con.execute(f"copy ({query}) to '{escaped}' {option}")
    con.close()
    return folder


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory: pytest.TempPathFactory) -> DbtRun:
    """One `dbt build` of the committed sample (data/sample), every test at its configured
    severity, shared by every module that reads it. Read it only: a test that builds into a
    warehouse or writes to it takes its own copy with copy_build."""
    run = run_dbt(["build"], tmp_path_factory.mktemp("sample_build"))
    assert run.returncode == 0, run.output[-6000:]
    return run


def copy_build(run: DbtRun, workdir: Path) -> DbtRun:
    """A private copy of a built warehouse in workdir, to build into or write to."""
    workdir.mkdir(parents=True, exist_ok=True)
    target = workdir / "warehouse.duckdb"
    shutil.copyfile(run.duckdb_path, target)
    return DbtRun(run.returncode, run.output, target)


@pytest.fixture(scope="session")
def sample_history(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Two scoring runs of the committed sample a horizon apart, then a rerun: run 1 scores at
    SAMPLE_HISTORY_T1 (2025-05-20), run 2 at the default scoring date (2025-06-30: T1's 30-day
    horizon has passed, so the backtest, channel mix and experiment have a matured cohort), run 3
    repeats run 2 with --full-refresh. Every build runs an A/B test with half the leads in the
    rules arm (SAMPLE_HISTORY_VARS). Returns run 1's history, run 2's history and scores, and
    the final DbtRun. Read it only (copy_build for a private copy)."""
    work = Path(tmp_path_factory.mktemp("monitoring"))
    # every gate at its configured severity: the model-quality gates handle a small test fold's
    # noise with the margin's bootstrap interval, not by being left out
    first = run_dbt(["build"], work, {**SAMPLE_HISTORY_VARS, "scoring_date": SAMPLE_HISTORY_T1})
    assert first.returncode == 0, first.output[-6000:]
    history_1 = first.query("select * from scored_leads_history order by lead_id")
    second = run_dbt(["build"], work, SAMPLE_HISTORY_VARS)
    assert second.returncode == 0, second.output[-6000:]
    history_2 = second.query("select * from scored_leads_history order by scored_at, lead_id")
    scored_2 = second.query("select * from scored_leads order by lead_id")
    # run 3 repeats run 2 with --full-refresh: the history, registry and health must survive
    third = run_dbt(["build", "--full-refresh"], work, SAMPLE_HISTORY_VARS)
    assert third.returncode == 0, third.output[-6000:]
    return {
        "history_1": history_1,
        "history_2": history_2,
        "scored_2": scored_2,
        "final": third,
    }


@pytest.fixture
def tiny_raw(tmp_path: Path) -> Path:
    return write_tiny_raw(tmp_path / "raw")
