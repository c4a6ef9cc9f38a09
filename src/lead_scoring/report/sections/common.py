"""What the sections share: the active model, its rows of a table, the optional tables."""

from __future__ import annotations

import json

import pandas as pd
from markupsafe import Markup

from lead_scoring.report.formatting import is_missing, pick
from lead_scoring.report.load import ReportError, Warehouse
from lead_scoring.report.rendering import not_available

# why an optional table can be absent or empty, in the words of the "not available" note
WHY_MISSING = {
    "ml_drift": "drift compares the scores and features of a scoring run with their "
    "reference distribution; it appears once the monitoring models are part of the build",
    "ml_backtest": "a backtest needs a scored cohort whose prediction horizon has passed, so "
    "that its outcomes are known; none has matured yet on a first run",
    "ml_model_health": "the health check compares a matured backtest cohort and the drift of "
    "the latest scoring run with the registered model; none is available yet",
    "fct_channel_mix_performance": "the channel mixes are judged on scored cohorts whose "
    "prediction horizon has passed, so that their outcomes are known; none has matured yet",
    "ml_experiment_results": "no experiment running: set var experiment_rules_share (e.g. "
    "--vars '{experiment_rules_share: 0.5}') to rank that share of the open leads by the rule "
    "points; the results appear once the first scoring run of the experiment has matured (one "
    "prediction horizon later)",
}
# the columns that say when a monitoring row was computed, by preference
WHEN_COLUMNS = ("scored_at", "scoring_date", "computed_at", "checked_at")


def active_model(wh: Warehouse) -> pd.Series:
    """The active registry row: the loader sorts ml_models with ``ml.registry.latest_first``."""
    registry = wh.get("ml_models")
    if registry is None or registry.empty:
        raise ReportError(f"main.ml_models in {wh.path} is empty: run dbt build first")
    return registry.iloc[0]


def for_version(frame: pd.DataFrame | None, version: str) -> pd.DataFrame:
    """The rows of ``version`` (all rows of a table without model_version; empty for None)."""
    if frame is None:
        return pd.DataFrame()
    if "model_version" in frame.columns:
        return frame[frame["model_version"].astype("string") == version].reset_index(drop=True)
    return frame


def metadata(model: pd.Series) -> dict:
    """The registry row's metadata_json as a dict ({} when absent or not an object)."""
    raw = model.get("metadata_json")
    if is_missing(raw):
        return {}
    try:
        parsed = json.loads(str(raw))
    except json.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def empty_eval_reason(model: pd.Series) -> str:
    """Why an evaluation table has no rows for the active model."""
    if model["model_name"] == "rule_points":
        return "the rule-based fallback has no evaluation tables (no test split was scored)"
    return "the evaluation table holds no rows for this model version"


def optional(wh: Warehouse, table: str) -> tuple[pd.DataFrame | None, Markup]:
    """An optional table with rows, or None and the note saying why it is absent or empty."""
    frame = wh.get(table)
    if frame is None:
        return None, not_available(
            f"table main.{table} is not in this warehouse ({WHY_MISSING[table]})."
        )
    if frame.empty:
        return None, not_available(f"main.{table} is empty: {WHY_MISSING[table]}.")
    return frame, Markup("")


def latest(frame: pd.DataFrame) -> tuple[pd.DataFrame, object]:
    """The rows of the latest run (by the first of :data:`WHEN_COLUMNS` present) and its time;
    all rows and None without such a column."""
    when = pick(frame, *WHEN_COLUMNS)
    if when is None:
        return frame, None
    stamp = frame[when].max()
    return frame[frame[when] == stamp], stamp
