"""Scores of the leads open at the scoring date, from the active ml_models row (latest by
trained_at) or the registered version named by var ``ml_model_version``.

Thin: the body is ``lead_scoring.ml.build.open_lead_scores`` (tested with pytest): calibrated
probability, the 7 / 30 / 90-day probabilities, top factors, plain-words reasons for and
against (config ``reasons_per_side``), the base rate of the bands, fit / engagement sub-scores
and confidence; the rule fallback's points mapped to probabilities on the labeled history.
"""

from lead_scoring.ml.build import open_lead_scores
from lead_scoring.warehouse import relation_to_pandas


def model(dbt, session):
    dbt.config(materialized="table")
    return open_lead_scores(
        dbt.ref("fct_lead_features"),
        relation_to_pandas(dbt.ref("ml_models")),
        relation_to_pandas(dbt.ref("lead_scoring_rules")),
        dbt.config.get("model_version"),
        dbt.config.get("reasons_per_side"),
    )
