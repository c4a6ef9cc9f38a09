"""The evaluation tables (lead_scoring.ml.tables): declared once, packed into an ml_models row,
unpacked from the active row, and documented column for column by the dbt YAML."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml
from project import PROJECT_DIR

from lead_scoring.ml.tables import (
    EVALUATION_TABLES,
    evaluation_table,
    pack_table,
    table_json,
)

ML_YAML = PROJECT_DIR / "python_models" / "marts" / "ml" / "_ml__python_models.yml"
LIFT = EVALUATION_TABLES["ml_lift_by_decile"]


def _documented() -> dict[str, list[str]]:
    models = yaml.safe_load(ML_YAML.read_text())["models"]
    return {m["name"]: [c["name"] for c in m.get("columns", [])] for m in models}


def _registry(*rows: tuple[str, str, pd.DataFrame | None]) -> pd.DataFrame:
    """ml_models rows (model_version, trained_at) carrying a lift table each."""
    return pd.DataFrame(
        {
            "model_version": version,
            "trained_at": pd.Timestamp(trained_at),
            LIFT.json_column: pack_table(LIFT, frame),
        }
        for version, trained_at, frame in rows
    )


def _lift(version: str, n_rows: int) -> pd.DataFrame:
    """A lift table of ``n_rows`` deciles of model ``version``, typed as declared."""
    value = {"string": "x", "float64": 0.5, "int64": 7}
    frame = pd.DataFrame({c: [value[t]] * n_rows for c, t in LIFT.dtypes.items()})
    return frame.assign(model_version=version, decile=range(1, n_rows + 1)).astype(LIFT.dtypes)


def test_every_table_is_documented_in_the_declared_column_order():
    documented = _documented()
    for name, table in EVALUATION_TABLES.items():
        assert documented[name] == table.columns, name


def test_ml_models_documents_the_column_carrying_each_table():
    documented = set(_documented()["ml_models"])
    assert {t.json_column for t in EVALUATION_TABLES.values()} <= documented


def test_each_table_is_keyed_by_its_model_and_names_a_distinct_column():
    assert all(name == table.model for name, table in EVALUATION_TABLES.items())
    assert len({t.json_column for t in EVALUATION_TABLES.values()}) == len(EVALUATION_TABLES)
    assert all(t.columns[0] == "model_version" for t in EVALUATION_TABLES.values())


def test_a_training_run_produces_the_declared_columns(trained):
    for table in EVALUATION_TABLES.values():
        produced = list(getattr(trained, table.attribute).columns)
        assert produced[: len(table.columns)] == table.columns, table.model


def test_the_active_row_is_unpacked_with_its_dtypes():
    registry = _registry(
        ("old", "2025-01-01", _lift("old", 3)),
        ("new", "2025-02-01", _lift("new", 2)),
    )
    table = evaluation_table(registry, "ml_lift_by_decile")
    assert list(table["model_version"]) == ["new", "new"]
    assert list(table["decile"]) == [1, 2]
    assert dict(table.dtypes.astype(str)) == dict(LIFT.dtypes)


def test_an_empty_table_keeps_the_declared_columns_and_dtypes():
    for table in EVALUATION_TABLES.values():
        registry = _registry(("rules-1", "2025-01-01", None)).rename(
            columns={LIFT.json_column: table.json_column}
        )
        registry[table.json_column] = pack_table(table)
        unpacked = evaluation_table(registry, table.model)
        assert unpacked.empty
        assert dict(unpacked.dtypes.astype(str)) == dict(table.dtypes), table.model


def test_a_column_an_older_row_lacks_comes_back_missing_and_extra_ones_are_dropped():
    older = _lift("old", 2).drop(columns="cumulative_recall").assign(legacy=1)
    registry = pd.DataFrame(
        {
            "model_version": ["old"],
            "trained_at": [pd.Timestamp("2025-01-01")],
            LIFT.json_column: [table_json(older)],
        }  # fmt: skip
    )
    table = evaluation_table(registry, "ml_lift_by_decile")
    assert list(table.columns) == LIFT.columns
    assert table["cumulative_recall"].isna().all()


def test_an_unknown_table_is_a_key_error():
    with pytest.raises(KeyError):
        evaluation_table(_registry(("a", "2025-01-01", None)), "ml_nothing")
