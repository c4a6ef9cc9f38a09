"""The ML core of lead scoring: plain, typed, tested functions over pandas DataFrames.

The dbt Python models are thin wrappers over these functions. Input is the mart
``fct_lead_features`` (one row per lead x ``snapshot_at``); see :mod:`.dataset` for the column
rules. Modules:

* :mod:`.config` -- every config key and its default (:class:`MLConfig`, :func:`resolve_config`).
* :mod:`.dataset` -- feature selection, categorical levels, purged time split, leakage trap.
* :mod:`.models` -- XGBoost (early stopping, deterministic) and the sklearn baselines.
* :mod:`.rules` -- the rule-based points model from the seed table.
* :mod:`.calibration` -- Platt and isotonic calibrators on the booster margin.
* :mod:`.metrics` -- AUC, PR-AUC, log loss, Brier, ECE, lift, calibration bins, segments, F1.
* :mod:`.explain` -- exact SHAP contributions, global importance, top factors per row.
* :mod:`.registry` -- the model bundle, its version hash and its (de)serialisation.
* :mod:`.scoring` -- probability, lead score, bands, fit/engagement, confidence, fallback.
* :mod:`.pipeline` -- :func:`train_and_evaluate` (the training run, step by step); its steps
  live in :mod:`.selection` (cross-validate or the default procedure), :mod:`.holdout` (honest
  test metrics and tables), :mod:`.evaluation` (metric rows, cross-validated metrics),
  :mod:`.production` (the production fit, its calibration and explanations), :mod:`.timing`
  (the extra horizons) and :mod:`.splits` (split boundaries).
* :mod:`.tables` -- the evaluation tables of a run, packed into ``ml_models`` and unpacked.
"""

from lead_scoring.ml.config import MLConfig, resolve_config
from lead_scoring.ml.errors import InsufficientHistoryError, LeakageError
from lead_scoring.ml.pipeline import TrainingResult, train_and_evaluate
from lead_scoring.ml.registry import ModelBundle, deserialize_bundle, serialize_bundle
from lead_scoring.ml.scoring import rule_based_scores, score, score_open_leads

__all__ = [
    "InsufficientHistoryError",
    "LeakageError",
    "MLConfig",
    "ModelBundle",
    "TrainingResult",
    "deserialize_bundle",
    "resolve_config",
    "rule_based_scores",
    "score",
    "score_open_leads",
    "serialize_bundle",
    "train_and_evaluate",
]
