"""The Superset import bundle: the ZIP (metadata.yaml, databases/, datasets/, charts/,
dashboards/) built from the dashboard code over a published folder.

Each dataset's columns are read from the published BI database, and the database URI points
at the published folder given then (never a path in the code). UUIDs are derived from names,
so a re-import updates the same objects.
"""

from __future__ import annotations

import hashlib
import io
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import yaml

from lead_scoring.dashboard.assets import (
    GRID_COLUMNS,
    Assets,
    LayoutChart,
    dataset_reads,
    dataset_source,
    layout_chart_names,
    layout_rows,
    load_assets,
)
from lead_scoring.dashboard.errors import DashboardError
from lead_scoring.publish import BI_DATABASE, PUBLISHED_TABLES, SCHEMA
from lead_scoring.warehouse import open_warehouse

ASSET_VERSION = "1.0.0"
BUNDLE_ROOT = "lead_scoring_dashboard"
DATABASE_NAME = "lead_scoring (published)"
DATABASE_FILE = "lead_scoring"
# Every UUID of the bundle is uuid5(_NAMESPACE, "<kind>:<name>"): stable across imports.
_NAMESPACE = uuid.UUID("6f0f3f7e-1d43-4f55-9a53-5b6a8d1f1c2b")
DEFAULT_MARKDOWN_HEIGHT = 12

# Chart param keys that hold metrics (ad hoc shorthand becomes a SQL metric there).
_METRIC_KEYS = frozenset(
    {
        "metric",
        "metrics",
        "metric_b",
        "metrics_b",
        "percent_metrics",
        "timeseries_limit_metric",
        "x",
        "y",
        "size",
        "secondary_metric",
    }
)
# The one metric of every dataset.
_COUNT_METRIC = {
    "metric_name": "count",
    "verbose_name": "COUNT(*)",
    "metric_type": "count",
    "expression": "count(*)",
    "description": None,
    "d3format": None,
    "extra": None,
    "warning_text": None,
}


def stable_uuid(kind: str, name: str) -> str:
    """The UUID of a bundle object: the same for the same kind and name, import after import."""
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{name}"))


def _short_digest(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def bi_database_path(published_dir: Path | str) -> Path:
    """The published BI database of a published folder (absolute)."""
    return Path(published_dir).resolve() / BI_DATABASE


def database_uri(published_dir: Path | str) -> str:
    """Read-only DuckDB URI of the published BI database; no file access beyond it."""
    path = bi_database_path(published_dir)
    if any(ch in str(path) for ch in "?#%"):
        raise DashboardError(f"the published folder {path.parent} has '?', '#' or '%' in it")
    options = (
        "access_mode=read_only&enable_external_access=false"
        "&autoinstall_known_extensions=false&autoload_known_extensions=false"
    )
    return f"duckdb:///{path}?{options}"


# --------------------------------------------------------------------------- charts


def _adhoc(item: Any, metric: bool) -> Any:
    if isinstance(item, list):
        return [_adhoc(i, metric) for i in item]
    if not (isinstance(item, dict) and set(item) <= {"sql", "label"} and "sql" in item):
        return item
    label = item.get("label") or item["sql"]
    expanded: dict[str, Any] = {
        "expressionType": "SQL",
        "sqlExpression": item["sql"],
        "label": label,
    }
    if metric:
        digest = _short_digest(f"{label}|{item['sql']}")
        expanded |= {"hasCustomLabel": "label" in item, "optionName": f"metric_{digest}"}
    return expanded


def expand_params(params: dict[str, Any]) -> dict[str, Any]:
    """Chart params with the {sql, label} shorthand turned into Superset's ad hoc form."""
    return {key: _adhoc(value, key in _METRIC_KEYS) for key, value in params.items()}


def _where_filters(where: list[str] | str | None) -> list[dict[str, Any]]:
    conditions = [where] if isinstance(where, str) else list(where or [])
    return [
        {
            "clause": "WHERE",
            "expressionType": "SQL",
            "sqlExpression": condition,
            "filterOptionName": "filter_" + _short_digest(condition),
        }
        for condition in conditions
    ]


def _chart_config(name: str, spec: dict[str, Any], dataset_uuid: str) -> dict[str, Any]:
    for key in ("slice_name", "viz_type", "dataset"):
        if not spec.get(key):
            raise DashboardError(f"charts/{name}.yaml: `{key}` is required")
    params = expand_params(dict(spec.get("params") or {}))
    params["viz_type"] = spec["viz_type"]
    filters = _where_filters(spec.get("where"))
    if filters:
        params["adhoc_filters"] = [*params.get("adhoc_filters", []), *filters]
    params.setdefault("adhoc_filters", [])
    return {
        "slice_name": spec["slice_name"],
        "description": spec.get("description"),
        "certified_by": None,
        "certification_details": None,
        "viz_type": spec["viz_type"],
        "params": params,
        "query_context": None,
        "cache_timeout": None,
        "uuid": spec.get("uuid") or stable_uuid("chart", name),
        "version": ASSET_VERSION,
        "dataset_uuid": dataset_uuid,
    }


# --------------------------------------------------------------------------- datasets


def _columns(
    con: duckdb.DuckDBPyConnection,
    table: str,
    sql: str | None,
    verbose_names: dict[str, str] | None = None,
) -> list[dict]:
    query = sql if sql else f'select * from {SCHEMA}."{table}"'
    described = con.execute(f"describe ({query})").fetchall()
    verbose_names = verbose_names or {}
    unknown = sorted(set(verbose_names) - {row[0] for row in described})
    if unknown:
        raise DashboardError(f"dataset {table}: verbose_names for unknown column(s) {unknown}")
    return [
        {
            "column_name": name,
            "type": col_type,
            "is_dttm": col_type.upper().startswith(("DATE", "TIMESTAMP")),
            "is_active": True,
            "groupby": True,
            "filterable": True,
            "expression": None,
            "description": None,
            "verbose_name": verbose_names.get(name),
            "python_date_format": None,
            "extra": None,
        }
        for name, col_type, *_ in described
    ]


def _checked_reads(
    chart: str, dataset: str, table: str, sql: str | None, published_tables: tuple[str, ...]
) -> set[str]:
    """The tables a chart's dataset reads; DashboardError if none or one is not published."""
    reads = dataset_reads(table, sql)
    if sql and not reads:
        raise DashboardError(
            f"datasets/{dataset}.yaml: its SQL reads no main.<table>: name the "
            "published tables it reads as main.<table>"
        )
    unpublished = sorted(reads - set(published_tables))
    if unpublished:
        raise DashboardError(
            f"chart {chart}: dataset {dataset} reads {unpublished}, not in "
            "lead_scoring.publish.PUBLISHED_TABLES (add it there to publish it)"
        )
    return reads


def _dataset_config(
    table: str,
    sql: str | None,
    extra: dict[str, Any],
    dataset_uuid: str,
    columns: list[dict],
    database_uuid: str,
) -> dict[str, Any]:
    return {
        "table_name": table,
        "schema": SCHEMA,
        "catalog": None,
        "sql": sql,
        "description": extra.get("description"),
        "main_dttm_col": extra.get("main_dttm_col"),
        "default_endpoint": None,
        "offset": 0,
        "cache_timeout": None,
        "params": None,
        "template_params": None,
        "filter_select_enabled": True,
        "fetch_values_predicate": None,
        "extra": None,
        "normalize_columns": False,
        "always_filter_main_dttm": False,
        "uuid": dataset_uuid,
        "metrics": [dict(_COUNT_METRIC)],
        "columns": columns,
        "version": ASSET_VERSION,
        "database_uuid": database_uuid,
    }


def _database_config(uri: str, database_uuid: str) -> dict[str, Any]:
    return {
        "database_name": DATABASE_NAME,
        "sqlalchemy_uri": uri,
        "cache_timeout": None,
        "expose_in_sqllab": True,
        "allow_run_async": False,
        "allow_ctas": False,
        "allow_cvas": False,
        "allow_dml": False,
        "allow_csv_upload": False,
        "extra": {"allows_virtual_table_explore": True},
        "uuid": database_uuid,
        "version": ASSET_VERSION,
    }


# --------------------------------------------------------------------------- the dashboard


def _markdown_cell(number: int, row: dict[str, Any], parents: list[str]) -> dict[str, Any]:
    return {
        "type": "MARKDOWN",
        "id": f"MARKDOWN-{number}",
        "children": [],
        "parents": parents,
        "meta": {
            "code": str(row["markdown"]).strip(),
            "width": int(row.get("width", GRID_COLUMNS)),
            "height": int(row.get("height", DEFAULT_MARKDOWN_HEIGHT)),
        },
    }


def _chart_cell(
    chart: LayoutChart, parents: list[str], chart_uuids: dict[str, str], names: dict[str, str]
) -> dict[str, Any]:
    # chartId: a placeholder (its place in the layout) the import replaces
    # with the id Superset gives the chart
    placeholder = list(chart_uuids).index(chart.name) + 1
    return {
        "type": "CHART",
        "id": f"CHART-{chart.name}",
        "children": [],
        "parents": parents,
        "meta": {
            "uuid": chart_uuids[chart.name],
            "chartId": placeholder,
            "sliceName": names[chart.name],
            "width": chart.width,
            "height": chart.height,
        },
    }


def _position(title: str, rows: list, chart_uuids: dict[str, str], names: dict[str, str]) -> dict:
    position: dict[str, Any] = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
        "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
        "HEADER_ID": {"type": "HEADER", "id": "HEADER_ID", "meta": {"text": title}},
    }
    for number, row in enumerate(rows, start=1):
        row_id = f"ROW-{number}"
        parents = ["ROOT_ID", "GRID_ID", row_id]
        if isinstance(row, dict):
            cells = [_markdown_cell(number, row, parents)]
        else:
            cells = [_chart_cell(chart, parents, chart_uuids, names) for chart in row]
        position |= {cell["id"]: cell for cell in cells}
        position[row_id] = {
            "type": "ROW",
            "id": row_id,
            "children": [cell["id"] for cell in cells],
            "parents": ["ROOT_ID", "GRID_ID"],
            "meta": {"background": "BACKGROUND_TRANSPARENT"},
        }
        position["GRID_ID"]["children"].append(row_id)
    return position


def _dashboard_config(
    board: dict[str, Any], rows: list, chart_uuids: dict[str, str], names: dict[str, str]
) -> dict[str, Any]:
    title = board.get("title") or "Dashboard"
    return {
        "dashboard_title": title,
        "description": board.get("description"),
        "css": board.get("css") or "",
        "slug": board.get("slug"),
        "uuid": board.get("uuid") or stable_uuid("dashboard", board.get("slug") or title),
        "position": _position(title, rows, chart_uuids, names),
        "metadata": {
            "color_scheme": board.get("color_scheme", "supersetColors"),
            "label_colors": board.get("label_colors") or {},
            "shared_label_colors": [],
            "color_scheme_domain": [],
            "expanded_slices": {},
            "refresh_frequency": 0,
            "timed_refresh_immune_slices": [],
            "default_filters": "{}",
            "cross_filters_enabled": False,
            "native_filter_configuration": [],
        },
        "published": True,
        "certified_by": None,
        "certification_details": None,
        "version": ASSET_VERSION,
    }


# --------------------------------------------------------------------------- the ZIP


@dataclass
class Bundle:
    path: Path
    database_uri: str
    charts: list[str]
    datasets: list[str]
    tables: list[str] = field(default_factory=list)


def _checked_chart_names(assets: Assets) -> list[str]:
    """The layout's charts; DashboardError if one has no file or one appears twice."""
    names = layout_chart_names(assets.dashboard)
    missing = [n for n in names if n not in assets.charts]
    if missing:
        raise DashboardError(
            f"the layout names chart(s) without a file in {assets.root}/charts: {missing}"
        )
    if len(set(names)) != len(names):
        raise DashboardError("dashboard.yaml: a chart appears twice in the layout")
    return names


def _published_bi_database(published_dir: Path | str) -> Path:
    bi_path = bi_database_path(published_dir)
    if not bi_path.is_file():
        raise DashboardError(
            f"no published BI database at {bi_path}: run `make run` (or `lead-scoring publish "
            "--out DIR`) first"
        )
    return bi_path


def _write_zip(out: Path, files: dict[str, Any]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, content in files.items():
            bundle.writestr(f"{BUNDLE_ROOT}/{name}", yaml.safe_dump(content, sort_keys=False))
    out.write_bytes(buffer.getvalue())


def build_bundle(
    assets_dir: Path | str,
    published_dir: Path | str,
    out_zip: Path | str,
    published_tables: tuple[str, ...] = PUBLISHED_TABLES,
) -> Bundle:
    """Write the import ZIP of the dashboard over the published folder; return what is in it.

    Raises DashboardError when a chart of the layout has no file, a dataset reads a table
    that is not a published table or not in the published folder, or its SQL fails there."""
    assets = load_assets(assets_dir)
    rows = layout_rows(assets.dashboard)
    names = _checked_chart_names(assets)
    bi_path = _published_bi_database(published_dir)
    uri = database_uri(published_dir)
    database_uuid = stable_uuid("database", DATABASE_FILE)
    files: dict[str, Any] = {
        "metadata.yaml": {
            "version": ASSET_VERSION,
            "type": "assets",
            "timestamp": datetime.now(UTC).isoformat(),
        },
        f"databases/{DATABASE_FILE}.yaml": _database_config(uri, database_uuid),
    }
    dataset_uuids: dict[str, str] = {}
    chart_uuids: dict[str, str] = {}
    slice_names: dict[str, str] = {}
    tables_used: set[str] = set()
    con = open_warehouse(bi_path, error=DashboardError, hint="run `lead-scoring publish` first")
    try:
        for name in names:
            spec = assets.charts[name]
            dataset = spec.get("dataset")
            if not dataset:
                raise DashboardError(f"charts/{name}.yaml: `dataset` is required")
            if dataset not in dataset_uuids:
                table, sql = dataset_source(assets, dataset)
                reads = _checked_reads(name, dataset, table, sql, published_tables)
                extra = assets.datasets.get(dataset, {})
                try:
                    columns = _columns(con, table, sql, extra.get("verbose_names"))
                except duckdb.Error as exc:
                    first = str(exc).strip().splitlines()[0]
                    raise DashboardError(
                        f"chart {name}: dataset {dataset} cannot be read from {bi_path}: {first}"
                    ) from None
                tables_used |= reads
                dataset_uuids[dataset] = extra.get("uuid") or stable_uuid("dataset", dataset)
                files[f"datasets/{DATABASE_FILE}/{dataset}.yaml"] = _dataset_config(
                    table, sql, extra, dataset_uuids[dataset], columns, database_uuid
                )
            config = _chart_config(name, spec, dataset_uuids[dataset])
            chart_uuids[name] = config["uuid"]
            slice_names[name] = config["slice_name"]
            files[f"charts/{name}.yaml"] = config
    finally:
        con.close()
    files["dashboards/lead_scoring.yaml"] = _dashboard_config(
        assets.dashboard, rows, chart_uuids, slice_names
    )
    out = Path(out_zip)
    _write_zip(out, files)
    return Bundle(out, uri, names, sorted(dataset_uuids), sorted(tables_used))
