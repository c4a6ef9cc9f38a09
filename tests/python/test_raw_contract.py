"""The raw data contract: bad input stops the build with a message that names
the file, the column and the var to fix; good input in Parquet or CSV passes."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from conftest import run_dbt, write_tiny_raw

pytestmark = pytest.mark.e2e

# run only the contract check (the on-run-start hook) and one cheap node
CHECK = ["run", "--select", "base_ads__ad_spend"]


def _rewrite(path: Path, select_sql: str) -> None:
    """Replace a raw Parquet file by a query over its current content."""
    con = duckdb.connect()
    tmp = path.with_suffix(".tmp.parquet")
    query = select_sql.format(src=f"read_parquet('{path}')")
    con.execute(f"copy ({query}) to '{tmp}' (format parquet)")
    con.close()
    tmp.replace(path)


def test_valid_parquet_passes(tiny_raw: Path, tmp_path: Path) -> None:
    run = run_dbt(CHECK, tmp_path / "dbt", {"raw_data_path": str(tiny_raw)})
    assert run.returncode == 0, run.output
    assert "raw contract ok" in run.output


def test_csv_with_same_columns_is_accepted(tmp_path: Path) -> None:
    raw = write_tiny_raw(tmp_path / "raw_csv", fmt="csv")
    run = run_dbt(
        [
            "build",
            "--select",
            "+fct_data_quality_issues",
            "path:models/staging",
            "--indirect-selection",
            "cautious",
        ],
        tmp_path / "dbt",
        {"raw_data_path": str(raw)},
    )
    assert run.returncode == 0, run.output
    leads = run.query("select lead_id, created_at from stg_crm__leads order by lead_id")
    assert list(leads.lead_id) == ["L1", "L2"]
    assert str(leads.created_at.dtype).startswith("datetime64")


def test_missing_file_names_file_and_var(tiny_raw: Path, tmp_path: Path) -> None:
    (tiny_raw / "conversions.parquet").unlink()
    run = run_dbt(CHECK, tmp_path / "dbt", {"raw_data_path": str(tiny_raw)})
    assert run.returncode != 0
    assert "conversions.parquet" in run.output
    assert "raw_data_path" in run.output
    assert "Traceback" not in run.output


def test_missing_folder_names_the_var(tmp_path: Path) -> None:
    run = run_dbt(CHECK, tmp_path / "dbt", {"raw_data_path": str(tmp_path / "nowhere")})
    assert run.returncode != 0
    assert "nowhere" in run.output and "raw_data_path" in run.output


def test_missing_column_names_file_column_and_var(tiny_raw: Path, tmp_path: Path) -> None:
    _rewrite(tiny_raw / "touchpoints.parquet", "select * exclude (occurred_at) from {src}")
    run = run_dbt(CHECK, tmp_path / "dbt", {"raw_data_path": str(tiny_raw)})
    assert run.returncode != 0
    assert "touchpoints.parquet" in run.output
    assert "'occurred_at'" in run.output
    assert "raw_data_path" in run.output


def test_uncastable_type_names_file_column_and_type(tiny_raw: Path, tmp_path: Path) -> None:
    _rewrite(
        tiny_raw / "leads.parquet",
        "select * replace (created_at is not null as created_at) from {src}",
    )
    run = run_dbt(CHECK, tmp_path / "dbt", {"raw_data_path": str(tiny_raw)})
    assert run.returncode != 0
    assert "leads.parquet" in run.output
    assert "'created_at'" in run.output
    assert "BOOLEAN" in run.output


def test_unparseable_text_column_names_an_example_value(tiny_raw: Path, tmp_path: Path) -> None:
    _rewrite(
        tiny_raw / "ad_spend.parquet",
        "select * replace ('lots' as spend) from {src}",
    )
    run = run_dbt(CHECK, tmp_path / "dbt", {"raw_data_path": str(tiny_raw)})
    assert run.returncode != 0
    assert "ad_spend.parquet" in run.output
    assert "'spend'" in run.output
    assert "'lots'" in run.output


def test_bad_scoring_date_names_the_var(tiny_raw: Path, tmp_path: Path) -> None:
    run = run_dbt(
        ["run", "--select", "base_crm__leads"],
        tmp_path / "dbt",
        {"raw_data_path": str(tiny_raw), "scoring_date": "next tuesday"},
    )
    assert run.returncode != 0
    assert "scoring_date" in run.output and "next tuesday" in run.output


def test_all_null_column_takes_the_contract_type(tiny_raw: Path, tmp_path: Path) -> None:
    """Parquet writes an all-null column with type NULL: the raw view gives it the contract's
    type, so staging (and the dbt unit tests over it) build instead of failing on a cast."""
    _rewrite(
        tiny_raw / "touchpoints.parquet",
        "select * replace (null as asset_name, null as duration_seconds) from {src}",
    )
    run = run_dbt(
        ["build", "--select", "+path:models/staging", "--indirect-selection", "cautious"],
        tmp_path / "dbt",
        {"raw_data_path": str(tiny_raw)},
    )
    assert run.returncode == 0, run.output[-3000:]
    types = run.query(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'raw' and table_name = 'touchpoints' "
        "and column_name in ('asset_name', 'duration_seconds') order by 1"
    )
    assert list(types.data_type) == ["VARCHAR", "INTEGER"]
