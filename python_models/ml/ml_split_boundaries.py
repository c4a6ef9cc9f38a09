"""The time split of the active model: start and end of train, valid, calib and test, the purge
cutoff, and the rows, positives and purged rows of each split.

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
