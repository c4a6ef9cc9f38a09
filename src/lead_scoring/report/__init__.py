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

The package, in the order a page is made:

* ``load``: the tables, read through :func:`lead_scoring.warehouse.open_warehouse`;
* ``sections``: one function per section computing what it shows (``model``: the model card;
  ``business``: attribution, channel mixes, A/B test, CRM; ``monitoring``: drift, backtest,
  health), with ``formatting`` for every number and table and ``plots`` for every figure;
* ``rendering``: the Jinja2 environment (autoescape on) over the folder ``templates/``:
  ``base.html.j2`` (the page), ``macros.html.j2`` (notes, tables, figures), ``report.css`` (all
  the style) and one ``sections/<name>.html.j2`` per section;
* ``page``: the page assembled and written.
"""

from __future__ import annotations

from lead_scoring.report.formatting import fmt_num, fmt_pct, fmt_signed, fmt_time
from lead_scoring.report.load import (
    OPTIONAL_TABLES,
    REQUIRED_TABLES,
    ReportError,
    Warehouse,
    load_warehouse,
)
from lead_scoring.report.page import Section, build_report, render_html, write_report
from lead_scoring.report.sections import SECTIONS

__all__ = [
    "OPTIONAL_TABLES",
    "REQUIRED_TABLES",
    "SECTIONS",
    "ReportError",
    "Section",
    "Warehouse",
    "build_report",
    "fmt_num",
    "fmt_pct",
    "fmt_signed",
    "fmt_time",
    "load_warehouse",
    "render_html",
    "write_report",
]
