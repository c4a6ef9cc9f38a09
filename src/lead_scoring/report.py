"""The model report: a static HTML model card written from the warehouse.

``build_report(duckdb_path, out_dir)`` opens the warehouse read-only, loads the evaluation,
scoring, attribution and monitoring tables of the active model (the ``ml_models`` row with the
latest ``trained_at``), draws the figures with matplotlib (Agg, no pyplot state) and writes one
self-contained ``<out_dir>/index.html``: the PNGs are embedded as base64, there is no JavaScript
and nothing is fetched, so the file reads offline and can be mailed or archived as one file.
The file is written to a temporary name and renamed, so a reader never sees half of it.

Required tables missing (or missing a column) stop the report with one line naming the table;
the monitoring tables (``ml_drift``, ``ml_backtest``, ``ml_model_health``,
``fct_channel_mix_performance``, ``ml_experiment_results``) are optional: missing,
empty or shaped differently, their section says "not available yet" and why. Only non-PII
tables are read (no staging; of ``scored_leads`` the score columns and, for the top open leads,
the lead id, priority, band, probability, lift and plain-words reasons: no name, email or
company).
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import numbers
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

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
EXPERIMENT_SEGMENTS = ("top_10pct", "top_20pct", "A", "B", "C", "D")
EXPERIMENT_LABELS = {"top_10pct": "top 10%", "top_20pct": "top 20%"}
CHANNEL_MIX_CHART_ROWS = 15  # mixes drawn (the largest); the table lists every row

HEADLINE_METRICS = (  # metric, label, digits, higher is better (None: closer to 1 is better)
    ("auc", "AUC", 3, True),
    ("pr_auc", "PR-AUC", 3, True),
    ("brier", "Brier", 4, False),
    ("ece_equal_mass", "ECE (equal-mass)", 4, False),
    ("observed_to_expected", "Observed / expected", 2, None),
    ("log_loss", "Log loss", 4, False),
)
MODEL_LABELS = {
    "xgboost": "XGBoost (calibrated, production)",
    "xgboost_raw": "XGBoost, uncalibrated",
    "logistic_regression": "Logistic regression",
    "rule_points": "Rule points",
}
BASELINES = ("logistic_regression", "rule_points")
CURVE_MODELS = ("xgboost", "logistic_regression", "rule_points")
MODEL_COLORS = {"xgboost": "#1f5fa8", "logistic_regression": "#e07b00", "rule_points": "#7a7a7a"}
ARM_COLORS = {"model": MODEL_COLORS["xgboost"], "rules": MODEL_COLORS["rule_points"]}
BAND_COLORS = {"A": "#1a7f37", "B": "#74c476", "C": "#f2b134", "D": "#b8b8b8"}
LEVEL_COLORS = {"stable": "#e6f4ea", "moderate": "#fff4d6", "major": "#fde2e1"}
TOP_FEATURES = 15


class ReportError(ValueError):
    """A warehouse the report cannot be built from (one line, shown without a traceback)."""


@dataclass
class Section:
    anchor: str
    title: str
    body: str


@dataclass
class Warehouse:
    path: Path
    tables: dict[str, pd.DataFrame | None] = field(default_factory=dict)

    def get(self, name: str) -> pd.DataFrame | None:
        return self.tables.get(name)


# ---------------------------------------------------------------- loading


def _connect(duckdb_path: Path) -> duckdb.DuckDBPyConnection:
    if not duckdb_path.exists():
        raise FileNotFoundError(f"no warehouse at {duckdb_path}: run `make run` (dbt build) first")
    try:
        return duckdb.connect(str(duckdb_path), read_only=True)
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ReportError(
            f"cannot open the warehouse {duckdb_path} read-only (is a build writing it?): {first}"
        ) from None


def _columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    rows = con.sql(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'main' order by table_name, ordinal_position"
    ).fetchall()
    found: dict[str, list[str]] = {}
    for table, column in rows:
        found.setdefault(table, []).append(column)
    return found


def load_warehouse(duckdb_path: Path) -> Warehouse:
    """Read the tables of the report (required ones must exist) from a read-only connection."""
    duckdb_path = Path(duckdb_path).resolve()
    con = _connect(duckdb_path)
    try:
        columns = _columns(con)
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
        wh = Warehouse(duckdb_path)
        registry_columns = [
            c for c in columns["ml_models"] if not c.endswith(("_blob", "_table_json"))
        ]
        wh.tables["ml_models"] = con.sql(
            f"select {', '.join(_quote(c) for c in registry_columns)} from main.ml_models "
            "order by trained_at desc nulls last"
        ).df()
        for table in REQUIRED_TABLES:
            if table in ("ml_models", "scored_leads"):
                continue
            wh.tables[table] = con.sql(f"select * from main.{_quote(table)}").df()
        wh.tables["score_histogram"] = _score_histogram(con, columns["scored_leads"])
        wh.tables["top_leads"] = _top_leads(con, columns["scored_leads"])
        wh.tables["experiment_arms"] = _experiment_arms(con, columns["scored_leads"])
        for table in OPTIONAL_TABLES:
            wh.tables[table] = (
                con.sql(f"select * from main.{_quote(table)}").df() if table in columns else None
            )
        wh.tables["crm_delivery"] = _crm_delivery(con)
    except duckdb.Error as exc:
        raise ReportError(f"cannot read the warehouse {duckdb_path}: {exc}") from None
    finally:
        con.close()
    return wh


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


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# ---------------------------------------------------------------- formatting


def _esc(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def fmt_num(value: object, digits: int = 3) -> str:
    """A number for a table cell: fixed decimals, thousands separators, '–' when missing."""
    if _missing(value):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    if math.isinf(number):
        return "∞" if number > 0 else "−∞"
    if digits == 0:
        return f"{number:,.0f}"
    return f"{number:,.{digits}f}"


def fmt_pct(value: object, digits: int = 1) -> str:
    if _missing(value):
        return "–"
    return f"{100 * float(value):.{digits}f}%"  # type: ignore[arg-type]


def fmt_signed(value: object, digits: int = 3) -> str:
    if _missing(value):
        return "–"
    number = float(value)  # type: ignore[arg-type]
    return f"{'+' if number >= 0 else '−'}{abs(number):.{digits}f}"


def fmt_time(value: object) -> str:
    if _missing(value):
        return "–"
    stamp = pd.Timestamp(value)
    return (
        stamp.strftime("%Y-%m-%d")
        if stamp == stamp.normalize()
        else stamp.strftime("%Y-%m-%d %H:%M")
    )


def _model_label(name: str) -> str:
    return MODEL_LABELS.get(name, name)


def _note(text: str, kind: str = "note") -> str:
    return f'<p class="{kind}">{_esc(text)}</p>'


def _not_available(text: str) -> str:
    return _note(f"Not available yet: {text}", "na")


def _table(
    frame: pd.DataFrame,
    formats: dict[str, Callable[[object], str]] | None = None,
    headers: dict[str, str] | None = None,
    row_class: Callable[[pd.Series], str] | None = None,
) -> str:
    """An HTML table of ``frame``: every value escaped, numbers formatted by column."""
    formats = formats or {}
    headers = headers or {}
    head = "".join(f"<th>{_esc(headers.get(c, c))}</th>" for c in frame.columns)
    rows = []
    for _, row in frame.iterrows():
        cls = row_class(row) if row_class else ""
        cells = []
        for column in frame.columns:
            value = row[column]
            text = formats[column](value) if column in formats else _cell(value)
            num = ' class="num"' if _is_number(value) else ""
            cells.append(f"<td{num}>{_esc(text)}</td>")
        opening = f'<tr class="{_esc(cls)}">' if cls else "<tr>"
        rows.append(opening + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _is_number(value: object) -> bool:
    """True for Python and numpy numbers, not for booleans."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def _png(fig: Figure, alt: str) -> str:
    """The figure as an embedded PNG <img> (no file next to the page, nothing fetched)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight", metadata={"Software": None})
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="{_esc(alt)}" src="data:image/png;base64,{data}">'


def _pick(frame: pd.DataFrame, *names: str) -> str | None:
    """The first of ``names`` that is a column of ``frame`` (tolerates small naming changes)."""
    lower = {c.lower(): c for c in frame.columns}
    for name in names:
        if name.lower() in lower:
            return lower[name.lower()]
    return None


def _need(frame: pd.DataFrame, table: str, *names: str) -> str:
    column = _pick(frame, *names)
    if column is None:
        raise ReportError(
            f"main.{table} has no column {' / '.join(names)} (found: {', '.join(frame.columns)})"
        )
    return column


def _model_order(names: Iterable[str]) -> list[str]:
    names = list(dict.fromkeys(names))
    first = [n for n in ("xgboost", *BASELINES) if n in names]
    return first + sorted(n for n in names if n not in first)


def _color(model: str, index: int) -> str:
    palette = ("#6a3d9a", "#17becf", "#bcbd22", "#8c564b", "#e377c2", "#2ca02c", "#d62728")
    return MODEL_COLORS.get(model, palette[index % len(palette)])


# ---------------------------------------------------------------- sections


def _active_model(wh: Warehouse) -> pd.Series:
    registry = wh.get("ml_models")
    if registry is None or registry.empty:
        raise ReportError(f"main.ml_models in {wh.path} is empty: run dbt build first")
    return registry.iloc[0]  # sorted by trained_at desc when loaded


def _for_version(frame: pd.DataFrame | None, version: str) -> pd.DataFrame:
    if frame is None:
        return pd.DataFrame()
    if "model_version" in frame.columns:
        return frame[frame["model_version"].astype("string") == version].reset_index(drop=True)
    return frame


def _metadata(model: pd.Series) -> dict:
    raw = model.get("metadata_json")
    if _missing(raw):
        return {}
    try:
        parsed = json.loads(str(raw))
    except json.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def section_header(wh: Warehouse, model: pd.Series) -> str:
    version = str(model["model_version"])
    name = str(model["model_name"])
    meta = _metadata(model)
    parts = []
    if name == "rule_points":
        reason = meta.get("fallback_reason") or "too little labeled history to train the model"
        parts.append(
            '<div class="banner">'
            "<strong>Rule-based fallback.</strong> This build did not train the machine-learned "
            "model: leads are scored with the rule points of <code>seeds/lead_scoring_rules.csv"
            "</code>; their probabilities are mapped from the points (a one-feature logistic "
            "fit on the labeled history, or points / 100 with too few labels), not from a "
            "model checked on a held-out test split. Reason: "
            f"{_esc(reason)}</div>"
        )
    facts = [
        ("Model version", version),
        ("Model", _model_label(name)),
        ("Trained at (UTC)", fmt_time(model.get("trained_at"))),
        ("Prediction horizon", f"{fmt_num(model.get('horizon_days'), 0)} days"),
        (
            "Training rows / converted",
            f"{fmt_num(model.get('n_train_rows'), 0)} / "
            f"{fmt_num(model.get('n_train_positives'), 0)}",
        ),
    ]
    validation = meta.get("validation") or {}
    method = model.get("validation_method")
    if name != "rule_points" and not _missing(method):
        folds = validation.get("n_folds")
        facts.append(
            (
                "Validation",
                f"rolling-origin cross-validation, {fmt_num(folds, 0)} folds purged by the "
                "horizon (the newest is the test fold)"
                if method == "rolling_origin_cv"
                else "none: too little history for a purged fold",
            )
        )
    if validation.get("chosen_candidate"):
        facts.append(("Chosen by cross-validation", str(validation["chosen_candidate"])))
    if not _missing(model.get("chosen_calibrator")):
        source = {
            "oof": "out-of-fold predictions of every fold",
            "in_sample_recent": "its own predictions on the latest labeled window (in sample)",
        }.get(str(model.get("calibration_source")), str(model.get("calibration_source") or ""))
        facts.append(("Calibrator", f"{model.get('chosen_calibrator')} ({source})".strip()))
    if not _missing(model.get("best_iteration")):
        facts.append(
            ("Boosting rounds (cross-validated)", fmt_num(model.get("best_iteration") + 1, 0))
        )
    start, end = model.get("train_start"), model.get("train_end")
    if not _missing(start) or not _missing(end):
        facts.append(("Data window (labeled snapshots)", f"{fmt_time(start)} → {fmt_time(end)}"))
    hist = wh.get("score_histogram")
    mismatch = False
    if hist is not None and not hist.empty:
        scored_versions = sorted(hist["model_version"].astype(str).unique())
        mismatch = scored_versions != [version]
        facts.append(("Leads scored (open at the scoring date)", fmt_num(hist["n_leads"].sum(), 0)))
        facts.append(("Scored at (UTC)", fmt_time(hist["scored_at"].max())))
        if mismatch:
            facts.append(("scored_leads model_version", ", ".join(scored_versions)))
    parts.append(
        '<table class="facts">'
        + "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>" for k, v in facts)
        + "</table>"
    )
    if mismatch:
        parts.append(
            _note(
                "scored_leads was scored by another model version than the latest registry "
                "row (var ml_model_version pins an older version): the evaluation below is of "
                "the latest.",
                "warn",
            )
        )
    if name != "rule_points" and model.get("validation_method") == "none":
        parts.append(
            '<div class="banner">'
            "<strong>Unvalidated model.</strong> The labeled history is too short for a "
            "purged fold (no window with enough converted leads both before and after a gap of "
            "one horizon), so nothing measured this model's quality and its calibrator was "
            "fitted on its own latest predictions. It scores (it beats having no model); the "
            "next builds validate it once the history allows. Reason: "
            f"{_esc(validation.get('reason', ''))}</div>"
        )
    splits = _split_table(wh, model)
    if splits:
        parts.append("<h3>Rolling-origin folds</h3>" + splits)
    return "".join(parts)


SPLIT_LABELS = {
    "train": "production fit (every matured label)",
    "test": "test fold (all metrics below)",
}


def _split_table(wh: Warehouse, model: pd.Series) -> str:
    """One row per fold (and the production fit) from ml_split_boundaries; without it, the
    registry's train and test windows."""
    boundaries = _for_version(wh.get("ml_split_boundaries"), str(model["model_version"]))
    if not boundaries.empty and {"split", "start", "end"} <= set(boundaries.columns):
        rows = []
        for r in boundaries.itertuples(index=False):
            split = str(r.split)
            used = getattr(r, "is_used", True)
            label = SPLIT_LABELS.get(split, f"validation window {split.removeprefix('fold_')}")
            if used is False or (not _missing(used) and not bool(used)):
                label += " (not used: " + str(getattr(r, "dropped_reason", "")) + ")"
            row = {"Split": label, "From": fmt_time(r.start), "To": fmt_time(r.end)}
            purge = getattr(r, "purge_cutoff", None)
            if split != "train":
                row["Trained on labels up to"] = fmt_time(purge)
            row["Rows"] = fmt_num(getattr(r, "n_rows", None), 0)
            row["Converted leads"] = fmt_num(getattr(r, "n_positive_leads", None), 0)
            row["Conversion rate"] = fmt_pct(getattr(r, "positive_rate", None), 2)
            rows.append(row)
        return _table(pd.DataFrame(rows).fillna(""))
    rows = []
    for split in ("train", "test"):
        start, end = model.get(f"{split}_start"), model.get(f"{split}_end")
        if _missing(start) and _missing(end):
            continue
        rows.append({"Split": SPLIT_LABELS[split], "From": fmt_time(start), "To": fmt_time(end)})
    return _table(pd.DataFrame(rows)) if rows else ""


def _test_metrics(wh: Warehouse, version: str) -> pd.DataFrame:
    metrics = _for_version(wh.get("ml_model_metrics"), version)
    if metrics.empty:
        return pd.DataFrame()
    test = metrics[metrics["split"].astype(str) == "test"]
    return test.pivot_table(index="model_name", columns="metric", values="value", aggfunc="first")


def section_headline(wh: Warehouse, model: pd.Series) -> str:
    table = _test_metrics(wh, str(model["model_version"]))
    if table.empty:
        why = (
            "the rule-based fallback is not evaluated on a test split"
            if model["model_name"] == "rule_points"
            else "main.ml_model_metrics holds no test-split rows for this model version"
        )
        return _not_available(why)
    order = _model_order(table.index)
    head = "<th>Model</th>" + "".join(
        f"<th>{_esc(label)} {_arrow(up)}</th>" for _, label, _, up in HEADLINE_METRICS
    )
    body = []
    for name in order:
        cells = "".join(
            f'<td class="num" data-model="{_esc(name)}" data-metric="{metric}">'
            f"{_esc(fmt_num(table.loc[name].get(metric), digits))}</td>"
            for metric, _, digits, _ in HEADLINE_METRICS
        )
        cls = ' class="main"' if name == "xgboost" else ""
        body.append(f"<tr{cls}><td>{_esc(_model_label(name))}</td>{cells}</tr>")
    parts = [f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"]
    parts.append(
        _note(
            "Test fold: the newest labeled window, scored by models trained only on the labels "
            "known before it opened (a gap of one horizon), with the settings chosen and the "
            "calibrator fitted on the earlier folds: what the scores would have been worth had "
            "they been used then. ↑ higher is better (AUC: how well the scores rank converters "
            "above the rest; PR-AUC: the same, focused on the top), ↓ lower is better (Brier and "
            "log loss: error of the probabilities; ECE: the average gap between predicted and "
            "observed conversion rates over ten equal-size groups of leads). Observed / expected: "
            "conversions that happened over conversions the probabilities promised (1 = right "
            "on average, 0.8 = 20 % fewer than promised)."
        )
    )
    if "xgboost" in table.index:
        parts.append(_margins(table))
        parts.append(_top_decile_sentence(table.loc["xgboost"]))
    return "".join(parts)


def _is_better(mine: float, theirs: float, up: bool | None) -> bool:
    """Higher (up), lower (not up) or, for a ratio (None), closer to 1."""
    if up is None:
        return abs(mine - 1) < abs(theirs - 1)
    return mine > theirs if up else mine < theirs


def _arrow(up: bool | None) -> str:
    return "→1" if up is None else ("↑" if up else "↓")


def _margins(table: pd.DataFrame) -> str:
    baselines = [b for b in BASELINES if b in table.index]
    if not baselines:
        return ""
    xgb = table.loc["xgboost"]
    head = "<th>XGBoost minus</th>" + "".join(
        f"<th>{_esc(label)}</th>" for _, label, _, _ in HEADLINE_METRICS
    )
    rows = []
    for base in baselines:
        cells = []
        for metric, _, digits, up in HEADLINE_METRICS:
            mine, theirs = xgb.get(metric, math.nan), table.loc[base].get(metric, math.nan)
            diff = mine - theirs
            better = _is_better(mine, theirs, up)
            cls = "" if _missing(diff) or diff == 0 else ("better" if better else "worse")
            cells.append(
                f'<td class="num {cls}" data-margin="{_esc(base)}" data-metric="{metric}">'
                f"{_esc(fmt_signed(diff, digits))}</td>"
            )
        rows.append(f"<tr><td>{_esc(_model_label(base))}</td>{''.join(cells)}</tr>")
    words = []
    for base in baselines:
        diff = xgb.get("auc", math.nan) - table.loc[base].get("auc", math.nan)
        if _missing(diff):
            continue
        verdict = (
            "ranks better than"
            if diff > 0.005
            else ("ranks worse than" if diff < -0.005 else "ranks about as well as")
        )
        words.append(f"{verdict} {_model_label(base).lower()} ({fmt_signed(diff)} AUC)")
    sentence = _note("XGBoost " + "; it ".join(words) + ".") if words else ""
    return (
        "<h3>Margin of XGBoost over the baselines</h3>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>" + sentence
    )


def _top_decile_sentence(xgb: pd.Series) -> str:
    recall, lift = xgb.get("recall_at_10"), xgb.get("lift_at_10")
    rate, n_rows = xgb.get("positive_rate"), xgb.get("n_rows")
    if _missing(recall) or _missing(lift):
        return ""
    context = ""
    if not _missing(rate) and not _missing(n_rows):
        context = (
            f" (test split: {fmt_num(n_rows, 0)} lead snapshots, of which "
            f"{fmt_pct(rate, 2)} converted within the horizon)"
        )
    return _note(
        f"For sales: the 10% of leads with the highest scores hold {fmt_pct(recall, 0)} of the "
        f"conversions, {fmt_num(lift, 1)}× the rate of a random 10%{context}.",
        "key",
    )


def section_reliability(wh: Warehouse, model: pd.Series) -> str:
    version = str(model["model_version"])
    bins = _for_version(wh.get("ml_calibration_bins"), version)
    lift = _for_version(wh.get("ml_lift_by_decile"), version)
    if bins.empty and lift.empty:
        return _not_available(_empty_eval_reason(model))
    fig = Figure(figsize=(11, 4.6))
    left, right = fig.subplots(1, 2)
    models = [m for m in CURVE_MODELS if m in set(bins.get("model_name", []))]
    for i, name in enumerate(models):
        rows = bins[(bins["model_name"] == name) & (bins["count"] > 0)].sort_values(
            "mean_predicted"
        )
        sizes = 12 + 200 * (rows["count"] / max(float(bins["count"].max()), 1.0)) ** 0.5
        left.plot(
            rows["mean_predicted"],
            rows["observed_rate"],
            "-",
            color=_color(name, i),
            alpha=0.7,
            label=_model_label(name),
        )
        left.scatter(
            rows["mean_predicted"],
            rows["observed_rate"],
            s=sizes,
            color=_color(name, i),
            alpha=0.8,
            edgecolor="white",
            linewidth=0.5,
        )
        if name == "xgboost":  # how many leads stand behind each point
            for x, y, n in zip(
                rows["mean_predicted"], rows["observed_rate"], rows["count"], strict=True
            ):
                left.annotate(
                    f"n={int(n):,}",
                    (x, y),
                    textcoords="offset points",
                    xytext=(4, 4),
                    fontsize=7,
                    color=_color(name, i),
                )
    left.plot([0, 1], [0, 1], ":", color="black", linewidth=1, label="perfect calibration")
    left.set(
        xlim=(0, 1),
        ylim=(0, 1.06),
        xlabel="predicted probability (bin mean)",
        ylabel="observed conversion rate",
        title="Equal-width probability bins (dot area ~ leads)",
    )
    left.legend(loc="upper left", fontsize=8)
    _decile_reliability(right, lift)
    fig.tight_layout()
    return _png(
        fig, "Reliability curve: predicted probability against observed conversion rate"
    ) + _note(
        "Each point compares the probability the model gave with how often those leads "
        "really converted (test split). On the diagonal, the scores mean what they say: "
        "leads scored 30 convert about 30% of the time. Above the diagonal the model is too "
        "cautious, below it too optimistic. Most leads have small probabilities, so the "
        "right panel repeats the check on ten equal-sized groups (score deciles), on "
        "logarithmic axes."
    )


def _decile_reliability(ax, lift: pd.DataFrame) -> None:
    needed = {"mean_probability", "conversion_rate"}
    if lift.empty or not needed <= set(lift.columns):
        ax.text(0.5, 0.5, "no decile data", ha="center", va="center")
        ax.set_axis_off()
        return
    values = []
    models = [m for m in CURVE_MODELS if m in set(lift["model_name"])]
    for i, name in enumerate(models):
        rows = lift[lift["model_name"] == name].sort_values("mean_probability")
        ax.plot(
            rows["mean_probability"],
            rows["conversion_rate"],
            "o-",
            color=_color(name, i),
            label=_model_label(name),
            markersize=5,
        )
        values.extend(rows["mean_probability"].tolist() + rows["conversion_rate"].tolist())
    positive = [v for v in values if not _missing(v) and v > 0]
    low = max(min(positive) / 2, 1e-5) if positive else 1e-3
    high = min(max(positive) * 2, 1.0) if positive else 1.0
    ax.plot([low, high], [low, high], ":", color="black", linewidth=1)
    ax.set_xscale("log")
    ax.set_yscale("symlog", linthresh=low)  # symlog: a decile without conversions shows at 0
    ax.set(
        xlim=(low, high),
        ylim=(0, high),
        xlabel="mean predicted probability of the decile (log)",
        ylabel="observed conversion rate (0, then log)",
        title="Score deciles (equal-sized groups)",
    )
    ax.legend(loc="upper left", fontsize=8)


def _empty_eval_reason(model: pd.Series) -> str:
    if model["model_name"] == "rule_points":
        return "the rule-based fallback has no evaluation tables (no test split was scored)"
    return "the evaluation table holds no rows for this model version"


def section_gains(wh: Warehouse, model: pd.Series) -> str:
    lift = _for_version(wh.get("ml_lift_by_decile"), str(model["model_version"]))
    if lift.empty:
        return _not_available(_empty_eval_reason(model))
    fig = Figure(figsize=(11, 4.4))
    gains_ax, lift_ax = fig.subplots(1, 2)
    models = _model_order(lift["model_name"])
    models = [m for m in models if m in CURVE_MODELS] or models[:3]
    width = 0.8 / len(models)
    for i, name in enumerate(models):
        rows = lift[lift["model_name"] == name].sort_values("decile")
        share = rows["decile"] / rows["decile"].max()
        gains_ax.plot(
            [0, *share],
            [0, *rows["cumulative_recall"]],
            "o-",
            markersize=4,
            color=_color(name, i),
            label=_model_label(name),
        )
        lift_ax.bar(
            rows["decile"] + (i - (len(models) - 1) / 2) * width,
            rows["lift"],
            width=width,
            color=_color(name, i),
            label=_model_label(name),
        )
    gains_ax.plot([0, 1], [0, 1], ":", color="black", linewidth=1, label="random order")
    gains_ax.set(
        xlim=(0, 1),
        ylim=(0, 1.02),
        xlabel="share of leads contacted, best scores first",
        ylabel="share of all conversions reached",
        title="Cumulative gains",
    )
    gains_ax.xaxis.set_major_formatter(lambda x, _: f"{100 * x:.0f}%")
    gains_ax.yaxis.set_major_formatter(lambda y, _: f"{100 * y:.0f}%")
    gains_ax.legend(loc="lower right", fontsize=8)
    lift_ax.axhline(1, color="black", linestyle=":", linewidth=1)
    lift_ax.set(
        xlabel="score decile (1 = top 10% of scores)",
        ylabel="lift (× average rate)",
        title="Lift by decile",
        xticks=range(1, 11),
    )
    lift_ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    xgb = lift[lift["model_name"] == "xgboost"].sort_values("decile")
    table = ""
    if not xgb.empty:
        cols = [
            c
            for c in (
                "decile",
                "n_rows",
                "n_positives",
                "conversion_rate",
                "lift",
                "cumulative_recall",
                "min_probability",
                "max_probability",
            )
            if c in xgb.columns
        ]
        table = (
            "<details><summary>XGBoost by decile (numbers)</summary>"
            + _table(
                xgb[cols],
                formats={
                    "conversion_rate": lambda v: fmt_pct(v, 2),
                    "lift": lambda v: fmt_num(v, 2),
                    "cumulative_recall": fmt_pct,
                    "min_probability": lambda v: fmt_pct(v, 2),
                    "max_probability": lambda v: fmt_pct(v, 2),
                    "decile": lambda v: fmt_num(v, 0),
                    "n_rows": lambda v: fmt_num(v, 0),
                    "n_positives": lambda v: fmt_num(v, 0),
                },
                headers={
                    "n_rows": "leads",
                    "n_positives": "converted",
                    "conversion_rate": "conversion rate",
                    "cumulative_recall": "conversions reached (cumulative)",
                    "min_probability": "lowest probability",
                    "max_probability": "highest probability",
                },
            )
            + "</details>"
        )
    return (
        _png(fig, "Cumulative gains and lift by score decile")
        + _note(
            "Left: sort the test leads by score and work down the list; the curve shows the "
            "share of all conversions reached after contacting a given share of leads (the "
            "dotted diagonal is a random order). The higher and steeper at the start, the better. "
            "Right: each decile's conversion rate divided by the average; a lift of 3 means the "
            "decile converts three times as often as a random lead."
        )
        + table
    )


def section_scores(wh: Warehouse, model: pd.Series) -> str:
    hist = wh.get("score_histogram")
    if hist is None or hist.empty:
        return _not_available("main.scored_leads is empty: no lead was open at the scoring date")
    bands = sorted(hist["score_band"].astype(str).unique())
    grid = hist.pivot_table(
        index="lead_score", columns="score_band", values="n_leads", aggfunc="sum", fill_value=0
    )
    grid.columns = grid.columns.astype(str)
    fig = Figure(figsize=(11, 4))
    ax = fig.subplots()
    bottom = pd.Series(0.0, index=grid.index)
    for band in bands:
        ax.bar(
            grid.index,
            grid[band],
            bottom=bottom,
            width=0.9,
            color=BAND_COLORS.get(band, "#999999"),
            label=f"band {band}",
        )
        bottom = bottom + grid[band]
    ax.set_yscale("log")
    ax.set_ylim(bottom=0.5)  # a single lead still shows as a bar
    ax.set(
        xlabel="lead_score (0–100 = probability in %)",
        ylabel="leads (log scale)",
        title="Open leads by score, coloured by band",
    )
    ax.set_xlim(-1, max(10, int(grid.index.max()) + 2))
    ax.legend(fontsize=8)
    fig.tight_layout()
    summary = (
        hist.groupby(hist["score_band"].astype(str))
        .agg(
            leads=("n_leads", "sum"),
            sum_probability=("sum_probability", "sum"),
            min_score=("lead_score", "min"),
            max_score=("lead_score", "max"),
        )
        .reindex(bands)
    )
    summary["share"] = summary["leads"] / summary["leads"].sum()
    summary["mean_probability"] = summary["sum_probability"] / summary["leads"]
    summary["expected"] = summary["sum_probability"]
    thresholds = _metadata(model).get("band_thresholds") or {}
    base_rate = _metadata(model).get("base_rate")
    summary["rule"] = [
        f"probability ≥ {fmt_pct(thresholds[b], 2)}"
        if b in thresholds
        else ("below band C" if thresholds else "–")
        for b in bands
    ]
    table = summary.reset_index()[
        [
            "score_band",
            "rule",
            "leads",
            "share",
            "min_score",
            "max_score",
            "mean_probability",
            "expected",
        ]
    ]
    note = (
        "Bands turn the probability into an action list: A leads are at least 4× as likely to "
        "convert as the average lead, B at least 2×, C at least 1×, D below"
        + (f" (training base rate {fmt_pct(base_rate, 2)})" if not _missing(base_rate) else "")
        + ". Expected conversions = the sum of the band's probabilities within the horizon."
    )
    if model["model_name"] == "rule_points":
        note = (
            "Rule-based fallback: the probabilities are mapped from rule points, not checked "
            "on a test split; the bands rank the leads, the expected conversions are indicative."
        )
    return (
        _png(fig, "Histogram of lead_score by score band")
        + _table(
            table,
            formats={
                "leads": lambda v: fmt_num(v, 0),
                "share": fmt_pct,
                "min_score": lambda v: fmt_num(v, 0),
                "max_score": lambda v: fmt_num(v, 0),
                "mean_probability": lambda v: fmt_pct(v, 2),
                "expected": lambda v: fmt_num(v, 1),
            },
            headers={
                "score_band": "band",
                "rule": "band rule",
                "min_score": "lowest score",
                "max_score": "highest score",
                "mean_probability": "mean probability",
                "expected": "expected conversions",
            },
        )
        + _note(note)
    )


def section_top_leads(wh: Warehouse, model: pd.Series) -> str:
    top = wh.get("top_leads")
    if top is None:
        return _not_available(
            "main.scored_leads has no lead_priority or reasons columns (an older build): "
            "run dbt build"
        )
    if top.empty:
        return _not_available("main.scored_leads is empty: no lead was open at the scoring date")
    frame = top.copy()
    for column in ("reasons_for", "reasons_against"):
        frame[column] = frame[column].astype(object).where(frame[column].notna(), "–")
    return _note(
        "The open leads a rep would call first. Priority is the lead's percentile among this "
        "run's open leads (100 = the best 1%): sort by it. The probability is the chance of "
        "converting within the horizon, the lift that chance over the average lead's; the "
        "reasons are the strongest contributions raising and lowering the score."
    ) + _table(
        frame,
        formats={
            "lead_priority": lambda v: fmt_num(v, 0),
            "conversion_probability": lambda v: fmt_pct(v, 1),
            "lift": lambda v: "–" if _missing(v) else f"{float(v):.1f}×",
        },
        headers={
            "lead_id": "lead",
            "lead_priority": "priority",
            "score_band": "band",
            "conversion_probability": "probability",
            "reasons_for": "reasons for",
            "reasons_against": "reasons against",
        },
    )


def section_importance(wh: Warehouse, model: pd.Series) -> str:
    imp = _for_version(wh.get("ml_feature_importance"), str(model["model_version"]))
    if imp.empty:
        return _not_available(_empty_eval_reason(model))
    label = "feature_label" if "feature_label" in imp.columns else "feature"
    top = imp.sort_values("mean_abs_shap", ascending=False).head(TOP_FEATURES)
    labels = top[label].where(top[label].notna(), top["feature"]).astype(str)
    fig = Figure(figsize=(9, 0.32 * len(top) + 1.2))
    ax = fig.subplots()
    ax.barh(range(len(top))[::-1], top["mean_abs_shap"], color=MODEL_COLORS["xgboost"])
    ax.set_yticks(range(len(top))[::-1], labels)
    ax.set(xlabel="mean |SHAP| (log-odds)", title=f"Top {len(top)} features by mean |SHAP|")
    fig.tight_layout()
    share = ""
    if "share" in top.columns:
        share = f" Together they carry {fmt_pct(top['share'].sum(), 0)} of the total."
    return _png(fig, "Feature importance (mean absolute SHAP value)") + _note(
        "How much each feature moves a lead's predicted log-odds on average, in either "
        "direction (exact TreeSHAP on test rows). Importance is not causation: a feature can "
        "matter because it goes with buying intent." + share
    )


def section_segments(wh: Warehouse, model: pd.Series) -> str:
    seg = _for_version(wh.get("ml_segment_metrics"), str(model["model_version"]))
    if seg.empty:
        return _not_available(_empty_eval_reason(model))
    if {"auc", "overall_auc"} <= set(seg.columns):  # computed here: one sign convention
        seg = seg.assign(auc_vs_overall=seg["auc"] - seg["overall_auc"])
    cols = [
        c
        for c in (
            "segment_column",
            "segment_value",
            "n_rows",
            "n_positives",
            "positive_rate",
            "mean_predicted",
            "calibration_gap",
            "auc",
            "auc_vs_overall",
            "flag_reason",
        )
        if c in seg.columns
    ]
    seg = seg.assign(_flag=seg["is_flagged"].fillna(False).astype(bool))
    seg = seg.sort_values(["_flag", "segment_column", "n_rows"], ascending=[False, True, False])
    formats = {
        "n_rows": lambda v: fmt_num(v, 0),
        "n_positives": lambda v: fmt_num(v, 0),
        "positive_rate": lambda v: fmt_pct(v, 2),
        "mean_predicted": lambda v: fmt_pct(v, 2),
        "calibration_gap": lambda v: "–" if _missing(v) else fmt_signed(100 * float(v), 2) + " pt",
        "auc": fmt_num,
        "auc_vs_overall": lambda v: fmt_signed(v, 3),
    }
    headers = {
        "segment_column": "segment",
        "segment_value": "value",
        "n_rows": "rows",
        "n_positives": "converted",
        "positive_rate": "observed rate",
        "mean_predicted": "predicted rate",
        "calibration_gap": "predicted − observed",
        "auc": "segment AUC",
        "auc_vs_overall": "segment AUC − overall AUC",
        "flag_reason": "flag",
    }
    flagged = seg[seg["_flag"]]
    parts = [
        _note(
            f"{len(flagged)} of {len(seg)} segments are flagged (highlighted): their calibration "
            "or ranking on the test split is worse than the model overall by more than the "
            "threshold. "
            "Small segments are noisy: check the rows and conversions before acting."
        )
    ]
    flagged_rows = set(flagged.index)
    table = _table(
        seg[cols],
        formats,
        headers,
        row_class=lambda row: "flag" if row.name in flagged_rows else "",
    )
    parts.append(
        table
        if len(seg) <= 40
        else (
            _table(flagged[cols], formats, headers, row_class=lambda r: "flag")
            + f"<details><summary>All {len(seg)} segments</summary>{table}</details>"
        )
    )
    return "".join(parts)


def section_attribution(wh: Warehouse, model: pd.Series) -> str:
    attr = wh.get("fct_channel_attribution")
    if attr is None or attr.empty:
        return _not_available(
            "main.fct_channel_attribution is empty: no conversion with a "
            "touch path in the report window"
        )
    if "attribution_model_order" in attr.columns:
        order = (
            attr.groupby("attribution_model")["attribution_model_order"]
            .min()
            .sort_values()
            .index.tolist()
        )
    else:
        order = sorted(attr["attribution_model"].astype(str).unique())
    conv = attr.pivot_table(
        index="channel", columns="attribution_model", values="attributed_conversions", aggfunc="sum"
    ).reindex(columns=order)
    conv = conv.loc[conv.sum(axis=1).sort_values(ascending=False).index]
    fig = Figure(figsize=(12, 4.6))
    ax = fig.subplots()
    width = 0.85 / len(order)
    cmap = (
        "#1f5fa8",
        "#e07b00",
        "#2ca02c",
        "#d62728",
        "#9467bd",
        "#8c564b",
        "#17becf",
        "#7a7a7a",
        "#bcbd22",
    )
    for i, name in enumerate(order):
        ax.bar(
            [x + (i - (len(order) - 1) / 2) * width for x in range(len(conv))],
            conv[name],
            width=width,
            label=name,
            color=cmap[i % len(cmap)],
        )
    ax.set_xticks(range(len(conv)), conv.index.astype(str), rotation=20)
    ax.set(
        ylabel="attributed conversions",
        title="Conversions credited to each channel, by attribution model",
    )
    ax.legend(fontsize=8, ncols=min(len(order), 4))
    fig.tight_layout()
    window = ""
    if {"window_start_date", "window_end_date"} <= set(attr.columns):
        window = (
            f" Report window {fmt_time(attr['window_start_date'].min())} → "
            f"{fmt_time(attr['window_end_date'].max())}."
        )
    paths = ""
    if {"conversions_with_path", "conversions_without_path"} <= set(attr.columns):
        paths = (
            f" {fmt_num(attr['conversions_with_path'].max(), 0)} conversions had touches "
            f"to credit; {fmt_num(attr['conversions_without_path'].max(), 0)} had none and "
            "are not attributed."
        )
    spend = attr.groupby("channel")["spend"].max().reindex(conv.index)
    paid = spend[spend.notna() & (spend > 0)].index  # ROAS and CPA exist only where spend does
    unpaid = ", ".join(str(c) for c in conv.index if c not in set(paid))

    def pivot(column: str) -> pd.DataFrame:
        table = attr.pivot_table(
            index="channel",
            columns="attribution_model",
            values=column,
            aggfunc="first",
            dropna=False,
        ).reindex(index=paid, columns=order)
        return table

    def wide(values: pd.DataFrame, fmt: Callable[[object], str], with_spend: bool) -> str:
        frame = values.copy()
        frame.columns = [str(c) for c in frame.columns]
        frame.insert(0, "channel", frame.index.astype(str))
        if with_spend:
            frame.insert(1, "spend", spend.reindex(frame.index).values)
        formats = {c: fmt for c in order}
        formats["spend"] = lambda v: fmt_num(v, 0)
        return _table(frame.reset_index(drop=True), formats)

    return (
        _png(fig, "Grouped bar chart of attributed conversions per channel and model")
        + _note(
            "Each model shares the credit for a conversion among the channels that touched the "
            "lead before it: first_touch and last_touch give it all to one touch, linear spreads "
            "it evenly, position_based favours the first and last, time_decay the recent ones; "
            "markov and shapley are data-driven (what is lost when a channel is removed). Where "
            "the models agree the answer is robust; where they disagree, the channel's role "
            "depends on its position in the journey." + window + paths
        )
        + "<h3>Attributed conversions</h3>"
        + wide(conv, lambda v: fmt_num(v, 1), False)
        + "<h3>Spend and return on ad spend (ROAS = attributed revenue / spend)</h3>"
        + wide(pivot("roas"), lambda v: fmt_num(v, 2), True)
        + "<h3>Cost per attributed conversion (CPA = spend / attributed conversions)</h3>"
        + wide(pivot("cost_per_conversion"), lambda v: fmt_num(v, 0), True)
        + _note(
            "Spend is over the report window. – : no conversion is credited to the channel by "
            "that model."
            + (f" Channels without recorded spend (no ROAS or CPA): {unpaid}." if unpaid else "")
        )
    )


def _optional(wh: Warehouse, table: str) -> tuple[pd.DataFrame | None, str]:
    frame = wh.get(table)
    if frame is None:
        return None, _not_available(
            f"table main.{table} is not in this warehouse ({WHY_MISSING[table]})."
        )
    if frame.empty:
        return None, _not_available(f"main.{table} is empty: {WHY_MISSING[table]}.")
    return frame, ""


def _latest(frame: pd.DataFrame) -> tuple[pd.DataFrame, object]:
    when = _pick(frame, "scored_at", "scoring_date", "computed_at", "checked_at")
    if when is None:
        return frame, None
    stamp = frame[when].max()
    return frame[frame[when] == stamp], stamp


def section_drift(wh: Warehouse, model: pd.Series) -> str:
    frame, note = _optional(wh, "ml_drift")
    if frame is None:
        return note
    psi = _need(frame, "ml_drift", "psi", "population_stability_index")
    scope = _pick(frame, "drift_scope", "scope")
    feature = _pick(frame, "feature", "feature_name", "column_name")
    level = _pick(frame, "drift_level", "level")
    ks = _pick(frame, "ks_statistic", "ks", "ks_stat")
    latest, stamp = _latest(frame)
    is_score = (latest[scope].astype(str) == "score") if scope else pd.Series(False, latest.index)
    parts = []
    if stamp is not None:
        parts.append(_note(f"Latest scoring run: {fmt_time(stamp)}."))
    score_rows = latest[is_score]
    if not score_rows.empty:
        row = score_rows.iloc[0]
        text = f"Score distribution: PSI {fmt_num(row[psi], 3)}"
        if ks:
            text += f", KS {fmt_num(row[ks], 3)}"
        if level:
            text += f" ({row[level]})"
        parts.append(_note(text + ".", "key"))
    features = latest[~is_score].sort_values(psi, ascending=False)
    if not features.empty and feature:
        top = features.head(TOP_FEATURES)
        fig = Figure(figsize=(9, 0.32 * len(top) + 1.3))
        ax = fig.subplots()
        colors = [
            {"major": "#d62728", "moderate": "#f2b134"}.get(str(v), "#74c476")
            for v in (top[level] if level else ["stable"] * len(top))
        ]
        ax.barh(range(len(top))[::-1], top[psi].astype(float), color=colors)
        ax.set_yticks(range(len(top))[::-1], top[feature].astype(str))
        for limit in (0.1, 0.25):
            ax.axvline(limit, color="black", linestyle=":", linewidth=1)
        ax.set(xlabel="PSI (0.1 moderate, 0.25 major)", title="Features that moved most")
        fig.tight_layout()
        parts.append(_png(fig, "Population stability index of the features that moved most"))
        cols = [
            c
            for c in (
                feature,
                psi,
                ks,
                level,
                _pick(frame, "reference_rows"),
                _pick(frame, "current_rows"),
            )
            if c
        ]
        counts = features[level].astype(str).value_counts() if level else pd.Series(dtype=int)
        if not counts.empty:
            parts.append(
                _note(
                    "Features by drift level: "
                    + ", ".join(f"{k} {v}" for k, v in counts.items())
                    + "."
                )
            )
        parts.append(
            _table(
                features[cols].head(30),
                {psi: fmt_num, **({ks: fmt_num} if ks else {})},
                row_class=lambda r: str(r[level]) if level else "",
            )
        )
    parts.append(
        _note(
            "PSI (population stability index) measures how far today's distribution of a "
            "feature or of the scores moved from the one the model learned on: below 0.1 "
            "stable, 0.1–0.25 moderate, above 0.25 major. Drift does not prove the model got "
            "worse; the backtest below checks that with real outcomes."
        )
    )
    return "".join(parts)


def section_backtest(wh: Warehouse, model: pd.Series) -> str:
    frame, note = _optional(wh, "ml_backtest")
    if frame is None:
        return note
    band = _pick(frame, "score_band", "band")
    when = _pick(frame, "scored_at", "scoring_date", "cohort_scored_at")
    rate = _need(frame, "ml_backtest", "conversion_rate", "observed_rate")
    mean_p = _pick(frame, "mean_probability", "mean_predicted")
    auc = _pick(frame, "auc")
    parts = []
    if band and mean_p:  # the latest cohort that has rows per band
        rows, stamp = _latest(frame[frame[band].astype(str) != "all"])
        rows = rows.sort_values(band)
        if not rows.empty:
            fig = Figure(figsize=(8, 3.8))
            ax = fig.subplots()
            x = range(len(rows))
            ax.bar(
                [i - 0.2 for i in x],
                rows[mean_p].astype(float),
                width=0.4,
                color="#9ecae1",
                label="predicted (mean probability)",
            )
            ax.bar(
                [i + 0.2 for i in x],
                rows[rate].astype(float),
                width=0.4,
                color=MODEL_COLORS["xgboost"],
                label="observed conversion rate",
            )
            ax.set_xticks(list(x), [f"band {b}" for b in rows[band].astype(str)])
            ax.yaxis.set_major_formatter(lambda y, _: f"{100 * y:.1f}%")
            ax.set(title=f"Cohort scored {fmt_time(stamp)}: predicted vs what happened")
            ax.legend(fontsize=8)
            fig.tight_layout()
            parts.append(_png(fig, "Backtest: predicted and observed conversion by band"))
    if auc and when and band:
        overall = frame[frame[band].astype(str) == "all"].sort_values(when)
        if overall[when].nunique() >= 2:
            fig = Figure(figsize=(8, 3.2))
            ax = fig.subplots()
            ax.plot(
                pd.to_datetime(overall[when]),
                overall[auc].astype(float),
                "o-",
                color=MODEL_COLORS["xgboost"],
            )
            ax.set(ylabel="AUC", title="Backtest AUC by scored cohort")
            fig.autofmt_xdate()
            fig.tight_layout()
            parts.append(_png(fig, "Backtest AUC over scored cohorts"))
    shown = frame.sort_values(
        [c for c in (when, band) if c],
        ascending=[False, True][: len([c for c in (when, band) if c])],
    )
    pct = {c: (lambda v: fmt_pct(v, 2)) for c in (rate, mean_p) if c}
    parts.append(_table(shown.head(50), {**pct, **({auc: fmt_num} if auc else {})}))
    parts.append(
        _note(
            "The backtest scores leads as they were at an earlier scoring run and, once the "
            "prediction horizon has passed, compares the scores with what happened: the predicted "
            "and observed rates per band should match, and the AUC should stay near the test AUC "
            "of the registry."
        )
    )
    return "".join(parts)


def section_health(wh: Warehouse, model: pd.Series) -> str:
    frame, note = _optional(wh, "ml_model_health")
    if frame is None:
        return note
    latest, stamp = _latest(frame)
    row = latest.iloc[0]
    flag = _pick(frame, "requires_retraining", "needs_retraining", "retrain")
    reasons = _pick(frame, "reasons", "reason")
    parts = []
    if flag is not None:
        retrain = bool(row[flag]) if not _missing(row[flag]) else False
        text = "Retraining recommended" if retrain else "Healthy: no retraining needed"
        why = ""
        if reasons and not _missing(row[reasons]) and str(row[reasons]).strip():
            why = f" — {_esc(row[reasons])}"
        parts.append(
            f'<div class="{"banner" if retrain else "ok"}"><strong>{_esc(text)}</strong>{why}</div>'
        )
    facts = [(c, row[c]) for c in frame.columns if c not in (flag, reasons)]
    parts.append(
        '<table class="facts">'
        + "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(_cell(v))}</td></tr>" for k, v in facts)
        + "</table>"
    )
    if len(frame) > 1:
        when = _pick(frame, "scored_at", "scoring_date", "computed_at", "checked_at")
        history = frame.sort_values(when, ascending=False) if when else frame
        parts.append(
            f"<details><summary>All {len(frame)} health checks</summary>"
            + _table(history.head(50))
            + "</details>"
        )
    if stamp is not None:
        parts.append(_note(f"Latest check: {fmt_time(stamp)}."))
    return "".join(parts)


def _short_mix(name: str, width: int = 48) -> str:
    """A chart label for a channel mix: whole when short, else its size and first channels
    ('9 channels: direct + display + email + …'); the table below shows it whole."""
    if len(name) <= width:
        return name
    channels = name.split(" + ")
    head = f"{len(channels)} channels: "
    shown: list[str] = []
    for channel in channels:
        if len(head + " + ".join([*shown, channel])) + 4 > width:
            break
        shown.append(channel)
    return head + " + ".join(shown) + " + …"


def section_crm_delivery(wh: Warehouse, model: pd.Series) -> str:
    """The CRM sync's outbox: what was delivered, what waits, what failed or went to the dead
    letter (a lead whose same payload failed --max-failures times: not resent until its score
    changes)."""
    frame = wh.get("crm_delivery")
    if frame is None or frame.empty:
        return _not_available(
            "the CRM sync has not run against this warehouse (`lead-scoring sync-crm "
            "--endpoint URL` creates schema crm_sync)."
        )
    counts = dict(zip(frame["status"], frame["leads"], strict=True))
    parts = []
    dead, failed = int(counts.get("dead_letter", 0)), int(counts.get("failed", 0))
    pending = int(counts.get("pending", 0))
    if dead or failed or pending:
        parts.append(
            _note(
                f"{fmt_num(dead, 0)} lead(s) in the dead letter, {fmt_num(failed, 0)} failed, "
                f"{fmt_num(pending, 0)} pending: the CRM does not show their latest score. "
                "Failed leads are sent again by the next sync; dead-letter leads (the same "
                "payload failed --max-failures times) once their score changes, or, with the "
                "cause fixed, after `delete from crm_sync.outbox where status = "
                "'dead_letter'`.",
                "warn",
            )
        )
    else:
        parts.append(_note("Every queued score reached the CRM.", "key"))
    parts.append(frame.to_html(index=False, na_rep="–", classes="crm", border=0, escape=True))
    return "\n".join(parts)


def section_channel_mix(wh: Warehouse, model: pd.Series) -> str:
    """Which journeys make good leads (fct_channel_mix_performance): lift per channel mix."""
    frame, note = _optional(wh, "fct_channel_mix_performance")
    if frame is None:
        return note
    mix = _need(frame, "fct_channel_mix_performance", "channel_mix")
    leads = _need(frame, "fct_channel_mix_performance", "n_leads")
    rate = _need(frame, "fct_channel_mix_performance", "conversion_rate")
    lift = _pick(frame, "lift")
    pooled = _pick(frame, "is_pooled")
    is_pooled = (
        frame[pooled].fillna(False).astype(bool) if pooled else pd.Series(False, frame.index)
    )
    ordered = pd.concat(
        [
            frame[~is_pooled].sort_values([leads, mix], ascending=[False, True]),
            frame[is_pooled],
        ]
    )
    parts = []
    base = _pick(frame, "base_conversion_rate")
    runs = _pick(frame, "matured_run_count")
    if base:
        total = int(frame[leads].sum())
        parts.append(
            _note(
                f"{fmt_num(total, 0)} scored leads of the matured runs convert at "
                f"{fmt_pct(frame[base].max(), 2)} within the horizon (the base rate); "
                f"{len(frame) - int(is_pooled.sum())} channel mixes stand alone"
                + (
                    f", {fmt_num(frame.loc[is_pooled, leads].sum(), 0)} leads are pooled into "
                    "'other combinations'."
                    if is_pooled.any()
                    else "."
                ),
                "key",
            )
        )
    if lift:
        drawn = ordered.head(CHANNEL_MIX_CHART_ROWS)
        drawn = drawn[drawn[lift].notna()]
        if not drawn.empty:
            fig = Figure(figsize=(9, 0.34 * len(drawn) + 1.4))
            ax = fig.subplots()
            y = range(len(drawn))[::-1]
            values = drawn[lift].astype(float)
            pooled_drawn = is_pooled.reindex(drawn.index).to_numpy()
            ax.barh(
                y,
                values,
                color=[
                    "#9ecae1" if was_pooled else ("#1a7f37" if v >= 1 else "#b8b8b8")
                    for v, was_pooled in zip(values, pooled_drawn, strict=True)
                ],
            )
            labels = [
                f"{_short_mix(name)} ({fmt_num(n, 0)})"
                for name, n in zip(drawn[mix].astype(str), drawn[leads], strict=True)
            ]
            ax.set_yticks(list(y), labels, fontsize=8)
            ax.axvline(1.0, color="black", linestyle=":", linewidth=1)
            ax.set(
                xlabel="lift (conversion rate / base rate; 1 = the average scored lead)",
                title="Conversion within the horizon by channel mix (scored leads)",
            )
            fig.tight_layout()
            parts.append(_png(fig, "Lift of the channel mixes with the most scored leads"))
    cols = [
        c
        for c in (
            mix,
            _pick(frame, "channel_count"),
            _pick(frame, "combination_count"),
            leads,
            _pick(frame, "n_converted"),
            rate,
            _pick(frame, "mean_conversion_probability"),
            lift,
            runs,
        )
        if c
    ]
    formats = {
        c: (lambda v: fmt_num(v, 0))
        for c in (leads, _pick(frame, "n_converted"), _pick(frame, "combination_count"))
        if c
    }
    formats[rate] = lambda v: fmt_pct(v, 2)
    mean_p = _pick(frame, "mean_conversion_probability")
    if mean_p:
        formats[mean_p] = lambda v: fmt_pct(v, 2)
    if lift:
        formats[lift] = lambda v: "–" if _missing(v) else f"{float(v):.2f}×"
    headers = {
        mix: "channel mix",
        "channel_count": "channels",
        "combination_count": "mixes",
        leads: "scored leads",
        "n_converted": "converted",
        rate: "conversion rate",
        "mean_conversion_probability": "mean predicted",
        "matured_run_count": "matured runs",
    }
    table = _table(ordered[cols].reset_index(drop=True), formats, headers)
    parts.append(
        table
        if len(ordered) <= 30
        else _table(ordered[cols].head(30).reset_index(drop=True), formats, headers)
        + f"<details><summary>All {len(ordered)} channel mixes</summary>{table}</details>"
    )
    parts.append(
        _note(
            "A lead's channel mix is the set of channels it had touched when it was scored "
            "(nothing later), over the scoring runs whose prediction horizon has passed; a lead "
            "scored in two such runs counts in each. Lift above 1: leads with that journey "
            "converted more often than the average scored lead. It describes journeys, not "
            "causes: a mix can convert well because of who takes it. Mixes with few leads are "
            "pooled into 'other combinations' (var channel_mix_min_leads)."
        )
    )
    return "".join(parts)


def _experiment_difference(value: object) -> str:
    return "–" if _missing(value) else fmt_signed(100 * float(value), 2) + " pt"


def section_experiment(wh: Warehouse, model: pd.Series) -> str:
    """The A/B test of the model against the rule points (ml_experiment_results)."""
    frame, note = _optional(wh, "ml_experiment_results")
    arms = wh.get("experiment_arms")
    rules_leads = 0
    if arms is not None and not arms.empty:
        rules_leads = int(arms.loc[arms["experiment_arm"] == "rules", "n_leads"].sum())
    if frame is None and rules_leads and wh.get("ml_experiment_results") is not None:
        return _not_available(
            f"an experiment is running ({fmt_num(rules_leads, 0)} open leads in the rules arm of "
            "the latest scoring run), but none of its scoring runs has matured yet: its results "
            "appear one prediction horizon after its first run."
        )
    if frame is None:
        return note
    table_name = "ml_experiment_results"
    name = _need(frame, table_name, "experiment_name")
    segment = _need(frame, table_name, "segment")
    needed = (
        "model_leads",
        "model_conversions",
        "model_conversion_rate",
        "rules_leads",
        "rules_conversions",
        "rules_conversion_rate",
        "rate_difference",
        "ci_lower",
        "ci_upper",
        "is_significant",
    )
    for column in needed:
        _need(frame, table_name, column)
    order = {s: i for i, s in enumerate(EXPERIMENT_SEGMENTS)}
    parts = []
    for experiment in sorted(frame[name].astype(str).unique()):
        rows = frame[frame[name].astype(str) == experiment].copy()
        rows = rows.assign(_order=rows[segment].map(order).fillna(len(order))).sort_values(
            "_order"
        )
        runs = _pick(rows, "matured_runs")
        bands = rows[rows[segment].astype(str).isin(["A", "B", "C", "D"])]
        facts = [
            f"{fmt_num(bands['model_leads'].sum(), 0)} leads in the model arm, "
            f"{fmt_num(bands['rules_leads'].sum(), 0)} in the rules arm"
        ]
        if runs:
            facts.insert(0, f"{fmt_num(rows[runs].max(), 0)} matured scoring run(s)")
        parts.append(f"<h3>{_esc(f'Experiment {experiment!r}')}</h3>")
        parts.append(_note(", ".join(facts) + ".", "key"))
        labels = [EXPERIMENT_LABELS.get(str(s), f"band {s}") for s in rows[segment]]
        fig = Figure(figsize=(11, 3.6))
        rate_ax, diff_ax = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
        x = range(len(rows))
        for offset, arm in ((-0.2, "model"), (0.2, "rules")):
            rate_ax.bar(
                [i + offset for i in x],
                rows[f"{arm}_conversion_rate"].astype(float).fillna(0.0),
                width=0.4,
                color=ARM_COLORS[arm],
                label=f"{arm} arm",
            )
        rate_ax.set_xticks(list(x), labels)
        rate_ax.yaxis.set_major_formatter(lambda y, _: f"{100 * y:.1f}%")
        rate_ax.set(title="Conversion rate within the horizon, by arm")
        rate_ax.legend(fontsize=8)
        difference = rows["rate_difference"].astype(float)
        lower = rows["ci_lower"].astype(float)
        upper = rows["ci_upper"].astype(float)
        y = list(range(len(rows)))[::-1]
        shown = difference.notna().to_numpy()
        diff_ax.errorbar(
            100 * difference[shown],
            [v for v, ok in zip(y, shown, strict=True) if ok],
            xerr=[
                100 * (difference - lower)[shown].clip(lower=0),
                100 * (upper - difference)[shown].clip(lower=0),
            ],
            fmt="o",
            color=ARM_COLORS["model"],
            ecolor="#444444",
            capsize=3,
        )
        diff_ax.axvline(0, color="black", linestyle=":", linewidth=1)
        diff_ax.set_yticks(y, labels)
        diff_ax.set(
            xlabel="model − rules, percentage points (95% interval)",
            title="Difference",
        )
        fig.tight_layout()
        parts.append(
            _png(fig, f"A/B test {experiment}: conversion rate by arm and the difference")
        )
        shown_rows = pd.DataFrame(
            {
                "segment": labels,
                "model arm": [
                    f"{fmt_num(c, 0)} / {fmt_num(n, 0)} = {fmt_pct(r, 2)}"
                    for c, n, r in zip(
                        rows["model_conversions"],
                        rows["model_leads"],
                        rows["model_conversion_rate"],
                        strict=True,
                    )
                ],
                "rules arm": [
                    f"{fmt_num(c, 0)} / {fmt_num(n, 0)} = {fmt_pct(r, 2)}"
                    for c, n, r in zip(
                        rows["rules_conversions"],
                        rows["rules_leads"],
                        rows["rules_conversion_rate"],
                        strict=True,
                    )
                ],
                "difference": [_experiment_difference(v) for v in rows["rate_difference"]],
                "95% interval": [
                    "–"
                    if _missing(lo) or _missing(hi)
                    else f"{fmt_signed(100 * float(lo), 2)} to {fmt_signed(100 * float(hi), 2)} pt"
                    for lo, hi in zip(rows["ci_lower"], rows["ci_upper"], strict=True)
                ],
                "significant": [
                    bool(v) if not _missing(v) else False for v in rows["is_significant"]
                ],
            }
        )
        parts.append(
            _table(
                shown_rows,
                row_class=lambda r: "main" if r["significant"] else "",
            )
        )
    parts.append(
        _note(
            "Each open lead is in the model arm (ranked by the calibrated probability) or the "
            "rules arm (ranked by the rule points) by a hash of its id, so the arms are random "
            "shares of the same leads. Top 10% / 20%: each arm's best leads by its own priority; "
            "bands hold the same share of leads in both arms. A rate is converted / leads, each "
            "lead counted once, at its first matured run. The difference is model minus rules: "
            "above 0, the model's leads converted more. When the 95% interval includes 0 the test "
            "cannot tell the two apart yet: keep it running. Judge the segment chosen before the "
            "test started (e.g. the top 10%): with six rows, one may look significant by chance."
        )
    )
    return "".join(parts)


def _cell(value: object) -> str:
    """A value for a table cell: yes/no, a date, an integer or 3 decimals, '–' when missing."""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, pd.Timestamp | datetime):
        return fmt_time(value)
    if _is_number(value) and not _missing(value):
        integer = float(value).is_integer() and abs(float(value)) >= 1  # type: ignore[arg-type]
        return fmt_num(value, 0 if integer else 3)
    return "–" if _missing(value) else str(value)


# ---------------------------------------------------------------- page

SECTIONS: Sequence[tuple[str, str, Callable[[Warehouse, pd.Series], str], bool]] = (
    # anchor, title, renderer, optional (fails soft)
    ("model", "Model", section_header, False),
    ("headline", "Headline numbers", section_headline, False),
    ("reliability", "Reliability curve", section_reliability, False),
    ("gains", "Gains and lift", section_gains, False),
    ("scores", "Score distribution by band", section_scores, False),
    ("top_leads", "Top open leads", section_top_leads, True),
    ("importance", "Feature importance", section_importance, False),
    ("segments", "Segments", section_segments, False),
    ("attribution", "Attribution by model", section_attribution, False),
    ("channel_mix", "Which journeys make good leads", section_channel_mix, True),
    ("drift", "Drift", section_drift, True),
    ("backtest", "Backtest", section_backtest, True),
    ("experiment", "A/B test: model vs rules", section_experiment, True),
    ("health", "Model health", section_health, True),
    ("crm", "CRM delivery", section_crm_delivery, True),
)

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
 margin:0 auto;max-width:1180px;padding:1.5rem 2rem;color:#1d1d1f;line-height:1.45}
h1{margin-bottom:.2rem}h2{border-bottom:2px solid #e3e3e3;padding-bottom:.2rem;margin-top:2.2rem}
h3{margin:1.2rem 0 .4rem}nav{margin:.8rem 0 1rem}nav a{margin-right:.9rem;color:#1f5fa8}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.88rem}
th,td{border:1px solid #d9d9d9;padding:.25rem .55rem;text-align:left;vertical-align:top}
thead th{background:#f3f5f8}td.num{text-align:right;font-variant-numeric:tabular-nums}
table.facts th{background:#f7f7f7;font-weight:600;width:18rem}
tr.main td{font-weight:600}tr.flag td,tr.major td{background:#fde2e1}
tr.moderate td{background:#fff4d6}td.better{color:#1a7f37}td.worse{color:#b42318}
img{max-width:100%;height:auto;display:block;margin:.6rem 0}
.note{color:#444;font-size:.92rem;max-width:60rem}.key{font-weight:600;font-size:1rem}
.na{background:#f3f5f8;border-left:4px solid #9aa5b1;padding:.5rem .8rem;color:#333}
.warn{background:#fff4d6;border-left:4px solid #f2b134;padding:.5rem .8rem}
.banner{background:#fde2e1;border-left:6px solid #b42318;padding:.7rem 1rem;margin:.6rem 0}
.ok{background:#e6f4ea;border-left:6px solid #1a7f37;padding:.7rem 1rem;margin:.6rem 0}
details{margin:.4rem 0 1rem}summary{cursor:pointer;color:#1f5fa8}
footer{margin-top:3rem;color:#777;font-size:.8rem}code{font-size:.9em}
"""


def render_html(wh: Warehouse, generated_at: datetime | None = None) -> str:
    """The whole page as a string (pure: no file is written)."""
    model = _active_model(wh)
    generated_at = generated_at or datetime.now(UTC)
    sections = []
    for anchor, title, render, optional in SECTIONS:
        if optional:
            try:
                body = render(wh, model)
            except Exception as exc:  # noqa: BLE001 - optional sections fail soft, by design
                first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                print(
                    f"lead-scoring report: warning: section '{title}' skipped: {first}",
                    file=sys.stderr,
                )
                body = _not_available(
                    f"the section could not be drawn from this table "
                    f"({type(exc).__name__}: {first})."
                )
        else:
            body = render(wh, model)
        sections.append(Section(anchor, title, body))
    version = str(model["model_version"])
    nav = "".join(f'<a href="#{s.anchor}">{_esc(s.title)}</a>' for s in sections)
    body = "".join(
        f'<section id="{s.anchor}"><h2>{_esc(s.title)}</h2>{s.body}</section>' for s in sections
    )
    fallback = " (rule-based fallback)" if model["model_name"] == "rule_points" else ""
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Lead scoring model card — {_esc(version)}</title><style>{CSS}</style></head>"
        f"<body><h1>Lead scoring model card{_esc(fallback)}</h1>"
        f'<p class="note">Model version <strong>{_esc(version)}</strong> · generated '
        f"{_esc(generated_at.strftime('%Y-%m-%d %H:%M UTC'))} from <code>{_esc(wh.path.name)}"
        f"</code> · a static page: no server, no scripts, nothing fetched.</p>"
        f"<nav>{nav}</nav>{body}"
        "<footer>Written by <code>lead-scoring report</code> from the warehouse tables "
        "ml_models, ml_model_metrics, ml_calibration_bins, ml_lift_by_decile, "
        "ml_feature_importance, ml_segment_metrics, scored_leads (score columns only), "
        "fct_channel_attribution, fct_channel_mix_performance, ml_drift, ml_backtest, "
        "ml_experiment_results, ml_model_health and crm_sync.outbox (status counts).</footer>"
        "</body></html>\n"
    )


def write_report(page: str, out_dir: Path) -> Path:
    """Write ``<out_dir>/index.html`` via a temporary file and a rename (never half a page)."""
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "index.html"
    temporary = out_dir / f".index.html.{os.getpid()}.tmp"
    try:
        temporary.write_text(page, encoding="utf-8")
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return target


def build_report(duckdb_path: Path, out_dir: Path, generated_at: datetime | None = None) -> Path:
    """Load the warehouse, render the model card and write it; returns the index.html path."""
    return write_report(render_html(load_warehouse(Path(duckdb_path)), generated_at), out_dir)
