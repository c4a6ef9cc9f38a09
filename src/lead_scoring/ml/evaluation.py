"""The metric rows of a training run, and the cross-validated ones of the chosen procedure.

Every metric of a run is a row of ``ml_model_metrics`` (model_name, split, metric, value;
:data:`~.tables.EVALUATION_TABLES`): :func:`model_metrics` turns predictions into such rows,
:func:`metric_rows` a mapping of named values. :func:`candidate_rows` reports the tuning race
(split ``cv``, one model name per candidate and blend tried) and :func:`cv_metrics` the chosen
procedure's out-of-fold metrics (``cv_fold_<k>`` and pooled ``cv``); the test fold's rows come
from :mod:`.holdout`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from lead_scoring.ml.calibration import calibrate, clipped_sigmoid
from lead_scoring.ml.config import MLConfig
from lead_scoring.ml.cv import as_ns
from lead_scoring.ml.metrics import METRIC_COLUMNS, metrics_long
from lead_scoring.ml.tuning import pooled_curve
from lead_scoring.ml.validation import CrossValidation

__all__ = [
    "PRODUCTION_MODEL",
    "candidate_rows",
    "cv_metrics",
    "headline",
    "headline_metrics",
    "metric_rows",
    "model_metrics",
    "with_version",
]

PRODUCTION_MODEL = "xgboost"
"""The model name of the production procedure in every table."""


def with_version(frame: pd.DataFrame, version: str, **extra: Any) -> pd.DataFrame:
    """A copy of ``frame`` with ``model_version`` and then the ``extra`` columns in front."""
    front = {"model_version": version, **extra}
    out = frame.copy()
    for i, (k, v) in enumerate(front.items()):
        out.insert(i, k, v)
    return out


def model_metrics(
    name: str,
    split: str,
    y: np.ndarray,
    p: np.ndarray,
    cfg: MLConfig,
    weight: np.ndarray | None = None,
) -> pd.DataFrame:
    """The metric rows of predictions ``p`` of labels ``y`` (:func:`~.metrics.metrics_long` with
    the run's lift fractions and ECE bins)."""
    return metrics_long(name, split, y, p, cfg.lift_fractions, cfg.ece_bins, weight)


def metric_rows(model_name: str, split: str, values: Mapping[str, float]) -> pd.DataFrame:
    """One metric row per item of ``values`` (:data:`~.metrics.METRIC_COLUMNS`)."""
    return pd.DataFrame(
        [
            {"model_name": model_name, "split": split, "metric": k, "value": float(v)}
            for k, v in values.items()
        ],
        columns=METRIC_COLUMNS,
    )


def headline(metrics: pd.DataFrame, split: str) -> dict[str, float]:
    """The production procedure's metrics of ``split``, by metric name."""
    own = metrics[(metrics["model_name"] == PRODUCTION_MODEL) & (metrics["split"] == split)]
    return own.set_index("metric")["value"].to_dict()


def headline_metrics(metrics: pd.DataFrame) -> dict[str, float]:
    """The registry's metrics: the production procedure's test metrics and its cross-validated
    ones prefixed ``cv_``."""
    cv_headline = headline(metrics, "cv")
    return {**headline(metrics, "test"), **{f"cv_{k}": v for k, v in cv_headline.items()}}


def candidate_rows(
    cv: CrossValidation, chosen: int, blend_losses: Mapping[float, float], blend: float
) -> list[pd.DataFrame]:
    """Per tuning candidate: its pooled cross-validated log loss over the folds it ran on, the
    number of those folds, best rounds and is_chosen; per blend tried with the chosen candidate
    (model_name ``<candidate>+logistic_regression[xgboost_share=..]``): its pooled log loss and
    is_chosen."""
    candidates = cv.candidates
    frames = []
    for share, loss in blend_losses.items():
        if share >= 1.0:
            continue
        name = f"{candidates[chosen].name}+logistic_regression[xgboost_share={share:g}]"
        frames.append(
            metric_rows(name, "cv", {"cv_log_loss": loss, "is_chosen": float(share == blend)})
        )
    for i, cand in enumerate(candidates):
        folds = cv.folds_run(i)
        pooled = pooled_curve(cv.curves(folds)[i])
        best = int(np.argmin(pooled)) + 1
        frames.append(
            metric_rows(
                cand.name,
                "cv",
                {
                    "cv_log_loss": float(pooled[best - 1]),
                    "best_rounds": best,
                    "n_folds": len(folds),
                    "is_chosen": float(i == chosen),
                },
            )
        )
    return frames


def cv_metrics(
    cv: CrossValidation, chosen: int, rounds: int, blend: float, cfg: MLConfig
) -> list[pd.DataFrame]:
    """The chosen candidate's out-of-fold metrics: each fold's margins calibrated by a calibrator
    fitted on the *other* folds (so no fold is calibrated on itself), per fold and pooled."""
    frames, parts = [], []
    n = len(cv.runs)
    for k, run in enumerate(cv.runs):
        margin = cv.margin(chosen, rounds, k, blend=blend)
        others = [j for j in range(n) if j != k]
        p = clipped_sigmoid(margin)
        if others:
            mo, yo, wo, _ = cv.out_of_fold(
                chosen, rounds, others, as_ns(run.fold.valid_start), blend
            )
            if 0 < yo.sum() < len(yo):
                p = calibrate(mo, yo, wo, cfg).calibrator.predict(margin)
        y_k = cv.history.y[run.valid]
        frames.append(
            model_metrics(PRODUCTION_MODEL, f"cv_{run.fold.name}", y_k, p, cfg, run.valid_weight)
        )
        parts.append((y_k, p, run.valid_weight))
    frames.append(
        model_metrics(
            PRODUCTION_MODEL,
            "cv",
            np.concatenate([a for a, _, _ in parts]),
            np.concatenate([b for _, b, _ in parts]),
            cfg,
            np.concatenate([c for _, _, c in parts]),
        )
    )
    return frames
