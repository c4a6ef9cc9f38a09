"""Reliability diagram of each model on the test split: equal-width probability bins.

Thin: unpacks the JSON column ``calibration_bins_table_json`` of the latest row of ml_models
(by trained_at), written by the same training run (see ml_models). Empty when ml_models holds the
rule-based fallback.
"""

import io

import pandas as pd


def model(dbt, session):
    registry = dbt.ref("ml_models").df()
    latest = registry.sort_values("trained_at", ascending=False).iloc[0]
    table = pd.read_json(io.StringIO(latest["calibration_bins_table_json"]), orient="table")
    return table
