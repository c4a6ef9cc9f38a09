"""Configuration of the ML pipeline: every key, its default and its meaning, in one place.

The configuration is a plain ``dict`` (it comes from the ``config:`` block of a dbt Python model)
resolved into :class:`MLConfig` by :func:`resolve_config`. Unknown keys raise ``ValueError`` so a
typo in YAML does not silently fall back to a default. Nested dicts (``xgb_params``,
``band_lift_multiples``, ``feature_labels``) are *merged* over their defaults.

Keys (defaults in brackets)
---------------------------
Data and split
    ``horizon_days`` [30] -- label = converted within N days of ``snapshot_at``; also the purge gap.
    ``split_fractions`` [(0.6, 0.15, 0.1, 0.15)] -- train / validation / calibration / test, as
    time quantiles of the labeled rows' ``snapshot_at``.
    ``purge`` ['train'] -- drop the rows whose label window ``[snapshot_at, snapshot_at +
    horizon_days]`` reaches past the start of the next split: 'train' (train rows only, the
    leakage that matters), 'all' (every boundary) or 'none' (see :func:`~.dataset.time_split`).
    ``include_features`` [None] -- explicit feature list (None = every non-reserved column).
    ``exclude_features`` [()] -- columns never used as features.
    ``max_category_levels`` [100] -- most frequent training levels kept per categorical; the rest
    (and any value unseen in training) become missing.
    ``train_max_rows`` [300_000] -- a larger train split keeps every positive and a seeded,
    re-weighted sample of its negatives (:func:`~.dataset.downsample_negatives`); the same rows
    train XGBoost and the baselines. None = no cap.
    ``early_stopping_max_rows`` [200_000] -- the same cap for the validation rows that early
    stopping evaluates every round (the validation metrics use every row).
    ``min_positive_labels`` [50] -- fewer positives in the train split raises
    :class:`~.errors.InsufficientHistoryError`.
Leakage trap
    ``leakage_auc_threshold`` [0.98], ``leakage_corr_threshold`` [0.95],
    ``leakage_sample_rows`` [100_000] (rows sampled from the train split for the check).
XGBoost
    ``xgb_params`` -- merged over :data:`DEFAULT_XGB_PARAMS` (native xgboost parameter names).
    ``xgb_candidates`` [({'max_depth': 4}, {'max_depth': 5})] -- overrides of ``xgb_params``, one
    booster each; the lowest early-stopping score on the validation split wins (shallow trees
    won on 100k leads, deeper ones on the 2,500-lead sample); () = ``xgb_params`` alone.
    ``num_boost_round`` [1000], ``early_stopping_rounds`` [30], ``eval_metric`` ['logloss' or
    'auc'], ``scale_pos_weight`` [1.0; 'auto' = negatives / positives of the train split],
    ``seed`` [42], ``nthread`` [2].
Baselines
    ``lr_c`` [1.0] (inverse L2 strength), ``lr_class_weight`` [None or 'balanced'],
    ``baseline_max_train_rows`` [150_000] (train rows sampled, seeded, for the sklearn baselines),
    ``extra_models`` [()] -- any of 'decision_tree', 'random_forest', 'mlp'.
Calibration
    ``calibration_selection`` ['cv'] -- 'cv' (K-fold log loss inside the calibration split) or
    'in_sample'; ``calibration_cv_folds`` [5].
Metrics
    ``ece_bins`` [10] (equal width), ``lift_fractions`` [(0.1, 0.2, 0.3)],
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
    None = derived at training time as ``band_lift_multiples`` x the base rate of the calibration
    split (stored in the bundle), ``band_lift_multiples`` [{'A': 4, 'B': 2, 'C': 1}],
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
    split_fractions: tuple[float, float, float, float] = (0.6, 0.15, 0.1, 0.15)
    purge: str = "train"
    include_features: tuple[str, ...] | None = None
    exclude_features: tuple[str, ...] = ()
    max_category_levels: int = 100
    train_max_rows: int | None = 300_000
    early_stopping_max_rows: int | None = 200_000
    min_positive_labels: int = 50
    leakage_auc_threshold: float = 0.98
    leakage_corr_threshold: float = 0.95
    leakage_sample_rows: int = 100_000
    xgb_params: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_XGB_PARAMS))
    xgb_candidates: tuple[dict[str, Any], ...] = ({"max_depth": 4}, {"max_depth": 5})
    num_boost_round: int = 1000
    early_stopping_rounds: int = 30
    eval_metric: str = "logloss"
    scale_pos_weight: float | str = 1.0
    seed: int = 42
    nthread: int = 2
    lr_c: float = 1.0
    lr_class_weight: str | None = None
    baseline_max_train_rows: int = 150_000
    extra_models: tuple[str, ...] = ()
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
    "split_fractions",
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
    if len(c.split_fractions) != 4 or any(f <= 0 for f in c.split_fractions):
        raise ValueError("split_fractions must be four positive numbers (train/valid/calib/test)")
    if abs(sum(c.split_fractions) - 1.0) > 1e-6:
        raise ValueError(f"split_fractions must sum to 1, got {sum(c.split_fractions)}")
    if c.purge not in ("train", "all", "none"):
        raise ValueError("purge must be 'train', 'all' or 'none'")
    if c.horizon_days < 0:
        raise ValueError("horizon_days must be >= 0")
    if any(not isinstance(o, Mapping) for o in c.xgb_candidates):
        raise ValueError("xgb_candidates must be a list of xgb_params overrides (mappings)")
    if c.eval_metric not in ("logloss", "auc"):
        raise ValueError("eval_metric must be 'logloss' or 'auc'")
    spw = c.scale_pos_weight
    if isinstance(spw, str) and spw != "auto":
        raise ValueError("scale_pos_weight must be 'auto' or a positive number")
    if not isinstance(spw, str) and float(spw) <= 0:
        raise ValueError("scale_pos_weight must be 'auto' or a positive number")
    if c.lr_class_weight not in (None, "balanced"):
        raise ValueError("lr_class_weight must be null or 'balanced'")
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
