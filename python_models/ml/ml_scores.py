"""Scores of the leads open at the scoring date, from the latest ml_models row (by trained_at),
or from the registered version named by var ``ml_model_version`` (re-applying an old model
without retraining; an unknown version stops the build with the list of registered ones).

Thin: a trained row -> ``deserialize_bundle`` -> ``score_open_leads`` (calibrated XGBoost
probability, the 7 / 30 / 90-day probabilities, SHAP top factors, fit / engagement sub-scores,
confidence); the rule-based fallback
row (model_name ``rule_points``) -> ``rule_based_scores`` with the rule seed, its points mapped to
a probability by a logistic fit on the labeled history. Only the scoring snapshots
(``is_scoring_snapshot``) of fct_lead_features are scored: one row per open lead.
"""

import json

import pandas as pd

from lead_scoring.ml.registry import deserialize_bundle
from lead_scoring.ml.scoring import SCORE_COLUMNS as COLUMNS
from lead_scoring.ml.scoring import rule_based_scores, score_open_leads
from lead_scoring.warehouse import relation_to_pandas


def _chosen_model(registry: pd.DataFrame, pinned) -> dict:
    registry = registry.sort_values("trained_at", ascending=False)
    if pinned in (None, "", "None", "null"):
        return registry.iloc[0].to_dict()
    match = registry[registry["model_version"] == str(pinned)]
    if match.empty:
        known = ", ".join(dict.fromkeys(registry["model_version"].astype(str)))
        raise ValueError(
            f"var ml_model_version={pinned!r} is not in ml_models; registered versions: {known}"
        )
    return match.iloc[0].to_dict()


def model(dbt, session):
    dbt.config(materialized="table")
    registry = dbt.ref("ml_models").df()
    latest = _chosen_model(registry, dbt.config.get("model_version"))
    mart = dbt.ref("fct_lead_features")
    if latest["model_name"] == "rule_points":
        # the rule fallback maps points to probabilities on the history: the whole mart
        features = relation_to_pandas(mart)
        rules = dbt.ref("lead_scoring_rules").df()
        labeled = features[features["label_converted_in_horizon"].notna()]
        config = json.loads(latest["params_json"] or "{}")  # the ml config of the fallback run
        scores = rule_based_scores(features, rules, config, history=labeled)
        # the registry row is the source of truth (the mapping hash can differ in the last bits)
        scores["model_version"] = latest["model_version"]
    else:
        # only the scoring snapshots leave DuckDB (one row per open lead, not the whole grid)
        features = relation_to_pandas(mart.filter("is_scoring_snapshot"))
        scores = score_open_leads(deserialize_bundle(latest), features)
    scores = scores[COLUMNS].copy()
    scores["scored_at"] = pd.to_datetime(scores["scored_at"])
    for c in (
        "conversion_probability",
        "conversion_probability_7d",
        "conversion_probability_30d",
        "conversion_probability_90d",
        "score_confidence",
    ):
        scores[c] = scores[c].astype("float64")
    for c in ("lead_score", "fit_score", "engagement_score"):
        scores[c] = scores[c].astype("Int64")
    for c in ("lead_id", "score_band", "top_factors", "top_factors_json", "model_version"):
        scores[c] = scores[c].astype("string")
    return scores
