"""relation_to_pandas: the same values as DuckDB's .df(), NULLs kept as missing; the helpers that
filter, aggregate and project a relation of either engine (DuckDB, Spark)."""

from __future__ import annotations

import duckdb
import pandas as pd

from lead_scoring.warehouse import (
    aggregate_row,
    is_spark_frame,
    relation_to_pandas,
    select_columns,
    select_expressions,
    table_exists,
)


def test_relation_to_pandas_keeps_values_and_nulls() -> None:
    con = duckdb.connect()
    rel = con.sql(
        "select * from (values "
        "(1, 10::bigint, true, 'a', 1.5::double, timestamp '2025-01-01 10:00'), "
        "(null, null, null, null, null, null)"
        ") t(i, b, flag, s, x, ts)"
    )
    got = relation_to_pandas(rel)
    assert str(got["i"].dtype) == "Int32" and got["i"].isna().tolist() == [False, True]
    assert str(got["b"].dtype) == "Int64" and got["b"].iloc[0] == 10
    assert str(got["flag"].dtype) == "boolean" and bool(got["flag"].iloc[0])
    assert got["flag"].isna().iloc[1]
    assert got["s"].iloc[0] == "a" and pd.isna(got["s"].iloc[1])
    assert got["x"].iloc[0] == 1.5 and pd.isna(got["x"].iloc[1])
    assert got["ts"].iloc[0] == pd.Timestamp("2025-01-01 10:00") and pd.isna(got["ts"].iloc[1])
    expected = rel.df()
    for column in expected.columns:
        pd.testing.assert_series_equal(got[column], expected[column], check_dtype=False)


def test_where_reads_the_warehouse_named_by_the_environment(tmp_path, monkeypatch, capsys):
    """`lead-scoring where` defaults to $LEAD_SCORING_DUCKDB like every other command."""
    import duckdb

    from lead_scoring.cli import main

    path = tmp_path / "elsewhere.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create table scored_leads as select 'L1' as lead_id")
    monkeypatch.setenv("LEAD_SCORING_DUCKDB", str(path))
    monkeypatch.chdir(tmp_path)
    assert main(["where"]) == 0
    out = capsys.readouterr().out
    assert f"Warehouse: {path}" in out
    assert "scored_leads" in out


class _SparkFrame:
    """A stand-in of a Spark DataFrame over a DuckDB relation: Spark's method names
    (selectExpr, collect, columns), backtick-quoted identifiers read as DuckDB's."""

    def __init__(self, relation) -> None:
        self.relation = relation
        self.columns = relation.columns
        self.calls: list[tuple] = []

    def selectExpr(self, *expressions: str):  # noqa: N802 (Spark's name)
        self.calls.append(expressions)
        return _SparkFrame(self.relation.project(", ".join(expressions).replace("`", '"')))

    def collect(self):
        return self.relation.fetchall()


def _people():
    con = duckdb.connect()
    return con, con.sql(
        "select * from (values ('L1', 3, 'x'), ('L2', 5, null), ('L3', null, 'y')) "
        'as t(lead_id, visits, "odd name")'
    )


def test_aggregate_and_select_read_a_duckdb_relation() -> None:
    _, rel = _people()
    assert aggregate_row(rel, "count(*)", "max(visits)", "count(*) filter (where visits > 3)") == (
        3,
        5,
        1,
    )
    weighted = select_expressions(rel, "*", "visits * 2 as double_visits")
    assert weighted.columns[-1] == "double_visits"
    picked = select_columns(rel, ["odd name", "lead_id", "missing", "lead_id"])
    assert picked.columns == ["odd name", "lead_id"]


def test_aggregate_and_select_take_sparks_methods_on_a_spark_frame() -> None:
    _, rel = _people()
    frame = _SparkFrame(rel)
    assert is_spark_frame(frame) and not is_spark_frame(rel)
    assert aggregate_row(frame, "count(*)", "max(visits)") == (3, 5)
    assert frame.calls[-1] == ("count(*)", "max(visits)")
    picked = select_columns(frame, ["odd name", "lead_id", "missing"])
    assert frame.calls[-1] == ("`odd name`", "`lead_id`")  # Spark quotes with backticks
    assert picked.columns == ["odd name", "lead_id"]


def test_table_exists_in_duckdb_and_in_a_spark_catalog(tmp_path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("create schema main_marts; create table main_marts.ml_model_health (x int)")
    assert table_exists(con, "main_marts", "ml_model_health")
    assert not table_exists(con, "main_marts", "ml_models")
    assert not table_exists(con, "other", "ml_model_health")

    class Catalog:
        def tableExists(self, name: str) -> bool:  # noqa: N802 (Spark's name)
            return name == "lead_scoring.ml_model_health"

    class SparkSession:
        catalog = Catalog()

    assert table_exists(SparkSession(), "lead_scoring", "ml_model_health")
    assert not table_exists(SparkSession(), "lead_scoring", "ml_models")
