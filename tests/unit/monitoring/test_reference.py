"""Which labeled snapshots are the reference of a drift check."""

from __future__ import annotations

import duckdb
import pandas as pd

from lead_scoring.monitoring.reference import reference_window


def _mart() -> duckdb.DuckDBPyRelation:
    con = duckdb.connect()
    return con.sql(
        """
        select * from (values
            ('a', timestamp '2025-03-01', false, true),
            ('a', timestamp '2025-03-08', false, false),
            ('b', timestamp '2025-04-01', false, true),
            ('b', timestamp '2025-04-20', false, true),
            ('c', timestamp '2025-04-27', false, null),  -- label not known yet
            ('c', timestamp '2025-05-30', true, null)    -- the scoring snapshot
        ) as t(lead_id, snapshot_at, is_scoring_snapshot, label_converted_in_horizon)
        """
    )


def _leads(mart, window) -> list[tuple[str, str]]:
    rows = mart.filter(window.predicate).order("snapshot_at").fetchall()
    return [(r[0], str(r[1].date())) for r in rows]


def test_the_test_window_of_the_model() -> None:
    mart = _mart()
    row = {"test_start": pd.Timestamp("2025-03-08"), "test_end": pd.Timestamp("2025-04-01")}
    window = reference_window(row, pd.Timestamp("2025-04-20"))
    assert window.source == "test_window"
    assert (window.start, window.end) == (row["test_start"], row["test_end"])
    assert _leads(mart, window) == [("a", "2025-03-08"), ("b", "2025-04-01")]  # both ends in


def test_an_unvalidated_model_gets_the_last_28_days_of_labeled_snapshots() -> None:
    mart = _mart()
    row = {"test_start": None, "test_end": float("nan"), "validation_method": "none"}
    last = mart.filter("label_converted_in_horizon is not null and not is_scoring_snapshot")
    last = last.aggregate("max(snapshot_at)").fetchall()[0][0]
    window = reference_window(row, last)
    assert window.source == "recent_labeled"
    assert window.end == pd.Timestamp("2025-04-20")
    assert window.start == pd.Timestamp("2025-03-23")  # excluded
    assert _leads(mart, window) == [("b", "2025-04-01"), ("b", "2025-04-20")]
    assert _leads(mart, reference_window(row, last, reference_days=7)) == [("b", "2025-04-20")]
    empty = reference_window({"test_start": pd.NaT, "test_end": pd.NaT}, None)
    assert _leads(mart, empty) == []
