"""Run dbt on this project in a throw-away warehouse, and write the small raw files it builds on.

The one dbt runner of the tests: ``run_dbt`` returns a ``DbtRun`` (return code, output, and the
warehouse to query). The end-to-end session fixtures (tests/e2e/conftest.py) build on it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
from project import PROJECT_DIR

# dbt's command line with the session's shared parse (tests/support/dbt_shared_parse.py): plain
# dbt unless LEAD_SCORING_TEST_PARSE_CACHE names a folder (the e2e tests' session fixture does)
DBT = [sys.executable, str(Path(__file__).with_name("dbt_shared_parse.py"))]
SAMPLE_HISTORY_T1 = "2025-05-20"
# the A/B test of the model against the rule points runs in every build of sample_history, so
# that its matured run (T1) has an experiment to report (tests/e2e/test_experiment_e2e.py)
SAMPLE_HISTORY_VARS = {"experiment_rules_share": 0.5}
# dbt's unit tests (given rows in, expected rows out) read of the warehouse only the column types
# of their inputs, the raw contract's in every build of the committed sample or of generated
# data (the sample is the generator's output): the builds that repeat such a build leave them out
# (run_dbt(..., unit_tests=False)). They run in sample_build, in the whole build of generated data
# (test_build_e2e) and wherever the raw files' types vary (test_raw_contract,
# test_received_events, test_attribution_sql_e2e). In a sample build they are 25
# nodes and about 10 s of dbt's thread time (13 s in a CI precheck, 2026-12-07).
WITHOUT_UNIT_TESTS = {"DBT_EXCLUDE_RESOURCE_TYPES": "unit_test"}


@dataclass
class DbtRun:
    """One dbt run: its return code, its output (stdout and stderr) and its warehouse."""

    returncode: int
    output: str
    duckdb_path: Path

    def query(self, sql: str):
        """The result of a query on the run's warehouse (read-only), as a DataFrame."""
        con = duckdb.connect(str(self.duckdb_path), read_only=True)
        try:
            return con.sql(sql).df()
        finally:
            con.close()


def dbt_env(workdir: Path, duckdb_path: Path) -> dict[str, str]:
    """The environment of a dbt run on this project with its target, logs and received events
    (none unless a test writes workdir/received_events/touchpoints.jsonl) in workdir."""
    return {
        **os.environ,
        "DBT_PROFILES_DIR": str(PROJECT_DIR),
        "DBT_TARGET_PATH": str(workdir / "target"),
        "DBT_LOG_PATH": str(workdir / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "LEAD_SCORING_DUCKDB": str(duckdb_path),
        # hermetic: never the events a local `lead-scoring serve` received in the project dir
        "LEAD_SCORING_RECEIVED_EVENTS": str(workdir / "received_events"),
    }


def run_dbt(
    args: list[str],
    workdir: Path,
    dbt_vars: dict | None = None,
    duckdb_path: Path | None = None,
    timeout: int = 900,
    env: dict | None = None,
    unit_tests: bool = True,
) -> DbtRun:
    """Run the dbt CLI on this project with its warehouse, target and logs in workdir
    (``env``: extra environment variables; ``unit_tests=False``: without dbt's unit tests,
    WITHOUT_UNIT_TESTS)."""
    workdir.mkdir(parents=True, exist_ok=True)
    duckdb_path = duckdb_path or workdir / "warehouse.duckdb"
    skipped = {} if unit_tests else WITHOUT_UNIT_TESTS
    env = {**dbt_env(workdir, duckdb_path), **skipped, **(env or {})}
    command = [*DBT, *args]
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


def parse_cache_folder(basetemp: Path) -> Path:
    """Where the dbt runs of a pytest run keep their shared parses: beside the run's temporary
    folders, shared by its pytest-xdist workers (each has a basetemp of its own in that folder)."""
    root = basetemp.parent if os.environ.get("PYTEST_XDIST_WORKER") else basetemp
    return root / "dbt_parse_cache"


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


def copy_build(run: DbtRun, workdir: Path) -> DbtRun:
    """A private copy of a built warehouse in workdir, to build into or write to."""
    workdir.mkdir(parents=True, exist_ok=True)
    target = workdir / "warehouse.duckdb"
    shutil.copyfile(run.duckdb_path, target)
    return DbtRun(run.returncode, run.output, target)
