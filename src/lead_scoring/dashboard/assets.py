"""The dashboard kept as code (dashboard/ at the repo root), read and checked.

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
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from lead_scoring.dashboard.errors import DashboardError

DEFAULT_ASSETS_DIR = Path("dashboard")
GRID_COLUMNS = 12
DEFAULT_CHART_HEIGHT = 50

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# A table a virtual dataset reads: main.<name> (or main."<name>").
_TABLE_REF = re.compile(r'\bmain\s*\.\s*"?([A-Za-z_][A-Za-z0-9_]*)"?', re.IGNORECASE)


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


def _row_charts(number: int, row: list) -> list[LayoutChart]:
    """The charts of one layout row, widths resolved (the unset ones share what is left)."""
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
    return charts


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
        resolved.append(_row_charts(number, row))
    return resolved


def layout_chart_names(dashboard: dict[str, Any]) -> list[str]:
    """The charts of the layout, in layout order (a name twice if the layout has it twice)."""
    return [c.name for row in layout_rows(dashboard) if isinstance(row, list) for c in row]


def tables_read_by(sql: str) -> set[str]:
    """The tables of schema main a virtual dataset's SQL reads (written main.<table>)."""
    return {match.group(1).lower() for match in _TABLE_REF.finditer(sql)}


def dataset_reads(table: str, sql: str | None) -> set[str]:
    """The published tables a dataset reads: its SQL's main.<table>s, else its own table."""
    return tables_read_by(sql) if sql else {table}


def dataset_source(assets: Assets, name: str) -> tuple[str, str | None]:
    """(table_name, sql) of a chart's `dataset`: a virtual dataset, or a published table."""
    spec = assets.datasets.get(name, {})
    sql = spec.get("sql")
    return (spec.get("table_name") or name), (sql.strip() if sql else None)
