"""Distributed production training on Spark: ``xgboost.spark.SparkXGBClassifier`` (var
``ml_distributed_training``, config key ``distributed_training``).

By default the production booster is plain single-node XGBoost on the labeled snapshots
``labeled_snapshots`` brings into pandas: every snapshot up to ``train_max_rows``, above it a
re-weighted sample of whole leads, so the driver never holds more than that cap. With
``distributed_training`` on the Spark target, cross-validation, the test fold, calibration and
the explanations still run on that sample (they choose *how* to fit), but the production booster
itself is fitted by ``SparkXGBClassifier`` on **every** matured labeled snapshot of the feature
mart, in the executors: the rows never reach the driver. On one 2-core machine it is slower than
plain XGBoost (measured, docs/spark.md); it is meant for a labeled history that outgrows one
machine, which was not measured here (no cluster).

The training frame is SQL over the mart (:func:`training_frame`), the same definitions as the
pandas path: the rows of :func:`~.dataset.matured_label_predicate` (what ``labeled_snapshots``
reads too), the label of :func:`~.dataset.horizon_labels`, the recency weight of
:func:`~.tuning.recency_weights`, the matrix of :func:`~.dataset.prepare_features` and
:meth:`~.dataset.FeatureSpec.for_trees` (categoricals as the codes of the training levels, the
zeros of ``zero_missing`` as missing). A unit test runs that SQL on DuckDB and compares it with
the pandas path value for value. The booster the estimator returns scores pandas frames like any
other (same feature names, categorical types and codes).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb

from lead_scoring.ml.dataset import FeatureSpec, matured_label_predicate
from lead_scoring.warehouse import select_expressions, sql_string

__all__ = [
    "LABEL",
    "WEIGHT",
    "DistributedFit",
    "fit_spark_booster",
    "spark_booster_fitter",
    "training_frame",
]

LABEL = "__label"
WEIGHT = "__weight"
# native parameters the Spark estimator sets itself and refuses: the threads per task, the
# categorical handling (feature_types), the objective (the classifier's binary:logistic)
_SET_BY_ESTIMATOR = {"nthread", "n_jobs", "enable_categorical", "objective"}

# (spec, native params, rounds, decay_end, half_life_days) -> the production booster
DistributedFit = Callable[
    [FeatureSpec, Mapping[str, Any], int, np.datetime64, "float | None"], xgb.Booster
]


def _feature_expression(spec: FeatureSpec, column: str) -> str:
    """One column of the boosters' matrix, as SQL over the mart."""
    if column in spec.categorical_levels:
        cases = " ".join(
            f"when {sql_string(level)} then {code}.0"
            for code, level in enumerate(spec.categorical_levels[column])
        )
        return f"cast(case cast({column} as string) {cases} end as double) as {column}"
    value = f"cast({column} as double)"
    if column in spec.zero_missing:
        value = f"nullif({value}, 0.0)"
    return f"{value} as {column}"


def training_frame(
    mart,
    spec: FeatureSpec,
    horizon_days: int,
    scoring_at: pd.Timestamp,
    decay_end: np.datetime64,
    half_life_days: float | None,
):
    """Every matured labeled snapshot of ``mart`` (a relation of either engine) as the
    estimator's input: the columns of ``spec`` in order, the label ``__label`` (first conversion
    within ``horizon_days`` after the snapshot) and the weight ``__weight`` (``0.5 ** (age /
    half_life)``, age in days before ``decay_end``; 1 without a half-life)."""
    horizon = int(horizon_days)
    rows = mart.filter(matured_label_predicate(scoring_at, horizon))
    label = (
        "case when label_converted_at > snapshot_at and label_converted_at <= "
        f"snapshot_at + interval {horizon} days then 1.0 else 0.0 end as {LABEL}"
    )
    if half_life_days is None:
        weight = f"1.0 as {WEIGHT}"
    else:
        age_days = (
            f"(unix_micros(timestamp '{pd.Timestamp(decay_end)}') - unix_micros(snapshot_at))"
            " / 86400000000.0"
        )
        weight = f"power(0.5, greatest({age_days}, 0.0) / {float(half_life_days)!r}) as {WEIGHT}"
    return select_expressions(
        rows, *(_feature_expression(spec, c) for c in spec.columns), label, weight
    )


def spark_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """The native parameters of a procedure as the Spark estimator takes them (it sets the
    threads per task, the categorical handling and the objective, binary:logistic, itself)."""
    return {k: v for k, v in params.items() if k not in _SET_BY_ESTIMATOR}


def fit_spark_booster(
    frame,
    spec: FeatureSpec,
    params: Mapping[str, Any],
    rounds: int,
    num_workers: int,
    estimator_class=None,
) -> xgb.Booster:
    """Fit ``SparkXGBClassifier`` on ``frame`` (:func:`training_frame`) with ``num_workers``
    Spark tasks; returns its booster. ``estimator_class``: the estimator (tests pass a stand-in)."""
    if estimator_class is None:
        from xgboost.spark import SparkXGBClassifier

        estimator_class = SparkXGBClassifier
    estimator = estimator_class(
        features_col=list(spec.columns),
        label_col=LABEL,
        weight_col=WEIGHT,
        feature_names=list(spec.columns),
        feature_types=["c" if c in spec.categorical_levels else "q" for c in spec.columns],
        missing=float("nan"),
        n_estimators=int(rounds),
        num_workers=int(num_workers),
        **spark_params(params),
    )
    return estimator.fit(frame).get_booster()


def spark_booster_fitter(
    mart, horizon_days: int, scoring_at: pd.Timestamp, num_workers: int | None = None
) -> DistributedFit:
    """The production fit of ``train_and_evaluate`` on Spark: the booster of
    ``SparkXGBClassifier`` over every matured labeled snapshot of ``mart`` (a Spark DataFrame);
    ``num_workers`` defaults to the session's default parallelism."""

    def fit(spec, params, rounds, decay_end, half_life_days):
        frame = training_frame(mart, spec, horizon_days, scoring_at, decay_end, half_life_days)
        workers = num_workers or frame.sparkSession.sparkContext.defaultParallelism
        print(
            f"ml_models: distributed training: SparkXGBClassifier, {rounds} rounds on "
            f"{workers} Spark task(s) over every matured labeled snapshot"
        )
        return fit_spark_booster(frame, spec, params, rounds, workers)

    return fit
