"""``lead-scoring serve``: start the real-time scoring API on the built warehouse."""

from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import os
import sys
from pathlib import Path

__all__ = ["add_serve_parser"]

RECEIVED_ENV = "LEAD_SCORING_RECEIVED_EVENTS"
SERVE_DIR_ENV = "LEAD_SCORING_SERVE_DIR"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _cmd_serve(args: argparse.Namespace, warehouse_of) -> int:
    from lead_scoring.serve.app import TOKEN_ENV, create_app
    from lead_scoring.serve.events import EventError
    from lead_scoring.serve.program import ProgramError
    from lead_scoring.serve.service import ScoringService, ServiceConfig
    from lead_scoring.serve.state import ServeError

    if not os.environ.get(TOKEN_ENV, "").strip() and not _loopback(args.host):
        print(
            f"lead-scoring serve: error: --host {args.host} is not a loopback address and "
            f"{TOKEN_ENV} is not set: set a token to serve other machines",
            file=sys.stderr,
        )
        return 2
    try:
        vars = json.loads(args.vars) if args.vars else {}
    except json.JSONDecodeError:
        import yaml

        vars = yaml.safe_load(args.vars) or {}
    project_dir = Path(os.environ.get("DBT_PROJECT_DIR", ".")).resolve()
    config = ServiceConfig(
        warehouse=warehouse_of(args).resolve(),
        project_dir=project_dir,
        serve_dir=Path(args.serve_dir or os.environ.get(SERVE_DIR_ENV, "serve")).resolve(),
        received_dir=Path(os.environ.get(RECEIVED_ENV, "received_events")).resolve(),
        pinned_version=args.model_version or vars.get("ml_model_version"),
        vars=vars,
        workers=args.workers,
        refresh_seconds=args.refresh_seconds,
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    print(
        f"lead-scoring serve: compiling the feature models and copying {config.warehouse} ...",
        flush=True,
    )
    try:
        service = ScoringService(config)
    except (ServeError, ProgramError, EventError) as exc:
        print(f"lead-scoring serve: error: {exc}", file=sys.stderr)
        return 2
    service.start_refresher()
    import uvicorn

    url = f"http://{args.host}:{args.port}"
    health = service.health()
    print(
        f"lead-scoring serve: {health['open_leads']} open leads, model {health['model_version']}, "
        f"batch scored at {health['batch_scored_at']}\n"
        f"  API at {url}  (try: curl {url}/health)\n"
        f"  received events -> {service.received.path}\n"
        f"  CRM band changes -> {service.crm_path}",
        flush=True,
    )
    try:
        uvicorn.run(
            create_app(service),
            host=args.host,
            port=args.port,
            log_level=args.log_level,
            access_log=args.log_level == "debug",
        )
    finally:
        service.close()
    return 0


def add_serve_parser(sub, add_env_duckdb, warehouse_of) -> None:
    serve = sub.add_parser(
        "serve",
        help="the real-time scoring API: score a lead within a request of new activity",
        description=(
            "Score open leads over HTTP with the active registered model and the batch's own "
            "feature SQL. Reads a copy of the warehouse (never its write lock), refreshed after "
            "each build. Without $LEAD_SCORING_API_TOKEN it serves localhost only."
        ),
    )
    add_env_duckdb(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument(
        "--model-version",
        default=None,
        help="score with this registered ml_models version (default: the active one)",
    )
    serve.add_argument(
        "--vars",
        default=None,
        help="the --vars of your dbt build (YAML or JSON), so the features are computed alike",
    )
    serve.add_argument(
        "--serve-dir",
        default=None,
        help=f"the API's own files (state copy, CRM changes); default ${SERVE_DIR_ENV} or ./serve",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=2,
        help="scoring workers, one DuckDB each (default 2: one per core)",
    )
    serve.add_argument(
        "--refresh-seconds",
        type=float,
        default=30.0,
        help="how often to look for a new build of the warehouse (default 30)",
    )
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning"])
    serve.set_defaults(func=lambda args: _cmd_serve(args, warehouse_of))
