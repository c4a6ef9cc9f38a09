"""Superset configuration of the lead_scoring dashboard (SUPERSET_CONFIG_PATH points here).

Superset reads this file at start-up, inside its own venv (.venv-dashboard). Everything that
changes per machine or must stay secret lives in the state folder SUPERSET_HOME (default
.superset/, gitignored), never in this file:

- the metadata database (SQLite) `superset.db`,
- the secret key: env SUPERSET_SECRET_KEY, else `secret_key` in SUPERSET_HOME, generated on
  first start.

Nothing here calls outside: no telemetry pixel (the content security policy allows images
and connections to this server only, so a browser does not even try the Scarf pixel of the
front end), no map tiles, no thumbnails or reports, no example data.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

_HOME = Path(os.environ.get("SUPERSET_HOME") or Path.cwd() / ".superset").resolve()
_HOME.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    key = os.environ.get("SUPERSET_SECRET_KEY")
    if key:
        return key
    path = _HOME / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
SQLALCHEMY_DATABASE_URI = f"sqlite:///{_HOME / 'superset.db'}?check_same_thread=false"
DATA_DIR = str(_HOME)

# Charts load as they are: no lazy loading of charts below the fold, so a screenshot or a
# printed page shows every chart. No background jobs (no Celery here).
FEATURE_FLAGS = {
    "DASHBOARD_VIRTUALIZATION": False,
    "ALERT_REPORTS": False,
    "THUMBNAILS": False,
    "ENABLE_TEMPLATE_PROCESSING": False,
    "EMBEDDED_SUPERSET": False,
}

# Only this server: images, scripts, styles, fonts and fetches from 'self'. This blocks the
# telemetry pixel the front end adds to its menu (apachesuperset.gateway.scarf.sh) and any
# map-tile or font host.
TALISMAN_ENABLED = True
TALISMAN_CONFIG = {
    "content_security_policy": {
        "base-uri": ["'self'"],
        "default-src": ["'self'"],
        "img-src": ["'self'", "blob:", "data:"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "object-src": "'none'",
        "style-src": ["'self'", "'unsafe-inline'"],
        "font-src": ["'self'", "data:"],
        "script-src": ["'self'", "'strict-dynamic'"],
    },
    "content_security_policy_nonce_in": ["script-src"],
    "force_https": False,
    "session_cookie_secure": False,
}
CONTENT_SECURITY_POLICY_WARNING = False
THEME_FONT_URL_ALLOWED_DOMAINS: list[str] = []
MAPBOX_API_KEY = ""

# The dashboard reads the published copy only; no file uploads, no CTAS, no DML.
CSV_EXTENSIONS: set[str] = set()
EXCEL_EXTENSIONS: set[str] = set()
COLUMNAR_EXTENSIONS: set[str] = set()

# A local tool: rate limits in memory, without the warning of the default storage.
RATELIMIT_ENABLED = False
RATELIMIT_STORAGE_URI = "memory://"

ROW_LIMIT = 10000
SUPERSET_WEBSERVER_TIMEOUT = 120
LOG_LEVEL = os.environ.get("SUPERSET_LOG_LEVEL", "WARNING")
