"""The end-to-end fixtures: the sample built once per pytest run (sample_build), two scoring
runs of it a horizon apart (sample_history), and a tiny raw data set (tiny_raw). Every test under
tests/e2e is marked ``e2e``. The dbt runner itself is tests/support/dbt_runner.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from dbt_runner import (
    SAMPLE_HISTORY_T1,
    SAMPLE_HISTORY_VARS,
    DbtRun,
    run_dbt,
    write_tiny_raw,
)

E2E_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test of this folder ``e2e`` (most modules say so too)."""
    for item in items:
        if item.path.is_relative_to(E2E_DIR):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory: pytest.TempPathFactory) -> DbtRun:
    """One `dbt build` of the committed sample (data/sample), every test at its configured
    severity, shared by every module that reads it. Read it only: a test that builds into a
    warehouse or writes to it takes its own copy with copy_build."""
    run = run_dbt(["build"], tmp_path_factory.mktemp("sample_build"))
    assert run.returncode == 0, run.output[-6000:]
    return run


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
