"""Drift of the scored population against the active model's test split.

Thin: reference = the labeled snapshots of fct_lead_features in the model's test window
(ml_models.test_start .. test_end), current = the scoring snapshots; the reference is scored with
the registered booster and calibrator (no retraining) and compared with ml_scores' probabilities.
``lead_scoring.monitoring.drift_table`` computes PSI and KS (tested with pytest). The thresholds
come from vars drift_psi_moderate / drift_psi_major. With the rule-based fallback there is no
test split and no registered booster: the table is empty (and says so in the log).
"""

import logging

import pandas as pd

from lead_scoring.ml.registry import deserialize_bundle
from lead_scoring.ml.scoring import score
from lead_scoring.monitoring import DRIFT_COLUMNS, drift_table
from lead_scoring.warehouse import relation_to_pandas

logger = logging.getLogger("lead_scoring.ml_drift")


def _empty() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="float64") for c in DRIFT_COLUMNS})
    for c in ("drift_scope", "feature", "drift_level"):
        frame[c] = frame[c].astype("string")
    for c in ("reference_rows", "current_rows"):
        frame[c] = frame[c].astype("int64")
    frame.insert(0, "scored_at", pd.Series(dtype="datetime64[us]"))
    frame.insert(0, "model_version", pd.Series(dtype="string"))
    return frame


def model(dbt, session):
    dbt.config(materialized="table")
    moderate = float(dbt.config.get("psi_moderate"))
    major = float(dbt.config.get("psi_major"))
    scores = dbt.ref("ml_scores").df()
    registry = dbt.ref("ml_models").df().sort_values("trained_at", ascending=False)
    active = registry.iloc[0].to_dict()
    scored_version = scores["model_version"].iloc[0] if len(scores) else None
    chosen = registry[registry["model_version"] == scored_version]
    row = chosen.iloc[0].to_dict() if len(chosen) else active
    if row["model_name"] != "xgboost" or not len(scores):
        print("ml_drift: no trained model behind the scores (rule-based fallback): no drift rows")
        return _empty()
    bundle = deserialize_bundle(row)
    start, end = pd.Timestamp(row["test_start"]), pd.Timestamp(row["test_end"])
    mart = dbt.ref("fct_lead_features")
    reference = relation_to_pandas(
        mart.filter(
            "label_converted_in_horizon is not null and not is_scoring_snapshot "
            f"and snapshot_at >= timestamp '{start}' and snapshot_at <= timestamp '{end}'"
        )
    )
    current = relation_to_pandas(mart.filter("is_scoring_snapshot"))
    current = current.merge(scores[["lead_id", "conversion_probability"]], on="lead_id")
    table = drift_table(
        reference,
        current,
        features=list(bundle.spec.columns),
        categorical=list(bundle.spec.categorical),
        reference_scores=score(bundle, reference),
        current_scores=current["conversion_probability"],
        moderate=moderate,
        major=major,
    )
    table.insert(0, "scored_at", pd.to_datetime(scores["scored_at"]).max())
    table.insert(0, "model_version", row["model_version"])
    for c in ("model_version", "drift_scope", "feature", "drift_level"):
        table[c] = table[c].astype("string")
    return table
