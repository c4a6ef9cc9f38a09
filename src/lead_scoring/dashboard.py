"""The Superset dashboard, kept as code in dashboard/, bundled and served over a published copy.

Superset runs in its own venv (.venv-dashboard, requirements-dashboard.txt); this module runs
in the project venv and drives it through subprocesses, so the two dependency sets never mix.

The code (dashboard/):

- `dashboard.yaml`: title, slug and the layout, a list of rows. A row is a list of charts
  (a chart name, or `{chart: NAME, width: W, height: H}`; widths are out of 12 and default
  to an equal share) or `{markdown: TEXT, height: H}`.
- `charts/<name>.yaml`: one chart: `slice_name`, `viz_type`, `dataset` (a published table,
  or a virtual dataset of datasets/), `params` (Superset's chart params), optional `where`
  (SQL conditions) and `description`. In params, `{sql: EXPR, label: NAME}` is short for
  Superset's ad hoc SQL metric (under a metric key) or ad hoc SQL column (elsewhere).
- `datasets/<name>.yaml`: a virtual dataset (`sql` over `main.<published table>`), or extra
  settings (description, main_dttm_col, verbose_names: column headers) of a published table
  of the same name. A chart on a published table needs no dataset file: its dataset is
  generated, with the columns read from the published BI database.

`build_bundle` turns that into the ZIP Superset imports (metadata.yaml, databases/, datasets/,
charts/, dashboards/), reading each dataset's columns from the published BI database and
writing the database URI to point at the published folder given then (never a path in the
code). UUIDs are derived from names, so a re-import updates the same objects.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import yaml

from lead_scoring.publish import BI_DATABASE, MANIFEST, PUBLISHED_TABLES, SCHEMA
from lead_scoring.warehouse import open_warehouse

DEFAULT_ASSETS_DIR = Path("dashboard")
DEFAULT_PUBLISHED_DIR = Path("published")
DEFAULT_HOME = Path(".superset")
DEFAULT_VENV = Path(".venv-dashboard")
DEFAULT_PORT = 8088
PORT_ENV = "LEAD_SCORING_DASHBOARD_PORT"
PASSWORD_ENV = "LEAD_SCORING_DASHBOARD_PASSWORD"
ADMIN_USER = "admin"
PASSWORD_FILE = "admin_password"

ASSET_VERSION = "1.0.0"
BUNDLE_ROOT = "lead_scoring_dashboard"
DATABASE_NAME = "lead_scoring (published)"
DATABASE_FILE = "lead_scoring"
# Every UUID of the bundle is uuid5(_NAMESPACE, "<kind>:<name>"): stable across imports.
_NAMESPACE = uuid.UUID("6f0f3f7e-1d43-4f55-9a53-5b6a8d1f1c2b")
GRID_COLUMNS = 12
DEFAULT_CHART_HEIGHT = 50
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
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# A table a virtual dataset reads: main.<name> (or main."<name>").
_TABLE_REF = re.compile(r'\bmain\s*\.\s*"?([A-Za-z_][A-Za-z0-9_]*)"?', re.IGNORECASE)


class DashboardError(Exception):
    """The dashboard cannot be built or served; the message says what to fix."""


# --------------------------------------------------------------------------- the code


@dataclass(frozen=True)
class Assets:
    root: Path
    dashboard: dict[str, Any]
    charts: dict[str, dict[str, Any]]
    datasets: dict[str, dict[str, Any]]


@dataclass(frozen=True)
class LayoutChart:
    name: str
    width: int
    height: int


def stable_uuid(kind: str, name: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{name}"))


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise DashboardError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise DashboardError(f"{path}: expected a mapping at the top level")
    return data


def load_assets(assets_dir: Path | str = DEFAULT_ASSETS_DIR) -> Assets:
    """Read dashboard.yaml, charts/*.yaml and datasets/*.yaml (names = file stems)."""
    root = Path(assets_dir)
    if not (root / "dashboard.yaml").is_file():
        raise DashboardError(f"no dashboard.yaml in {root.resolve()}")
    charts = {p.stem: _read_yaml(p) for p in sorted((root / "charts").glob("*.yaml"))}
    datasets = {p.stem: _read_yaml(p) for p in sorted((root / "datasets").glob("*.yaml"))}
    for kind, items in (("chart", charts), ("dataset", datasets)):
        for name in items:
            if not _NAME.match(name):
                raise DashboardError(f"{kind} file name {name!r}: use lower_snake_case")
    return Assets(root, _read_yaml(root / "dashboard.yaml"), charts, datasets)


def layout_rows(dashboard: dict[str, Any]) -> list[list[LayoutChart] | dict[str, Any]]:
    """The rows of dashboard.yaml, chart entries resolved to name, width and height."""
    rows = dashboard.get("rows")
    if not isinstance(rows, list) or not rows:
        raise DashboardError("dashboard.yaml: `rows` must be a non-empty list")
    resolved: list[list[LayoutChart] | dict[str, Any]] = []
    for number, row in enumerate(rows, start=1):
        if isinstance(row, dict) and "markdown" in row:
            resolved.append(row)
            continue
        if not isinstance(row, list) or not row:
            raise DashboardError(
                f"dashboard.yaml row {number}: a list of charts or {{markdown: ...}}"
            )
        entries = [e if isinstance(e, dict) else {"chart": e} for e in row]
        fixed = sum(int(e["width"]) for e in entries if "width" in e)
        free = [e for e in entries if "width" not in e]
        share = (GRID_COLUMNS - fixed) // len(free) if free else 0
        charts = []
        for entry in entries:
            if not isinstance(entry.get("chart"), str):
                raise DashboardError(f"dashboard.yaml row {number}: {entry!r} names no chart")
            width = int(entry.get("width", share))
            charts.append(
                LayoutChart(entry["chart"], width, int(entry.get("height", DEFAULT_CHART_HEIGHT)))
            )
        total = sum(c.width for c in charts)
        if total > GRID_COLUMNS or any(c.width < 1 for c in charts):
            raise DashboardError(
                f"dashboard.yaml row {number}: widths {[c.width for c in charts]} must be "
                f"at least 1 and add up to at most {GRID_COLUMNS}"
            )
        resolved.append(charts)
    return resolved


def layout_chart_names(dashboard: dict[str, Any]) -> list[str]:
    return [c.name for row in layout_rows(dashboard) if isinstance(row, list) for c in row]


def tables_read_by(sql: str) -> set[str]:
    """The tables of schema main a virtual dataset's SQL reads (written main.<table>)."""
    return {match.group(1).lower() for match in _TABLE_REF.finditer(sql)}


def dataset_source(assets: Assets, name: str) -> tuple[str, str | None]:
    """(table_name, sql) of a chart's `dataset`: a virtual dataset, or a published table."""
    spec = assets.datasets.get(name, {})
    sql = spec.get("sql")
    return (spec.get("table_name") or name), (sql.strip() if sql else None)


# --------------------------------------------------------------------------- the bundle


def bi_database_path(published_dir: Path | str) -> Path:
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
        digest = hashlib.sha1(f"{label}|{item['sql']}".encode()).hexdigest()[:12]
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
            "filterOptionName": "filter_" + hashlib.sha1(condition.encode()).hexdigest()[:12],
        }
        for condition in conditions
    ]


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
        children = []
        if isinstance(row, dict):
            markdown_id = f"MARKDOWN-{number}"
            position[markdown_id] = {
                "type": "MARKDOWN",
                "id": markdown_id,
                "children": [],
                "parents": parents,
                "meta": {
                    "code": str(row["markdown"]).strip(),
                    "width": int(row.get("width", GRID_COLUMNS)),
                    "height": int(row.get("height", DEFAULT_MARKDOWN_HEIGHT)),
                },
            }
            children.append(markdown_id)
        else:
            for chart in row:
                chart_id = f"CHART-{chart.name}"
                # chartId: a placeholder (its place in the layout) the import replaces
                # with the id Superset gives the chart
                placeholder = list(chart_uuids).index(chart.name) + 1
                position[chart_id] = {
                    "type": "CHART",
                    "id": chart_id,
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
                children.append(chart_id)
        position[row_id] = {
            "type": "ROW",
            "id": row_id,
            "children": children,
            "parents": ["ROOT_ID", "GRID_ID"],
            "meta": {"background": "BACKGROUND_TRANSPARENT"},
        }
        position["GRID_ID"]["children"].append(row_id)
    return position


@dataclass
class Bundle:
    path: Path
    database_uri: str
    charts: list[str]
    datasets: list[str]
    tables: list[str] = field(default_factory=list)


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
    names = layout_chart_names(assets.dashboard)
    missing = [n for n in names if n not in assets.charts]
    if missing:
        raise DashboardError(
            f"the layout names chart(s) without a file in {assets.root}/charts: {missing}"
        )
    if len(set(names)) != len(names):
        raise DashboardError("dashboard.yaml: a chart appears twice in the layout")
    bi_path = bi_database_path(published_dir)
    if not bi_path.is_file():
        raise DashboardError(
            f"no published BI database at {bi_path}: run `make run` (or `lead-scoring publish "
            "--out DIR`) first"
        )
    uri = database_uri(published_dir)
    database_uuid = stable_uuid("database", DATABASE_FILE)
    files: dict[str, Any] = {
        "metadata.yaml": {
            "version": ASSET_VERSION,
            "type": "assets",
            "timestamp": datetime.now(UTC).isoformat(),
        },
        f"databases/{DATABASE_FILE}.yaml": {
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
        },
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
                reads = tables_read_by(sql) if sql else {table}
                if sql and not reads:
                    raise DashboardError(
                        f"datasets/{dataset}.yaml: its SQL reads no main.<table>: name the "
                        "published tables it reads as main.<table>"
                    )
                unpublished = sorted(reads - set(published_tables))
                if unpublished:
                    raise DashboardError(
                        f"chart {name}: dataset {dataset} reads {unpublished}, not in "
                        "lead_scoring.publish.PUBLISHED_TABLES (add it there to publish it)"
                    )
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
                files[f"datasets/{DATABASE_FILE}/{dataset}.yaml"] = {
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
                    "uuid": dataset_uuids[dataset],
                    "metrics": [
                        {
                            "metric_name": "count",
                            "verbose_name": "COUNT(*)",
                            "metric_type": "count",
                            "expression": "count(*)",
                            "description": None,
                            "d3format": None,
                            "extra": None,
                            "warning_text": None,
                        }
                    ],
                    "columns": columns,
                    "version": ASSET_VERSION,
                    "database_uuid": database_uuid,
                }
            config = _chart_config(name, spec, dataset_uuids[dataset])
            chart_uuids[name] = config["uuid"]
            slice_names[name] = config["slice_name"]
            files[f"charts/{name}.yaml"] = config
    finally:
        con.close()

    board = assets.dashboard
    title = board.get("title") or "Dashboard"
    files["dashboards/lead_scoring.yaml"] = {
        "dashboard_title": title,
        "description": board.get("description"),
        "css": board.get("css") or "",
        "slug": board.get("slug"),
        "uuid": board.get("uuid") or stable_uuid("dashboard", board.get("slug") or title),
        "position": _position(title, rows, chart_uuids, slice_names),
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
    out = Path(out_zip)
    out.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, content in files.items():
            bundle.writestr(f"{BUNDLE_ROOT}/{name}", yaml.safe_dump(content, sort_keys=False))
    out.write_bytes(buffer.getvalue())
    return Bundle(out, uri, names, sorted(dataset_uuids), sorted(tables_used))


def read_bundle(zip_path: Path | str) -> dict[str, dict[str, Any]]:
    """{path inside the bundle root: parsed YAML} of an import ZIP."""
    with zipfile.ZipFile(zip_path) as bundle:
        contents = {}
        for info in bundle.infolist():
            if info.is_dir():
                continue
            _, _, inner = info.filename.partition("/")
            contents[inner] = yaml.safe_load(bundle.read(info))
    return contents


def bundle_problems(
    zip_path: Path | str,
    published_dir: Path | str | None = None,
    published_tables: tuple[str, ...] = PUBLISHED_TABLES,
) -> list[str]:
    """What is wrong with an import ZIP (empty when nothing): every chart of the dashboard
    is in it with its dataset and database, every dataset reads published tables only, and
    the database is the published BI database (of published_dir when given), read-only."""
    try:
        contents = read_bundle(zip_path)
    except (zipfile.BadZipFile, OSError, yaml.YAMLError) as exc:
        return [f"{zip_path}: not a readable ZIP of YAML files: {exc}"]
    problems = []
    if (contents.get("metadata.yaml") or {}).get("type") != "assets":
        problems.append("metadata.yaml missing or not of type assets")
    charts = {c["uuid"]: c for p, c in contents.items() if p.startswith("charts/")}
    datasets = {d["uuid"]: d for p, d in contents.items() if p.startswith("datasets/")}
    databases = {d["uuid"]: d for p, d in contents.items() if p.startswith("databases/")}
    dashboards = [d for p, d in contents.items() if p.startswith("dashboards/")]
    if len(dashboards) != 1:
        problems.append(f"expected one dashboard, found {len(dashboards)}")
    for board in dashboards:
        referenced = [
            item["meta"]["uuid"]
            for item in board["position"].values()
            if isinstance(item, dict) and item.get("type") == "CHART"
        ]
        if not referenced:
            problems.append("the dashboard shows no chart")
        problems += [
            f"dashboard chart {u} has no chart file" for u in referenced if u not in charts
        ]
        problems += [
            f"chart {c['slice_name']!r} is not on the dashboard"
            for u, c in charts.items()
            if u not in referenced
        ]
    for chart in charts.values():
        if chart["dataset_uuid"] not in datasets:
            problems.append(f"chart {chart['slice_name']!r}: its dataset is not in the bundle")
    for dataset in datasets.values():
        reads = tables_read_by(dataset["sql"]) if dataset.get("sql") else {dataset["table_name"]}
        outside = sorted(reads - set(published_tables))
        if not reads or outside:
            problems.append(
                f"dataset {dataset['table_name']!r} reads {outside or 'no table'}: "
                "only published tables (lead_scoring.publish.PUBLISHED_TABLES)"
            )
        if dataset["database_uuid"] not in databases:
            problems.append(f"dataset {dataset['table_name']!r}: its database is not in the bundle")
    for database in databases.values():
        uri = database["sqlalchemy_uri"]
        expected = database_uri(published_dir) if published_dir is not None else None
        if expected and uri != expected:
            problems.append(f"database URI {uri} is not the published folder's ({expected})")
        if not uri.startswith("duckdb:///") or f"/{BI_DATABASE}?" not in uri:
            problems.append(f"database URI {uri} is not a published {BI_DATABASE}")
        if "access_mode=read_only" not in uri:
            problems.append(f"database URI {uri} is not read-only")
    return problems


# --------------------------------------------------------------------------- Superset


@dataclass(frozen=True)
class Superset:
    """A Superset installation (venv) with its state folder (home) and the code folder."""

    venv: Path
    home: Path
    assets_dir: Path = DEFAULT_ASSETS_DIR

    @property
    def python(self) -> Path:
        # absolute, not resolved: the venv's python is a symlink out of the venv
        return self.venv.absolute() / "bin" / "python"

    def env(self, password: str | None = None) -> dict[str, str]:
        env = {
            **os.environ,
            "SUPERSET_HOME": str(self.home.resolve()),
            "SUPERSET_CONFIG_PATH": str((self.assets_dir / "superset_config.py").resolve()),
            "FLASK_APP": "superset",
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("PYTHONPATH", None)  # the project's package never goes into Superset's venv
        if password is not None:
            env[PASSWORD_ENV] = password
        return env


def admin_password(home: Path) -> str:
    """env LEAD_SCORING_DASHBOARD_PASSWORD, else the one generated into home (mode 0600)."""
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    home.mkdir(parents=True, exist_ok=True)
    path = home / PASSWORD_FILE
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(12))
    return path.read_text().strip()


def check_venv(superset: Superset) -> None:
    if not (superset.venv / "bin" / "superset").exists():
        raise DashboardError(
            f"no Superset in {superset.venv}: run `make dashboard-setup` first "
            "(creates it from requirements-dashboard.txt)"
        )


def setup_superset(superset: Superset, bundle: Path, password: str, timeout: int = 600) -> str:
    """Create or upgrade the metadata database, the roles, the admin user (password reset to
    `password`), then import the bundle, overwriting what an earlier import made. Returns the
    output of the step."""
    check_venv(superset)
    superset.home.mkdir(parents=True, exist_ok=True)
    script = (superset.assets_dir / "superset_admin.py").resolve()
    completed = subprocess.run(
        [str(superset.python), str(script), "setup", "--bundle", str(Path(bundle).resolve())],
        env=superset.env(password),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=superset.home,
    )
    output = completed.stdout + completed.stderr
    if completed.returncode != 0:
        raise DashboardError(f"Superset set-up failed:\n{output[-4000:]}")
    return output


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def start_server(superset: Superset, port: int, log_path: Path) -> subprocess.Popen:
    """gunicorn serving Superset on 127.0.0.1:port only, in its own process group."""
    check_venv(superset)
    if port_in_use(port):
        raise DashboardError(f"port {port} on 127.0.0.1 is in use: set {PORT_ENV} to another port")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("ab")
    command = [
        str(superset.venv.absolute() / "bin" / "gunicorn"),
        "--bind", f"127.0.0.1:{port}",
        "--workers", "1",
        "--threads", "8",
        "--worker-class", "gthread",
        "--timeout", "120",
        "--limit-request-line", "0",
        "--limit-request-field_size", "0",
        "superset.app:create_app()",
    ]  # fmt: skip
    return subprocess.Popen(
        command,
        env=superset.env(),
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=superset.home,
        start_new_session=True,
    )


# Requests to the local server never go through a proxy set in the environment.
_LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def open_local(url: str, timeout: float = 30):
    """urlopen for 127.0.0.1, bypassing any proxy of the environment."""
    return _LOCAL.open(url, timeout=timeout)


def wait_for_server(base_url: str, process: subprocess.Popen, timeout: float = 180) -> float:
    """Seconds until GET /health answers OK; DashboardError if the server exits or times out."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if process.poll() is not None:
            raise DashboardError(f"the Superset server exited with code {process.returncode}")
        try:
            with open_local(f"{base_url}/health", timeout=5) as response:
                if response.status == 200:
                    return time.monotonic() - start
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(1)
    raise DashboardError(f"Superset did not answer on {base_url} within {timeout:.0f} s")


def stop_server(process: subprocess.Popen, timeout: float = 20) -> None:
    """Stop the server's process group (gunicorn and its worker), started by start_server."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout)


def dashboard_url(port: int, slug: str) -> str:
    return f"http://127.0.0.1:{port}/superset/dashboard/{slug}/"


# --------------------------------------------------------------------------- checking it


def browser_problems(report: dict[str, Any], expected_charts: list[str]) -> list[str]:
    """What a person would see wrong, from the report of dashboard/browser_check.py:
    a chart of the dashboard not rendered, rendered with an error or without data, a chart
    data query with an error or no rows, an error alert on the page, or a request that left
    this machine. Empty when the dashboard is right."""
    problems = []
    if report.get("error"):
        problems.append(f"browser check failed: {report['error']}")
    dom = {c.get("name"): c for c in report.get("charts", [])}
    for name in expected_charts:
        chart = dom.get(name)
        if chart is None:
            problems.append(f"chart {name!r} is not on the page")
            continue
        if chart.get("error"):
            problems.append(f"chart {name!r} shows an error: {chart['error']}")
        if chart.get("empty"):
            problems.append(f"chart {name!r} shows no results")
        if not chart.get("rendered"):
            problems.append(f"chart {name!r} did not render (still loading or blank)")
    queries = report.get("chart_data", {})
    by_name = {v.get("name"): v for v in queries.values()} if isinstance(queries, dict) else {}
    for name in expected_charts:
        query = by_name.get(name)
        if query is None:
            problems.append(f"chart {name!r}: no chart data response was seen")
            continue
        if query.get("status") != 200 or query.get("errors"):
            problems.append(
                f"chart {name!r}: chart data HTTP {query.get('status')}: {query.get('errors')}"
            )
        elif not query.get("rowcount"):
            problems.append(f"chart {name!r}: its query returned no rows")
    problems += [f"error alert on the page: {text}" for text in report.get("page_errors", [])]
    problems += [f"request left this machine: {url}" for url in report.get("outside_requests", [])]
    return problems


def run_browser_check(
    superset: Superset,
    url: str,
    password: str,
    out_json: Path,
    screenshot_dir: Path,
    timeout: int = 300,
    chromium: str | None = None,
    chromedriver: str | None = None,
) -> dict[str, Any]:
    """Run dashboard/browser_check.py (Superset's venv has Selenium) and return its report."""
    script = (superset.assets_dir / "browser_check.py").resolve()
    command = [
        str(superset.python), str(script),
        "--url", url,
        "--user", ADMIN_USER,
        "--out", str(out_json),
        "--screenshots", str(screenshot_dir),
        "--timeout", str(timeout - 30),
    ]  # fmt: skip
    if chromium:
        command += ["--chromium", chromium]
    if chromedriver:
        command += ["--chromedriver", chromedriver]
    completed = subprocess.run(
        command, env=superset.env(password), capture_output=True, text=True, timeout=timeout
    )
    if not out_json.exists():
        raise DashboardError(
            f"the browser check wrote no report (exit {completed.returncode}):\n"
            f"{(completed.stdout + completed.stderr)[-4000:]}"
        )
    return json.loads(out_json.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- command line


def serve(
    published_dir: Path,
    superset: Superset,
    port: int,
    slug: str | None = None,
) -> int:
    """Bundle, set up, import and serve until interrupted, printing the URL and the login."""
    manifest = Path(published_dir) / MANIFEST
    if not manifest.is_file():
        raise DashboardError(
            f"nothing published in {Path(published_dir).resolve()}: run `make run`"
        )
    check_venv(superset)
    bundle = build_bundle(superset.assets_dir, published_dir, superset.home / "bundle.zip")
    password = admin_password(superset.home)
    print(f"dashboard: {len(bundle.charts)} charts over {bi_database_path(published_dir)}")
    print("dashboard: setting up Superset in", superset.home.resolve(), flush=True)
    setup_superset(superset, bundle.path, password)
    process = start_server(superset, port, superset.home / "server.log")

    def _stop(signum, frame):  # noqa: ARG001 - a terminated or hung-up `make dashboard`
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGHUP, _stop)
    try:
        wait_for_server(f"http://127.0.0.1:{port}", process)
        slug = slug or load_assets(superset.assets_dir).dashboard.get("slug")
        print()
        print(f"  Dashboard: {dashboard_url(port, slug)}")
        print(f"  Login:     {ADMIN_USER} / {password}")
        source = (
            f"env {PASSWORD_ENV}"
            if os.environ.get(PASSWORD_ENV)
            else superset.home.resolve() / PASSWORD_FILE
        )
        print(f"  (password from {source}; server log: {superset.home.resolve() / 'server.log'})")
        print("  Stop with Ctrl-C.", flush=True)
        process.wait()
        return process.returncode or 0
    except KeyboardInterrupt:
        return 0
    finally:
        stop_server(process)


def _cmd_bundle(args: argparse.Namespace) -> int:
    bundle = build_bundle(args.assets, args.published, args.out)
    problems = bundle_problems(bundle.path, args.published)
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    print(
        f"{bundle.path}: {len(bundle.charts)} charts, {len(bundle.datasets)} datasets, "
        f"tables {', '.join(bundle.tables)}"
    )
    return 1 if problems else 0


def _cmd_serve(args: argparse.Namespace) -> int:
    superset = Superset(Path(args.venv), Path(args.home), Path(args.assets))
    return serve(Path(args.published), superset, args.port)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lead_scoring.dashboard", description=__doc__.split("\n\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--assets", default=str(DEFAULT_ASSETS_DIR), help="the dashboard code")
    common.add_argument(
        "--published",
        default=os.environ.get("LEAD_SCORING_PUBLISH_DIR") or str(DEFAULT_PUBLISHED_DIR),
        help="the published folder (default: $LEAD_SCORING_PUBLISH_DIR, else published)",
    )
    bundle = sub.add_parser("bundle", parents=[common], help="write the import ZIP and check it")
    bundle.add_argument("--out", default=str(DEFAULT_HOME / "bundle.zip"), help="ZIP to write")
    bundle.set_defaults(func=_cmd_bundle)
    serve_cmd = sub.add_parser(
        "serve", parents=[common], help="set up Superset, import the dashboard, serve it"
    )
    serve_cmd.add_argument("--venv", default=str(DEFAULT_VENV), help="Superset's venv")
    serve_cmd.add_argument("--home", default=str(DEFAULT_HOME), help="Superset's state folder")
    serve_cmd.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get(PORT_ENV) or DEFAULT_PORT),
        help=f"port on 127.0.0.1 (default: ${PORT_ENV}, else {DEFAULT_PORT})",
    )
    serve_cmd.set_defaults(func=_cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except DashboardError as exc:
        print(f"dashboard: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
