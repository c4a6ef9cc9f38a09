"""Model registry: train, cross-validate, calibrate and evaluate the lead-conversion model, or
keep scoring with the registered one (var ``ml_retrain``). Incremental (append): a row only when
the model to score with changes; the latest row by trained_at is the active model.

Thin: the body is ``lead_scoring.ml.build.registry_rows`` (tested with pytest); the settings come
from the ``ml`` dict of this model's YAML ``config:`` (keys of ``MLConfig``).
"""

from lead_scoring.ml.build import health_checks, registry_rows
from lead_scoring.warehouse import relation_to_pandas


def model(dbt, session):
    dbt.config(materialized="incremental", incremental_strategy="append")
    registry = health = None
    if dbt.is_incremental:
        registry = relation_to_pandas(session.sql(f"select * from {dbt.this}"))
        health = health_checks(session, dbt.this.schema)
    return registry_rows(
        dbt.ref("fct_lead_features"),
        relation_to_pandas(dbt.ref("lead_scoring_rules")),
        dbt.config.get("ml"),
        registry,
        health,
        dbt.config.get("retrain", "auto"),
        dbt.config.get("retrain_every_days", 7),
    )
