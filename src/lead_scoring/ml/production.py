"""The production model: the chosen procedure refitted on every matured label.

:class:`~.selection.Procedure` is what cross-validation chose (or, without a fold, the most
conservative candidate for the default rounds). :func:`training_labels` gives the rows the
production model learns from -- every matured label, plus, for an unvalidated model with
``impute_censored_labels``, the censored snapshots with their Kaplan-Meier labels
(:func:`~.dataset.censored_horizon_labels`) -- and :func:`fit_production` fits the booster (and
the logistic regression of a blend) on them. A validated model is calibrated on the out-of-fold
predictions of every fold; an unvalidated one gets Platt on its own recent window, in sample
(:func:`calibrate_in_sample`). :func:`in_sample_metrics` is the overfitting check of split
``train``; :func:`explain_production` gives the importance and the reference data scoring needs.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb

from lead_scoring.ml.calibration import CalibrationResult, Calibrator, calibrate
from lead_scoring.ml.config import MLConfig
from lead_scoring.ml.cv import as_ns
from lead_scoring.ml.dataset import FeatureSpec, censored_horizon_labels
from lead_scoring.ml.distributed import DistributedFit
from lead_scoring.ml.evaluation import PRODUCTION_MODEL, model_metrics
from lead_scoring.ml.explain import mean_abs_shap, shap_contributions
from lead_scoring.ml.holdout import TestFold
from lead_scoring.ml.linear import LinearModel, fit_linear
from lead_scoring.ml.models import fit_booster, make_dmatrix, predict_margin, sample_rows
from lead_scoring.ml.scoring import (
    confidence_segment_columns,
    group_sums,
    reference_quantiles,
    segment_support_counts,
)
from lead_scoring.ml.selection import Procedure
from lead_scoring.ml.tuning import recency_weights
from lead_scoring.ml.validation import LabeledHistory, positive_leads

__all__ = [
    "Explanations",
    "ProductionModel",
    "ReferenceRows",
    "TrainingLabels",
    "calibrate_in_sample",
    "explain_production",
    "fit_production",
    "in_sample_metrics",
    "represented_rows",
    "test_fold_reference",
    "training_labels",
]


@dataclass
class TrainingLabels:
    """The rows the production model learns from (``mask``), their labels (``y``: a probability
    for an imputed censored row), the time the recency decay counts from, and whether censored
    labels were imputed."""

    mask: np.ndarray
    y: np.ndarray
    decay_end: np.datetime64
    imputed: bool

    def summary(self, history: LabeledHistory) -> dict[str, Any]:
        """The validation entries of the imputed censored rows (empty when none were)."""
        if not self.imputed:
            return {}
        censored = self.mask & ~history.known
        return {
            "censored_labels": "imputed",
            "n_censored_rows": int(censored.sum()),
            "n_censored_positive_leads": positive_leads(
                history.lead_codes, (self.y == 1).astype(np.int64), censored
            ),
        }


@dataclass
class ProductionModel:
    """The fitted production booster (and regression of a blend) with the rows it fitted:
    positions ``rows`` of the history, their weights, labels and feature matrices."""

    booster: xgb.Booster
    linear: LinearModel | None
    blend: float
    rows: np.ndarray
    weight: np.ndarray
    y: np.ndarray
    X: pd.DataFrame
    T: pd.DataFrame
    nthread: int
    fitted_by: str = "xgboost"
    """``xgboost`` (single node, on ``rows``) or ``spark_xgboost`` (every matured label)."""

    def margin(self, trees: pd.DataFrame, plain: pd.DataFrame) -> np.ndarray:
        """The blended margin of rows given as the boosters' matrix and the plain one."""
        margin = predict_margin(self.booster, trees, self.nthread)
        if self.linear is None:
            return margin
        return self.blend * margin + (1.0 - self.blend) * self.linear.margin(plain)


@dataclass
class ReferenceRows:
    """The rows explanations and the score's reference data describe (the test fold, or the
    recent window of an unvalidated model), their weights and base rate."""

    T: pd.DataFrame
    X: pd.DataFrame
    weight: np.ndarray
    base_rate: float | None


def test_fold_reference(test: TestFold) -> ReferenceRows:
    """The test fold as the reference rows of a validated model, its weighted positive rate as
    the base rate."""
    weight = test.weight if test.weight is not None else np.ones(len(test.y))
    base_rate = float(np.average(test.y, weights=test.weight)) if len(test.y) else None
    return ReferenceRows(test.T, test.X, weight, base_rate)


def training_labels(history: LabeledHistory, validated: bool) -> TrainingLabels:
    """Every matured label; unvalidated with ``impute_censored_labels`` (and conversion times),
    also the censored snapshots, their recency decay counted from the scoring time."""
    cfg, df = history.cfg, history.df
    imputed = not validated and cfg.impute_censored_labels and "label_converted_at" in df.columns
    if not imputed:
        return TrainingLabels(history.known, history.y, history.labeled_end, False)
    mask, y = censored_horizon_labels(df, cfg.horizon_days, history.scoring_at)
    return TrainingLabels(mask, y, as_ns(history.scoring_at), True)


def fit_production(
    history: LabeledHistory,
    X: pd.DataFrame,
    T: pd.DataFrame,
    spec: FeatureSpec,
    labels: TrainingLabels,
    procedure: Procedure,
    distributed_fit: DistributedFit | None = None,
) -> ProductionModel:
    """The booster of ``procedure`` on the labeled rows (capped at ``train_max_rows``, recency
    weighted); with a blend, the logistic regression fits on a background thread meanwhile.
    With ``distributed_fit`` the booster is fitted by it instead, on every matured label of the
    warehouse (``rows`` stay those of the in-sample check); censored labels imputed for an
    unvalidated model exist only in pandas, so that model stays single-node."""
    cfg = history.cfg
    rows, weight = history.capped(labels.mask, cfg.train_max_rows, labels.y)
    half_life = procedure.candidate.half_life_days
    weight = weight * recency_weights(history.times[rows], labels.decay_end, half_life)
    X_prod = X.iloc[rows]
    T_prod = T.iloc[rows]
    y_prod = labels.y[rows]
    distributed = distributed_fit is not None and not labels.imputed
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="production-lr") as pool:
        linear_job = (
            pool.submit(
                fit_linear,
                X_prod,
                y_prod,
                spec,
                cfg.lr_c,
                weight,
                cfg.lr_max_rows,
                cfg.seed,
                procedure.linear_init,
            )
            if procedure.blend < 1.0
            else None
        )
        if distributed:
            booster = distributed_fit(
                spec, procedure.params, procedure.rounds, labels.decay_end, half_life
            )
        else:
            d_prod = make_dmatrix(
                T_prod,
                y_prod,
                cfg.nthread,
                ref=procedure.reference,
                quantile=True,
                max_bin=int(cfg.xgb_params.get("max_bin", 256)),
                weight=weight,
            )
            booster = fit_booster(d_prod, procedure.params, procedure.rounds).booster
            del d_prod
        linear = linear_job.result() if linear_job is not None else None
    return ProductionModel(
        booster,
        linear,
        procedure.blend,
        rows,
        weight,
        y_prod,
        X_prod,
        T_prod,
        cfg.nthread,
        "spark_xgboost" if distributed else "xgboost",
    )


def calibrate_in_sample(
    history: LabeledHistory,
    X: pd.DataFrame,
    T: pd.DataFrame,
    labels: TrainingLabels,
    model: ProductionModel,
) -> tuple[CalibrationResult, ReferenceRows]:
    """An unvalidated model's Platt calibration on its own latest window, in sample, and that
    window as the reference rows. With imputed labels the window reaches to the scoring time and
    each row counts as a positive of weight q and a negative of weight 1 - q."""
    cfg = history.cfg
    recent = history.ordered(history.recent_window())
    reference = ReferenceRows(T.iloc[recent], X.iloc[recent], history.sample_weight[recent], None)
    if labels.imputed:
        window = history.ordered(labels.mask & (history.times >= history.times[recent].min()))
        q, w = labels.y[window], history.sample_weight[window]
        m_window = model.margin(T.iloc[window], X.iloc[window])
        m_cal = np.concatenate([m_window, m_window])
        y_cal = np.repeat(np.array([1, 0], dtype=np.int64), len(window))
        w_cal = np.concatenate([q * w, (1.0 - q) * w])
        keep = w_cal > 0
        cal = calibrate(m_cal[keep], y_cal[keep], w_cal[keep], cfg, ("platt",))
        reference.base_rate = float(np.average(q, weights=w))
    else:
        y, w = history.y[recent], history.sample_weight[recent]
        cal = calibrate(model.margin(reference.T, reference.X), y, w, cfg, ("platt",))
        reference.base_rate = float(np.average(y, weights=w))
    return cal, reference


def in_sample_metrics(
    model: ProductionModel, calibrator: Calibrator, cfg: MLConfig
) -> pd.DataFrame:
    """Split ``train``: the calibrated model on a seeded sample of the rows it fitted (an
    overfitting check, not an estimate)."""
    own = sample_rows(len(model.rows), cfg.shap_sample_rows * 5, cfg.seed)
    return model_metrics(
        PRODUCTION_MODEL,
        "train",
        (model.y[own] == 1).astype(np.int64),
        calibrator.predict(model.margin(model.T.iloc[own], model.X.iloc[own])),
        cfg,
        model.weight[own],
    )


@dataclass
class Explanations:
    """Global importance, the fit features, the sub-scores' reference quantiles and the
    confidence's segment support."""

    importance: pd.DataFrame
    fit_features: tuple[str, ...]
    reference: dict[str, list[float]]
    support: dict[str, dict[str, int]]


def represented_rows(weight: np.ndarray, max_rows: int, seed: int) -> np.ndarray:
    """Sorted row positions standing for the population a weighted sample represents: every row
    when unweighted and small enough, else ``max_rows`` draws with probability proportional to
    the weight (with replacement: exact, where drawing without replacement would not be)."""
    weight = np.asarray(weight, dtype=np.float64)
    if np.allclose(weight, weight[0] if len(weight) else 1.0):
        return sample_rows(len(weight), max_rows, seed)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(len(weight), max_rows, replace=True, p=weight / weight.sum()))


def explain_production(
    model: ProductionModel, reference: ReferenceRows, spec: FeatureSpec, cfg: MLConfig
) -> Explanations:
    """SHAP contributions of the (blended) model on the reference rows: the global importance
    (with the boosters' total gain), the reference quantiles of the fit / engagement sub-scores,
    and the training rows per confidence segment."""
    shap_rows = represented_rows(reference.weight, cfg.shap_sample_rows, cfg.seed)
    contribs, _ = shap_contributions(model.booster, reference.T.iloc[shap_rows], cfg.nthread)
    if model.linear is not None:
        linear_contribs, _ = model.linear.contributions(reference.X.iloc[shap_rows])
        contribs = model.blend * contribs + (1.0 - model.blend) * linear_contribs
    importance = mean_abs_shap(contribs, spec.columns, cfg.feature_labels)
    gain = model.booster.get_score(importance_type="total_gain")
    importance["gain"] = importance["feature"].map(gain).fillna(0.0).astype(np.float64)
    fit_features = tuple(c for c in spec.columns if c in set(cfg.fit_features))
    quantiles = {
        group: reference_quantiles(s) if s is not None else []
        for group, s in group_sums(contribs, spec.columns, fit_features).items()
    }
    support = segment_support_counts(model.X, confidence_segment_columns(spec, cfg))
    return Explanations(importance, fit_features, quantiles, support)
