"""The rolling-origin folds of the active model: each validation window (the newest used one is
the test fold) with the purge cutoff of its training rows and its counts, and the production fit.

Thin: unpacks the JSON column ``split_boundaries_table_json`` of the latest row of ml_models
(by trained_at), written by the same training run (see ml_models). Empty when ml_models holds the
rule-based fallback.
"""

import io

import pandas as pd


def model(dbt, session):
    registry = dbt.ref("ml_models").df()
    latest = registry.sort_values("trained_at", ascending=False).iloc[0]
    return pd.read_json(io.StringIO(latest["split_boundaries_table_json"]), orient="table")
