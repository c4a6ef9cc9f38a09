"""Scoring: probability, lead score, band, fit / engagement sub-scores, confidence, fallback.

Definitions (documented for sales and for the warehouse):

* ``conversion_probability`` -- the *calibrated* probability that the lead converts within
  ``horizon_days`` of the snapshot: booster margin -> chosen calibrator.
* ``lead_score = round(100 * p)`` (half up), an int 0-100. **The score is the calibrated
  probability in percent**: leads scored 30 convert about 30 % of the time.
* ``score_band`` -- A / B / C / D from probability thresholds: ``p >= A`` -> 'A', ``>= B`` -> 'B',
  ``>= C`` -> 'C', else 'D' (monotone in p). Explicit thresholds come from config
  ``band_thresholds``; by default they are derived at training time from the base rate of the
  calibration split: A >= 4x the average lead (call now), B >= 2x, C >= average, D below average
  (nurture) -- config ``band_lift_multiples``. At a 10 % base rate that is A >= 0.40, B >= 0.20,
  C >= 0.10 (:data:`~.config.DEFAULT_BAND_THRESHOLDS`, used when no base rate is known); at the
  2-4 % base rates of real B2B funnels fixed 10 %-style thresholds would put every lead in D.
* ``base_rate`` -- the rate the bands are read against (:func:`band_base_rate`); the SQL mart
  ``scored_leads`` derives ``lift = conversion_probability / base_rate`` (so band A is lift >= 4
  with the default multiples) and ``lead_priority``, the percentile 1-100 of the probability
  among the leads of the run (a window function: it needs every lead of the run).
* ``reasons_for`` / ``reasons_against`` -- the strongest contributions raising / lowering the
  score, in plain words with the lead's value (:mod:`.reasons`); ``top_factors`` keeps the
  mixed-sign, column-labelled form for compatibility.
* ``fit_score`` / ``engagement_score`` (0-100) -- **percentiles**. The SHAP contributions (log-odds)
  of the fit features (firmographic / demographic: config ``fit_features``) and of the
  engagement features (everything else) are summed per row; each sum is placed in the reference
  distribution of the same sums on the calibration split (1001 stored quantiles, mid-rank). So
  ``fit_score = 85`` reads "a better fit than 85 % of recent leads", independent of calibration and
  base rate; 50 = a typical lead. A group without features gives NULL.
* ``score_confidence`` (0-1) -- ``completeness x support``: completeness = share of the lead's fit
  fields that are present (a categorical level never seen in training counts as missing);
  support = mean over the confidence segment columns (default: the categorical fit features) of
  ``min(1, labeled train rows with the lead's value / confidence_min_segment_rows)``. A complete
  lead from a well-populated segment gets 1.0; one with half its fit fields missing at most 0.5.

Fallback (:func:`rule_based_scores`, for too little labeled history): the same output columns
from the rule seed; ``model_version = 'rules-<hash>'``; probability from the points by the mapping
in :mod:`.rules`; sub-scores are percentiles of the fit / engagement points *among the scored
leads*; confidence = completeness x ``rules_confidence_cap`` (0.5).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import xgboost as xgb
from pandas.api import types as ptypes

from lead_scoring.ml.config import DEFAULT_BAND_THRESHOLDS, MLConfig, resolve_config
from lead_scoring.ml.dataset import LABEL_COLUMN, FeatureSpec, labeled_mask, prepare_features
from lead_scoring.ml.explain import feature_label, format_factors, shap_contributions, top_factors
from lead_scoring.ml.models import make_dmatrix, predict_margin
from lead_scoring.ml.reasons import reason_labels, reasons_split
from lead_scoring.ml.registry import ModelBundle
from lead_scoring.ml.rules import (
    PointsMapping,
    evaluate_rules,
    fit_points_mapping,
    rule_points,
    rules_version,
    validate_rules,
)
from lead_scoring.ml.timing import timing_probabilities

__all__ = [
    "MISSING_SEGMENT",
    "REASONS_PER_SIDE",
    "SCORE_COLUMNS",
    "band_base_rate",
    "fit_engagement_scores",
    "group_sums",
    "lead_rule_points",
    "lead_score",
    "percentile_of",
    "reference_quantiles",
    "resolve_band_thresholds",
    "rule_based_scores",
    "score",
    "score_band",
    "score_confidence",
    "score_open_leads",
    "segment_support_counts",
]

SCORE_COLUMNS = [
    "lead_id",
    "scored_at",
    "conversion_probability",
    "conversion_probability_7d",
    "conversion_probability_30d",
    "conversion_probability_90d",
    "lead_score",
    "score_band",
    "top_factors",
    "top_factors_json",
    "reasons_for",
    "reasons_against",
    "base_rate",
    "fit_score",
    "engagement_score",
    "score_confidence",
    "model_version",
]
MISSING_SEGMENT = "(missing)"
REASONS_PER_SIDE = 3


def model_margin(
    bundle: ModelBundle, X: pd.DataFrame, trees: pd.DataFrame | xgb.DMatrix | None = None
) -> np.ndarray:
    """The production model's log-odds before calibration: the booster's margin, blended with the
    logistic regression's when the model is a blend. ``X`` is the prepared matrix, ``trees`` the
    boosters' input (default: ``bundle.spec.for_trees(X)``)."""
    data = bundle.spec.for_trees(X) if trees is None else trees
    margin = predict_margin(bundle.booster, data, bundle.config.nthread)
    if bundle.linear is None or bundle.blend_weight >= 1.0:
        return margin
    share = bundle.blend_weight
    return share * margin + (1.0 - share) * bundle.linear.margin(X)


def score(bundle: ModelBundle, df: pd.DataFrame) -> np.ndarray:
    """Calibrated conversion probability for each row of ``df`` (raw feature columns)."""
    return bundle.calibrator.predict(model_margin(bundle, prepare_features(df, bundle.spec)))


def lead_score(p: np.ndarray | Sequence[float]) -> np.ndarray:
    """``round(100 * p)`` rounding half up, as int64 in 0..100."""
    x = np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0)
    return np.floor(100.0 * x + 0.5).astype(np.int64)


def resolve_band_thresholds(config: MLConfig, base_rate: float | None) -> dict[str, float]:
    """Config ``band_thresholds`` if set; else ``band_lift_multiples x base_rate`` (capped at 1);
    else (no base rate) :data:`~.config.DEFAULT_BAND_THRESHOLDS`."""
    if config.band_thresholds is not None:
        return dict(config.band_thresholds)
    if base_rate is None or not np.isfinite(base_rate) or base_rate <= 0:
        return dict(DEFAULT_BAND_THRESHOLDS)
    return {k: float(min(1.0, m * base_rate)) for k, m in config.band_lift_multiples.items()}


def band_base_rate(
    base_rate: float | None, thresholds: Mapping[str, float], multiples: Mapping[str, float]
) -> float:
    """The base rate the bands are read against (``lift = p / base_rate``): the model's base
    rate when known; else the rate the thresholds imply, ``C threshold / C multiple`` (0.10 for
    :data:`~.config.DEFAULT_BAND_THRESHOLDS`), so that band C still starts at lift 1."""
    if base_rate is not None and np.isfinite(base_rate) and base_rate > 0:
        return float(base_rate)
    return float(thresholds["C"]) / float(multiples["C"])


def score_band(
    p: np.ndarray | Sequence[float], thresholds: Mapping[str, float] | None = None
) -> np.ndarray:
    """'A' if p >= A, 'B' if p >= B, 'C' if p >= C, else 'D' (monotone in p); without
    ``thresholds``, :data:`~.config.DEFAULT_BAND_THRESHOLDS`."""
    t = dict(thresholds or DEFAULT_BAND_THRESHOLDS)
    x = np.asarray(p, dtype=np.float64)
    return np.select([x >= t["A"], x >= t["B"], x >= t["C"]], ["A", "B", "C"], "D").astype(object)


def group_sums(
    contribs: np.ndarray, feature_names: Sequence[str], fit_features: Sequence[str]
) -> dict[str, np.ndarray | None]:
    """Summed contributions of the fit and the engagement features (None: empty group)."""
    fit_set = set(fit_features)
    is_fit = np.array([f in fit_set for f in feature_names], dtype=bool)
    c = np.asarray(contribs, dtype=np.float64)
    return {
        "fit": c[:, is_fit].sum(axis=1) if is_fit.any() else None,
        "engagement": c[:, ~is_fit].sum(axis=1) if (~is_fit).any() else None,
    }


def reference_quantiles(values: np.ndarray, n_quantiles: int = 1001) -> list[float]:
    """Sorted reference quantiles (stored in the bundle)."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        return []
    return [float(x) for x in np.quantile(v, np.linspace(0, 1, n_quantiles))]


def percentile_of(values: np.ndarray, reference: Sequence[float]) -> np.ndarray:
    """Mid-rank percentile (0-100, float) of ``values`` within the sorted ``reference``."""
    ref = np.asarray(reference, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    if ref.size == 0:
        return np.full(v.shape, np.nan)
    left = np.searchsorted(ref, v, side="left")
    right = np.searchsorted(ref, v, side="right")
    return 100.0 * (left + right) / (2.0 * ref.size)


def _int_score(x: np.ndarray) -> pd.array:
    out = pd.array(np.floor(np.clip(x, 0, 100) + 0.5), dtype="Float64")
    return out.astype("Int64")


def fit_engagement_scores(
    contribs: np.ndarray,
    feature_names: Sequence[str],
    fit_features: Sequence[str],
    reference: Mapping[str, Sequence[float]],
) -> tuple[pd.array, pd.array]:
    """``(fit_score, engagement_score)`` as nullable Int64 percentiles (see module doc)."""
    sums = group_sums(contribs, feature_names, fit_features)
    n = np.asarray(contribs).shape[0]
    out = []
    for group in ("fit", "engagement"):
        s = sums[group]
        ref = reference.get(group, [])
        if s is None or not len(ref):
            out.append(pd.array([pd.NA] * n, dtype="Int64"))
        else:
            out.append(_int_score(percentile_of(s, ref)))
    return out[0], out[1]


def _segment_codes(s: pd.Series) -> pd.Series:
    return s.astype(object).where(s.notna(), MISSING_SEGMENT).astype(str)


def segment_support_counts(X_train: pd.DataFrame, columns: Sequence[str]) -> dict[str, dict]:
    """Labeled train rows per value of each column ('(missing)' for missing / unseen)."""
    return {
        c: {str(k): int(v) for k, v in _segment_codes(X_train[c]).value_counts().items()}
        for c in columns
    }


def confidence_segment_columns(spec: FeatureSpec, config: MLConfig) -> list[str]:
    """The configured columns, else the categorical fit features of the model."""
    if config.confidence_segment_columns is not None:
        return [c for c in config.confidence_segment_columns if c in spec.columns]
    fit = set(config.fit_features)
    return [c for c in spec.categorical if c in fit]


def _completeness(X: pd.DataFrame, fit_columns: Sequence[str]) -> np.ndarray:
    if not fit_columns:
        return np.ones(len(X))
    return X[list(fit_columns)].notna().to_numpy().mean(axis=1)


def score_confidence(
    X: pd.DataFrame,
    fit_features: Sequence[str],
    segment_support: Mapping[str, Mapping[str, int]],
    min_segment_rows: int = 200,
) -> np.ndarray:
    """``completeness x support`` in [0, 1], rounded to 3 decimals (see module doc).

    ``X`` is the prepared matrix; without segment columns support is 1.
    """
    completeness = _completeness(X, [c for c in fit_features if c in X.columns])
    if segment_support:
        parts = []
        for c, counts in segment_support.items():
            n = _segment_codes(X[c]).map(dict(counts)).fillna(0).to_numpy(dtype=np.float64)
            parts.append(np.minimum(1.0, n / max(min_segment_rows, 1)))
        support = np.mean(parts, axis=0)
    else:
        support = np.ones(len(X))
    return np.round(completeness * support, 3)


def _scoring_rows(df: pd.DataFrame) -> pd.DataFrame:
    if "is_scoring_snapshot" in df.columns:
        return df[df["is_scoring_snapshot"].fillna(False).astype(bool)]
    return df


def _scored_at(df: pd.DataFrame, scored_at: pd.Timestamp | str | None) -> pd.Series:
    if scored_at is not None:
        return pd.Series(pd.Timestamp(scored_at), index=df.index)
    if "snapshot_at" in df.columns:
        return df["snapshot_at"]
    return pd.Series(pd.Timestamp.now(tz="UTC").tz_localize(None).floor("s"), index=df.index)


def lead_rule_points(
    df_scoring: pd.DataFrame, rules: pd.DataFrame | list[Mapping]
) -> pd.DataFrame:
    """``lead_id, rule_points``: the rule seed's total points of each lead to score (the
    ``is_scoring_snapshot`` rows when that column is present), whatever model scores it. The
    ranker of the A/B test's rules arm (``scored_leads.experiment_arm = 'rules'``); the same
    points as the rule fallback's and the ``rule_points`` baseline's."""
    df = _scoring_rows(df_scoring)
    return pd.DataFrame(
        {
            "lead_id": df["lead_id"].to_numpy(),
            "rule_points": rule_points(df, rules) if len(df) else np.zeros(0, dtype=np.int64),
        }
    )


def _empty_scores() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in SCORE_COLUMNS})


def score_open_leads(
    bundle: ModelBundle,
    df_scoring: pd.DataFrame,
    scored_at: pd.Timestamp | str | None = None,
    feature_labels: Mapping[str, str] | None = None,
    reasons_per_side: int = REASONS_PER_SIDE,
) -> pd.DataFrame:
    """Score the open leads: one row per lead with :data:`SCORE_COLUMNS`.

    Only rows with ``is_scoring_snapshot`` true are scored when that column is present.
    ``scored_at`` defaults to the row's ``snapshot_at`` (the scoring date of the features);
    ``feature_labels`` overrides the labels stored in the bundle (``top_factors``);
    ``reasons_for`` / ``reasons_against`` list ``reasons_per_side`` contributions of each sign
    in plain words (:mod:`.reasons`); ``base_rate`` is :func:`band_base_rate` of the bundle.
    """
    cfg = bundle.config
    df = _scoring_rows(df_scoring)
    if df.empty:
        return _empty_scores()
    labels = dict(cfg.feature_labels)
    labels.update(feature_labels or {})
    X = prepare_features(df, bundle.spec)
    trees = bundle.spec.for_trees(X)
    dmatrix = make_dmatrix(trees, nthread=cfg.nthread)
    p = bundle.calibrator.predict(model_margin(bundle, X, dmatrix))
    timing = timing_probabilities(p, cfg.horizon_days, bundle.timing_models, dmatrix, cfg.nthread)
    contribs, _ = shap_contributions(bundle.booster, dmatrix, cfg.nthread)
    if bundle.linear is not None and bundle.blend_weight < 1.0:
        # a blend explains itself as the blend of its parts' exact contributions (log-odds)
        linear_contribs, _ = bundle.linear.contributions(X)
        contribs = bundle.blend_weight * contribs + (1.0 - bundle.blend_weight) * linear_contribs
    factors = top_factors(contribs, X, labels, cfg.top_k_factors, bundle.spec.boolean)
    names = list(X.columns)
    reasons = reasons_split(
        contribs, X, names, reason_labels(names), reasons_per_side, bundle.spec.boolean
    )
    base_rate = band_base_rate(
        bundle.base_rate, bundle.band_thresholds, cfg.band_lift_multiples
    )
    fit, engagement = fit_engagement_scores(
        contribs, bundle.feature_names, bundle.fit_features, bundle.reference
    )
    confidence = score_confidence(
        X, bundle.fit_features, bundle.segment_support, cfg.confidence_min_segment_rows
    )
    return pd.DataFrame(
        {
            "lead_id": df["lead_id"].to_numpy(),
            "scored_at": _scored_at(df, scored_at).to_numpy(),
            "conversion_probability": p,
            **{c: timing[c].to_numpy() for c in timing.columns},
            "lead_score": lead_score(p),
            "score_band": score_band(p, bundle.band_thresholds),
            "top_factors": factors["top_factors"].to_numpy(),
            "top_factors_json": factors["top_factors_json"].to_numpy(),
            "reasons_for": reasons["reasons_for"].to_numpy(),
            "reasons_against": reasons["reasons_against"].to_numpy(),
            "base_rate": base_rate,
            "fit_score": fit,
            "engagement_score": engagement,
            "score_confidence": confidence,
            "model_version": bundle.model_version,
        },
        index=df.index,
    ).reset_index(drop=True)


def rule_based_scores(
    df_scoring: pd.DataFrame,
    rules: pd.DataFrame | list[Mapping],
    config: Mapping | MLConfig | None = None,
    history: pd.DataFrame | None = None,
    scored_at: pd.Timestamp | str | None = None,
    reasons_per_side: int = REASONS_PER_SIDE,
) -> pd.DataFrame:
    """The documented fallback when there is too little history to train: :data:`SCORE_COLUMNS`
    from the rule seed alone.

    Points -> probability: a 1-D logistic fitted on ``history`` (labeled rows of the feature mart)
    when it has at least ``rules_min_labels_for_fit`` positives and negatives, else the fixed
    linear convention ``clip(points, 0, 100) / 100``. Bands: config ``band_thresholds``, else the
    lift multiples x the history's base rate (fitted mapping only), else the fixed defaults.
    ``top_factors`` lists the fired rules by |points| (``'C-level title (+10)'``); the JSON has
    the same keys as the model's, with the points as ``contribution``.
    ``reasons_for`` / ``reasons_against`` list the fired rules of each sign in plain words
    with the lead's value (``'C-level title (Seniority: c level)'``); ``base_rate`` is the
    history's when the mapping is fitted, else the one the fixed thresholds imply.
    ``model_version`` = ``'rules-<hash of rules and mapping>'``.
    """
    cfg = resolve_config(config)
    table = validate_rules(rules)
    df = _scoring_rows(df_scoring)
    if df.empty:
        return _empty_scores()
    mapping = PointsMapping()
    base_rate = None
    if history is not None and LABEL_COLUMN in history.columns:
        hist = history[labeled_mask(history)]
        y = hist[LABEL_COLUMN].astype("float64").to_numpy()
        n_pos = int(y.sum())
        base_rate = float(y.mean()) if len(y) else None
        if min(n_pos, len(y) - n_pos) >= cfg.rules_min_labels_for_fit:
            mapping = fit_points_mapping(evaluate_rules(hist, table).sum(axis=1).to_numpy(), y)
    band_rate = base_rate if mapping.method == "logistic" else None
    bands = resolve_band_thresholds(cfg, band_rate)
    points = evaluate_rules(df, table)
    total = points.to_numpy().sum(axis=1)
    p = mapping.predict(total)
    labels = [
        d if d else feature_label(n, cfg.feature_labels)
        for d, n in zip(table["description"], table["rule_name"], strict=True)
    ]
    factors = format_factors(
        points.to_numpy(dtype=np.float64),
        df,
        value_columns=table["feature"].tolist(),
        keys=table["rule_name"].tolist(),
        labels=labels,
        k=cfg.top_k_factors,
        style="points",
        decimals=0,
    )
    features = table["feature"].tolist()
    reasons = reasons_split(
        points.to_numpy(dtype=np.float64),
        df,
        value_columns=features,
        labels=[
            f"{(d or feature_label(n)).replace('_', ' ')} ({label}"
            for d, n, label in zip(
                table["description"], table["rule_name"], reason_labels(features), strict=True
            )
        ],
        k=reasons_per_side,
        boolean=[f for f in features if f in df.columns and ptypes.is_bool_dtype(df[f].dtype)],
        suffixes=[")"] * len(features),
    )
    fit_set = set(cfg.fit_features)
    is_fit = table["feature"].isin(fit_set).to_numpy()
    subs = []
    for mask in (is_fit, ~is_fit):
        if mask.any():
            s = points.to_numpy()[:, mask].sum(axis=1).astype(np.float64)
            subs.append(_int_score(percentile_of(s, np.sort(s))))
        else:
            subs.append(pd.array([pd.NA] * len(df), dtype="Int64"))
    fit_columns = [c for c in cfg.fit_features if c in df.columns]
    confidence = np.round(_completeness(df, fit_columns) * cfg.rules_confidence_cap, 3)
    timing = timing_probabilities(p, cfg.horizon_days, {}, None)
    return pd.DataFrame(
        {
            "lead_id": df["lead_id"].to_numpy(),
            "scored_at": _scored_at(df, scored_at).to_numpy(),
            "conversion_probability": p,
            **{c: timing[c].to_numpy() for c in timing.columns},
            "lead_score": lead_score(p),
            "score_band": score_band(p, bands),
            "top_factors": factors["top_factors"].to_numpy(),
            "top_factors_json": factors["top_factors_json"].to_numpy(),
            "reasons_for": reasons["reasons_for"].to_numpy(),
            "reasons_against": reasons["reasons_against"].to_numpy(),
            "base_rate": band_base_rate(band_rate, bands, cfg.band_lift_multiples),
            "fit_score": subs[0],
            "engagement_score": subs[1],
            "score_confidence": confidence,
            "model_version": rules_version(table, mapping),
        }
    )
