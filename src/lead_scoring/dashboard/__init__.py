"""The Superset dashboard, kept as code in dashboard/, bundled and served over a published copy.

Superset runs in its own venv (.venv-dashboard); this package runs in the project venv and
drives it through subprocesses, so the two dependency sets never mix. One module a job:

- `assets`: read the dashboard code (dashboard.yaml, charts/, datasets/) and its layout.
- `bundle`: build the ZIP Superset imports, over the published BI database.
- `bundle_check`: read an import ZIP back and list what is wrong with it.
- `superset`: Superset's venv, its set-up and import, the server on 127.0.0.1.
- `browser`: the headless-browser check of the served dashboard.
- `cli`: `python -m lead_scoring.dashboard bundle|serve` (`make dashboard`).
"""

from lead_scoring.dashboard.assets import (
    DEFAULT_ASSETS_DIR,
    DEFAULT_CHART_HEIGHT,
    GRID_COLUMNS,
    Assets,
    LayoutChart,
    dataset_reads,
    dataset_source,
    layout_chart_names,
    layout_rows,
    load_assets,
    tables_read_by,
)
from lead_scoring.dashboard.browser import browser_problems, run_browser_check
from lead_scoring.dashboard.bundle import (
    ASSET_VERSION,
    BUNDLE_ROOT,
    DATABASE_FILE,
    DATABASE_NAME,
    DEFAULT_MARKDOWN_HEIGHT,
    Bundle,
    bi_database_path,
    build_bundle,
    database_uri,
    expand_params,
    stable_uuid,
)
from lead_scoring.dashboard.bundle_check import bundle_problems, read_bundle
from lead_scoring.dashboard.cli import DEFAULT_PUBLISHED_DIR, build_parser, main, serve
from lead_scoring.dashboard.errors import DashboardError
from lead_scoring.dashboard.superset import (
    ADMIN_USER,
    DEFAULT_HOME,
    DEFAULT_PORT,
    DEFAULT_VENV,
    PASSWORD_ENV,
    PASSWORD_FILE,
    PORT_ENV,
    Superset,
    admin_password,
    check_venv,
    dashboard_url,
    free_port,
    open_local,
    port_in_use,
    setup_superset,
    start_server,
    stop_server,
    wait_for_server,
)

__all__ = [
    "ADMIN_USER",
    "ASSET_VERSION",
    "BUNDLE_ROOT",
    "DATABASE_FILE",
    "DATABASE_NAME",
    "DEFAULT_ASSETS_DIR",
    "DEFAULT_CHART_HEIGHT",
    "DEFAULT_HOME",
    "DEFAULT_MARKDOWN_HEIGHT",
    "DEFAULT_PORT",
    "DEFAULT_PUBLISHED_DIR",
    "DEFAULT_VENV",
    "GRID_COLUMNS",
    "PASSWORD_ENV",
    "PASSWORD_FILE",
    "PORT_ENV",
    "Assets",
    "Bundle",
    "DashboardError",
    "LayoutChart",
    "Superset",
    "admin_password",
    "bi_database_path",
    "browser_problems",
    "build_bundle",
    "build_parser",
    "bundle_problems",
    "check_venv",
    "dashboard_url",
    "database_uri",
    "dataset_reads",
    "dataset_source",
    "expand_params",
    "free_port",
    "layout_chart_names",
    "layout_rows",
    "load_assets",
    "main",
    "open_local",
    "port_in_use",
    "read_bundle",
    "run_browser_check",
    "serve",
    "setup_superset",
    "stable_uuid",
    "start_server",
    "stop_server",
    "tables_read_by",
    "wait_for_server",
]
