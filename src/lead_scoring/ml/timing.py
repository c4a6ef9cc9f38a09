"""When will a lead convert: calibrated probabilities over several horizons, monotone in them.

``conversion_probability`` answers "within ``horizon_days``?"; reps also need "this week?" and
"this quarter?" (``conversion_probability_7d`` / ``_30d`` / ``_90d``). A lead that asked for a demo
yesterday and a steady good fit can share a 30-day probability and differ completely over 7 days,
so each extra horizon gets a booster of its own (the same tuned parameters as the main model), not
a re-scaling of the main score:

* its labels are "first conversion within ``h`` days" (:func:`~.dataset.horizon_labels`);
* it trains on every snapshot whose ``h``-day label was known before the most recent labeled
  window for ``h`` (purged by ``h``), stops early on that window and is calibrated on it (the
  "most recent fold"; the window is the newest share of that horizon's converted snapshots, like
  one fold of :mod:`.cv`);
* with too few converted leads for such a window it trains on every known label for the default
  number of rounds and gets a Platt calibration on its most recent window, in sample (said in
  ``calibration_source``).

:func:`train_timing_models` trains them during a run (:mod:`.pipeline`).
:func:`monotone_in_horizon` then makes the probabilities of one lead non-decreasing in the horizon
without touching the main horizon's calibrated probability: shorter horizons are capped by the next
longer one, longer horizons floored by the next shorter one.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb

from lead_scoring.ml.calibration import IsotonicCalibrator, PlattCalibrator, calibrate
from lead_scoring.ml.cv import Fold, as_ns, plan_folds
from lead_scoring.ml.dataset import horizon_labels
from lead_scoring.ml.metrics import average_precision, log_loss, roc_auc
from lead_scoring.ml.models import fit_booster, make_dmatrix, predict_margin
from lead_scoring.ml.tuning import default_rounds, recency_weights
from lead_scoring.ml.validation import LabeledHistory, positive_leads

logger = logging.getLogger(__name__)

__all__ = [
    "TIMING_HORIZONS",
    "TimingModel",
    "monotone_in_horizon",
    "probability_columns",
    "timing_probabilities",
    "train_timing_model",
    "train_timing_models",
]

TIMING_HORIZONS: tuple[int, ...] = (7, 30, 90)
"""The horizons of ``conversion_probability_<N>d`` in ``scored_leads`` (its contract)."""


@dataclass
class TimingModel:
    """The booster and calibrator of one extra horizon."""

    horizon_days: int
    booster: xgb.Booster
    calibrator: PlattCalibrator | IsotonicCalibrator
    rounds: int
    calibration_source: str
    window_start: str | None = None
    window_end: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)


def probability_columns(horizons: Sequence[int]) -> list[str]:
    """``conversion_probability_<h>d`` for each horizon, shortest first."""
    return [f"conversion_probability_{int(h)}d" for h in sorted(set(int(h) for h in horizons))]


def monotone_in_horizon(
    probabilities: Mapping[int, np.ndarray], main_horizon: int
) -> dict[int, np.ndarray]:
    """Per row, make ``p_h`` non-decreasing in ``h`` around the main horizon, which is kept as is:
    ``p_h = min(p_h, p_next_longer)`` below it, ``p_h = max(p_h, p_next_shorter)`` above it.
    Missing horizons (None) are skipped."""
    horizons = sorted(h for h, p in probabilities.items() if p is not None)
    if main_horizon not in horizons:
        raise ValueError(f"the main horizon {main_horizon} has no probabilities")
    out = {h: np.asarray(probabilities[h], dtype=np.float64).copy() for h in horizons}
    m = horizons.index(main_horizon)
    for i in range(m - 1, -1, -1):
        out[horizons[i]] = np.minimum(out[horizons[i]], out[horizons[i + 1]])
    for i in range(m + 1, len(horizons)):
        out[horizons[i]] = np.maximum(out[horizons[i]], out[horizons[i - 1]])
    return out


def timing_probabilities(
    main: np.ndarray,
    main_horizon: int,
    models: Mapping[int, TimingModel],
    dmatrix: xgb.DMatrix | None,
    nthread: int = 2,
) -> pd.DataFrame:
    """:data:`TIMING_HORIZONS` probability columns for the rows of ``dmatrix``: the main
    probability at the main horizon, each extra horizon's calibrated booster elsewhere, NaN where
    a horizon has no model; then :func:`monotone_in_horizon` (the main horizon takes part even
    when it is not one of the columns, e.g. 60 days)."""
    n = len(main)
    probabilities: dict[int, np.ndarray | None] = {int(main_horizon): np.asarray(main)}
    for h in TIMING_HORIZONS:
        if h == main_horizon:
            continue
        model = models.get(h)
        if model is None or dmatrix is None:
            probabilities[h] = None
            continue
        model.booster.set_param({"nthread": nthread})
        margin = model.booster.predict(dmatrix, output_margin=True)
        probabilities[h] = model.calibrator.predict(np.asarray(margin, dtype=np.float64))
    fixed = monotone_in_horizon(probabilities, int(main_horizon))
    return pd.DataFrame(
        {
            column: fixed.get(h, np.full(n, np.nan))
            for h, column in zip(TIMING_HORIZONS, probability_columns(TIMING_HORIZONS), strict=True)
        }
    )


def train_timing_models(
    history: LabeledHistory,
    X: pd.DataFrame,
    params: dict[str, Any],
    half_life_days: float | None,
    reference: Any = None,
) -> dict[int, TimingModel]:
    """A model per horizon of :data:`TIMING_HORIZONS` other than the main one, where
    :func:`train_timing_model` gives one (none without ``label_converted_at``)."""
    models: dict[int, TimingModel] = {}
    if "label_converted_at" not in history.df.columns:
        return models
    for h in TIMING_HORIZONS:
        if h == history.cfg.horizon_days:
            continue
        model = train_timing_model(history, X, h, params, half_life_days, reference)
        if model is not None:
            models[h] = model
    return models


@dataclass
class _HorizonData:
    """One extra horizon's labels over the history and its booster's training settings."""

    history: LabeledHistory
    X: pd.DataFrame
    horizon: int
    known: np.ndarray
    y: np.ndarray
    params: dict[str, Any]
    half_life_days: float | None
    reference: Any

    def train_matrix(self, rows: np.ndarray, weight: np.ndarray) -> xgb.DMatrix:
        """The quantile matrix of ``rows`` (binned like ``reference`` when given)."""
        cfg = self.history.cfg
        return make_dmatrix(
            self.X.iloc[rows],
            self.y[rows],
            cfg.nthread,
            ref=self.reference,
            quantile=True,
            max_bin=int(cfg.xgb_params.get("max_bin", 256)),
            weight=weight,
        )

    def model(
        self, booster: xgb.Booster, calibrator: Any, rounds: int, source: str, **extra: Any
    ) -> TimingModel:
        """The :class:`TimingModel` of this horizon (``extra``: window and metrics)."""
        return TimingModel(self.horizon, booster, calibrator, rounds, source, **extra)


def train_timing_model(
    history: LabeledHistory,
    X: pd.DataFrame,
    horizon: int,
    params: dict[str, Any],
    half_life_days: float | None,
    reference: Any = None,
) -> TimingModel | None:
    """The booster of one extra horizon (module doc): stopped early and calibrated on its most
    recent fold, or, without one, trained for the default rounds and calibrated in sample on its
    recent window. None without ``min_positive_labels`` converted leads (or a one-class window).
    ``X``: the boosters' input matrix of the history's rows."""
    cfg = history.cfg
    known, y = horizon_labels(history.df, horizon, history.scoring_at)
    n_pos = positive_leads(history.lead_codes, y, known)
    if n_pos < cfg.min_positive_labels:
        logger.info(
            "timing horizon %d d: %d converted leads, fewer than %d: no model",
            horizon,
            n_pos,
            cfg.min_positive_labels,
        )
        return None
    plan = plan_folds(
        history.times[known],
        y[known],
        history.lead_codes[known],
        horizon,
        1,
        cfg.cv_valid_share / max(cfg.cv_folds, 1),
        cfg.cv_min_train_positives,
        cfg.cv_min_valid_positives,
    )
    data = _HorizonData(history, X, horizon, known, y, params, half_life_days, reference)
    if plan.is_validated:
        return _latest_fold_model(data, plan.folds[0])
    return _in_sample_model(data, n_pos)


def _latest_fold_model(data: _HorizonData, fold: Fold) -> TimingModel:
    """Trained on the labels known before ``fold``, stopped early and calibrated on it."""
    history, X, known, y = data.history, data.X, data.known, data.y
    cfg, t = history.cfg, history.times
    train, train_w = history.capped(known & fold.train_mask(t), cfg.timing_max_rows, y)
    valid, valid_w = history.capped(known & fold.valid_mask(t), cfg.timing_max_rows, y)
    train_w = train_w * recency_weights(t[train], as_ns(fold.train_cutoff), data.half_life_days)
    dtrain = data.train_matrix(train, train_w)
    dvalid = make_dmatrix(X.iloc[valid], y[valid], cfg.nthread, weight=valid_w)
    fit = fit_booster(dtrain, data.params, cfg.num_boost_round, dvalid, cfg.early_stopping_rounds)
    rounds = int(np.argmin(fit.curve)) + 1
    booster = fit.booster[:rounds]
    margin = predict_margin(booster, dvalid, cfg.nthread)
    cal = calibrate(margin, y[valid], valid_w, cfg)
    p = cal.calibrator.predict(margin)
    return data.model(
        booster,
        cal.calibrator,
        rounds,
        "latest_fold",
        window_start=fold.valid_start.isoformat(),
        window_end=fold.valid_end.isoformat(),
        metrics={
            "auc": roc_auc(y[valid], p, valid_w),
            "pr_auc": average_precision(y[valid], p, valid_w),
            "log_loss": log_loss(y[valid], p, weight=valid_w),
            "n_rows": float(len(valid)),
            "n_positive_leads": float(fold.n_valid_positive_leads),
            "rounds": float(rounds),
        },
    )


def _in_sample_model(data: _HorizonData, n_positive_leads: int) -> TimingModel | None:
    """Every known label for the default rounds, Platt in sample on the recent window (None
    when that window holds one class only)."""
    history, X, known, y = data.history, data.X, data.known, data.y
    cfg, t = history.cfg, history.times
    rows, rows_w = history.capped(known, cfg.train_max_rows, y)
    end = np.datetime64(t[known].max(), "ns")
    rows_w = rows_w * recency_weights(t[rows], end, data.half_life_days)
    dtrain = data.train_matrix(rows, rows_w)
    eta = float(data.params.get("eta", 0.3))
    rounds = default_rounds(n_positive_leads, eta, cfg.num_boost_round)
    booster = fit_booster(dtrain, data.params, rounds).booster
    recent = history.ordered(history.recent_window(known=known, y=y))
    if not 0 < y[recent].sum() < len(recent):
        return None
    margin = predict_margin(booster, X.iloc[recent], cfg.nthread)
    cal = calibrate(margin, y[recent], history.sample_weight[recent], cfg, ("platt",))
    return data.model(
        booster, cal.calibrator, rounds, "in_sample_recent", metrics={"rounds": float(rounds)}
    )
