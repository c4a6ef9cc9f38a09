"""Configuration of the ML pipeline: every key, its default and its meaning, in one place.

The configuration is a plain ``dict`` (it comes from the ``config:`` block of a dbt Python model)
resolved into :class:`MLConfig` by :func:`resolve_config`. Unknown keys raise ``ValueError`` so a
typo in YAML does not silently fall back to a default. Nested dicts (``xgb_params``,
``band_lift_multiples``, ``feature_labels``) are *merged* over their defaults.

Keys (defaults in brackets)
---------------------------
Data, labels and validation (see :mod:`.cv`)
    ``horizon_days`` [30] -- label = first conversion within N days of ``snapshot_at``; the
    purge gap of every fold is at least this long.
    ``cv_folds`` [3] -- rolling-origin (expanding window) folds over the most recent labeled
    history; the last one is the **test** fold.
    ``cv_valid_share`` [0.35] -- share of the labeled converted leads (the most recent ones) whose
    snapshots fall in the validation windows of the folds.
    ``cv_min_train_positives`` [20], ``cv_min_valid_positives`` [10] -- converted leads a fold
    needs in its (purged) training rows and in its validation window; a fold short of either is
    dropped. With no fold left the model still trains (see ``min_positive_labels``) but is
    *unvalidated*: ``validation_method = 'none'``, no test metrics.
    ``impute_censored_labels`` [True] -- when no fold can be formed (the *unvalidated* path), the
    production booster also learns from the snapshots whose horizon has not ended by the scoring
    time: those already converted as positives, the others with the probability that they still
    convert within the horizon (Kaplan-Meier over the conversion delays,
    :func:`~.dataset.censored_horizon_labels`), and Platt is fitted on those labels over the
    recent window extended to the scoring time. The validated path is unaffected.
    ``min_positive_labels`` [40] -- fewer converted leads in the labeled history raises
    :class:`~.errors.InsufficientHistoryError` (the rule-based fallback takes over).
    ``include_features`` [None] -- explicit feature list (None = every non-reserved column).
    ``exclude_features`` [()] -- columns never used as features.
    ``max_category_levels`` [100] -- most frequent training levels kept per categorical; the rest
    (and any value unseen in training) become missing.
    ``train_max_rows`` [400_000] -- rows the production booster is fitted on: above it every
    converting lead's snapshots are kept and the other leads sampled (whole leads, re-weighted by
    1 / rate; :func:`~.dataset.sample_leads`). The dbt model applies the same cap in the
    warehouse, so the full mart never reaches Python.
    ``cv_max_train_rows`` [100_000] -- the same cap for the training rows of each fold.
    ``cv_max_valid_rows`` [60_000] -- the same cap for the rows each fold is scored on.
    ``distributed_training`` [False] -- on the Spark target, fit the production booster with
    ``xgboost.spark.SparkXGBClassifier`` on every matured labeled snapshot in the executors
    (:mod:`.distributed`) instead of single-node XGBoost on the rows above; validation,
    calibration and explanations still use those rows. For histories that outgrow one machine.
    ``timing_max_rows`` [80_000] -- the same cap for the training and validation rows of the
    7 / 30 / 90-day timing models (:mod:`.timing`), which rank who converts first.
Leakage trap
    ``leakage_auc_threshold`` [0.98], ``leakage_corr_threshold`` [0.95],
    ``leakage_sample_rows`` [50_000] (rows sampled from the training rows for the check).
XGBoost
    ``xgb_params`` -- merged over :data:`DEFAULT_XGB_PARAMS` (native xgboost parameter names).
    ``xgb_candidates`` [None] -- overrides of ``xgb_params``, one candidate each; None = a grid
    that adapts to the data size (:func:`~.tuning.candidate_grid`: shallow, strongly
    regularised, slow trees for a few hundred converted leads, deeper ones for thousands).
    ``recency_half_life_days`` [None] -- candidate time-decay half-lives of the row weights
    (a row ``d`` days older than the newest label weighs ``0.5 ** (d / half_life)``); None = the
    grid's choice (no decay, and 4 x horizon on small histories); () = never decay.
    ``num_boost_round`` [600] (most rounds a fold may run), ``early_stopping_rounds`` [30]
    (a fold stops after this many rounds without improving its validation log loss), ``seed``
    [42], ``nthread`` [2]. The round count is chosen on the folds' pooled log-loss curve.
Baselines and blend
    ``lr_c`` [1.0] (inverse L2 strength), ``baseline_max_train_rows`` [100_000] (training rows
    sampled, seeded, for the baselines), ``extra_models`` [()] -- any of
    'decision_tree', 'random_forest', 'mlp'.
    ``blend_weights`` [(0.75, 0.5)] -- XGBoost's shares in the blends with logistic regression
    (on the log-odds scale) that the cross-validation tries beside XGBoost alone; a blend wins
    when its pooled validation log loss is lower. () = never blend.
    ``lr_max_rows`` [40_000] -- rows (seeded sample of the training rows) the logistic regression
    of a blend is fitted on (it has a few hundred coefficients: more rows change little).
Calibration
    ``calibration_selection`` ['cv'] -- Platt vs isotonic by K-fold log loss within the
    out-of-fold predictions ('cv') or in sample; ``calibration_cv_folds`` [5].
Metrics
    ``ece_bins`` [10], ``lift_fractions`` [(0.1, 0.2, 0.3)],
    ``margin_bootstrap_draws`` [100] and ``margin_ci_level`` [0.9] -- the test-AUC margin of the
    production model over each baseline gets a paired cluster-bootstrap interval (leads resampled;
    0 draws = no interval),
    ``segment_columns`` [None = the categorical features], ``segment_min_rows`` [100],
    ``segment_gap_threshold`` [0.05], ``segment_auc_gap_threshold`` [0.10],
    ``segment_min_positives`` [30] (an AUC gap is flagged only with this many positives and
    negatives in the segment).
Explanations and scores
    ``shap_sample_rows`` [5_000] (rows for global importance and the fit/engagement reference),
    ``top_k_factors`` [5], ``feature_labels`` [{}] (column -> human-readable label),
    ``fit_features`` [:data:`DEFAULT_FIT_FEATURES`] (firmographic / demographic columns; all
    other features are engagement),
    ``band_thresholds`` [None] -- explicit probability thresholds ``{'A': .., 'B': .., 'C': ..}``;
    None = derived at training time as ``band_lift_multiples`` x the base rate of the most recent
    labeled window (stored in the bundle), ``band_lift_multiples`` [{'A': 4, 'B': 2, 'C': 1}],
    ``confidence_segment_columns`` [None = the categorical fit features],
    ``confidence_min_segment_rows`` [200].
Rule-based fallback
    ``rules_min_labels_for_fit`` [10] -- with at least this many positives *and* negatives in the
    history passed to :func:`~.scoring.rule_based_scores`, points are mapped to a probability by a
    1-D logistic fit; otherwise by the fixed convention ``p = clip(points, 0, 100) / 100``.
    ``rules_confidence_cap`` [0.5] -- rule-based scores have at most this confidence.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DEFAULT_BAND_LIFT_MULTIPLES",
    "DEFAULT_BAND_THRESHOLDS",
    "DEFAULT_FIT_FEATURES",
    "DEFAULT_XGB_PARAMS",
    "EXTRA_MODELS",
    "MLConfig",
    "resolve_config",
]

DEFAULT_XGB_PARAMS: dict[str, Any] = {
    "objective": "binary:logistic",
    "tree_method": "hist",
    "max_depth": 4,
    "eta": 0.1,
    "min_child_weight": 5.0,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "lambda": 1.0,
    "alpha": 0.0,
    "max_bin": 256,
    "max_cat_to_onehot": 4,
    "max_cat_threshold": 64,
}
"""Native xgboost parameters; ``xgb_params`` in the config is merged over these."""

DEFAULT_BAND_LIFT_MULTIPLES: dict[str, float] = {"A": 4.0, "B": 2.0, "C": 1.0}
"""Bands relative to the base rate: A >= 4x the average lead, B >= 2x, C >= average, D below."""

DEFAULT_BAND_THRESHOLDS: dict[str, float] = {"A": 0.40, "B": 0.20, "C": 0.10}
"""Fixed probability bands = the lift multiples at a 10 % base rate; used when no base rate is
known (``score_band`` without thresholds, the rule fallback without history)."""

DEFAULT_FIT_FEATURES: tuple[str, ...] = (
    # columns of fct_lead_features that describe who the lead is (firmographic / demographic)
    "seniority_level",
    "seniority_rank",
    "company_size",
    "company_size_band",
    "company_size_ordinal",
    "seniority_x_company_size",
    "industry",
    "region",
    "country_code",
    "is_personal_email",
    "job_title",
    "tech_stack",
    "tech_stack_count",
    "has_salesforce",
    "has_hubspot",
    "has_marketo",
    "has_pardot",
)
"""Firmographic / demographic columns (who the lead is); every other feature is engagement."""

EXTRA_MODELS: tuple[str, ...] = ("decision_tree", "random_forest", "mlp")


@dataclass(frozen=True)
class MLConfig:
    """Resolved configuration; see the module docstring for the meaning of each key."""

    horizon_days: int = 30
    cv_folds: int = 3
    cv_valid_share: float = 0.35
    cv_min_train_positives: int = 20
    cv_min_valid_positives: int = 10
    min_positive_labels: int = 40
    impute_censored_labels: bool = True
    include_features: tuple[str, ...] | None = None
    exclude_features: tuple[str, ...] = ()
    max_category_levels: int = 100
    train_max_rows: int | None = 400_000
    cv_max_train_rows: int | None = 100_000
    cv_max_valid_rows: int | None = 60_000
    timing_max_rows: int | None = 80_000
    distributed_training: bool = False
    leakage_auc_threshold: float = 0.98
    leakage_corr_threshold: float = 0.95
    leakage_sample_rows: int = 50_000
    xgb_params: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_XGB_PARAMS))
    xgb_candidates: tuple[dict[str, Any], ...] | None = None
    recency_half_life_days: tuple[float | None, ...] | None = None
    num_boost_round: int = 600
    early_stopping_rounds: int = 30
    seed: int = 42
    nthread: int = 2
    lr_c: float = 1.0
    baseline_max_train_rows: int = 100_000
    extra_models: tuple[str, ...] = ()
    lr_max_rows: int = 40_000
    blend_weights: tuple[float, ...] = (0.75, 0.5)
    calibration_selection: str = "cv"
    calibration_cv_folds: int = 5
    ece_bins: int = 10
    lift_fractions: tuple[float, ...] = (0.1, 0.2, 0.3)
    margin_bootstrap_draws: int = 100
    margin_ci_level: float = 0.9
    segment_columns: tuple[str, ...] | None = None
    segment_min_rows: int = 100
    segment_gap_threshold: float = 0.05
    segment_auc_gap_threshold: float = 0.10
    segment_min_positives: int = 30
    shap_sample_rows: int = 5_000
    top_k_factors: int = 5
    feature_labels: dict[str, str] = field(default_factory=dict)
    fit_features: tuple[str, ...] = DEFAULT_FIT_FEATURES
    band_thresholds: dict[str, float] | None = None
    band_lift_multiples: dict[str, float] = field(
        default_factory=lambda: dict(DEFAULT_BAND_LIFT_MULTIPLES)
    )
    confidence_segment_columns: tuple[str, ...] | None = None
    confidence_min_segment_rows: int = 200
    rules_min_labels_for_fit: int = 10
    rules_confidence_cap: float = 0.5

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict (tuples become lists); ``resolve_config(c.to_dict()) == c``."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out


_TUPLE_KEYS = {
    "xgb_candidates",
    "recency_half_life_days",
    "blend_weights",
    "include_features",
    "exclude_features",
    "extra_models",
    "lift_fractions",
    "segment_columns",
    "fit_features",
    "confidence_segment_columns",
}
_MERGED_KEYS = {"xgb_params", "band_lift_multiples", "feature_labels"}


def resolve_config(config: Mapping[str, Any] | MLConfig | None = None) -> MLConfig:
    """Merge a plain dict over the defaults and validate it.

    Raises ``ValueError`` for an unknown key or an invalid value.
    """
    if isinstance(config, MLConfig):
        return config
    config = dict(config or {})
    known = {f.name for f in dataclasses.fields(MLConfig)}
    unknown = sorted(set(config) - known)
    if unknown:
        raise ValueError(f"unknown ML config key(s): {', '.join(unknown)}")
    defaults = MLConfig()
    values: dict[str, Any] = {}
    for key, value in config.items():
        if key in _MERGED_KEYS:
            merged = dict(getattr(defaults, key))
            merged.update(dict(value or {}))
            value = merged
        elif key == "band_thresholds" and value is not None:
            value = {str(k): float(v) for k, v in dict(value).items()}
        elif key in _TUPLE_KEYS and value is not None:
            value = (value,) if isinstance(value, str) else tuple(value)
        values[key] = value
    resolved = dataclasses.replace(defaults, **values)
    _validate(resolved)
    return resolved


def _validate(c: MLConfig) -> None:
    if c.horizon_days < 1:
        raise ValueError("horizon_days must be >= 1")
    if c.cv_folds < 1:
        raise ValueError("cv_folds must be >= 1")
    if not 0 < c.cv_valid_share < 1:
        raise ValueError("cv_valid_share must be in (0, 1)")
    if c.min_positive_labels < 1:
        raise ValueError("min_positive_labels must be >= 1")
    for key in ("train_max_rows", "cv_max_train_rows", "cv_max_valid_rows"):
        value = getattr(c, key)
        if value is not None and value < 1000:
            raise ValueError(f"{key} must be null or >= 1000, got {value}")
    if c.recency_half_life_days is not None and any(
        h is not None and float(h) <= 0 for h in c.recency_half_life_days
    ):
        raise ValueError("recency_half_life_days must be positive (or null for no decay)")
    if any(not 0 < w < 1 for w in c.blend_weights):
        raise ValueError("blend_weights must be XGBoost shares in (0, 1)")
    if c.xgb_candidates is not None and (
        not c.xgb_candidates or any(not isinstance(o, Mapping) for o in c.xgb_candidates)
    ):
        raise ValueError("xgb_candidates must be null or a list of xgb_params overrides")
    bad = sorted(set(c.extra_models) - set(EXTRA_MODELS))
    if bad:
        raise ValueError(f"unknown extra_models {bad}; choose from {list(EXTRA_MODELS)}")
    if c.calibration_selection not in ("cv", "in_sample"):
        raise ValueError("calibration_selection must be 'cv' or 'in_sample'")
    if c.calibration_cv_folds < 2:
        raise ValueError("calibration_cv_folds must be >= 2")
    bands = c.band_thresholds
    if bands is not None and (
        set(bands) != {"A", "B", "C"} or not (1 >= bands["A"] >= bands["B"] >= bands["C"] >= 0)
    ):
        raise ValueError("band_thresholds must be {A, B, C} with 1 >= A >= B >= C >= 0")
    mult = c.band_lift_multiples
    if set(mult) != {"A", "B", "C"} or not (mult["A"] >= mult["B"] >= mult["C"] > 0):
        raise ValueError("band_lift_multiples must be {A, B, C} with A >= B >= C > 0")
    if c.top_k_factors < 1:
        raise ValueError("top_k_factors must be >= 1")
    if c.margin_bootstrap_draws < 0 or not 0 < c.margin_ci_level < 1:
        raise ValueError("margin_bootstrap_draws must be >= 0 and margin_ci_level in (0, 1)")
    if c.ece_bins < 1:
        raise ValueError("ece_bins must be >= 1")
