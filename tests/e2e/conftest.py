"""The end-to-end fixtures: the sample built once per pytest run (sample_build), two scoring
runs of it a horizon apart (sample_history), a tiny raw data set (tiny_raw), and the parse the
session's dbt runs share (shared_dbt_parse). Every test under tests/e2e is marked ``e2e``. The dbt
runner itself is tests/support/dbt_runner.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from dbt_runner import (
    SAMPLE_HISTORY_T1,
    SAMPLE_HISTORY_VARS,
    DbtRun,
    parse_cache_folder,
    run_dbt,
    write_tiny_raw,
)
from dbt_shared_parse import CACHE_ENV

E2E_DIR = Path(__file__).resolve().parent


# the shared builds: every test that reads one runs on the pytest-xdist worker that built it
SHARED_BUILDS = ("sample_history", "sample_build")


def xdist_group(item: pytest.Item) -> str | None:
    """The pytest-xdist group of an e2e test (`make e2e` runs ``-n 2 --dist loadgroup``), so that
    no build is made twice: the shared build it reads (SHARED_BUILDS, session fixtures); else its
    module when it uses a module- or class-scoped fixture (a build its module shares); else none,
    and the test goes to whichever worker is free."""
    fixtures = getattr(item, "_fixtureinfo", None)
    if fixtures is None:
        return None
    for name in SHARED_BUILDS:
        if name in fixtures.names_closure:
            return name
    scopes = {d.scope for defs in fixtures.name2fixturedefs.values() for d in defs}
    if scopes & {"module", "class", "package"}:
        return item.path.relative_to(E2E_DIR).as_posix()
    return None


def put_in_group(item: pytest.Item, group: str) -> None:
    """Mark the test ``xdist_group(group)`` and, as pytest-xdist does for that mark under
    ``--dist loadgroup``, end its node id with ``@group``: pytest-xdist 3.8 writes the suffix to
    ``item._nodeid``, which pytest 9.2 no longer reads (its node ids are structured:
    pytest-xdist issue #1386), so every test would be scheduled alone and each worker would make
    the shared builds again. Written here where pytest reads it, the suffix reaches the scheduler.
    """
    item.add_marker(pytest.mark.xdist_group(group))
    # a run without -n (make dashboard-test) has no loadgroup option: nothing to schedule
    if item.config.getoption("loadgroup", default=False) and "@" not in item.nodeid:
        structured = getattr(item, "_id", None)
        if structured is not None and hasattr(structured, "parse"):
            item._id = structured.parse(f"{item.nodeid}@{group}")


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the xdist_group marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test of this folder ``e2e`` (most modules say so too) and put it in its
    pytest-xdist group (xdist_group, put_in_group)."""
    for item in items:
        if item.path.is_relative_to(E2E_DIR):
            item.add_marker(pytest.mark.e2e)
            group = xdist_group(item)
            if group is not None:
                put_in_group(item, group)


@pytest.fixture(scope="session", autouse=True)
def shared_dbt_parse(tmp_path_factory: pytest.TempPathFactory):
    """The dbt runs of this pytest run share their parses (tests/support/dbt_shared_parse.py):
    a run parsed like an earlier one starts from its manifest. LEAD_SCORING_TEST_PARSE_CACHE=''
    turns it off (every run parses in full, as plain dbt in a new folder does)."""
    folder = parse_cache_folder(tmp_path_factory.getbasetemp())
    previous = os.environ.get(CACHE_ENV)
    if previous is None:
        os.environ[CACHE_ENV] = str(folder)
    yield os.environ[CACHE_ENV]
    if previous is None:
        os.environ.pop(CACHE_ENV, None)


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
    first = run_dbt(
        ["build"],
        work,
        {**SAMPLE_HISTORY_VARS, "scoring_date": SAMPLE_HISTORY_T1},
        unit_tests=False,
    )
    assert first.returncode == 0, first.output[-6000:]
    history_1 = first.query("select * from scored_leads_history order by lead_id")
    second = run_dbt(["build"], work, SAMPLE_HISTORY_VARS, unit_tests=False)
    assert second.returncode == 0, second.output[-6000:]
    history_2 = second.query("select * from scored_leads_history order by scored_at, lead_id")
    scored_2 = second.query("select * from scored_leads order by lead_id")
    # run 3 repeats run 2 with --full-refresh: the history, registry and health must survive
    third = run_dbt(["build", "--full-refresh"], work, SAMPLE_HISTORY_VARS, unit_tests=False)
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
