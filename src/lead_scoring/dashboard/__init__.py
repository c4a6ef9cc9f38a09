"""The Superset dashboard, kept as code in dashboard/, bundled and served over a published copy.

Superset runs in its own venv (.venv-dashboard); this package runs in the project venv and
drives it through subprocesses, so the two dependency sets never mix. One module a job:

- `assets`: read the dashboard code (dashboard.yaml, charts/, datasets/) and its layout.
- `bundle`: build the ZIP Superset imports, over the published BI database.
- `bundle_check`: read an import ZIP back and list what is wrong with it.
- `superset`: Superset's venv, its set-up and import, the server on 127.0.0.1.
- `browser`: the headless-browser check of the served dashboard.
- `cli`: `python -m lead_scoring.dashboard bundle|serve` (`make dashboard`).

The package exports what the tests and the docs name; anything else is imported from its
module.
"""

from lead_scoring.dashboard.assets import (
    dataset_reads,
    layout_chart_names,
    layout_rows,
    load_assets,
    tables_read_by,
)
from lead_scoring.dashboard.browser import browser_problems, run_browser_check
from lead_scoring.dashboard.bundle import BUNDLE_ROOT, build_bundle, database_uri, expand_params
from lead_scoring.dashboard.bundle_check import bundle_problems, read_bundle
from lead_scoring.dashboard.errors import DashboardError
from lead_scoring.dashboard.superset import (
    ADMIN_USER,
    Superset,
    dashboard_url,
    free_port,
    open_local,
    setup_superset,
    start_server,
    stop_server,
    wait_for_server,
)

__all__ = [
    "ADMIN_USER",
    "BUNDLE_ROOT",
    "DashboardError",
    "Superset",
    "browser_problems",
    "build_bundle",
    "bundle_problems",
    "dashboard_url",
    "database_uri",
    "dataset_reads",
    "expand_params",
    "free_port",
    "layout_chart_names",
    "layout_rows",
    "load_assets",
    "open_local",
    "read_bundle",
    "run_browser_check",
    "setup_superset",
    "start_server",
    "stop_server",
    "tables_read_by",
    "wait_for_server",
]
