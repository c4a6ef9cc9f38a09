"""The whole training run as one function, returning warehouse-ready tables.

:func:`train_and_evaluate` runs: purged time split -> feature selection and categorical levels
(from train) -> leakage trap -> XGBoost (early stopping on valid) -> baselines (logistic
regression, rule points if a rule table is given, optional tree / forest / MLP) -> Platt and
isotonic calibration on the calib split -> metrics of every model on the **test** split (and of
the production model on every split) -> explanations and the reference data for scoring -> the
registry row. Scoring is :func:`~lead_scoring.ml.scoring.score_open_leads` (re-exported here).

Too little labeled history (a split empty, a split with a single class, or fewer than
``min_positive_labels`` positives in train) raises :class:`InsufficientHistoryError`; the caller
then uses :func:`~lead_scoring.ml.scoring.rule_based_scores`.

Model names in the tables: ``xgboost`` (the production model: booster + chosen calibrator),
``xgboost_raw`` (uncalibrated), ``xgboost_platt``, ``xgboost_isotonic``, ``logistic_regression``,
``rule_points`` and the extra models by name. Every table has ``model_version`` first.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lead_scoring.ml.calibration import fit_calibrators
from lead_scoring.ml.config import MLConfig, resolve_config
from lead_scoring.ml.dataset import (
    LABEL_COLUMN,
    SPLITS,
    SplitBoundaries,
    build_feature_spec,
    canonical_row_order,
    check_leakage,
    downsample_negatives,
    prepare_features,
    select_features,
    time_split,
)
from lead_scoring.ml.errors import InsufficientHistoryError
from lead_scoring.ml.explain import mean_abs_shap, shap_contributions
from lead_scoring.ml.metrics import (
    calibration_bins,
    confusion_at_f1_threshold,
    lift_by_decile,
    metrics_long,
    paired_auc_margin,
    segment_metrics,
)
from lead_scoring.ml.models import (
    predict_margin,
    sample_rows,
    train_extra_model,
    train_logistic_regression,
    train_xgboost,
    xgb_params_from_config,
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

logger = logging.getLogger(__name__)

__all__ = ["PRODUCTION_MODEL", "TrainingResult", "score_open_leads", "train_and_evaluate"]

PRODUCTION_MODEL = "xgboost"


@dataclass
class TrainingResult:
    """The trained bundle and the tables of one run (each starts with ``model_version``).

    * ``registry`` -- one row, :data:`~lead_scoring.ml.registry.REGISTRY_COLUMNS`.
    * ``metrics`` -- long: model_name, split, metric, value.
    * ``calibration_bins`` -- model_name, split, bin, bin_lower, bin_upper, mean_predicted,
      observed_rate, count, n_positives (test, equal-width ``ece_bins`` bins).
    * ``lift`` -- model_name, split, decile, n_rows, n_positives, conversion_rate, lift, ...
    * ``feature_importance`` -- feature, feature_label, mean_abs_shap, share, rank, gain
      (SHAP on up to ``shap_sample_rows`` test rows; gain = xgboost total gain).
    * ``segment_metrics`` -- model_name, split, segment_column, segment_value, n_rows, ...
    * ``confusion`` -- model_name, split, threshold, tp, fp, tn, fn, precision, recall, f1.
    * ``split_boundaries`` -- split, start, end, end_inclusive, purge_cutoff, n_rows, ...
    * ``calibration`` -- method, log_loss_in_sample, log_loss_cv, brier_in_sample, is_chosen.
    * ``leakage`` -- feature, auc, abs_corr, is_leak (the trap's per-feature table).
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
    boundaries: SplitBoundaries


def _check_history(b: SplitBoundaries, cfg: MLConfig) -> None:
    if b.n_positives["train"] < cfg.min_positive_labels:
        raise InsufficientHistoryError(
            f"only {b.n_positives['train']} converted leads in the train split "
            f"({b.start:%Y-%m-%d} to {b.valid_start:%Y-%m-%d}); at least "
            f"min_positive_labels={cfg.min_positive_labels} are needed. Use the rule-based "
            "fallback (rule_based_scores) until more labeled history exists."
        )
    one_class = [s for s in SPLITS if b.n_positives[s] in (0, b.n_rows[s])]
    if one_class:
        raise InsufficientHistoryError(
            f"split(s) {one_class} contain a single class (rows {b.n_rows}, positives "
            f"{b.n_positives}); early stopping, calibration and evaluation need both classes"
        )


def _with_version(frame: pd.DataFrame, version: str, **extra: Any) -> pd.DataFrame:
    front = {"model_version": version, **extra}
    out = frame.copy()
    for i, (k, v) in enumerate(front.items()):
        out.insert(i, k, v)
    return out


def _candidate_name(overrides: Mapping[str, Any]) -> str:
    inside = ",".join(f"{k}={v}" for k, v in sorted(overrides.items()))
    return f"xgboost[{inside}]"


def _train_xgboost_candidates(cfg: MLConfig, train: tuple, valid: tuple):
    """Train one booster per ``xgb_candidates`` entry (overrides of ``xgb_params``) and keep
    the one with the lowest early-stopping score on the validation rows (never the test
    split). Returns the chosen model and a metrics frame with every candidate's validation
    score (model_name ``xgboost[max_depth=4]``..., split 'valid', metric 'early_stopping_<m>')."""
    base = xgb_params_from_config(cfg)
    overrides_list = list(cfg.xgb_candidates) or [{}]
    results = []
    matrices: dict = {}  # built once, shared by the candidates
    for overrides in overrides_list:
        model = train_xgboost(train, valid, {**base, **dict(overrides)}, matrices)
        results.append((overrides, model))
    lower_is_better = cfg.eval_metric != "auc"
    scores = [m.best_score if lower_is_better else -m.best_score for _, m in results]
    chosen = int(np.argmin(scores))
    rows = [
        {
            "model_name": _candidate_name(o),
            "split": "valid",
            "metric": f"early_stopping_{cfg.eval_metric}",
            "value": m.best_score,
        }
        for o, m in results
    ]
    rows += [
        {
            "model_name": _candidate_name(o),
            "split": "valid",
            "metric": "is_chosen",
            "value": float(i == chosen),
        }
        for i, (o, _) in enumerate(results)
    ]
    if len(results) > 1:
        logger.info(
            "xgboost candidates: %s -> %s",
            ", ".join(f"{_candidate_name(o)} {m.best_score:.5f}" for o, m in results),
            _candidate_name(results[chosen][0]),
        )
    table = pd.DataFrame(rows, columns=["model_name", "split", "metric", "value"])
    return results[chosen][1], table


def _auc_margins(
    y_test: np.ndarray, test_pred: dict[str, np.ndarray], lead_ids: np.ndarray, cfg: MLConfig
) -> pd.DataFrame:
    """The production model's test-AUC margin over each baseline, with a cluster (lead)
    bootstrap interval: metrics ``auc_margin_vs_<baseline>`` and its ``_ci_low`` / ``_ci_high``
    (the central ``margin_ci_level`` share of ``margin_bootstrap_draws`` paired draws)."""
    rows = []
    for name, p in test_pred.items():
        if name.startswith(PRODUCTION_MODEL):
            continue  # the calibration variants rank (almost) like the model itself
        m = paired_auc_margin(
            y_test,
            test_pred[PRODUCTION_MODEL],
            p,
            lead_ids,
            n_boot=cfg.margin_bootstrap_draws,
            seed=cfg.seed,
            level=cfg.margin_ci_level,
        )
        for suffix, key in (("", "margin"), ("_ci_low", "ci_low"), ("_ci_high", "ci_high")):
            rows.append(
                {
                    "model_name": PRODUCTION_MODEL,
                    "split": "test",
                    "metric": f"auc_margin_vs_{name}{suffix}",
                    "value": m[key],
                }
            )
    return pd.DataFrame(rows, columns=["model_name", "split", "metric", "value"])


def train_and_evaluate(
    df: pd.DataFrame,
    config: Mapping[str, Any] | MLConfig | None = None,
    rules: pd.DataFrame | list[Mapping] | None = None,
    trained_at: pd.Timestamp | str | None = None,
) -> TrainingResult:
    """Train, calibrate and evaluate on ``df`` (the feature mart); see the module docstring.

    ``rules`` (the points seed) adds the rule baseline; ``trained_at`` defaults to now (UTC,
    naive) and does not enter ``model_version``.
    """
    cfg = resolve_config(config)
    for c in ("lead_id", "snapshot_at", LABEL_COLUMN):
        if c not in df.columns:
            raise ValueError(f"input frame lacks column {c!r}")
    trained = (
        pd.Timestamp(trained_at)
        if trained_at is not None
        else pd.Timestamp.now(tz="UTC").tz_localize(None).floor("s")
    )

    # ---- split and features
    bounds = time_split(df, cfg.split_fractions, cfg.horizon_days, cfg.purge)
    _check_history(bounds, cfg)
    assigned = bounds.assign(df).to_numpy()
    # positions (no frame copies), each split in the canonical (snapshot_at, lead_id) order
    rank = canonical_row_order(df)
    rows = {}
    for s in SPLITS:
        positions = np.flatnonzero(assigned == s)
        rows[s] = positions[np.argsort(rank[positions], kind="stable")]
    label = df[LABEL_COLUMN].to_numpy(dtype=np.float64, na_value=np.nan)
    # a large train split: every positive, a weighted sample of the negatives (same rows for
    # XGBoost and the baselines, so the comparison stays fair)
    rows["train"], train_weight, negative_rate = downsample_negatives(
        rows["train"], label[rows["train"]], cfg.train_max_rows, cfg.seed
    )
    features = select_features(df, cfg.include_features, cfg.exclude_features)
    spec = build_feature_spec(df[features].iloc[rows["train"]], features, cfg.max_category_levels)
    X = {s: prepare_features(df, spec, rows[s]) for s in SPLITS}
    y = {s: label[rows[s]].astype(np.int64) for s in SPLITS}
    times = df["snapshot_at"]
    leakage = check_leakage(
        X["train"],
        y["train"],
        cfg.leakage_auc_threshold,
        cfg.leakage_corr_threshold,
        cfg.leakage_sample_rows,
        cfg.seed,
    )

    # ---- production model and calibration
    # early stopping watches a (weighted) sample of the validation split: the metric of every
    # round on all of it cost more than the round itself; the metrics below use all of it
    stop_rows, stop_weight, _ = downsample_negatives(
        np.arange(len(y["valid"])), y["valid"], cfg.early_stopping_max_rows, cfg.seed
    )
    xgb_model, candidates = _train_xgboost_candidates(
        cfg,
        (X["train"], y["train"], train_weight),
        (X["valid"].iloc[stop_rows], y["valid"][stop_rows], stop_weight),
    )
    booster = xgb_model.booster
    margins = {s: predict_margin(booster, X[s], cfg.nthread) for s in SPLITS}
    cal = fit_calibrators(
        margins["calib"], y["calib"], cfg.calibration_selection, cfg.calibration_cv_folds, cfg.seed
    )
    calibrator = cal.calibrator
    base_rate = float(y["calib"].mean())

    # ---- predictions on test for every model (+ production model on every split)
    test_pred: dict[str, np.ndarray] = {
        PRODUCTION_MODEL: calibrator.predict(margins["test"]),
        "xgboost_raw": 1.0 / (1.0 + np.exp(-margins["test"])),
        "xgboost_platt": cal.calibrators["platt"].predict(margins["test"]),
        "xgboost_isotonic": cal.calibrators["isotonic"].predict(margins["test"]),
    }
    lr = train_logistic_regression(
        X["train"],
        y["train"],
        spec,
        cfg.lr_c,
        cfg.lr_class_weight,
        cfg.baseline_max_train_rows,
        cfg.seed,
        train_weight,
    )
    test_pred["logistic_regression"] = lr.predict_proba(X["test"])
    if rules is not None:
        table = validate_rules(rules)
        rule_columns = sorted(set(table["feature"]) & set(df.columns))
        pts_train = evaluate_rules(df[rule_columns].iloc[rows["train"]], table).to_numpy().sum(1)
        mapping = fit_points_mapping(pts_train, y["train"], train_weight)
        pts_test = evaluate_rules(df[rule_columns].iloc[rows["test"]], table).to_numpy().sum(1)
        test_pred["rule_points"] = mapping.predict(pts_test)
    for name in cfg.extra_models:
        model = train_extra_model(
            name,
            X["train"],
            y["train"],
            spec,
            cfg.baseline_max_train_rows,
            cfg.seed,
            cfg.nthread,
            train_weight,
        )
        test_pred[name] = model.predict_proba(X["test"])

    # ---- explanations, reference data for the sub-scores and the confidence
    shap_rows = sample_rows(len(X["test"]), cfg.shap_sample_rows, cfg.seed)
    contribs_test, _ = shap_contributions(booster, X["test"].iloc[shap_rows], cfg.nthread)
    importance = mean_abs_shap(contribs_test, spec.columns, cfg.feature_labels)
    gain = booster.get_score(importance_type="total_gain")
    importance["gain"] = importance["feature"].map(gain).fillna(0.0).astype(np.float64)
    fit_features = tuple(c for c in spec.columns if c in set(cfg.fit_features))
    ref_rows = sample_rows(len(X["calib"]), cfg.shap_sample_rows, cfg.seed)
    contribs_ref, _ = shap_contributions(booster, X["calib"].iloc[ref_rows], cfg.nthread)
    reference = {
        group: reference_quantiles(s) if s is not None else []
        for group, s in group_sums(contribs_ref, spec.columns, fit_features).items()
    }
    support = segment_support_counts(X["train"], confidence_segment_columns(spec, cfg))

    # ---- version and bundle
    fingerprint = hashlib.sha256(
        ";".join(
            f"{s}:{data_fingerprint(X[s], y[s], times.iloc[rows[s]])}" for s in SPLITS
        ).encode()
    ).hexdigest()
    version = compute_model_version(fingerprint, cfg.to_dict(), spec)

    # ---- tables
    y_test = y["test"]
    metric_frames = [
        metrics_long(
            PRODUCTION_MODEL,
            s,
            y[s],
            calibrator.predict(margins[s]),
            cfg.lift_fractions,
            cfg.ece_bins,
        )
        for s in SPLITS
        if s != "test"
    ]
    metric_frames += [
        metrics_long(name, "test", y_test, p, cfg.lift_fractions, cfg.ece_bins)
        for name, p in test_pred.items()
    ]
    metric_frames.append(candidates)
    metric_frames.append(
        _auc_margins(y_test, test_pred, df["lead_id"].iloc[rows["test"]].to_numpy(), cfg)
    )
    metrics = pd.concat(metric_frames, ignore_index=True)
    bins = pd.concat(
        [
            _with_version(
                calibration_bins(y_test, p, cfg.ece_bins), version, model_name=name, split="test"
            )
            for name, p in test_pred.items()
        ],
        ignore_index=True,
    )
    lift = pd.concat(
        [
            _with_version(lift_by_decile(y_test, p), version, model_name=name, split="test")
            for name, p in test_pred.items()
        ],
        ignore_index=True,
    )
    confusion = pd.DataFrame(
        [
            {"model_name": name, "split": "test", **confusion_at_f1_threshold(y_test, p)}
            for name, p in test_pred.items()
        ]
    )
    seg_columns = (
        list(cfg.segment_columns) if cfg.segment_columns is not None else list(spec.categorical)
    )
    segments = segment_metrics(
        df[seg_columns].iloc[rows["test"]],
        y_test,
        test_pred[PRODUCTION_MODEL],
        seg_columns,
        cfg.segment_min_rows,
        cfg.segment_gap_threshold,
        cfg.segment_auc_gap_threshold,
        cfg.segment_min_positives,
    )
    headline = (
        metrics[(metrics["model_name"] == PRODUCTION_MODEL) & (metrics["split"] == "test")]
        .set_index("metric")["value"]
        .to_dict()
    )
    bundle = ModelBundle(
        model_version=version,
        booster=booster,
        calibrator=calibrator,
        spec=spec,
        config=cfg,
        xgb_params=xgb_model.params,
        best_iteration=xgb_model.best_iteration,
        trained_at=trained,
        boundaries={
            f"{s}_{edge}": ts.isoformat()
            for s in SPLITS
            for edge, ts in (("start", bounds.starts[s]), ("end", bounds.ends[s]))
        },
        n_train_rows=bounds.n_rows["train"],
        n_train_positives=bounds.n_positives["train"],
        data_fingerprint=fingerprint,
        fit_features=fit_features,
        reference=reference,
        segment_support=support,
        calibration=cal.table.to_dict(orient="records"),
        metrics=headline,
        base_rate=base_rate,
        band_thresholds=resolve_band_thresholds(cfg, base_rate),
    )
    registry = pd.DataFrame([serialize_bundle(bundle)])
    logger.info(
        "model %s: test auc %.4f, log loss %.4f, calibrator %s",
        version,
        headline.get("auc", np.nan),
        headline.get("log_loss", np.nan),
        cal.chosen,
    )
    return TrainingResult(
        bundle=bundle,
        registry=registry,
        metrics=_with_version(metrics, version),
        calibration_bins=bins,
        lift=lift,
        feature_importance=_with_version(importance, version),
        segment_metrics=_with_version(segments, version, model_name=PRODUCTION_MODEL, split="test"),
        confusion=_with_version(confusion, version),
        split_boundaries=_with_version(
            bounds.to_frame().assign(
                n_rows_trained=lambda f: np.where(
                    f["split"] == "train", len(rows["train"]), f["n_rows"]
                ),
                negative_sample_rate=lambda f: np.where(f["split"] == "train", negative_rate, 1.0),
            ),
            version,
        ),
        calibration=_with_version(cal.table, version),
        leakage=_with_version(leakage, version),
        boundaries=bounds,
    )
