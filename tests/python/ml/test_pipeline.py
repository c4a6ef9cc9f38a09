from __future__ import annotations

import pandas as pd
import pytest

from lead_scoring.ml import resolve_config, train_and_evaluate
from lead_scoring.ml.config import DEFAULT_BAND_THRESHOLDS
from lead_scoring.ml.dataset import SPLITS
from lead_scoring.ml.scoring import resolve_band_thresholds

BANDS = {"A": 0.5, "B": 0.25, "C": 0.1}


def test_tables_are_complete(trained):
    version = trained.bundle.model_version
    tables = {
        "metrics": trained.metrics,
        "calibration_bins": trained.calibration_bins,
        "lift": trained.lift,
        "feature_importance": trained.feature_importance,
        "segment_metrics": trained.segment_metrics,
        "confusion": trained.confusion,
        "split_boundaries": trained.split_boundaries,
        "calibration": trained.calibration,
        "leakage": trained.leakage,
    }
    for name, table in tables.items():
        assert len(table) > 0, name
        assert table.columns[0] == "model_version" and (table["model_version"] == version).all()
    test_models = {
        "xgboost",
        "xgboost_raw",
        "xgboost_platt",
        "xgboost_isotonic",
        "logistic_regression",
        "rule_points",
    }
    m = trained.metrics
    assert set(m.loc[m["split"] == "test", "model_name"]) == test_models
    assert set(m.loc[m["model_name"] == "xgboost", "split"]) == set(SPLITS)
    assert set(trained.lift["model_name"]) == test_models
    assert set(trained.confusion["model_name"]) == test_models
    assert (trained.calibration_bins.groupby("model_name").size() == 10).all()
    assert trained.split_boundaries["split"].tolist() == list(SPLITS)
    assert set(trained.segment_metrics["segment_column"]) <= {
        "seniority_level",
        "company_size_band",
        "lead_source",
    }
    headline = trained.bundle.metrics
    assert headline["n_rows"] == trained.boundaries.n_rows["test"]


def test_bands_follow_the_base_rate(trained):
    bundle = trained.bundle
    base = bundle.base_rate
    assert base == pytest.approx(
        trained.split_boundaries.set_index("split").loc["calib", "positive_rate"]
    )
    assert bundle.band_thresholds == pytest.approx({"A": 4 * base, "B": 2 * base, "C": base})
    fixed = resolve_band_thresholds(resolve_config({"band_thresholds": BANDS}), base)
    assert fixed == BANDS
    assert resolve_band_thresholds(resolve_config({}), None) == DEFAULT_BAND_THRESHOLDS


def test_config_validation():
    with pytest.raises(ValueError, match="unknown ML config key"):
        resolve_config({"horizon_dayz": 30})
    with pytest.raises(ValueError, match="sum to 1"):
        resolve_config({"split_fractions": [0.5, 0.2, 0.2, 0.2]})
    cfg = resolve_config({"xgb_params": {"max_depth": 3}, "band_lift_multiples": {"A": 5}})
    assert cfg.xgb_params["max_depth"] == 3 and cfg.xgb_params["tree_method"] == "hist"
    assert cfg.band_lift_multiples == {"A": 5, "B": 2.0, "C": 1.0}
    assert cfg.band_thresholds is None
    with pytest.raises(ValueError, match="band_thresholds"):
        resolve_config({"band_thresholds": {"A": 0.5}})
    assert resolve_config(cfg.to_dict()) == cfg


def test_leaky_mart_is_refused(snapshots):
    leaky = snapshots.assign(
        converted_flag=snapshots["label_converted_in_horizon"].astype("Float64")
    )
    with pytest.raises(Exception, match="converted_flag"):
        train_and_evaluate(leaky, {"num_boost_round": 10})


def test_the_model_does_not_depend_on_the_row_order(snapshots, rules, trained) -> None:
    """DuckDB scans in parallel: the same rows in another order give the same model."""
    shuffled = snapshots.sample(frac=1.0, random_state=7).reset_index(drop=True)
    fast = {"nthread": 1, "num_boost_round": 400, "early_stopping_rounds": 30}  # as `trained`
    again = train_and_evaluate(shuffled, fast, rules=rules, trained_at="2025-07-01 06:00:00")
    assert again.bundle.model_version == trained.bundle.model_version
    pd.testing.assert_frame_equal(again.metrics, trained.metrics)
