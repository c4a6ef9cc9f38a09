"""Distributed production training (lead_scoring.ml.distributed): the training frame is the
pandas path's definitions in SQL, the Spark estimator gets what XGBoost needs, and a production
booster fitted on that frame scores pandas frames like the single-node one.

Spark is not in this environment: the frame's SQL runs on DuckDB (Spark's ``unix_micros``
defined as DuckDB's ``epoch_us``), and plain ``xgb.train`` on that frame stands in for
``SparkXGBClassifier`` (the same DMatrix arguments: codes typed 'c', NaN missing, weights)."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

from lead_scoring.ml import train_and_evaluate
from lead_scoring.ml.build import distributed_fit
from lead_scoring.ml.config import resolve_config
from lead_scoring.ml.dataset import (
    build_feature_spec,
    horizon_labels,
    prepare_features,
    select_features,
    times_ns,
)
from lead_scoring.ml.distributed import (
    LABEL,
    WEIGHT,
    fit_spark_booster,
    spark_params,
    training_frame,
)
from lead_scoring.ml.metrics import roc_auc
from lead_scoring.ml.models import native_params
from lead_scoring.ml.scoring import score
from lead_scoring.ml.tuning import recency_weights

from .conftest import FAST_CONFIG, TRAINED_AT
from .synthetic import make_synthetic_snapshots

HORIZON = 30


def _duckdb_mart(df: pd.DataFrame):
    con = duckdb.connect()
    con.execute("set threads = 1")  # rows come back in the frame's order
    con.execute("create macro unix_micros(t) as epoch_us(t)")  # Spark's name
    con.register("mart_frame", df)
    return con, con.table("mart_frame")


@pytest.fixture(scope="module")
def mart() -> pd.DataFrame:
    df = make_synthetic_snapshots(1500, seed=3)
    # a level the training rows never hold: missing in the matrix, as in prepare_features
    df.loc[df.index[-1], "lead_source"] = "podcast"
    return df


@pytest.mark.parametrize("half_life", [None, 60.0])
def test_the_training_frame_is_the_pandas_definition_in_sql(mart, half_life):
    scoring_at = mart.loc[mart["is_scoring_snapshot"], "snapshot_at"].max()
    known, y = horizon_labels(mart, HORIZON, scoring_at)
    spec = build_feature_spec(mart[known], select_features(mart))
    assert spec.categorical_levels and spec.zero_missing and spec.boolean  # each kind is covered
    decay_end = np.datetime64(times_ns(mart)[known].max(), "ns")
    con, relation = _duckdb_mart(mart)
    frame = training_frame(relation, spec, HORIZON, scoring_at, decay_end, half_life).df()
    con.close()

    assert len(frame) == known.sum()
    assert list(frame.columns) == [*spec.columns, LABEL, WEIGHT]
    np.testing.assert_array_equal(frame[LABEL].to_numpy(), y[known].astype(float))
    expected_weight = recency_weights(times_ns(mart)[known], decay_end, half_life)
    np.testing.assert_allclose(frame[WEIGHT].to_numpy(), expected_weight, rtol=1e-12)
    trees = spec.for_trees(prepare_features(mart, spec, np.flatnonzero(known)))
    for column in spec.columns:
        values = trees[column]
        if column in spec.categorical_levels:
            expected = values.cat.codes.to_numpy().astype(float)
            expected[expected < 0] = np.nan
        else:
            expected = values.to_numpy(dtype=np.float64)
        np.testing.assert_allclose(
            frame[column].to_numpy(dtype=np.float64), expected, rtol=1e-6, err_msg=column
        )


class _Estimator:
    """A stand-in of SparkXGBClassifier: keeps its arguments and the frame it fits."""

    made: list[_Estimator] = []

    def __init__(self, **kwargs):
        self.kwargs = kwargs
        _Estimator.made.append(self)

    def fit(self, frame):
        self.frame = frame
        return self

    def get_booster(self):
        return "booster"


def test_the_spark_estimator_gets_the_columns_types_rounds_and_workers(mart):
    spec = build_feature_spec(mart, select_features(mart))
    params = native_params({"max_depth": 3}, None, seed=7, nthread=2)
    assert fit_spark_booster("frame", spec, params, 120, 4, _Estimator) == "booster"
    made = _Estimator.made[-1]
    assert made.frame == "frame"
    kwargs = made.kwargs
    assert kwargs["features_col"] == kwargs["feature_names"] == list(spec.columns)
    assert kwargs["feature_types"] == [
        "c" if c in spec.categorical_levels else "q" for c in spec.columns
    ]
    assert (kwargs["label_col"], kwargs["weight_col"]) == (LABEL, WEIGHT)
    assert (kwargs["n_estimators"], kwargs["num_workers"]) == (120, 4)
    assert np.isnan(kwargs["missing"])
    assert kwargs["max_depth"] == 3 and kwargs["seed"] == 7
    # the estimator refuses the threads, categorical switch and objective: it sets them itself
    assert not {"nthread", "enable_categorical", "objective"} & set(kwargs)
    assert params["objective"] == "binary:logistic" and "objective" not in spark_params(params)
    assert "nthread" in params and "nthread" not in spark_params(params)


def test_a_booster_fitted_on_the_sql_frame_is_the_production_model(snapshots, rules):
    """train_and_evaluate with a distributed fit: the booster fitted on the SQL frame (xgb.train
    standing in for Spark) scores pandas frames, records how it was fitted, and ranks as well as
    the single-node booster fitted on the same labels."""
    calls = []
    con, relation = _duckdb_mart(snapshots)
    scoring_at = snapshots.loc[snapshots["is_scoring_snapshot"], "snapshot_at"].max()

    def fit(spec, params, rounds, decay_end, half_life_days):
        calls.append((rounds, half_life_days))
        frame = training_frame(relation, spec, HORIZON, scoring_at, decay_end, half_life_days)
        data = frame.df()
        matrix = xgb.DMatrix(
            data[list(spec.columns)].to_numpy(dtype=np.float32),
            label=data[LABEL].to_numpy(),
            weight=data[WEIGHT].to_numpy(),
            feature_names=list(spec.columns),
            feature_types=["c" if c in spec.categorical_levels else "q" for c in spec.columns],
            missing=np.nan,
            enable_categorical=True,
        )
        return xgb.train(dict(params), matrix, num_boost_round=rounds)

    config = {**FAST_CONFIG, "distributed_training": True}
    result = train_and_evaluate(
        snapshots, config, rules=rules, trained_at=TRAINED_AT, distributed_fit=fit
    )
    single = train_and_evaluate(snapshots, FAST_CONFIG, rules=rules, trained_at=TRAINED_AT)
    con.close()

    assert len(calls) == 1 and calls[0][0] == result.bundle.validation["rounds"]
    validation = result.bundle.validation
    assert validation["production_fit"] == "spark_xgboost"
    assert single.bundle.validation["production_fit"] == "xgboost"
    # both production boosters score the scoring snapshots' pandas frame (categoricals included)
    open_rows = snapshots[snapshots["is_scoring_snapshot"]]
    p_distributed = score(result.bundle, open_rows)
    p_single = score(single.bundle, open_rows)
    assert np.isfinite(p_distributed).all() and (p_distributed != p_single).any()
    # fitted on the same matured labels with the same procedure: they rank the labeled rows alike
    known, y = horizon_labels(snapshots, HORIZON, scoring_at)
    labeled = snapshots[known]
    auc_distributed = roc_auc(y[known], score(result.bundle, labeled))
    auc_single = roc_auc(y[known], score(single.bundle, labeled))
    assert auc_distributed == pytest.approx(auc_single, abs=0.02)


def test_distributed_training_needs_the_spark_target(capsys, snapshots):
    _, relation = _duckdb_mart(snapshots)
    assert distributed_fit(relation, resolve_config({}), None) is None
    assert capsys.readouterr().out == ""
    on = resolve_config({"distributed_training": True})
    assert distributed_fit(relation, on, pd.Timestamp("2025-06-30")) is None
    assert "distributed training needs the Spark target" in capsys.readouterr().out


def test_distributed_training_without_a_scoring_time_stays_single_node(capsys, monkeypatch):
    monkeypatch.setattr("lead_scoring.ml.build.is_spark_frame", lambda relation: True)
    on = resolve_config({"distributed_training": True})
    assert distributed_fit("a Spark frame", on, None) is None
    assert "no scoring snapshot" in capsys.readouterr().out
    fit = distributed_fit("a Spark frame", on, pd.Timestamp("2025-06-30"))
    assert callable(fit)
