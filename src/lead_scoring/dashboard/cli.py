"""The command line, `python -m lead_scoring.dashboard bundle|serve` (`make dashboard`)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from lead_scoring.dashboard.assets import DEFAULT_ASSETS_DIR, load_assets
from lead_scoring.dashboard.bundle import bi_database_path, build_bundle
from lead_scoring.dashboard.bundle_check import bundle_problems
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
    setup_superset,
    start_server,
    stop_server,
    wait_for_server,
)
from lead_scoring.publish import MANIFEST

DEFAULT_PUBLISHED_DIR = Path("published")


def _print_login(superset: Superset, url: str, password: str) -> None:
    """The dashboard's URL, the login, where the password and the server log are."""
    print()
    print(f"  Dashboard: {url}")
    print(f"  Login:     {ADMIN_USER} / {password}")
    source = (
        f"env {PASSWORD_ENV}"
        if os.environ.get(PASSWORD_ENV)
        else superset.home.resolve() / PASSWORD_FILE
    )
    print(f"  (password from {source}; server log: {superset.home.resolve() / 'server.log'})")
    print("  Stop with Ctrl-C.", flush=True)


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
        _print_login(superset, dashboard_url(port, slug), password)
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


def _description() -> str:
    """The first paragraph of the package's docstring."""
    return (sys.modules[__package__].__doc__ or "").split("\n\n")[0]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lead_scoring.dashboard", description=_description()
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
