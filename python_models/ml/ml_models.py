"""Model registry: train, calibrate and evaluate the lead-conversion model once per build.

Incremental (append): a build appends its row when its model_version differs from the latest
row's, so the registry keeps every version that was ever active and an old one can be re-applied
(var ``ml_model_version``); the latest row by trained_at is the active model.

Thin: the work is ``lead_scoring.ml.pipeline.train_and_evaluate`` (tested with pytest); the
settings come from the ``ml`` dict of this model's YAML ``config:`` (keys of ``MLConfig``).
Returns one registry row (booster and calibrator blobs + metadata). A dbt Python model returns a
single frame, so the evaluation tables of the same run ride along as JSON columns
(``*_table_json``, pandas ``orient='table'``, which keeps the dtypes) and are unpacked by the tiny
models ml_model_metrics, ml_calibration_bins, ml_lift_by_decile, ml_feature_importance,
ml_segment_metrics and ml_confusion_matrix -- the model is trained once.

Too little labeled history (``InsufficientHistoryError``): logs why and writes a fallback row for
the rule-based points model (model_name ``rule_points``, model_version ``rules-<hash>``, no blobs,
empty evaluation tables) so that ml_scores scores with the rule seed and everything downstream
still builds.
"""

import ast
import json
import logging

import pandas as pd

from lead_scoring.ml.errors import InsufficientHistoryError
from lead_scoring.ml.pipeline import train_and_evaluate
from lead_scoring.ml.registry import REGISTRY_COLUMNS
from lead_scoring.ml.scoring import rule_based_scores
from lead_scoring.warehouse import relation_to_pandas

logger = logging.getLogger("lead_scoring.ml_models")

INT_KEYS = (
    "horizon_days",
    "min_positive_labels",
    "seed",
    "nthread",
    "top_k_factors",
    "train_max_rows",
    "early_stopping_max_rows",
    "baseline_max_train_rows",
    "segment_min_positives",
)

# evaluation table -> (TrainingResult attribute, columns and dtypes of an empty table)
_S, _F, _I, _B = "string", "float64", "int64", "bool"
TABLES = {
    "metrics_table_json": (
        "metrics",
        {"model_version": _S, "model_name": _S, "split": _S, "metric": _S, "value": _F},
    ),
    "calibration_bins_table_json": (
        "calibration_bins",
        {
            "model_version": _S,
            "model_name": _S,
            "split": _S,
            "bin": _I,
            "bin_lower": _F,
            "bin_upper": _F,
            "mean_predicted": _F,
            "observed_rate": _F,
            "count": _I,
            "n_positives": _I,
        },
    ),
    "lift_table_json": (
        "lift",
        {
            "model_version": _S,
            "model_name": _S,
            "split": _S,
            "decile": _I,
            "n_rows": _I,
            "n_positives": _I,
            "conversion_rate": _F,
            "lift": _F,
            "min_probability": _F,
            "max_probability": _F,
            "mean_probability": _F,
            "cumulative_rows": _I,
            "cumulative_positives": _I,
            "cumulative_conversion_rate": _F,
            "cumulative_lift": _F,
            "cumulative_recall": _F,
        },
    ),
    "feature_importance_table_json": (
        "feature_importance",
        {
            "model_version": _S,
            "feature": _S,
            "feature_label": _S,
            "mean_abs_shap": _F,
            "share": _F,
            "rank": _I,
            "gain": _F,
        },
    ),
    "segment_metrics_table_json": (
        "segment_metrics",
        {
            "model_version": _S,
            "model_name": _S,
            "split": _S,
            "segment_column": _S,
            "segment_value": _S,
            "n_rows": _I,
            "n_positives": _I,
            "positive_rate": _F,
            "mean_predicted": _F,
            "calibration_gap": _F,
            "auc": _F,
            "overall_auc": _F,
            "auc_gap": _F,
            "is_flagged": _B,
            "flag_reason": _S,
        },
    ),
    "split_boundaries_table_json": (
        "split_boundaries",
        {
            "model_version": _S,
            "split": _S,
            "start": "datetime64[ns]",
            "end": "datetime64[ns]",
            "end_inclusive": _B,
            "purge_cutoff": "datetime64[ns]",
            "n_rows": _I,
            "n_positives": _I,
            "positive_rate": _F,
            "n_purged": _I,
            "horizon_days": _I,
            "n_rows_trained": _I,
            "negative_sample_rate": _F,
        },
    ),
    "confusion_table_json": (
        "confusion",
        {
            "model_version": _S,
            "model_name": _S,
            "split": _S,
            "threshold": _F,
            "tp": _I,
            "fp": _I,
            "tn": _I,
            "fn": _I,
            "precision": _F,
            "recall": _F,
            "f1": _F,
        },
    ),
}


def _to_json(frame: pd.DataFrame) -> str:
    return frame.reset_index(drop=True).to_json(orient="table", index=False, date_format="iso")


def _empty(dtypes: dict) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in dtypes.items()})


def _ml_config(raw: dict | None) -> dict:
    config = dict(raw or {})
    for key in INT_KEYS:  # values rendered from a dbt var in YAML arrive as strings
        if key in config and config[key] is not None:
            config[key] = int(config[key])
    extra = config.get("extra_models")
    if isinstance(extra, str):  # var ml_extra_models rendered into YAML: "['mlp']" or "mlp,tree"
        text = extra.strip()
        parsed = ast.literal_eval(text) if text.startswith(("[", "(")) else text.split(",")
        config["extra_models"] = [str(m).strip() for m in parsed if str(m).strip()]
    return config


def _is_active(session, this, version: str) -> bool:
    """True when the registry's latest row (by trained_at) already is ``version``."""
    latest = session.sql(
        f"select model_version from {this} order by trained_at desc limit 1"
    ).df()
    return len(latest) == 1 and latest["model_version"].iloc[0] == version


def _fallback_row(features, rules, config, trained_at, reason) -> pd.DataFrame:
    labeled = features[features["label_converted_in_horizon"].notna()]
    scores = rule_based_scores(features, rules, config, history=labeled)
    version = str(scores["model_version"].iloc[0]) if len(scores) else "rules-unscored"
    row = {c: None for c in REGISTRY_COLUMNS}
    row.update(
        model_version=version,
        model_name="rule_points",
        trained_at=trained_at,
        horizon_days=int(config.get("horizon_days", 30)),
        n_train_rows=len(labeled),
        n_train_positives=int(labeled["label_converted_in_horizon"].sum()),
        params_json=json.dumps(config, sort_keys=True, default=str),
        metadata_json=json.dumps({"fallback_reason": reason}),
    )
    frame = pd.DataFrame([row])
    for c in REGISTRY_COLUMNS:
        if c.endswith(("_start", "_end")) or c == "trained_at":
            frame[c] = pd.to_datetime(frame[c])
        elif c in ("horizon_days", "n_train_rows", "n_train_positives", "best_iteration"):
            frame[c] = frame[c].astype("Int64")
        elif not c.endswith("_blob"):
            frame[c] = frame[c].astype("string")
    for column, (_, dtypes) in TABLES.items():
        frame[column] = _to_json(_empty(dtypes))
    return frame


def model(dbt, session):
    dbt.config(materialized="incremental", incremental_strategy="append")
    mart = dbt.ref("fct_lead_features")
    # only the labeled snapshots train and evaluate, filtered in DuckDB and moved through Arrow
    # (lean); their order does not matter: the pipeline orders each split by (snapshot_at,
    # lead_id) itself, so the model and its version do not depend on DuckDB's parallel scan
    labeled = relation_to_pandas(
        mart.filter("label_converted_in_horizon is not null and not is_scoring_snapshot")
    )
    rules = dbt.ref("lead_scoring_rules").df()
    config = _ml_config(dbt.config.get("ml"))
    trained_at = pd.Timestamp.now(tz="UTC").tz_localize(None).floor("s")
    try:
        result = train_and_evaluate(labeled, config, rules=rules, trained_at=trained_at)
    except InsufficientHistoryError as exc:
        reason = str(exc)
        logger.warning(
            "ml_models: not enough labeled history to train (%s); "
            "writing the rule-based fallback registry row",
            reason,
        )
        print(f"ml_models: InsufficientHistoryError: {reason} -- using the rule-based fallback")
        del labeled
        registry = _fallback_row(relation_to_pandas(mart), rules, config, trained_at, reason)
    else:
        registry = result.registry.copy()
        for column, (attribute, _) in TABLES.items():
            registry[column] = _to_json(getattr(result, attribute))
    if dbt.is_incremental and _is_active(session, dbt.this, registry["model_version"].iloc[0]):
        return registry.iloc[0:0]  # same data, config and code: the active row stays as it is
    return registry
