"""The plain steps of a training run: metric rows, split boundaries, labels, reference rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lead_scoring.ml import resolve_config
from lead_scoring.ml.calibration import calibrate, clipped_sigmoid, sigmoid
from lead_scoring.ml.cv import as_ns
from lead_scoring.ml.evaluation import (
    PRODUCTION_MODEL,
    headline,
    headline_metrics,
    metric_rows,
    with_version,
)
from lead_scoring.ml.metrics import METRIC_COLUMNS
from lead_scoring.ml.production import represented_rows, training_labels
from lead_scoring.ml.selection import plan_history
from lead_scoring.ml.splits import SPLIT_COLUMNS, registry_boundaries, split_frame
from lead_scoring.ml.tables import EVALUATION_TABLES
from lead_scoring.ml.validation import LabeledHistory

from .conftest import FAST_CONFIG
from .synthetic import make_synthetic_snapshots


@pytest.fixture(scope="module")
def history() -> LabeledHistory:
    df = make_synthetic_snapshots(2000, seed=3)
    cfg = resolve_config(FAST_CONFIG)
    return LabeledHistory(df, cfg, pd.Timestamp(df["snapshot_at"].max()))


def test_metric_rows_have_the_declared_columns():
    rows = metric_rows("xgboost", "test", {"auc": 0.75, "n": 3})
    assert list(rows.columns) == METRIC_COLUMNS
    assert EVALUATION_TABLES["ml_model_metrics"].columns == ["model_version", *METRIC_COLUMNS]
    assert rows["value"].tolist() == [0.75, 3.0]


def test_with_version_puts_the_version_and_extras_first():
    out = with_version(pd.DataFrame({"a": [1, 2]}), "v1", model_name="m", split="test")
    assert list(out.columns) == ["model_version", "model_name", "split", "a"]
    assert (out["model_version"] == "v1").all()


def test_headline_is_the_production_model_of_one_split():
    metrics = pd.concat(
        [
            metric_rows(PRODUCTION_MODEL, "test", {"auc": 0.8}),
            metric_rows(PRODUCTION_MODEL, "cv", {"auc": 0.7}),
            metric_rows("logistic_regression", "test", {"auc": 0.6}),
        ]
    )
    assert headline(metrics, "test") == {"auc": 0.8}
    assert headline(metrics, "cv") == {"auc": 0.7}
    assert headline_metrics(metrics) == {"auc": 0.8, "cv_auc": 0.7}


def test_sigmoids_and_calibrate():
    m = np.array([-50.0, 0.0, 50.0])
    np.testing.assert_allclose(sigmoid(m), [0.0, 0.5, 1.0], atol=1e-15)
    p = clipped_sigmoid(m)
    assert p[0] == 1e-6 and p[2] == 1 - 1e-6
    rng = np.random.default_rng(0)
    margin = rng.normal(size=400)
    y = (rng.random(400) < sigmoid(2 * margin)).astype(int)
    result = calibrate(margin, y, None, resolve_config({}), ("platt",))
    assert result.calibrator.method == "platt" and result.calibrator.slope > 1.0


def test_as_ns_is_a_nanosecond_datetime64():
    out = as_ns(pd.Timestamp("2025-01-02 03:04:05"))
    assert out.dtype == np.dtype("datetime64[ns]")
    assert out == np.datetime64("2025-01-02T03:04:05", "ns")


def test_represented_rows_unweighted_and_weighted():
    np.testing.assert_array_equal(represented_rows(np.ones(5), 10, 0), np.arange(5))
    weight = np.array([0.0, 1.0, 0.0, 3.0])
    rows = represented_rows(weight, 200, 0)
    assert len(rows) == 200 and (np.diff(rows) >= 0).all()
    assert set(rows) <= {1, 3} and (rows == 3).sum() > (rows == 1).sum()


def test_recent_window_reaches_back_until_enough_converted_leads(history):
    window = history.recent_window(min_positive_leads=5)
    assert history.n_positive_leads(window) >= 5
    assert not (window & ~history.known).any()
    times = history.times[window]
    assert times.max() == history.labeled_end
    wider = history.recent_window(min_positive_leads=10**6)
    np.testing.assert_array_equal(wider, history.known)


def test_training_labels_validated_are_the_matured_labels(history):
    labels = training_labels(history, validated=True)
    assert not labels.imputed and labels.summary(history) == {}
    np.testing.assert_array_equal(labels.mask, history.known)
    assert labels.decay_end == history.labeled_end


def test_training_labels_unvalidated_impute_the_censored_rows(history):
    labels = training_labels(history, validated=False)
    assert labels.imputed and labels.decay_end == as_ns(history.scoring_at)
    assert (labels.mask >= history.known).all()
    summary = labels.summary(history)
    assert summary["censored_labels"] == "imputed"
    assert summary["n_censored_rows"] == int((labels.mask & ~history.known).sum())


def test_split_frame_and_registry_boundaries(history):
    plan = plan_history(history)
    assert plan.is_validated
    frame = split_frame(plan, history, n_rows_trained=123)
    assert list(frame.columns) == SPLIT_COLUMNS
    train = frame.set_index("split").loc["train"]
    assert train["n_rows"] == int(history.known.sum()) and train["n_rows_trained"] == 123
    assert len(frame) == len(plan.folds) + len(plan.dropped) + 1
    bounds = registry_boundaries(plan, history)
    assert bounds["train_end"] == pd.Timestamp(history.labeled_end).isoformat()
    assert bounds["test_start"] == plan.test.valid_start.isoformat()
    assert bounds["valid_start"] == plan.folds[0].valid_start.isoformat()
