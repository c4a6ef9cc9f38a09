"""The warehouse tables of the report, read once through a read-only connection.

Required tables (:data:`REQUIRED_TABLES`) missing, or missing a column, stop the report with one
line naming the table; the optional monitoring tables (:data:`OPTIONAL_TABLES`) are ``None``
when absent. Only non-PII data leaves the warehouse: of ``scored_leads`` the score histogram,
the :data:`TOP_LEADS` top open leads (:data:`TOP_LEAD_COLUMNS`: no name, email or company) and
the lead count per experiment arm; of the CRM outbox the status counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from lead_scoring.ml.registry import latest_first
from lead_scoring.warehouse import open_warehouse

# table -> columns the report cannot do without (the build's output interface)
REQUIRED_TABLES: dict[str, tuple[str, ...]] = {
    "ml_models": ("model_version", "model_name", "trained_at"),
    "ml_model_metrics": ("model_version", "model_name", "split", "metric", "value"),
    "ml_calibration_bins": ("model_name", "mean_predicted", "observed_rate", "count"),
    "ml_lift_by_decile": ("model_name", "decile", "lift", "cumulative_recall"),
    "ml_feature_importance": ("feature", "mean_abs_shap"),
    "ml_segment_metrics": ("segment_column", "segment_value", "n_rows", "is_flagged"),
    "fct_channel_attribution": (
        "attribution_model",
        "channel",
        "attributed_conversions",
        "spend",
        "roas",
        "cost_per_conversion",
    ),
    "scored_leads": ("lead_score", "score_band", "conversion_probability", "model_version"),
}
OPTIONAL_TABLES = (
    "ml_drift",
    "ml_backtest",
    "ml_model_health",
    "ml_split_boundaries",
    "fct_channel_mix_performance",
    "ml_experiment_results",
)
TOP_LEADS = 20  # rows of the top open leads table
TOP_LEAD_COLUMNS = (
    "lead_id",
    "lead_priority",
    "score_band",
    "conversion_probability",
    "lift",
    "reasons_for",
    "reasons_against",
)


class ReportError(ValueError):
    """A warehouse the report cannot be built from (one line, shown without a traceback)."""


@dataclass
class Warehouse:
    """The frames the sections draw from, by table name (``None``: an optional table absent)."""

    path: Path
    tables: dict[str, pd.DataFrame | None] = field(default_factory=dict)

    def get(self, name: str) -> pd.DataFrame | None:
        return self.tables.get(name)


def load_warehouse(duckdb_path: Path) -> Warehouse:
    """Read the tables of the report (required ones must exist) from a read-only connection."""
    duckdb_path = Path(duckdb_path).resolve()
    con = open_warehouse(duckdb_path, error=ReportError, hint="run `make run` (dbt build) first")
    try:
        columns = _columns(con)
        check_required(columns, duckdb_path)
        return _read(con, columns, duckdb_path)
    except duckdb.Error as exc:
        raise ReportError(f"cannot read the warehouse {duckdb_path}: {exc}") from None
    finally:
        con.close()


def check_required(columns: dict[str, list[str]], duckdb_path: Path) -> None:
    """ReportError naming the first required table, or column, that ``columns`` lacks."""
    for table, needed in REQUIRED_TABLES.items():
        if table not in columns:
            raise ReportError(
                f"table main.{table} is missing from {duckdb_path}: run dbt build first"
            )
        absent = [c for c in needed if c not in columns[table]]
        if absent:
            raise ReportError(
                f"table main.{table} in {duckdb_path} has no column '{absent[0]}' "
                f"(found: {', '.join(columns[table])}): run dbt build first"
            )


def _read(
    con: duckdb.DuckDBPyConnection, columns: dict[str, list[str]], duckdb_path: Path
) -> Warehouse:
    wh = Warehouse(duckdb_path)
    registry_columns = [c for c in columns["ml_models"] if not c.endswith(("_blob", "_table_json"))]
    wh.tables["ml_models"] = latest_first(
        con.sql(f"select {', '.join(quote(c) for c in registry_columns)} from main.ml_models").df()
    ).reset_index(drop=True)
    for table in REQUIRED_TABLES:
        if table not in ("ml_models", "scored_leads"):
            wh.tables[table] = _whole(con, table)
    scored = columns["scored_leads"]
    wh.tables["score_histogram"] = _score_histogram(con, scored)
    wh.tables["top_leads"] = _top_leads(con, scored)
    wh.tables["experiment_arms"] = _experiment_arms(con, scored)
    for table in OPTIONAL_TABLES:
        wh.tables[table] = _whole(con, table) if table in columns else None
    wh.tables["crm_delivery"] = _crm_delivery(con)
    return wh


def _columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    rows = con.sql(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'main' order by table_name, ordinal_position"
    ).fetchall()
    found: dict[str, list[str]] = {}
    for table, column in rows:
        found.setdefault(table, []).append(column)
    return found


def _whole(con: duckdb.DuckDBPyConnection, table: str) -> pd.DataFrame:
    return con.sql(f"select * from main.{quote(table)}").df()


def _crm_delivery(con: duckdb.DuckDBPyConnection) -> pd.DataFrame | None:
    """The CRM outbox by where each lead stands now (the status of its latest payload; schema
    crm_sync, written by `lead-scoring sync-crm`; None when the sync never ran): leads,
    attempts, the first enqueue, the last delivery and the latest error."""
    present = con.sql(
        "select count(*) from information_schema.tables "
        "where table_schema = 'crm_sync' and table_name = 'outbox'"
    ).fetchall()[0][0]
    if not present:
        return None
    return con.sql(
        """
        with leads as (
            -- where each lead stands now: the status of its latest payload
            select
                lead_id,
                max_by(status, enqueued_at) as status,
                sum(attempts) as attempts,
                min(enqueued_at) as first_enqueued_at,
                max(delivered_at) as delivered_at,
                max_by(last_error, enqueued_at) as last_error
            from crm_sync.outbox
            group by lead_id
        )
        select
            status,
            count(*) as leads,
            cast(sum(attempts) as bigint) as attempts,
            strftime(min(first_enqueued_at), '%Y-%m-%d %H:%M') as "first enqueued",
            strftime(max(delivered_at), '%Y-%m-%d %H:%M') as "last delivered",
            max_by(last_error, first_enqueued_at) filter (where last_error is not null)
                as "latest error"
        from leads
        group by status
        order by case status when 'dead_letter' then 0 when 'failed' then 1
                             when 'pending' then 2 else 3 end
        """
    ).df()


def _score_histogram(con: duckdb.DuckDBPyConnection, columns: list[str]) -> pd.DataFrame:
    """Lead counts per (model_version, scored_at, lead_score, score_band): the score columns only,
    aggregated in DuckDB (no lead ids, no factors leave the warehouse)."""
    scored_at = "scored_at" if "scored_at" in columns else "null::timestamp"
    return con.sql(
        f"""
        select model_version, max({scored_at}) as scored_at, lead_score, score_band,
               count(*) as n_leads,
               sum(conversion_probability) as sum_probability,
               min(conversion_probability) as min_probability,
               max(conversion_probability) as max_probability
        from main.scored_leads
        group by model_version, lead_score, score_band
        order by lead_score, score_band
        """
    ).df()


def _top_leads(con: duckdb.DuckDBPyConnection, columns: list[str]) -> pd.DataFrame | None:
    """The :data:`TOP_LEADS` open leads a rep would call first (by lead_priority, then
    probability); None when scored_leads predates these columns."""
    if any(c not in columns for c in TOP_LEAD_COLUMNS):
        return None
    return con.sql(
        f"""
        select {", ".join(TOP_LEAD_COLUMNS)}
        from main.scored_leads
        order by lead_priority desc, conversion_probability desc, lead_id
        limit {TOP_LEADS}
        """
    ).df()


def _experiment_arms(con: duckdb.DuckDBPyConnection, columns: list[str]) -> pd.DataFrame | None:
    """Open leads per A/B test arm (counts only); None when scored_leads has no experiment_arm."""
    if "experiment_arm" not in columns:
        return None
    return con.sql(
        "select experiment_arm, count(*) as n_leads from main.scored_leads group by experiment_arm"
    ).df()


def quote(name: str) -> str:
    """``name`` as a DuckDB quoted identifier."""
    return '"' + name.replace('"', '""') + '"'
