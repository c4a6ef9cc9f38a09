"""Say where the results of a build are: the warehouse file and its main tables."""

from __future__ import annotations

import os
from pathlib import Path

from lead_scoring.warehouse import open_warehouse

# The tables users open first, in the order they are shown; others are summarised.
HEADLINE_TABLES = (
    "scored_leads",
    "scored_leads_history",
    "ml_model_health",
    "fct_channel_attribution",
    "fct_campaign_attribution",
    "fct_conversion_paths",
    "fct_lead_features",
    "ml_model_metrics",
    "fct_data_quality_issues",
)


def describe_results(duckdb_path: Path) -> str:
    """Return a short, human-readable summary of a built warehouse file."""
    duckdb_path = Path(duckdb_path).resolve()
    con = open_warehouse(duckdb_path, error=FileNotFoundError, hint="run `make run` first")
    try:
        relations = con.execute(
            "select table_name, table_type from information_schema.tables "
            "where table_schema = 'main' order by table_name"
        ).fetchall()
        kinds = dict(relations)
        lines = [f"Warehouse: {duckdb_path}", "Main tables (rows):"]
        for name in HEADLINE_TABLES:
            if name in kinds:
                rows = con.execute(f'select count(*) from main."{name}"').fetchall()[0][0]
                lines.append(f"  {name:28s} {rows:>12,d}")
        layers: dict[str, int] = {}
        for name, _ in relations:
            layer = name.split("_", 1)[0] if "_" in name else name
            layers[layer] = layers.get(layer, 0) + 1
        summary = ", ".join(f"{count} {layer}_*" for layer, count in sorted(layers.items()))
        lines.append(f"All relations in schema main: {summary}")
    finally:
        con.close()
    docs = Path("target/index.html").resolve()
    if docs.exists():
        lines.append(f"dbt docs: {docs} (serve with: .venv/bin/dbt docs serve)")
    published = Path(os.environ.get("LEAD_SCORING_PUBLISH_DIR", "published")).resolve()
    if (published / "_manifest.json").exists():
        lines.append(f"Published for BI tools: {published} (Parquet + lead_scoring_bi.duckdb)")
    report = Path("reports/index.html").resolve()
    if report.exists():
        lines.append(f"Model report: {report}")
    query = f"duckdb.connect('{duckdb_path}', read_only=True).sql('from scored_leads').show()"
    lines.append(f'Query it: .venv/bin/python -c "import duckdb; {query}"')
    return "\n".join(lines)
