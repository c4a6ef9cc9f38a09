"""Honest test metrics: the production procedure and the baselines on the newest fold.

:func:`evaluate_test_fold` replays the production procedure as it would have run when the test
window opened -- the candidate, rounds and blend chosen on the *earlier* folds, the test fold's
model trained on the labels known then, a calibrator fitted on the earlier folds' out-of-fold
predictions -- and trains the baselines (logistic regression, rule points, extra models) on the
same rows, then scores every model on the same test rows with a lead-level bootstrap interval of
the AUC margin (:func:`auc_margins`). At scale the test rows are a weighted sample of whole leads
and every metric and table is weighted. :func:`fold_tables` gives the reliability bins, gains,
confusion and segments of every model on the fold.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lead_scoring.ml.calibration import calibrate, clipped_sigmoid, sigmoid
from lead_scoring.ml.config import MLConfig
from lead_scoring.ml.cv import Fold, as_ns
from lead_scoring.ml.dataset import (
    SAMPLE_WEIGHT_COLUMN,
    FeatureSpec,
    horizon_labels,
    prepare_features,
    times_ns,
)
from lead_scoring.ml.evaluation import PRODUCTION_MODEL, metric_rows, model_metrics, with_version
from lead_scoring.ml.linear import fit_linear
from lead_scoring.ml.metrics import (
    calibration_bins,
    confusion_at_f1_threshold,
    lift_by_decile,
    paired_auc_margin,
    segment_metrics,
)
from lead_scoring.ml.models import make_dmatrix, train_extra_model
from lead_scoring.ml.rules import evaluate_rules, fit_points_mapping, validate_rules
from lead_scoring.ml.tuning import choose
from lead_scoring.ml.validation import CrossValidation

logger = logging.getLogger(__name__)

__all__ = ["TestFold", "TestRows", "auc_margins", "evaluate_test_fold", "fold_tables"]

TestRows = pd.DataFrame | Callable[[pd.Timestamp, pd.Timestamp], pd.DataFrame] | None
"""The rows of the test window when the history is a sample: a frame, or a loader
``(start, end) -> frame``; None: the history's own rows of the window."""


@dataclass
class TestFold:
    """The production procedure and the baselines on the test fold."""

    __test__ = False  # not a pytest test class

    predictions: dict[str, np.ndarray]
    y: np.ndarray
    rows: pd.DataFrame
    X: pd.DataFrame
    T: pd.DataFrame
    weight: np.ndarray | None
    metrics: list[pd.DataFrame]
    candidate: int
    rounds: int
    blend: float
    calibration: str


@dataclass
class _WindowRows:
    """The labeled rows of the test window: the rows, their matrices, labels and weights."""

    rows: pd.DataFrame
    X: pd.DataFrame
    T: pd.DataFrame
    y: np.ndarray
    weight: np.ndarray | None


def _loaded_window_rows(
    full: pd.DataFrame, fold: Fold, spec: FeatureSpec, cv: CrossValidation, cfg: MLConfig
) -> _WindowRows:
    """The window's labeled rows of ``full`` (the loaded test rows), weighted when it carries
    ``sample_weight`` other than 1."""
    known, labels = horizon_labels(full, cfg.horizon_days, cv.history.scoring_at)
    in_window = known & fold.valid_mask(times_ns(full))
    rows = full.loc[in_window]
    X_test = prepare_features(rows, spec)
    weight = (
        rows[SAMPLE_WEIGHT_COLUMN].to_numpy(dtype=np.float64, na_value=1.0)
        if SAMPLE_WEIGHT_COLUMN in rows.columns
        else None
    )
    if weight is not None and np.allclose(weight, 1.0):
        weight = None
    return _WindowRows(rows, X_test, spec.for_trees(X_test), labels[in_window], weight)


def _own_window_rows(cv: CrossValidation, X: pd.DataFrame, fold: Fold) -> _WindowRows:
    """The history's own labeled rows of the window, weighted by their sampling weights."""
    history = cv.history
    positions = history.ordered(history.known & fold.valid_mask(history.times))
    weight = history.sample_weight[positions]
    if np.allclose(weight, 1.0):
        weight = None
    else:
        logger.info(
            "test fold: %d rows of a sample of whole leads, weighted to the %d rows of the window",
            len(positions),
            round(float(weight.sum())),
        )
    return _WindowRows(
        history.df.iloc[positions],
        X.iloc[positions],
        cv.X.iloc[positions],
        history.y[positions],
        weight,
    )


def _rule_points(
    cv: CrossValidation,
    rules: pd.DataFrame | list[Mapping],
    train: np.ndarray,
    train_w: np.ndarray,
    rows: pd.DataFrame,
) -> np.ndarray:
    """The rule points baseline: its points-to-probability map fitted on the training rows,
    applied to the test rows."""
    history = cv.history
    table = validate_rules(rules)
    rule_columns = sorted(set(table["feature"]) & set(history.df.columns))
    points = evaluate_rules(history.df[rule_columns].iloc[train], table).to_numpy().sum(1)
    mapping = fit_points_mapping(points, history.y[train], train_w)
    test_points = evaluate_rules(rows[rule_columns], table).to_numpy().sum(1)
    return mapping.predict(test_points)


def evaluate_test_fold(
    cv: CrossValidation,
    X: pd.DataFrame,
    spec: FeatureSpec,
    rules: pd.DataFrame | list[Mapping] | None,
    test_frame: TestRows,
    cfg: MLConfig,
) -> TestFold:
    """The production procedure as it would have run when the test window opened: the candidate
    and rounds chosen on the earlier folds, the test fold's model (trained on the labels known
    then), a calibrator fitted on the earlier folds' out-of-fold predictions (raw probabilities
    with a single fold). The baselines train on the same rows (``X``: the matrix before
    :meth:`~.dataset.FeatureSpec.for_trees`) and score the same test rows: every row of the
    window (``test_frame``, itself a weighted sample when it carries ``sample_weight``) when the
    history was sampled, else the history's own rows of the window (weighted)."""
    history = cv.history
    k_last = len(cv.runs) - 1
    run = cv.runs[k_last]
    fold = run.fold
    earlier = list(range(k_last)) if k_last >= 1 else [k_last]
    candidate, rounds, _ = choose(cv.curves(earlier))
    blend, _ = cv.choose_blend(candidate, rounds, earlier, cfg.blend_weights)
    full = test_frame(fold.valid_start, fold.valid_end) if callable(test_frame) else test_frame
    if full is not None and len(full):
        window = _loaded_window_rows(full, fold, spec, cv, cfg)
    else:
        window = _own_window_rows(cv, X, fold)
    train, train_w = run.train, run.train_weight
    # the baseline regression solves on a background thread while the boosters predict
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="baseline-lr")
    lr_job = pool.submit(
        fit_linear,
        X.iloc[train],
        history.y[train],
        spec,
        cfg.lr_c,
        train_w,
        cfg.baseline_max_train_rows,
        cfg.seed,
        run.linear,
    )
    pool.shutdown(wait=False)
    d_test = make_dmatrix(window.T, nthread=cfg.nthread)
    margin = cv.margin(candidate, rounds, k_last, d_test, blend, window.X)
    if k_last >= 1:
        mo, yo, wo, _ = cv.out_of_fold(
            candidate, rounds, list(range(k_last)), as_ns(fold.valid_start), blend
        )
        calibrator = calibrate(mo, yo, wo, cfg).calibrator
        predictions = {PRODUCTION_MODEL: calibrator.predict(margin)}
        calibration = calibrator.method
    else:
        predictions = {PRODUCTION_MODEL: clipped_sigmoid(margin)}
        calibration = "none"
    predictions["xgboost_raw"] = sigmoid(margin)
    if rules is not None:
        predictions["rule_points"] = _rule_points(cv, rules, train, train_w, window.rows)
    for name in cfg.extra_models:
        model = train_extra_model(
            name,
            X.iloc[train],
            history.y[train],
            spec,
            cfg.baseline_max_train_rows,
            cfg.seed,
            cfg.nthread,
            train_w,
        )
        predictions[name] = model.predict_proba(window.X)
    predictions["logistic_regression"] = lr_job.result().predict_proba(window.X)
    y_test, weight = window.y, window.weight
    metrics = [model_metrics(n, "test", y_test, p, cfg, weight) for n, p in predictions.items()]
    metrics.append(auc_margins(y_test, predictions, window.rows["lead_id"].to_numpy(), cfg, weight))
    return TestFold(
        predictions=predictions,
        y=y_test,
        rows=window.rows,
        X=window.X,
        T=window.T,
        weight=weight,
        metrics=metrics,
        candidate=candidate,
        rounds=rounds,
        blend=blend,
        calibration=calibration,
    )


def auc_margins(
    y_test: np.ndarray,
    test_pred: dict[str, np.ndarray],
    lead_ids: np.ndarray,
    cfg: MLConfig,
    weight: np.ndarray | None = None,
) -> pd.DataFrame:
    """The production procedure's test-AUC margin over each baseline, with a cluster (lead)
    bootstrap interval: ``auc_margin_vs_<baseline>`` and its ``_ci_low`` / ``_ci_high``."""
    rows = {}
    for name, p in test_pred.items():
        if name.startswith(PRODUCTION_MODEL):
            continue
        m = paired_auc_margin(
            y_test,
            test_pred[PRODUCTION_MODEL],
            p,
            lead_ids,
            n_boot=cfg.margin_bootstrap_draws,
            seed=cfg.seed,
            level=cfg.margin_ci_level,
            weight=weight,
        )
        for suffix, key in (("", "margin"), ("_ci_low", "ci_low"), ("_ci_high", "ci_high")):
            rows[f"auc_margin_vs_{name}{suffix}"] = m[key]
    return metric_rows(PRODUCTION_MODEL, "test", rows)


def fold_tables(
    test: TestFold | None, spec: FeatureSpec, cfg: MLConfig, version: str
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Reliability bins, gains, confusion and segments of every model on the test fold (empty
    frames when the model is unvalidated)."""
    if test is None:
        return (pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), pd.DataFrame())
    test_pred, y_test, rows, w = test.predictions, test.y, test.rows, test.weight

    def per_model(table: Callable[[np.ndarray], pd.DataFrame]) -> pd.DataFrame:
        return pd.concat(
            [
                with_version(table(p), version, model_name=name, split="test")
                for name, p in test_pred.items()
            ],
            ignore_index=True,
        )

    bins = per_model(lambda p: calibration_bins(y_test, p, cfg.ece_bins, weight=w))
    lift = per_model(lambda p: lift_by_decile(y_test, p, weight=w))
    confusion = with_version(
        pd.DataFrame(
            [
                {"model_name": name, "split": "test", **confusion_at_f1_threshold(y_test, p, w)}
                for name, p in test_pred.items()
            ]
        ),
        version,
    )
    seg_columns = (
        list(cfg.segment_columns) if cfg.segment_columns is not None else list(spec.categorical)
    )
    segments = segment_metrics(
        rows[seg_columns],
        y_test,
        test_pred[PRODUCTION_MODEL],
        seg_columns,
        cfg.segment_min_rows,
        cfg.segment_gap_threshold,
        cfg.segment_auc_gap_threshold,
        cfg.segment_min_positives,
        w,
    )
    segments = with_version(segments, version, model_name=PRODUCTION_MODEL, split="test")
    return bins, lift, confusion, segments
