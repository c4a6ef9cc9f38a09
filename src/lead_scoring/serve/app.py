"""The HTTP API (FastAPI): routes, the bearer token, size limits and clean errors.

- ``GET /health``; ``GET /leads/{lead_id}/score[?at=...]``; ``POST /leads/{lead_id}/events``
  (see :mod:`.service`). Every response carries the model version (header ``X-Model-Version``,
  and in the body of a score).
- With ``LEAD_SCORING_API_TOKEN`` set, every request needs ``Authorization: Bearer <token>``
  (compared in constant time; the token is never logged or echoed). Without it the API answers
  loopback clients only (``lead-scoring serve`` also refuses to bind another address).
- Bodies above :data:`MAX_BODY_BYTES` get 413; bad input 4xx with a one-line ``detail``; any
  other failure 500 ``internal error`` (the traceback goes to the server log, never the client).
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import os

import pandas as pd
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from lead_scoring.serve.events import EventError
from lead_scoring.serve.service import LeadNotFoundError, ScoringService

__all__ = ["MAX_BODY_BYTES", "TOKEN_ENV", "create_app"]

TOKEN_ENV = "LEAD_SCORING_API_TOKEN"
MAX_BODY_BYTES = 64 * 1024
log = logging.getLogger("lead_scoring.serve")


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host in ("localhost", "testclient"):  # starlette's TestClient runs in-process
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _error(status: int, detail: str, model_version: str | None = None) -> JSONResponse:
    headers = {"X-Model-Version": model_version} if model_version else None
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def _parse_at(value: str | None) -> pd.Timestamp | None:
    if value is None or value == "":
        return None
    try:
        at = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise EventError(f"at={value!r} is not an ISO 8601 timestamp") from None
    if at.tzinfo is not None:
        at = at.tz_convert("UTC").tz_localize(None)
    return at


def create_app(service: ScoringService, token: str | None = None) -> FastAPI:
    """The API over ``service``; ``token`` defaults to ``$LEAD_SCORING_API_TOKEN``."""
    token = (token if token is not None else os.environ.get(TOKEN_ENV, "")).strip() or None
    app = FastAPI(
        title="lead_scoring real-time API",
        description="Scores of open leads, updated within a request of new activity.",
        docs_url=None,
        redoc_url=None,
    )

    @app.middleware("http")
    async def guard(request: Request, call_next):
        version = service.model_version
        if token is None:
            if not _is_loopback(request.client.host if request.client else None):
                return _error(403, f"no {TOKEN_ENV} set: this API serves localhost only", version)
        else:
            given = request.headers.get("authorization", "")
            scheme, _, value = given.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                value.strip().encode(), token.encode()
            ):
                return _error(401, "missing or wrong bearer token", version)
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            return _error(413, f"request body above {MAX_BODY_BYTES} bytes", version)
        try:
            response = await call_next(request)
        except Exception:  # a bug: log it, answer one line
            log.exception("internal error on %s %s", request.method, request.url.path)
            return _error(500, "internal error", version)
        response.headers["X-Model-Version"] = version
        return response

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        return _error(exc.status_code, str(exc.detail), service.model_version)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return _error(422, f"{where}: {first.get('msg', 'invalid request')}", service.model_version)

    @app.get("/health")
    def health():
        return service.health()

    @app.get("/leads/{lead_id}/score")
    def get_score(lead_id: str, at: str | None = None):
        try:
            return service.score(lead_id, _parse_at(at))
        except LeadNotFoundError as exc:
            return _error(404, str(exc), service.model_version)
        except EventError as exc:
            return _error(422, str(exc), service.model_version)

    @app.post("/leads/{lead_id}/events")
    async def post_events(lead_id: str, request: Request):
        raw = await request.body()
        if len(raw) > MAX_BODY_BYTES:
            return _error(413, f"request body above {MAX_BODY_BYTES} bytes", service.model_version)
        try:
            body = json.loads(raw or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return _error(400, f"the body is not JSON: {exc}", service.model_version)
        try:
            # scoring blocks (DuckDB, XGBoost): off the event loop
            return await run_in_threadpool(service.post_events, lead_id, body)
        except LeadNotFoundError as exc:
            return _error(404, str(exc), service.model_version)
        except EventError as exc:
            return _error(422, str(exc), service.model_version)

    return app
