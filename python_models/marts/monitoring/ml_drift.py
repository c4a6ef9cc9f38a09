"""Drift of the current scoring run against the recent labeled history of the model that scores
it, like for like (the reference re-weighted to the open leads' age mix, PSI / KS / chi-square
per feature and for the score, Benjamini-Hochberg over all rows, time-growing features out of
the verdict). Empty for the rule-based fallback.

Thin: the body is ``lead_scoring.monitoring.build.drift_rows`` (tested with pytest).
"""

from lead_scoring.monitoring.build import drift_rows
from lead_scoring.warehouse import relation_to_pandas


def model(dbt, session):
    dbt.config(materialized="table")
    # one literal dbt.config.get per key: dbt finds the config a Python model reads by parsing it
    settings = {
        "psi_moderate": dbt.config.get("psi_moderate"),
        "psi_major": dbt.config.get("psi_major"),
        "fdr": dbt.config.get("fdr"),
        "time_growing_features": dbt.config.get("time_growing_features"),
        "reference_days": dbt.config.get("reference_days"),
        "age_bins": dbt.config.get("age_bins"),
        "weight_cap": dbt.config.get("weight_cap"),
        "max_reference_rows": dbt.config.get("max_reference_rows"),
        "max_current_rows": dbt.config.get("max_current_rows"),
    }
    return drift_rows(
        dbt.ref("fct_lead_features"),
        relation_to_pandas(dbt.ref("ml_models")),
        settings,
        dbt.config.get("model_version"),  # the version ml_scores scores with
    )
