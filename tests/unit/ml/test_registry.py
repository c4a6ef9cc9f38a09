from __future__ import annotations

import base64
import json

import duckdb
import numpy as np
import pandas as pd
import pytest

from lead_scoring.ml import deserialize_bundle, score, score_open_leads, train_and_evaluate
from lead_scoring.ml.registry import REGISTRY_COLUMNS, active_model, latest_first

from .conftest import FAST_CONFIG, TRAINED_AT


def test_training_is_deterministic(trained, snapshots, rules):
    again = train_and_evaluate(snapshots, FAST_CONFIG, rules=rules, trained_at=TRAINED_AT)
    assert again.bundle.model_version == trained.bundle.model_version
    a, b = trained.registry.iloc[0], again.registry.iloc[0]
    assert a["booster_blob"] == b["booster_blob"]
    assert a["calibrator_blob"] == b["calibrator_blob"]
    pd.testing.assert_frame_equal(trained.metrics, again.metrics)
    leads = snapshots[snapshots["is_scoring_snapshot"]]
    np.testing.assert_array_equal(score(trained.bundle, leads), score(again.bundle, leads))


def test_model_version_changes_with_params_and_data(trained, snapshots, rules):
    other = train_and_evaluate(
        snapshots, {**FAST_CONFIG, "xgb_params": {"max_depth": 3}}, trained_at=TRAINED_AT
    )
    assert other.bundle.model_version != trained.bundle.model_version
    assert len(trained.bundle.model_version) == 12


def test_registry_row_round_trip_through_duckdb(trained, snapshots):
    row = trained.registry
    assert list(row.columns) == REGISTRY_COLUMNS
    assert json.loads(row["features_json"].iloc[0]) == list(trained.bundle.spec.columns)
    con = duckdb.connect()
    con.register("row_df", row)
    con.execute("create table ml_models as select * from row_df")
    back = con.execute("select * from ml_models").fetchdf().iloc[0].to_dict()
    bundle = deserialize_bundle(back)
    assert bundle.model_version == trained.bundle.model_version
    assert bundle.calibrator == trained.bundle.calibrator
    assert bundle.spec == trained.bundle.spec
    assert bundle.config == trained.bundle.config
    a = score_open_leads(trained.bundle, snapshots)
    b = score_open_leads(bundle, snapshots)
    pd.testing.assert_frame_equal(a, b)


def test_deserialize_accepts_base64_blobs(trained, snapshots):
    row = trained.registry.iloc[0].to_dict()
    row["booster_blob"] = base64.b64encode(row["booster_blob"]).decode()
    row["calibrator_blob"] = base64.b64encode(row["calibrator_blob"]).decode()
    row["timing_models_blob"] = base64.b64encode(row["timing_models_blob"]).decode()
    row = json.loads(json.dumps(row, default=str))  # survives a JSON transport
    bundle = deserialize_bundle(row)
    leads = snapshots[snapshots["is_scoring_snapshot"]]
    np.testing.assert_array_equal(score(bundle, leads), score(trained.bundle, leads))
    pd.testing.assert_frame_equal(
        score_open_leads(bundle, leads), score_open_leads(trained.bundle, leads)
    )
    assert set(bundle.timing_models) == set(trained.bundle.timing_models) == {7, 90}
    assert bundle.validation == trained.bundle.validation
    assert bundle.scoring_at == trained.bundle.scoring_at


# ---------------------------------------------------------------- the active model

REGISTRY = pd.DataFrame(
    {
        "model_version": ["b", "a", "c", "a"],
        "trained_at": pd.to_datetime(["2025-03-01", "2025-03-01", "2025-01-01", "2025-02-01"]),
        "note": ["b latest", "a latest (tie)", "c", "a older"],
    }
)


def test_the_active_model_is_the_latest_row_ties_by_the_smallest_version():
    # the rule of ml_active_model.sql: trained_at desc, model_version asc
    assert active_model(REGISTRY)["note"] == "a latest (tie)"
    assert list(latest_first(REGISTRY)["note"]) == ["a latest (tie)", "b latest", "a older", "c"]


def test_a_pinned_version_picks_its_latest_row():
    assert active_model(REGISTRY, "c")["note"] == "c"
    assert active_model(REGISTRY, "a")["note"] == "a latest (tie)"
    for unpinned in (None, "", "None", "null"):
        assert active_model(REGISTRY, unpinned)["note"] == "a latest (tie)"


def test_an_unknown_pinned_version_lists_the_registered_ones():
    with pytest.raises(ValueError, match="registered versions: a, b, c"):
        active_model(REGISTRY, "zzz")


def test_an_empty_registry_has_no_active_model():
    with pytest.raises(LookupError, match="empty"):
        active_model(REGISTRY.iloc[0:0])


def test_rows_without_trained_at_come_last():
    registry = pd.concat(
        [REGISTRY, pd.DataFrame({"model_version": ["0"], "trained_at": [pd.NaT], "note": ["x"]})]
    )
    assert latest_first(registry)["note"].iloc[-1] == "x"
