"""End to end: generate a small funnel, run the whole `dbt build` in a temporary
warehouse, and check the promises that span layers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dbt_runner import DbtRun, run_dbt
from project import PROJECT_DIR

from lead_scoring.generate import GeneratorConfig, generate_dataset

pytestmark = pytest.mark.e2e

PII_COLUMNS = {"email", "company_name", "first_name", "last_name", "full_name", "phone"}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> DbtRun:
    root = tmp_path_factory.mktemp("e2e")
    raw = root / "raw"
    generate_dataset(GeneratorConfig(n_leads=3000, seed=11), raw, progress=False)
    # every dbt test runs at its configured severity, the model-quality error gates included
    # (tests/dbt/scoring: XGBoost above the rule points, not significantly below logistic
    # regression, calibration within [0.5, 2]), on data the committed sample is not
    run = run_dbt(["build"], root / "dbt", {"raw_data_path": str(raw)})
    assert run.returncode == 0, run.output[-6000:]
    # the build's own results: later dbt commands in this module (docs generate) overwrite them
    target = run.duckdb_path.parent / "target"
    (target / "build_run_results.json").write_text((target / "run_results.json").read_text())
    return run


def test_every_raw_row_is_kept_or_counted(built: DbtRun) -> None:
    issues = built.query(
        "select source_file, action, sum(row_count) as rows "
        "from fct_data_quality_issues group by all"
    )
    dropped = issues[issues.action == "dropped"].set_index("source_file")["rows"]
    # the generator writes duplicates, anonymous and unknown-lead events: they must be counted
    assert dropped.get("touchpoints", 0) > 0
    assert dropped.get("leads", 0) > 0
    rules = set(built.query("select distinct rule from fct_data_quality_issues").rule)
    assert {"duplicate_event_id", "anonymous_lead", "unknown_lead_id", "duplicate_lead_id"} <= rules


def test_pii_never_leaves_staging(built: DbtRun) -> None:
    columns = built.query(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_schema <> 'raw'"
    )
    leaked = columns[columns.column_name.str.lower().isin(PII_COLUMNS)]
    assert leaked.empty, leaked.to_string()


def test_channels_are_derived_for_every_touchpoint(built: DbtRun) -> None:
    counts = built.query(
        "select count(*) as total, count(*) filter (where is_channel_derived) as derived, "
        "count(*) filter (where channel = 'other') as other from stg_web__touchpoints"
    ).iloc[0]
    assert counts.total > 10_000
    assert counts.derived > 0.05 * counts.total
    assert counts.other < 0.05 * counts.total


def test_sessions_respect_the_inactivity_timeout(built: DbtRun) -> None:
    gaps = built.query(
        """
        with ordered as (
            select session_id, occurred_at,
                lag(occurred_at) over (partition by session_id order by occurred_at) as previous
            from int_touchpoints_sessionized
            where is_session_derived
        )
        select max(epoch(occurred_at) - epoch(previous)) as max_gap_seconds from ordered
        """
    ).iloc[0]
    assert gaps.max_gap_seconds <= 30 * 60


def test_staging_is_within_scoring_date(built: DbtRun) -> None:
    bounds = built.query(
        "select (select max(occurred_at) from stg_web__touchpoints) as last_event, "
        "(select max(created_at) from stg_crm__leads) as last_lead, "
        "(select max(converted_at) from stg_crm__conversions) as last_conversion"
    ).iloc[0]
    assert bounds.last_event.year < 2099
    assert bounds.last_lead <= bounds.last_event
    assert bounds.last_conversion <= bounds.last_event


def test_where_command_lists_the_main_tables(built: DbtRun) -> None:
    from lead_scoring.where import describe_results

    text = describe_results(Path(built.duckdb_path))
    assert "fct_data_quality_issues" in text
    assert str(built.duckdb_path.resolve()) in text


def test_every_built_column_is_documented(built: DbtRun) -> None:
    """Docs coverage against the catalog of the built warehouse: every model, seed, source
    and exposure has a description, and so does every column that exists in a built table
    (`make docs` checks the same on the manifest alone)."""
    import subprocess
    import sys

    workdir = built.duckdb_path.parent
    docs = run_dbt(["docs", "generate"], workdir, duckdb_path=built.duckdb_path)
    assert docs.returncode == 0, docs.output[-3000:]
    checker = str(PROJECT_DIR / "scripts" / "check_docs_coverage.py")
    check = subprocess.run(
        [sys.executable, checker, str(workdir / "target")],
        capture_output=True,
        text=True,
    )
    assert "manifest + catalog" in check.stdout, check.stdout
    assert check.returncode == 0, check.stdout


def test_docs_coverage_check_catches_an_undocumented_column(tmp_path: Path) -> None:
    """The checker can fail: a manifest whose model lacks a column description is refused."""
    import json
    import subprocess
    import sys

    manifest = {
        "metadata": {"project_name": "lead_scoring"},
        "nodes": {
            "model.lead_scoring.m": {
                "unique_id": "model.lead_scoring.m",
                "resource_type": "model",
                "package_name": "lead_scoring",
                "description": "A model.",
                "columns": {"a": {"description": "ok"}, "b": {"description": ""}},
            }
        },
        "sources": {},
        "exposures": {},
    }
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    check = subprocess.run(
        [sys.executable, str(PROJECT_DIR / "scripts" / "check_docs_coverage.py"), str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 1
    assert "model.lead_scoring.m.b: no description" in check.stdout


def test_the_model_quality_gates_ran_and_passed(built: DbtRun) -> None:
    """The error gates are not skipped on generated data: they ran, on a validated model."""
    results = json.loads(
        (built.duckdb_path.parent / "target" / "build_run_results.json").read_text()
    )
    status = {r["unique_id"].split(".")[2]: r["status"] for r in results["results"]}
    for gate in (
        "assert_xgboost_test_auc_beats_rule_points",
        "assert_xgboost_not_significantly_worse_than_logistic_regression",
        "assert_xgboost_test_calibration_is_sane",
    ):
        assert status.get(gate) == "pass", (gate, status.get(gate))
    active = built.query("select model_name, validation_method from ml_active_model").iloc[0]
    assert (active.model_name, active.validation_method) == ("xgboost", "rolling_origin_cv")
