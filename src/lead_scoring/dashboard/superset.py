"""Running Superset: its venv, its set-up (metadata database, admin, import) and its server.

Superset runs in its own venv (.venv-dashboard, requirements-dashboard.txt); this module runs
in the project venv and drives it through subprocesses, so the two dependency sets never mix.
The server listens on 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from lead_scoring.dashboard.assets import DEFAULT_ASSETS_DIR
from lead_scoring.dashboard.errors import DashboardError

DEFAULT_HOME = Path(".superset")
DEFAULT_VENV = Path(".venv-dashboard")
DEFAULT_PORT = 8088
PORT_ENV = "LEAD_SCORING_DASHBOARD_PORT"
PASSWORD_ENV = "LEAD_SCORING_DASHBOARD_PASSWORD"
ADMIN_USER = "admin"
PASSWORD_FILE = "admin_password"


@dataclass(frozen=True)
class Superset:
    """A Superset installation (venv) with its state folder (home) and the code folder."""

    venv: Path
    home: Path
    assets_dir: Path = DEFAULT_ASSETS_DIR

    def executable(self, name: str) -> Path:
        """A program of the venv: absolute, not resolved (python is a symlink out of the venv)."""
        return self.venv.absolute() / "bin" / name

    @property
    def python(self) -> Path:
        return self.executable("python")

    def env(self, password: str | None = None) -> dict[str, str]:
        """The environment of a Superset command (with the admin password when given)."""
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
    """DashboardError unless the venv has Superset (`make dashboard-setup` makes it)."""
    if not superset.executable("superset").exists():
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
    """A port on 127.0.0.1 free at the time of asking."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_in_use(port: int) -> bool:
    """Whether something answers on 127.0.0.1:port."""
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
        str(superset.executable("gunicorn")),
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
    """The URL of the dashboard `slug` on the local server."""
    return f"http://127.0.0.1:{port}/superset/dashboard/{slug}/"
