"""scripts/compare_warehouses.py: two builds table by table (the incremental-equals-full-refresh
test and make spark-test rest on it), and the rows --skip-rows leaves out."""

from __future__ import annotations

import importlib.util

import duckdb
import pytest
from project import PROJECT_DIR

_spec = importlib.util.spec_from_file_location(
    "compare_warehouses", PROJECT_DIR / "scripts" / "compare_warehouses.py"
)
compare_warehouses = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(compare_warehouses)

METRICS = [("xgboost", 0.85), ("logistic_regression", 0.80)]


def _warehouse(path, metrics=METRICS, leads=("L1", "L2")):
    con = duckdb.connect(str(path))
    con.execute("create table main.ml_lift (model_name varchar, auc double)")
    con.executemany("insert into main.ml_lift values (?, ?)", [list(row) for row in metrics])
    con.execute("create table main.scored_leads (lead_id varchar, trained_at timestamp)")
    con.executemany("insert into main.scored_leads values (?, now())", [[lead] for lead in leads])
    con.close()
    return path


def test_equal_builds_are_identical(tmp_path, capsys):
    before, after = _warehouse(tmp_path / "b.duckdb"), _warehouse(tmp_path / "a.duckdb")
    assert compare_warehouses.main([str(before), str(after)]) == 0
    out = capsys.readouterr().out
    assert "equal: ml_lift (2 rows, 2 of 2 columns)" in out
    # trained_at holds the wall clock of a build: left out
    assert "equal: scored_leads (2 rows, 1 of 2 columns)" in out


def test_a_differing_row_is_counted(tmp_path, capsys):
    before = _warehouse(tmp_path / "b.duckdb")
    after = _warehouse(tmp_path / "a.duckdb", [("xgboost", 0.85), ("logistic_regression", 0.81)])
    assert compare_warehouses.main([str(before), str(after)]) == 1
    assert (
        "DIFFERENT ml_lift: 1 rows differ (2 rows in BEFORE, 2 in AFTER; "
        "1 only in BEFORE, 1 only in AFTER)" in capsys.readouterr().out
    )


def test_skip_rows_leaves_out_the_rows_of_a_value_and_says_how_many(tmp_path, capsys):
    before = _warehouse(tmp_path / "b.duckdb")
    after = _warehouse(tmp_path / "a.duckdb", [("xgboost", 0.85), ("logistic_regression", 0.81)])
    args = [str(before), str(after), "--skip-rows", "model_name=logistic_regression"]
    assert compare_warehouses.main(args) == 0
    out = capsys.readouterr().out
    assert (
        "equal: ml_lift (1 rows, 2 of 2 columns; "
        "left out: model_name = logistic_regression, 1 and 1 rows)" in out
    )
    # a relation without the column is compared whole
    assert "equal: scored_leads (2 rows, 1 of 2 columns)" in out


def test_skip_rows_still_sees_a_difference_in_the_other_rows(tmp_path, capsys):
    before = _warehouse(tmp_path / "b.duckdb")
    after = _warehouse(tmp_path / "a.duckdb", [("xgboost", 0.86), ("logistic_regression", 0.81)])
    args = [str(before), str(after), "--skip-rows", "model_name=logistic_regression"]
    assert compare_warehouses.main(args) == 1
    assert "DIFFERENT ml_lift: 1 rows differ (1 rows in BEFORE" in capsys.readouterr().out


def test_skip_rows_needs_column_equals_value(tmp_path, capsys):
    before, after = _warehouse(tmp_path / "b.duckdb"), _warehouse(tmp_path / "a.duckdb")
    with pytest.raises(SystemExit) as stop:
        compare_warehouses.main([str(before), str(after), "--skip-rows", "logistic_regression"])
    assert stop.value.code == 2
    assert "expected COLUMN=VALUE" in capsys.readouterr().err
