"""A `dbt build` killed with SIGKILL at random points, then rerun: the rerun succeeds and the
state no rebuild brings back (registry, score history, model health, CRM outbox) is intact."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest
from dbt_runner import DBT, WITHOUT_UNIT_TESTS, DbtRun, copy_build, dbt_env, run_dbt
from project import PROJECT_DIR
from warehouse_state import dump_state

from lead_scoring.crm import SyncConfig, sync

pytestmark = pytest.mark.e2e


class Ok:
    def __call__(self, url, body, headers, timeout):
        return 200, {}, "{}"


def _start_build(workdir: Path, warehouse: Path, dbt_vars: str) -> subprocess.Popen:
    return subprocess.Popen(
        [*DBT, "build", "--vars", dbt_vars],
        cwd=PROJECT_DIR,
        env={**dbt_env(workdir, warehouse), **WITHOUT_UNIT_TESTS},  # as run_dbt(unit_tests=False)
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # the kill reaches dbt's whole process group
    )


def test_a_build_killed_at_random_points_then_rerun_keeps_the_state(
    sample_build: DbtRun, tmp_path: Path
) -> None:
    run = copy_build(sample_build, tmp_path / "dbt")
    sync(run.duckdb_path, SyncConfig(endpoint="https://crm.example.com/x"), Ok())
    before = dump_state(run.duckdb_path)
    assert before["main.scored_leads_history"] and before["main.ml_models"]
    assert before["crm_sync.outbox"]
    # a later scoring date with the registered model: a new history row set is appended
    history_runs = {row[1] for row in before["main.scored_leads_history"]}
    later = '{"scoring_date": "2025-07-03", "ml_retrain": false}'
    seed = int(os.environ.get("KILL_SEED", random.randrange(10**6)))
    delays = sorted(random.Random(seed).uniform(4.0, 45.0) for _ in range(3))
    for delay in delays:
        build = _start_build(tmp_path / "dbt", run.duckdb_path, later)
        time.sleep(delay)
        if build.poll() is None:
            os.killpg(build.pid, signal.SIGKILL)
        build.wait()
    rerun = run_dbt(
        ["build"],
        tmp_path / "dbt",
        {"scoring_date": "2025-07-03", "ml_retrain": False},
        duckdb_path=run.duckdb_path,
        unit_tests=False,
    )
    assert rerun.returncode == 0, f"seed {seed}, kills at {delays}: {rerun.output[-4000:]}"
    after = dump_state(run.duckdb_path)
    # nothing that was there is lost or changed; the rerun appended its own scoring run
    for table in ("main.ml_models", "crm_sync.outbox", "crm_sync.delivered_state"):
        assert after[table] == before[table], (table, seed, delays)
    old_rows = [r for r in after["main.scored_leads_history"] if r[1] in history_runs]
    assert old_rows == before["main.scored_leads_history"], (seed, delays)
    assert {row[1] for row in after["main.scored_leads_history"]} - history_runs
    assert set(before["main.ml_model_health"]) <= set(after["main.ml_model_health"])
