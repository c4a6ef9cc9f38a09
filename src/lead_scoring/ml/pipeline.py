"""The whole training run as one function, returning warehouse-ready tables.

Validation and production are kept apart (:func:`train_and_evaluate`, a list of named steps):

1. **Labels** of the main horizon (and of the timing horizons) from ``label_converted_at`` and the
   scoring time (:func:`~.dataset.horizon_labels`); fewer than ``min_positive_labels`` converted
   leads raises :class:`InsufficientHistoryError` (the caller falls back to the rule points).
2. **Rolling-origin cross-validation** (:mod:`.cv`, :mod:`.validation`): expanding windows, each
   fold purged by the horizon, the newest window being the **test** fold. Every candidate of a
   grid sized to the data (:mod:`.tuning`) is trained on every fold; the candidate and the round
   count with the lowest pooled validation log loss win (:mod:`.evaluation` reports the race).
3. **Honest test metrics** (:mod:`.holdout`): the test fold is scored by the model trained on
   the labels known before it, with the candidate chosen on the *earlier* folds and a calibrator
   fitted on their out-of-fold predictions; the baselines (logistic regression, rule points,
   extra models) are trained on the same rows and scored on the same test rows, with a
   lead-level bootstrap interval of the AUC margin. At scale the test rows are a weighted sample
   of whole leads and every metric and table is weighted (an unbiased estimate for the whole
   window).
4. **Production** (:mod:`.production`): the chosen candidate refitted on *every* matured label
   for the chosen rounds, calibrated (Platt or isotonic) on the out-of-fold predictions of all
   folds, the newest included (``calibration_source = 'oof'``).
5. **Timing** (:mod:`.timing`): a booster per extra horizon, calibrated on its newest window.
6. Explanations, reference data for scoring, and the registry row (:mod:`.splits` gives its
   time boundaries).

When no fold can be formed (too short a history for the horizon), the model still trains with
the most conservative candidate of the grid and the default round count, calibrated in sample on
its most recent window (``validation_method = 'none'``, ``calibration_source =
'in_sample_recent'``) and no test metrics exist: the registry and ``ml_model_health`` say so.
Such a history is one whose conversions are recent, and the matured labels (``snapshot_at + H <=
scoring_at``) miss most of them: with ``impute_censored_labels`` the booster also learns from the
snapshots whose horizon has not ended (converted ones as positives, the others with their
Kaplan-Meier chance of still converting, :func:`~.dataset.censored_horizon_labels`), and Platt is
fitted on the same labels over the recent window extended to the scoring time
(``validation['censored_labels'] = 'imputed'``).

Model names in the tables: ``xgboost`` (the production procedure), ``xgboost_raw`` (uncalibrated),
``logistic_regression``, ``rule_points`` and the extra models by name; tuning candidates appear as
``xgboost[max_depth=..,...]`` on split ``cv``. Every table has ``model_version`` first.
"""

from __future__ import annotations

import logging
import math
import resource
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lead_scoring.ml.config import MLConfig, resolve_config
from lead_scoring.ml.cv import FoldPlan
from lead_scoring.ml.dataset import (
    FeatureSpec,
    build_feature_spec,
    check_leakage,
    horizon_labels,
    prepare_features,
    select_features,
    times_ns,
)
from lead_scoring.ml.distributed import DistributedFit
from lead_scoring.ml.errors import InsufficientHistoryError
from lead_scoring.ml.evaluation import headline_metrics, metric_rows, with_version
from lead_scoring.ml.holdout import TestRows, fold_tables
from lead_scoring.ml.models import sample_rows
from lead_scoring.ml.production import (
    calibrate_in_sample,
    explain_production,
    fit_production,
    in_sample_metrics,
    test_fold_reference,
    training_labels,
)
from lead_scoring.ml.registry import (
    ModelBundle,
    compute_model_version,
    data_fingerprint,
    serialize_bundle,
)
from lead_scoring.ml.scoring import resolve_band_thresholds
from lead_scoring.ml.selection import (
    Procedure,
    cross_validate,
    default_procedure,
    plan_history,
)
from lead_scoring.ml.splits import registry_boundaries, split_frame
from lead_scoring.ml.timing import train_timing_models
from lead_scoring.ml.tuning import candidate_grid
from lead_scoring.ml.validation import LabeledHistory

logger = logging.getLogger(__name__)

__all__ = ["TrainingResult", "train_and_evaluate"]


@dataclass
class TrainingResult:
    """The trained bundle and the tables of one run (each starts with ``model_version``).

    * ``registry`` -- one row, :data:`~lead_scoring.ml.registry.REGISTRY_COLUMNS`.
    * ``metrics`` -- long: model_name, split, metric, value (splits: ``test``, ``cv`` and
      ``cv_fold_<k>`` for the production procedure and the tuning candidates, ``train`` in
      sample, ``timing`` for the extra horizons).
    * ``calibration_bins`` / ``lift`` / ``confusion`` -- every model on the test fold.
    * ``feature_importance`` -- feature, feature_label, mean_abs_shap, share, rank, gain.
    * ``segment_metrics`` -- the production procedure on the test fold by segment.
    * ``split_boundaries`` -- the folds (used and dropped), the test fold and the production
      training rows (:data:`~.splits.SPLIT_COLUMNS`).
    * ``calibration`` -- method, log_loss_in_sample, log_loss_cv, brier_in_sample, is_chosen.
    * ``leakage`` -- feature, auc, abs_corr, is_leak (the trap's per-feature table).
    * ``validation`` -- how the model was validated and chosen (also in the registry).
    """

    bundle: ModelBundle
    registry: pd.DataFrame
    metrics: pd.DataFrame
    calibration_bins: pd.DataFrame
    lift: pd.DataFrame
    feature_importance: pd.DataFrame
    segment_metrics: pd.DataFrame
    confusion: pd.DataFrame
    split_boundaries: pd.DataFrame
    calibration: pd.DataFrame
    leakage: pd.DataFrame
    plan: FoldPlan
    validation: dict[str, Any] = field(default_factory=dict)


class _Stages:
    """Logs the wall time and peak memory of each step of a run (dbt shows the log lines)."""

    def __init__(self) -> None:
        self.started = self.last = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB -> GiB
        logger.info(
            "ml %-22s %6.1f s (total %6.1f s, peak RSS %.2f GB)",
            name,
            now - self.last,
            now - self.started,
            peak,
        )
        self.last = now


@dataclass
class _Features:
    """The feature spec (levels from every labeled row), the prepared matrix ``X``, the boosters'
    input ``T`` and the leakage trap's table."""

    spec: FeatureSpec
    X: pd.DataFrame
    T: pd.DataFrame
    leakage: pd.DataFrame


def train_and_evaluate(
    df: pd.DataFrame,
    config: Mapping[str, Any] | MLConfig | None = None,
    rules: pd.DataFrame | list[Mapping] | None = None,
    trained_at: pd.Timestamp | str | None = None,
    scoring_at: pd.Timestamp | str | None = None,
    test_frame: TestRows = None,
    distributed_fit: DistributedFit | None = None,
) -> TrainingResult:
    """Cross-validate, evaluate on the test fold, refit on every matured label (module doc).

    ``df``: the labeled snapshots of ``fct_lead_features`` (a sample of whole leads is fine when
    it carries ``sample_weight``); ``scoring_at``: the time the labels were judged at (default:
    the scoring snapshots in ``df``); ``test_frame``: the rows of the test window when ``df`` is a
    sample (all of them, or a larger weighted sample of whole leads carrying ``sample_weight``),
    or a function ``(start, end) -> frame`` that loads them once the test window is known;
    without it the test metrics use ``df``'s own rows of the window, weighted; ``rules``: the
    points seed (rule baseline);
    ``trained_at`` defaults to now (UTC, naive) and does not enter ``model_version``;
    ``distributed_fit``: fits the production booster elsewhere (Spark's executors, on every
    matured label: :mod:`.distributed`) instead of on ``df``'s rows.
    """
    cfg = resolve_config(config)
    stage = _Stages()
    _require_columns(df)
    trained = _training_time(trained_at)
    history = LabeledHistory(df, cfg, _scoring_time(df, cfg, scoring_at))
    n_positive_leads = _check_history(history)
    features = _features(history)
    stage("features")

    plan = plan_history(history)
    candidates = candidate_grid(n_positive_leads, cfg)
    validation: dict[str, Any] = {
        "n_positive_leads": n_positive_leads,
        "candidates": [c.name for c in candidates],
        "folds_dropped": {f.name: f.dropped_reason for f in plan.dropped},
    }
    X, T, spec = features.X, features.T, features.spec
    if plan.is_validated:
        choice = cross_validate(history, X, T, spec, plan, candidates, rules, test_frame, stage)
    else:
        choice = default_procedure(history, plan, candidates)
    validation.update(choice.validation)

    procedure = choice.procedure
    labels = training_labels(history, plan.is_validated)
    validation.update(labels.summary(history))
    model = fit_production(history, X, T, spec, labels, procedure, distributed_fit)
    validation["production_fit"] = model.fitted_by
    if choice.calibration is None:
        cal, reference = calibrate_in_sample(history, X, T, labels, model)
    else:
        cal, reference = choice.calibration, test_fold_reference(choice.test)
    validation.update(
        rounds=int(procedure.rounds),
        half_life_days=procedure.candidate.half_life_days,
        blend_weight=procedure.blend,
        calibration_source=choice.calibration_source,
        params=procedure.params,
    )
    metric_frames = [*choice.metrics, in_sample_metrics(model, cal.calibrator, cfg)]
    stage("production model")

    timing_models = train_timing_models(
        history, T, procedure.params, procedure.candidate.half_life_days, procedure.reference
    )
    metric_frames += [
        metric_rows(f"xgboost_{h}d", "timing", m.metrics) for h, m in timing_models.items()
    ]
    stage("timing models")

    explanations = explain_production(model, reference, spec, cfg)
    fingerprint = data_fingerprint(model.X, model.y, df["snapshot_at"].iloc[model.rows])
    version = compute_model_version(
        fingerprint, {**cfg.to_dict(), "validation": _json_safe(validation)}, spec
    )
    metrics = pd.concat([f for f in metric_frames if len(f)], ignore_index=True)
    bins, lift, confusion, segments = fold_tables(choice.test, spec, cfg, version)
    bundle = ModelBundle(
        model_version=version,
        booster=model.booster,
        calibrator=cal.calibrator,
        spec=spec,
        config=cfg,
        xgb_params=procedure.params,
        best_iteration=int(procedure.rounds) - 1,
        trained_at=trained,
        boundaries=registry_boundaries(plan, history),
        n_train_rows=int(history.known.sum()),
        n_train_positives=n_positive_leads,
        data_fingerprint=fingerprint,
        fit_features=explanations.fit_features,
        reference=explanations.reference,
        segment_support=explanations.support,
        calibration=cal.table.to_dict(orient="records"),
        metrics=headline_metrics(metrics),
        base_rate=reference.base_rate,
        band_thresholds=resolve_band_thresholds(cfg, reference.base_rate),
        validation=_json_safe(validation),
        timing_models=timing_models,
        scoring_at=history.scoring_at,
        linear=model.linear,
        blend_weight=procedure.blend,
    )
    stage("explanations and tables")
    _log_model(bundle, validation, procedure, choice.calibration_source)
    return TrainingResult(
        bundle=bundle,
        registry=pd.DataFrame([serialize_bundle(bundle)]),
        metrics=with_version(metrics, version),
        calibration_bins=bins,
        lift=lift,
        feature_importance=with_version(explanations.importance, version),
        segment_metrics=segments,
        confusion=confusion,
        split_boundaries=with_version(split_frame(plan, history, len(model.rows)), version),
        calibration=with_version(cal.table, version),
        leakage=with_version(features.leakage, version),
        plan=plan,
        validation=validation,
    )


def _require_columns(df: pd.DataFrame) -> None:
    """Every run needs ``lead_id`` and ``snapshot_at``."""
    for c in ("lead_id", "snapshot_at"):
        if c not in df.columns:
            raise ValueError(f"input frame lacks column {c!r}")


def _training_time(trained_at: pd.Timestamp | str | None) -> pd.Timestamp:
    """``trained_at``, else now (UTC, naive, whole seconds)."""
    if trained_at is not None:
        return pd.Timestamp(trained_at)
    return pd.Timestamp.now(tz="UTC").tz_localize(None).floor("s")


def _scoring_time(df: pd.DataFrame, cfg: MLConfig, scoring_at: Any) -> pd.Timestamp:
    """The "now" the labels were judged at: given, else the scoring snapshots' time, else the
    newest labeled snapshot + the horizon (labels of longer horizons are then unknown)."""
    if scoring_at is not None:
        return pd.Timestamp(scoring_at)
    if "is_scoring_snapshot" in df.columns:
        scoring = df["is_scoring_snapshot"].fillna(False).astype(bool).to_numpy()
        if scoring.any():
            return pd.Timestamp(times_ns(df)[scoring].max())
    known, _ = horizon_labels(df, cfg.horizon_days)
    if not known.any():
        raise InsufficientHistoryError("no labeled snapshots (every label is still unknown)")
    return pd.Timestamp(times_ns(df)[known].max()) + pd.Timedelta(days=cfg.horizon_days)


def _check_history(history: LabeledHistory) -> int:
    """The converted leads of the labeled history; raises :class:`InsufficientHistoryError`
    below ``min_positive_labels`` or when no labeled snapshot failed to convert."""
    cfg, known, y = history.cfg, history.known, history.y
    n_positive_leads = history.n_positive_leads()
    if n_positive_leads < cfg.min_positive_labels:
        raise InsufficientHistoryError(
            f"only {n_positive_leads} converted leads in the labeled history "
            f"({int(known.sum())} snapshots whose {cfg.horizon_days}-day outcome is known by "
            f"{history.scoring_at:%Y-%m-%d %H:%M}); at least "
            f"min_positive_labels={cfg.min_positive_labels} are needed. Use the rule-based "
            "fallback (rule_based_scores) until more history exists."
        )
    if (known & (y == 0)).sum() == 0:
        raise InsufficientHistoryError("every labeled snapshot converted: nothing to contrast")
    return n_positive_leads


def _features(history: LabeledHistory) -> _Features:
    """The feature matrices of every row (categorical levels from the labeled rows) and the
    leakage trap on a seeded sample of the labeled rows."""
    cfg, df = history.cfg, history.df
    features = select_features(df, cfg.include_features, cfg.exclude_features)
    all_known = history.ordered(history.known)
    spec = build_feature_spec(df[features].iloc[all_known], features, cfg.max_category_levels)
    X = prepare_features(df, spec)
    T = spec.for_trees(X)  # the boosters' input (zeros of sparse counts as missing)
    leak_rows = all_known[sample_rows(len(all_known), cfg.leakage_sample_rows, cfg.seed)]
    leakage = check_leakage(
        X.iloc[leak_rows],
        history.y[leak_rows],
        cfg.leakage_auc_threshold,
        cfg.leakage_corr_threshold,
        None,
        cfg.seed,
    )
    return _Features(spec, X, T, leakage)


def _log_model(
    bundle: ModelBundle, validation: Mapping[str, Any], procedure: Procedure, source: str
) -> None:
    """One log line: the version, how it was validated and its test and cv AUC."""
    logger.info(
        "model %s (%s, %s, %d rounds): test auc %.4f, cv auc %.4f, calibrator %s (%s)",
        bundle.model_version,
        validation["method"],
        procedure.candidate.name,
        procedure.rounds,
        bundle.metrics.get("auc", math.nan),
        bundle.metrics.get("cv_auc", math.nan),
        bundle.calibrator.method,
        source,
    )


def _json_safe(value: Any) -> Any:
    """``value`` with numpy scalars as Python ones, tuples as lists and non-finite Python floats
    as None (JSON-ready). Deliberately not :func:`~.registry._clean`, which also turns numpy NaN
    into None and Timestamps into ISO strings: this one feeds ``model_version``
    (:func:`~.registry.compute_model_version`), and any change to it changes the version hashes."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
