"""The whole training run as one function, returning warehouse-ready tables.

Validation and production are kept apart (:func:`train_and_evaluate`):

1. **Labels** of the main horizon (and of the timing horizons) from ``label_converted_at`` and the
   scoring time (:func:`~.dataset.horizon_labels`); fewer than ``min_positive_labels`` converted
   leads raises :class:`InsufficientHistoryError` (the caller falls back to the rule points).
2. **Rolling-origin cross-validation** (:mod:`.cv`): expanding windows, each fold purged by the
   horizon, the newest window being the **test** fold. Every candidate of a grid sized to the
   data (:mod:`.tuning`) is trained on every fold; the candidate and the round count with the
   lowest pooled validation log loss win.
3. **Honest test metrics**: the test fold is scored by the model trained on the labels known
   before it, with the candidate chosen on the *earlier* folds and a calibrator fitted on their
   out-of-fold predictions; the baselines (logistic regression, rule points, extra models) are
   trained on the same rows and scored on the same test rows, with a lead-level bootstrap
   interval of the AUC margin. At scale the test rows are a weighted sample of whole leads and
   every metric and table is weighted (an unbiased estimate for the whole window).
4. **Production**: the chosen candidate refitted on *every* matured label for the chosen rounds,
   calibrated (Platt or isotonic) on the out-of-fold predictions of all folds, the newest
   included (``calibration_source = 'oof'``).
5. **Timing** (:mod:`.timing`): a booster per extra horizon, calibrated on its newest window.
6. Explanations, reference data for scoring, and the registry row.

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
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lead_scoring.ml.calibration import IsotonicCalibrator, PlattCalibrator, fit_calibrators
from lead_scoring.ml.config import MLConfig, resolve_config
from lead_scoring.ml.cv import FoldPlan, plan_folds
from lead_scoring.ml.dataset import (
    SAMPLE_WEIGHT_COLUMN,
    FeatureSpec,
    build_feature_spec,
    censored_horizon_labels,
    check_leakage,
    horizon_labels,
    prepare_features,
    select_features,
    times_ns,
)
from lead_scoring.ml.errors import InsufficientHistoryError
from lead_scoring.ml.explain import mean_abs_shap, shap_contributions
from lead_scoring.ml.linear import fit_linear
from lead_scoring.ml.metrics import (
    average_precision,
    calibration_bins,
    confusion_at_f1_threshold,
    lift_by_decile,
    log_loss,
    metrics_long,
    paired_auc_margin,
    roc_auc,
    segment_metrics,
)
from lead_scoring.ml.models import (
    fit_booster,
    make_dmatrix,
    native_params,
    predict_margin,
    sample_rows,
    train_extra_model,
)
from lead_scoring.ml.registry import (
    ModelBundle,
    compute_model_version,
    data_fingerprint,
    serialize_bundle,
)
from lead_scoring.ml.rules import evaluate_rules, fit_points_mapping, validate_rules
from lead_scoring.ml.scoring import (
    confidence_segment_columns,
    group_sums,
    reference_quantiles,
    resolve_band_thresholds,
    score_open_leads,
    segment_support_counts,
)
from lead_scoring.ml.timing import TIMING_HORIZONS, TimingModel
from lead_scoring.ml.tuning import (
    Candidate,
    candidate_grid,
    choose,
    default_rounds,
    pooled_curve,
    recency_weights,
    size_class,
)
from lead_scoring.ml.validation import CrossValidation, LabeledHistory, positive_leads

logger = logging.getLogger(__name__)

__all__ = ["PRODUCTION_MODEL", "TrainingResult", "score_open_leads", "train_and_evaluate"]

PRODUCTION_MODEL = "xgboost"
METRIC_FRAME_COLUMNS = ["model_name", "split", "metric", "value"]
SPLIT_COLUMNS = [
    "split",
    "start",
    "end",
    "end_inclusive",
    "purge_cutoff",
    "horizon_days",
    "n_rows",
    "n_positives",
    "n_positive_leads",
    "positive_rate",
    "n_train_rows",
    "n_train_positive_leads",
    "n_rows_trained",
    "is_used",
    "dropped_reason",
]
TestRows = pd.DataFrame | Callable[[pd.Timestamp, pd.Timestamp], pd.DataFrame] | None


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
      training rows (:data:`SPLIT_COLUMNS`).
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


@dataclass
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
class _TestFold:
    """The production procedure and the baselines on the test fold."""

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


def _with_version(frame: pd.DataFrame, version: str, **extra: Any) -> pd.DataFrame:
    front = {"model_version": version, **extra}
    out = frame.copy()
    for i, (k, v) in enumerate(front.items()):
        out.insert(i, k, v)
    return out


def _sigmoid(m: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(m, dtype=np.float64)))


def _clipped_sigmoid(m: np.ndarray) -> np.ndarray:
    return np.clip(_sigmoid(m), 1e-6, 1 - 1e-6)


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


def _metrics(
    name: str, split: str, y: np.ndarray, p: np.ndarray, cfg: MLConfig, weight=None
) -> pd.DataFrame:
    return metrics_long(name, split, y, p, cfg.lift_fractions, cfg.ece_bins, weight)


def _rows(model_name: str, split: str, values: Mapping[str, float]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"model_name": model_name, "split": split, "metric": k, "value": float(v)}
            for k, v in values.items()
        ],
        columns=METRIC_FRAME_COLUMNS,
    )


def _ns(ts: pd.Timestamp) -> np.datetime64:
    return np.datetime64(pd.Timestamp(ts).as_unit("ns").to_datetime64())


def _calibrate(margins, y, weights, cfg: MLConfig, methods=("platt", "isotonic")):
    return fit_calibrators(
        margins, y, cfg.calibration_selection, cfg.calibration_cv_folds, cfg.seed, weights, methods
    )


def _auc_margins(
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
    return _rows(PRODUCTION_MODEL, "test", rows)


def train_and_evaluate(
    df: pd.DataFrame,
    config: Mapping[str, Any] | MLConfig | None = None,
    rules: pd.DataFrame | list[Mapping] | None = None,
    trained_at: pd.Timestamp | str | None = None,
    scoring_at: pd.Timestamp | str | None = None,
    test_frame: TestRows = None,
) -> TrainingResult:
    """Cross-validate, evaluate on the test fold, refit on every matured label (module doc).

    ``df``: the labeled snapshots of ``fct_lead_features`` (a sample of whole leads is fine when
    it carries ``sample_weight``); ``scoring_at``: the time the labels were judged at (default:
    the scoring snapshots in ``df``); ``test_frame``: the rows of the test window when ``df`` is a
    sample (all of them, or a larger weighted sample of whole leads carrying ``sample_weight``),
    or a function ``(start, end) -> frame`` that loads them once the test window is known;
    without it the test metrics use ``df``'s own rows of the window, weighted; ``rules``: the
    points seed (rule baseline);
    ``trained_at`` defaults to now (UTC, naive) and does not enter ``model_version``.
    """
    cfg = resolve_config(config)
    stage = _Stages()
    for c in ("lead_id", "snapshot_at"):
        if c not in df.columns:
            raise ValueError(f"input frame lacks column {c!r}")
    trained = (
        pd.Timestamp(trained_at)
        if trained_at is not None
        else pd.Timestamp.now(tz="UTC").tz_localize(None).floor("s")
    )
    now = _scoring_time(df, cfg, scoring_at)
    history = LabeledHistory(df, cfg, now)
    known, y = history.known, history.y
    n_positive_leads = history.n_positive_leads()
    if n_positive_leads < cfg.min_positive_labels:
        raise InsufficientHistoryError(
            f"only {n_positive_leads} converted leads in the labeled history "
            f"({int(known.sum())} snapshots whose {cfg.horizon_days}-day outcome is known by "
            f"{now:%Y-%m-%d %H:%M}); at least min_positive_labels={cfg.min_positive_labels} are "
            "needed. Use the rule-based fallback (rule_based_scores) until more history exists."
        )
    if (known & (y == 0)).sum() == 0:
        raise InsufficientHistoryError("every labeled snapshot converted: nothing to contrast")

    # ---- features (levels from every labeled row) and the leakage trap
    features = select_features(df, cfg.include_features, cfg.exclude_features)
    all_known = history.ordered(known)
    spec = build_feature_spec(df[features].iloc[all_known], features, cfg.max_category_levels)
    X = prepare_features(df, spec)
    T = spec.for_trees(X)  # the boosters' input (zeros of sparse counts as missing)
    leak_rows = all_known[sample_rows(len(all_known), cfg.leakage_sample_rows, cfg.seed)]
    leakage = check_leakage(
        X.iloc[leak_rows],
        y[leak_rows],
        cfg.leakage_auc_threshold,
        cfg.leakage_corr_threshold,
        None,
        cfg.seed,
    )

    stage("features")

    # ---- rolling-origin cross-validation over a grid sized to the data
    plan = plan_folds(
        history.times[known],
        y[known],
        history.lead_codes[known],
        cfg.horizon_days,
        cfg.cv_folds,
        cfg.cv_valid_share,
        cfg.cv_min_train_positives,
        cfg.cv_min_valid_positives,
    )
    candidates = candidate_grid(n_positive_leads, cfg)
    validation: dict[str, Any] = {
        "n_positive_leads": n_positive_leads,
        "candidates": [c.name for c in candidates],
        "folds_dropped": {f.name: f.dropped_reason for f in plan.dropped},
    }
    metric_frames: list[pd.DataFrame] = []
    test: _TestFold | None = None
    if plan.is_validated:
        params = [
            native_params(cfg.xgb_params, c.params, cfg.seed, cfg.nthread) for c in candidates
        ]
        linear = (X, spec) if cfg.blend_weights else None
        race = len(candidates) > 1 and size_class(n_positive_leads) == "large"
        cv = CrossValidation(history, T, plan, candidates, params, linear).fit(race)
        chosen, rounds, cv_loss = choose(cv.curves())
        all_folds = list(range(len(cv.runs)))
        blend, blend_losses = cv.choose_blend(chosen, rounds, all_folds, cfg.blend_weights)
        metric_frames += _candidate_rows(cv, chosen, blend_losses, blend)
        # production calibrator: the out-of-fold predictions of every fold, the newest included
        m_oof, y_oof, w_oof, _ = cv.out_of_fold(
            chosen, rounds, all_folds, history.labeled_end, blend
        )
        cal = _calibrate(m_oof, y_oof, w_oof, cfg)
        calibration_source = "oof"
        stage("cross-validation")
        metric_frames += _cv_metrics(cv, chosen, rounds, blend, cfg)
        test = _evaluate_test_fold(cv, X, spec, rules, test_frame, cfg)
        stage("test fold")
        metric_frames += test.metrics
        candidate = candidates[chosen]
        validation.update(
            method="rolling_origin_cv",
            n_folds=len(plan.folds),
            chosen_candidate=candidate.name,
            test_candidate=candidates[test.candidate].name,
            test_rounds=int(test.rounds),
            test_blend_weight=test.blend,
            test_calibration=test.calibration,
            cv_log_loss=cv_loss,
        )
        reference, linear_init = cv.reference, cv.last_linear
        del cv
    else:
        # no fold can validate: the most conservative shape, the default rounds, and labels that
        # count half after one horizon (a history too short to validate is one whose conversions
        # are recent: the market or the sales team changed, or the funnel just began)
        candidate = Candidate(
            params=dict(candidates[0].params), half_life_days=float(cfg.horizon_days)
        )
        params = [native_params(cfg.xgb_params, candidate.params, cfg.seed, cfg.nthread)]
        candidates, chosen = [candidate], 0
        rounds = default_rounds(n_positive_leads, float(params[0]["eta"]), cfg.num_boost_round)
        cal = None
        blend = 1.0
        reference, linear_init = None, None
        calibration_source = "in_sample_recent"
        validation.update(
            method="none",
            n_folds=0,
            chosen_candidate=candidate.name,
            reason="; ".join(f"{f.name}: {f.dropped_reason}" for f in plan.dropped)
            or "no labeled history to form a fold",
        )
        logger.warning(
            "ml: no rolling-origin fold can be formed (%s); training %s for %d rounds "
            "without a validation",
            validation["reason"],
            candidate.name,
            rounds,
        )

    # ---- production: every matured label, the chosen candidate and round count (unvalidated:
    # also the censored snapshots, with their imputed labels)
    fit_mask, y_fit, decay_end = known, y, history.labeled_end
    imputed = (
        not plan.is_validated and cfg.impute_censored_labels and "label_converted_at" in df.columns
    )
    if imputed:
        fit_mask, y_fit = censored_horizon_labels(df, cfg.horizon_days, now)
        decay_end = _ns(now)
        validation.update(
            censored_labels="imputed",
            n_censored_rows=int((fit_mask & ~known).sum()),
            n_censored_positive_leads=positive_leads(
                history.lead_codes, (y_fit == 1).astype(np.int64), fit_mask & ~known
            ),
        )
    prod_rows, prod_w = history.capped(fit_mask, cfg.train_max_rows, y_fit)
    prod_w = prod_w * recency_weights(history.times[prod_rows], decay_end, candidate.half_life_days)
    X_prod = X.iloc[prod_rows]
    T_prod = T.iloc[prod_rows]
    d_prod = make_dmatrix(
        T_prod,
        y_fit[prod_rows],
        cfg.nthread,
        ref=reference,
        quantile=True,
        max_bin=int(cfg.xgb_params.get("max_bin", 256)),
        weight=prod_w,
    )
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="production-lr") as pool:
        linear_job = (
            pool.submit(
                fit_linear,
                X_prod,
                y_fit[prod_rows],
                spec,
                cfg.lr_c,
                prod_w,
                cfg.lr_max_rows,
                cfg.seed,
                linear_init,
            )
            if blend < 1.0
            else None
        )
        booster = fit_booster(d_prod, params[chosen], rounds).booster
        del d_prod
        linear_model = linear_job.result() if linear_job is not None else None

    def production_margin(trees: pd.DataFrame, plain: pd.DataFrame) -> np.ndarray:
        margin = predict_margin(booster, trees, cfg.nthread)
        if linear_model is None:
            return margin
        return blend * margin + (1.0 - blend) * linear_model.margin(plain)

    if cal is None:  # unvalidated: Platt on its own latest window, in sample
        recent = history.ordered(_recent_window(history))
        reference_T, reference_X = T.iloc[recent], X.iloc[recent]
        reference_weight = history.sample_weight[recent]
        if imputed:
            # the recent window extended to the scoring time, with the imputed labels: each row
            # a positive of weight q and a negative of weight 1 - q
            window = history.ordered(fit_mask & (history.times >= history.times[recent].min()))
            q, w = y_fit[window], history.sample_weight[window]
            m_window = production_margin(T.iloc[window], X.iloc[window])
            m_cal = np.concatenate([m_window, m_window])
            y_cal = np.repeat(np.array([1, 0], dtype=np.int64), len(window))
            w_cal = np.concatenate([q * w, (1.0 - q) * w])
            keep = w_cal > 0
            cal = _calibrate(m_cal[keep], y_cal[keep], w_cal[keep], cfg, ("platt",))
            base_rate = float(np.average(q, weights=w))
        else:
            m_recent = production_margin(reference_T, reference_X)
            cal = _calibrate(m_recent, y[recent], history.sample_weight[recent], cfg, ("platt",))
            base_rate = float(np.average(y[recent], weights=history.sample_weight[recent]))
    else:
        reference_T, reference_X = test.T, test.X
        reference_weight = test.weight if test.weight is not None else np.ones(len(test.y))
        base_rate = float(np.average(test.y, weights=test.weight)) if len(test.y) else None
    calibrator: PlattCalibrator | IsotonicCalibrator = cal.calibrator
    validation.update(
        rounds=int(rounds),
        half_life_days=candidate.half_life_days,
        blend_weight=blend,
        calibration_source=calibration_source,
        params=params[chosen],
    )
    # in sample, on a seeded sample of the fitted rows (an overfitting check, not an estimate)
    own = sample_rows(len(prod_rows), cfg.shap_sample_rows * 5, cfg.seed)
    metric_frames.append(
        _metrics(
            PRODUCTION_MODEL,
            "train",
            (y_fit[prod_rows[own]] == 1).astype(np.int64),
            calibrator.predict(production_margin(T_prod.iloc[own], X_prod.iloc[own])),
            cfg,
            prod_w[own],
        )
    )

    stage("production model")

    # ---- timing horizons (7 / 30 / 90 days)
    timing_models: dict[int, TimingModel] = {}
    if "label_converted_at" in df.columns:
        for h in TIMING_HORIZONS:
            if h == cfg.horizon_days:
                continue
            tm = _train_timing_model(
                history, T, h, params[chosen], candidate.half_life_days, reference
            )
            if tm is not None:
                timing_models[h] = tm
                metric_frames.append(_rows(f"xgboost_{h}d", "timing", tm.metrics))

    stage("timing models")

    # ---- explanations, reference data for the sub-scores and the confidence
    shap_rows = _represented_rows(reference_weight, cfg.shap_sample_rows, cfg.seed)
    contribs, _ = shap_contributions(booster, reference_T.iloc[shap_rows], cfg.nthread)
    if linear_model is not None:
        linear_contribs, _ = linear_model.contributions(reference_X.iloc[shap_rows])
        contribs = blend * contribs + (1.0 - blend) * linear_contribs
    importance = mean_abs_shap(contribs, spec.columns, cfg.feature_labels)
    gain = booster.get_score(importance_type="total_gain")
    importance["gain"] = importance["feature"].map(gain).fillna(0.0).astype(np.float64)
    fit_features = tuple(c for c in spec.columns if c in set(cfg.fit_features))
    reference = {
        group: reference_quantiles(s) if s is not None else []
        for group, s in group_sums(contribs, spec.columns, fit_features).items()
    }
    support = segment_support_counts(X_prod, confidence_segment_columns(spec, cfg))

    # ---- version, bundle and tables
    fingerprint = data_fingerprint(X_prod, y_fit[prod_rows], df["snapshot_at"].iloc[prod_rows])
    version = compute_model_version(
        fingerprint, {**cfg.to_dict(), "validation": _json_safe(validation)}, spec
    )
    metrics = pd.concat([f for f in metric_frames if len(f)], ignore_index=True)
    bins, lift, confusion, segments = _test_tables(test, spec, cfg, version)
    headline = _headline(metrics, "test")
    cv_headline = _headline(metrics, "cv")
    bundle = ModelBundle(
        model_version=version,
        booster=booster,
        calibrator=calibrator,
        spec=spec,
        config=cfg,
        xgb_params=params[chosen],
        best_iteration=int(rounds) - 1,
        trained_at=trained,
        boundaries=_boundaries(plan, history),
        n_train_rows=int(known.sum()),
        n_train_positives=n_positive_leads,
        data_fingerprint=fingerprint,
        fit_features=fit_features,
        reference=reference,
        segment_support=support,
        calibration=cal.table.to_dict(orient="records"),
        metrics={**headline, **{f"cv_{k}": v for k, v in cv_headline.items()}},
        base_rate=base_rate,
        band_thresholds=resolve_band_thresholds(cfg, base_rate),
        validation=_json_safe(validation),
        timing_models=timing_models,
        scoring_at=now,
        linear=linear_model,
        blend_weight=blend,
    )
    stage("explanations and tables")
    logger.info(
        "model %s (%s, %s, %d rounds): test auc %.4f, cv auc %.4f, calibrator %s (%s)",
        version,
        validation["method"],
        candidate.name,
        rounds,
        headline.get("auc", math.nan),
        cv_headline.get("auc", math.nan),
        calibrator.method,
        calibration_source,
    )
    return TrainingResult(
        bundle=bundle,
        registry=pd.DataFrame([serialize_bundle(bundle)]),
        metrics=_with_version(metrics, version),
        calibration_bins=bins,
        lift=lift,
        feature_importance=_with_version(importance, version),
        segment_metrics=segments,
        confusion=confusion,
        split_boundaries=_with_version(_split_frame(plan, history, prod_rows), version),
        calibration=_with_version(cal.table, version),
        leakage=_with_version(leakage, version),
        plan=plan,
        validation=validation,
    )


def _headline(metrics: pd.DataFrame, split: str) -> dict[str, float]:
    own = metrics[(metrics["model_name"] == PRODUCTION_MODEL) & (metrics["split"] == split)]
    return own.set_index("metric")["value"].to_dict()


def _candidate_rows(
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
        frames.append(_rows(name, "cv", {"cv_log_loss": loss, "is_chosen": float(share == blend)}))
    for i, cand in enumerate(candidates):
        folds = cv.folds_run(i)
        pooled = pooled_curve(cv.curves(folds)[i])
        best = int(np.argmin(pooled)) + 1
        frames.append(
            _rows(
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


def _cv_metrics(cv: CrossValidation, chosen: int, rounds: int, blend: float, cfg: MLConfig) -> list:
    """The chosen candidate's out-of-fold metrics: each fold's margins calibrated by a calibrator
    fitted on the *other* folds (so no fold is calibrated on itself), per fold and pooled."""
    frames, parts = [], []
    n = len(cv.runs)
    for k, run in enumerate(cv.runs):
        margin = cv.margin(chosen, rounds, k, blend=blend)
        others = [j for j in range(n) if j != k]
        p = _clipped_sigmoid(margin)
        if others:
            mo, yo, wo, _ = cv.out_of_fold(chosen, rounds, others, _ns(run.fold.valid_start), blend)
            if 0 < yo.sum() < len(yo):
                p = _calibrate(mo, yo, wo, cfg).calibrator.predict(margin)
        y_k = cv.history.y[run.valid]
        frames.append(
            _metrics(PRODUCTION_MODEL, f"cv_{run.fold.name}", y_k, p, cfg, run.valid_weight)
        )
        parts.append((y_k, p, run.valid_weight))
    frames.append(
        _metrics(
            PRODUCTION_MODEL,
            "cv",
            np.concatenate([a for a, _, _ in parts]),
            np.concatenate([b for _, b, _ in parts]),
            cfg,
            np.concatenate([c for _, _, c in parts]),
        )
    )
    return frames


def _evaluate_test_fold(
    cv: CrossValidation,
    X: pd.DataFrame,
    spec: FeatureSpec,
    rules: pd.DataFrame | list[Mapping] | None,
    test_frame: TestRows,
    cfg: MLConfig,
) -> _TestFold:
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
        known, labels = horizon_labels(full, cfg.horizon_days, history.scoring_at)
        in_window = known & fold.valid_mask(times_ns(full))
        rows = full.loc[in_window]
        X_test = prepare_features(rows, spec)
        T_test = spec.for_trees(X_test)
        y_test = labels[in_window]
        weight = (
            rows[SAMPLE_WEIGHT_COLUMN].to_numpy(dtype=np.float64, na_value=1.0)
            if SAMPLE_WEIGHT_COLUMN in rows.columns
            else None
        )
        if weight is not None and np.allclose(weight, 1.0):
            weight = None
    else:
        positions = history.ordered(history.known & fold.valid_mask(history.times))
        rows = history.df.iloc[positions]
        X_test = X.iloc[positions]
        T_test = cv.X.iloc[positions]
        y_test = history.y[positions]
        weight = history.sample_weight[positions]
        if np.allclose(weight, 1.0):
            weight = None
        else:
            logger.info(
                "test fold: %d rows of a sample of whole leads, weighted to the %d rows of "
                "the window",
                len(positions),
                round(float(weight.sum())),
            )
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
    d_test = make_dmatrix(T_test, nthread=cfg.nthread)
    margin = cv.margin(candidate, rounds, k_last, d_test, blend, X_test)
    if k_last >= 1:
        mo, yo, wo, _ = cv.out_of_fold(
            candidate, rounds, list(range(k_last)), _ns(fold.valid_start), blend
        )
        calibrator = _calibrate(mo, yo, wo, cfg).calibrator
        predictions = {PRODUCTION_MODEL: calibrator.predict(margin)}
        calibration = calibrator.method
    else:
        predictions = {PRODUCTION_MODEL: _clipped_sigmoid(margin)}
        calibration = "none"
    predictions["xgboost_raw"] = _sigmoid(margin)
    if rules is not None:
        table = validate_rules(rules)
        rule_columns = sorted(set(table["feature"]) & set(history.df.columns))
        points = evaluate_rules(history.df[rule_columns].iloc[train], table).to_numpy().sum(1)
        mapping = fit_points_mapping(points, history.y[train], train_w)
        test_points = evaluate_rules(rows[rule_columns], table).to_numpy().sum(1)
        predictions["rule_points"] = mapping.predict(test_points)
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
        predictions[name] = model.predict_proba(X_test)
    predictions["logistic_regression"] = lr_job.result().predict_proba(X_test)
    metrics = [_metrics(name, "test", y_test, p, cfg, weight) for name, p in predictions.items()]
    metrics.append(_auc_margins(y_test, predictions, rows["lead_id"].to_numpy(), cfg, weight))
    return _TestFold(
        predictions=predictions,
        y=y_test,
        rows=rows,
        X=X_test,
        T=T_test,
        weight=weight,
        metrics=metrics,
        candidate=candidate,
        rounds=rounds,
        blend=blend,
        calibration=calibration,
    )


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _represented_rows(weight: np.ndarray, max_rows: int, seed: int) -> np.ndarray:
    """Sorted row positions standing for the population a weighted sample represents: every row
    when unweighted and small enough, else ``max_rows`` draws with probability proportional to
    the weight (with replacement: exact, where drawing without replacement would not be)."""
    weight = np.asarray(weight, dtype=np.float64)
    if np.allclose(weight, weight[0] if len(weight) else 1.0):
        return sample_rows(len(weight), max_rows, seed)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(len(weight), max_rows, replace=True, p=weight / weight.sum()))


def _recent_window(history: LabeledHistory, min_positive_leads: int = 30, known=None, y=None):
    """The labeled rows of the most recent 28 days, reaching back week by week until they hold
    ``min_positive_leads`` converted leads (or the whole history)."""
    known = history.known if known is None else known
    y = history.y if y is None else y
    end = np.datetime64(history.times[known].max(), "ns")
    days = 28
    while True:
        window = known & (history.times > end - np.timedelta64(days, "D"))
        if window.sum() == known.sum():
            return window
        if positive_leads(history.lead_codes, y, window) >= min_positive_leads:
            return window
        days += 7


def _train_timing_model(
    history: LabeledHistory,
    X: pd.DataFrame,
    horizon: int,
    params: dict[str, Any],
    half_life_days: float | None,
    reference: Any = None,
) -> TimingModel | None:
    """The booster of one extra horizon (see :mod:`.timing`); None without enough labels."""
    cfg = history.cfg
    known, y = horizon_labels(history.df, horizon, history.scoring_at)
    t = history.times
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
        t[known],
        y[known],
        history.lead_codes[known],
        horizon,
        1,
        cfg.cv_valid_share / max(cfg.cv_folds, 1),
        cfg.cv_min_train_positives,
        cfg.cv_min_valid_positives,
    )
    def train_matrix(rows: np.ndarray, weight: np.ndarray):
        return make_dmatrix(
            X.iloc[rows],
            y[rows],
            cfg.nthread,
            ref=reference,
            quantile=True,
            max_bin=int(cfg.xgb_params.get("max_bin", 256)),
            weight=weight,
        )

    if plan.is_validated:
        fold = plan.folds[0]
        train, train_w = history.capped(known & fold.train_mask(t), cfg.timing_max_rows, y)
        valid, valid_w = history.capped(known & fold.valid_mask(t), cfg.timing_max_rows, y)
        train_w = train_w * recency_weights(t[train], _ns(fold.train_cutoff), half_life_days)
        dtrain = train_matrix(train, train_w)
        dvalid = make_dmatrix(X.iloc[valid], y[valid], cfg.nthread, weight=valid_w)
        fit = fit_booster(dtrain, params, cfg.num_boost_round, dvalid, cfg.early_stopping_rounds)
        rounds = int(np.argmin(fit.curve)) + 1
        booster = fit.booster[:rounds]
        margin = predict_margin(booster, dvalid, cfg.nthread)
        cal = _calibrate(margin, y[valid], valid_w, cfg)
        p = cal.calibrator.predict(margin)
        return TimingModel(
            horizon_days=horizon,
            booster=booster,
            calibrator=cal.calibrator,
            rounds=rounds,
            calibration_source="latest_fold",
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
    rows, rows_w = history.capped(known, cfg.train_max_rows, y)
    end = np.datetime64(t[known].max(), "ns")
    rows_w = rows_w * recency_weights(t[rows], end, half_life_days)
    dtrain = train_matrix(rows, rows_w)
    rounds = default_rounds(n_pos, float(params.get("eta", 0.3)), cfg.num_boost_round)
    booster = fit_booster(dtrain, params, rounds).booster
    recent = history.ordered(_recent_window(history, known=known, y=y))
    if not 0 < y[recent].sum() < len(recent):
        return None
    margin = predict_margin(booster, X.iloc[recent], cfg.nthread)
    cal = _calibrate(margin, y[recent], history.sample_weight[recent], cfg, ("platt",))
    return TimingModel(
        horizon_days=horizon,
        booster=booster,
        calibrator=cal.calibrator,
        rounds=rounds,
        calibration_source="in_sample_recent",
        metrics={"rounds": float(rounds)},
    )


def _test_tables(
    test: _TestFold | None, spec: FeatureSpec, cfg: MLConfig, version: str
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Reliability bins, gains, confusion and segments of every model on the test fold (empty
    frames when the model is unvalidated)."""
    if test is None:
        return (pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), pd.DataFrame())
    test_pred, y_test, rows, w = test.predictions, test.y, test.rows, test.weight
    bins = pd.concat(
        [
            _with_version(
                calibration_bins(y_test, p, cfg.ece_bins, weight=w),
                version,
                model_name=name,
                split="test",
            )
            for name, p in test_pred.items()
        ],
        ignore_index=True,
    )
    lift = pd.concat(
        [
            _with_version(
                lift_by_decile(y_test, p, weight=w), version, model_name=name, split="test"
            )
            for name, p in test_pred.items()
        ],
        ignore_index=True,
    )
    confusion = _with_version(
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
    segments = _with_version(segments, version, model_name=PRODUCTION_MODEL, split="test")
    return bins, lift, confusion, segments


def _iso(value: Any) -> str | None:
    return None if value is None else pd.Timestamp(value).isoformat()


def _boundaries(plan: FoldPlan, history: LabeledHistory) -> dict[str, str | None]:
    """The registry's time columns: train = every matured label (the production fit), valid =
    the validation windows before the test fold, calib = the out-of-fold windows the production
    calibrator saw (or the in-sample window), test = the test fold."""
    start = pd.Timestamp(history.times[history.known].min())
    end = pd.Timestamp(history.labeled_end)
    out: dict[str, str | None] = {"train_start": _iso(start), "train_end": _iso(end)}
    if plan.is_validated:
        first, test = plan.folds[0], plan.test
        out.update(
            valid_start=_iso(first.valid_start),
            valid_end=_iso(test.valid_start),
            calib_start=_iso(first.valid_start),
            calib_end=_iso(end),
            test_start=_iso(test.valid_start),
            test_end=_iso(test.valid_end),
        )
    else:
        out.update(valid_start=None, valid_end=None, test_start=None, test_end=None)
    return out


def _split_frame(plan: FoldPlan, run: LabeledHistory, prod_rows: np.ndarray) -> pd.DataFrame:
    """:data:`SPLIT_COLUMNS`: one row per planned fold (the last used one is 'test') and one for
    the production fit ('train')."""
    folds = plan.to_frame()
    known, y = run.known, run.y
    rows = folds["n_rows"].where(folds["n_rows"] > 0)
    folds["positive_rate"] = folds["n_positives"] / rows
    folds["n_rows_trained"] = folds["n_train_rows"]
    t = run.times
    train = pd.DataFrame(
        [
            {
                "split": "train",
                "start": pd.Timestamp(t[known].min()),
                "end": pd.Timestamp(run.labeled_end),
                "end_inclusive": True,
                "purge_cutoff": pd.Timestamp(run.labeled_end),
                "horizon_days": run.cfg.horizon_days,
                "n_rows": int(known.sum()),
                "n_positives": int(y[known].sum()),
                "n_positive_leads": run.n_positive_leads(),
                "positive_rate": float(y[known].mean()),
                "n_train_rows": int(known.sum()),
                "n_train_positive_leads": run.n_positive_leads(),
                "n_rows_trained": len(prod_rows),
                "is_used": True,
                "dropped_reason": "",
            }
        ]
    )
    out = pd.concat([folds.reindex(columns=SPLIT_COLUMNS), train[SPLIT_COLUMNS]], ignore_index=True)
    return out
