"""relation_to_pandas: the same values as DuckDB's .df(), NULLs kept as missing."""

from __future__ import annotations

import duckdb
import pandas as pd

from lead_scoring.warehouse import relation_to_pandas


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
