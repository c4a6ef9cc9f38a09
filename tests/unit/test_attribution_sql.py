"""Attribution: the pandas reference of the SQL paths and credits, and the Python models.

Fast tests (no dbt): the pandas reference implementation (tests/support/attribution_reference.py)
on the documented example, and the dbt Python models ``int_channel_credit_markov`` /
``int_channel_credit_shapley`` called with a stand-in for dbt, on normal and degenerate inputs.
The end-to-end comparison of the SQL models with the reference is
tests/e2e/test_attribution_sql_e2e.py.
"""

from __future__ import annotations

import logging

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from attribution_reference import reference_paths_and_credits
from project import PROJECT_DIR


def test_reference_reproduces_the_documented_example():
    """The worked example of the docs: paid_search > email > direct, 14/7/0 days before."""
    conversion_at = pd.Timestamp("2025-06-20 12:00")
    touches = pd.DataFrame(
        {
            "touch_id": ["t0", "t1", "t2", "t3", "t4"],
            "lead_id": "L1",
            "channel": ["display", "paid_search", "email", "direct", "direct"],
            "occurred_at": pd.to_datetime(
                [
                    "2025-05-10 09:00",
                    "2025-06-06 12:00",
                    "2025-06-13 12:00",
                    "2025-06-20 12:00",
                    "2025-06-21 08:00",
                ]
            ),
        }
    )
    conversions = pd.DataFrame(
        {"lead_id": ["L1"], "converted_at": [conversion_at], "amount": [1e3]}
    )
    paths, credits = reference_paths_and_credits(
        pd.Series(["L1", "L2"]), touches, conversions, pd.Timestamp("2025-06-30")
    )
    assert paths.loc["L1", "path"] == "paid_search > email > direct"
    assert not paths.loc["L2", "has_path"]
    assert credits["touch_id"].tolist() == ["t1", "t2", "t3"]
    np.testing.assert_allclose(credits["position_based_credit"], [0.4, 0.2, 0.4])
    np.testing.assert_allclose(credits["time_decay_credit"], np.array([0.25, 0.5, 1.0]) / 1.75)
    np.testing.assert_allclose(credits["linear_credit"], [1 / 3] * 3)


# ------------------------------------------------------------------------------------------
# The Python models, called with a stand-in for dbt (no warehouse needed)
# ------------------------------------------------------------------------------------------


class _Relation:
    """A stand-in for the DuckDB relation dbt.ref() returns: what relation_to_pandas reads."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame

    def to_arrow_table(self) -> pa.Table:
        return pa.Table.from_pandas(self._frame, preserve_index=False)


class _Config:
    def __init__(self, values: dict) -> None:
        self._values = values

    def get(self, key: str, default=None):
        return self._values.get(key, default)


class _Dbt:
    """The part of dbt's Python-model API the attribution models use."""

    def __init__(self, paths: pd.DataFrame, **config) -> None:
        self._paths = paths
        self.config = _Config(config)

    def ref(self, name: str) -> _Relation:
        assert name == "fct_conversion_paths"
        return _Relation(self._paths)


def _load_python_model(name: str):
    import importlib.util

    path = PROJECT_DIR / "python_models" / "intermediate" / "attribution" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.model


MODEL_CONFIG = {
    "int_channel_credit_markov": {"order": 1, "collapse_repeats": True},
    "int_channel_credit_shapley": {"max_channels": 15},
}


def _paths(rows: list[tuple[str, int, float, int]]) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["path", "total_conversions", "total_conversion_value", "total_null"]
    ).astype({"path": object, "total_conversions": "int64", "total_null": "int64"})


@pytest.mark.parametrize("name", sorted(MODEL_CONFIG))
def test_python_models_return_the_package_result(name):
    paths = _paths(
        [
            ("paid_search > email", 1, 1000.0, 0),
            ("email", 1, 500.0, 0),
            ("paid_search", 0, 0.0, 2),
        ]
    )
    result = _load_python_model(name)(_Dbt(paths, **MODEL_CONFIG[name]), None)
    expected = {
        "int_channel_credit_markov": {"email": 4 / 3, "paid_search": 2 / 3},
        "int_channel_credit_shapley": {"email": 1.5, "paid_search": 0.5},
    }[name]
    got = dict(zip(result["channel"], result["attributed_conversions"], strict=True))
    assert got == pytest.approx(expected)
    assert result["share"].sum() == pytest.approx(1.0)
    assert str(result["channel"].dtype) == "string"


@pytest.mark.parametrize("name", sorted(MODEL_CONFIG))
@pytest.mark.parametrize(
    ("case", "rows", "expected_rows", "log_text"),
    [
        ("no paths", [], 0, "no paths"),
        ("no conversions", [("email > direct", 0, 0.0, 3), ("direct", 0, 0.0, 1)], 2, "no conv"),
        ("one channel", [("email", 2, 300.0, 1), ("email > email", 1, 50.0, 0)], 1, None),
    ],
)
def test_python_models_survive_degenerate_input(name, case, rows, expected_rows, log_text, caplog):
    caplog.set_level(logging.INFO, logger="lead_scoring.attribution")
    result = _load_python_model(name)(_Dbt(_paths(rows), **MODEL_CONFIG[name]), None)
    assert len(result) == expected_rows, case
    assert {"channel", "attributed_conversions", "attributed_revenue", "share"} <= set(result)
    assert str(result["channel"].dtype) == "string"
    for column in ("attributed_conversions", "attributed_revenue", "share"):
        assert result[column].dtype == np.float64
    if case == "no conversions":
        assert (result["attributed_conversions"] == 0).all()
    if case == "one channel":
        assert result["attributed_conversions"].tolist() == [pytest.approx(3.0)]
        assert result["attributed_revenue"].tolist() == [pytest.approx(350.0)]
    if log_text:
        assert log_text in caplog.text, caplog.text
    else:
        assert "single channel" in caplog.text, caplog.text
    # the result must be writable to DuckDB with typed columns, also when empty
    con = duckdb.connect()
    con.register("result", result)
    types = {row[0]: row[1] for row in con.sql("describe select * from result").fetchall()}
    con.close()
    assert types["channel"] == "VARCHAR"
    assert types["attributed_conversions"] == "DOUBLE"
