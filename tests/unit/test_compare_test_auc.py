"""scripts/compare_test_auc.py: what make spark-test checks of the trained models (the same
scored leads, every test AUC within the margin), and that it fails when they differ."""

from __future__ import annotations

import importlib.util

import duckdb
import pytest
from project import PROJECT_DIR

_spec = importlib.util.spec_from_file_location(
    "compare_test_auc", PROJECT_DIR / "scripts" / "compare_test_auc.py"
)
compare_test_auc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(compare_test_auc)


def _warehouse(path, leads, aucs):
    con = duckdb.connect(str(path))
    con.execute("create table main.scored_leads (lead_id varchar)")
    con.executemany("insert into main.scored_leads values (?)", [[lead] for lead in leads])
    con.execute(
        "create table main.ml_model_metrics "
        "(model_name varchar, split varchar, metric varchar, value double)"
    )
    rows = [[m, "test", "auc", v] for m, v in aucs.items()]
    rows += [["xgboost", "cv", "auc", 0.5], ["xgboost", "test", "brier", 0.9]]  # not compared
    con.executemany("insert into main.ml_model_metrics values (?, ?, ?, ?)", rows)
    con.close()
    return path


@pytest.fixture
def duckdb_build(tmp_path):
    return _warehouse(tmp_path / "a.duckdb", ["L1", "L2"], {"xgboost": 0.85, "rule_points": 0.77})


def test_the_same_leads_and_close_aucs_pass(duckdb_build, tmp_path, capsys):
    spark = _warehouse(tmp_path / "b.duckdb", ["L2", "L1"], {"xgboost": 0.853, "rule_points": 0.77})
    assert compare_test_auc.main([str(duckdb_build), str(spark)]) == 0
    assert "test AUC xgboost: 0.8500 and 0.8530" in capsys.readouterr().out


LEADS_DIFFER = "scored_leads: the scored leads differ"


@pytest.mark.parametrize(
    ("leads", "aucs", "named"),
    [
        (["L1", "L2"], {"xgboost": 0.845, "rule_points": 0.77}, "xgboost: test AUC 0.8500"),
        (["L1", "L3"], {"xgboost": 0.85, "rule_points": 0.77}, LEADS_DIFFER),
        (["L1", "L2", "L2"], {"xgboost": 0.85, "rule_points": 0.77}, LEADS_DIFFER),
        (["L1", "L2"], {"xgboost": 0.85}, "rule_points: a test AUC on one side only"),
    ],
)
def test_a_difference_fails_and_is_named(duckdb_build, tmp_path, capsys, leads, aucs, named):
    spark = _warehouse(tmp_path / "b.duckdb", leads, aucs)
    assert compare_test_auc.main([str(duckdb_build), str(spark)]) == 1
    assert f"DIFFERENT {named}" in capsys.readouterr().out
