"""CRM sync (reverse ETL): push the scores that changed since the last delivery.

``lead-scoring sync-crm --endpoint URL`` runs :func:`sync`:

1. **Change detection** (one set-based DuckDB statement): a lead of ``main.scored_leads`` is
   queued when the hash of what a sales rep sees -- the fields of the field mapping marked
   ``resend: true``; by default ``lead_priority``, ``lead_score``, ``score_band``,
   ``reasons_for``, ``reasons_against``, ``top_factors``, ``experiment_arm`` -- differs from
   the state the CRM will hold once the queue drains: its newest pending payload, else the last
   one delivered
   (``crm_sync.delivered_state``). The other mapped fields (by default
   ``conversion_probability`` and by horizon ``_7d``, ``_30d``, ``_90d``, ``model_version``,
   ``scored_at``) travel with the lead, but a change in those alone does not resend it (the rep
   would see nothing new). The field mapping (:mod:`lead_scoring.crm_mapping`: a YAML file,
   built-in ``default``, ``hubspot`` or ``salesforce``) names the CRM property of each column
   and the shape of the request body; its fingerprint is part of the hash, so a changed
   mapping resends every lead with the new fields. Converted leads
   leave ``scored_leads`` and are not queued again (a payload already queued is still sent).
2. **Outbox** (``crm_sync.outbox`` in the warehouse): queued rows are grouped into batches whose
   id is the sha256 of their (lead_id, payload_hash, enqueued_at) list, *persisted before
   sending* (``enqueued_at`` makes the key unique per enqueue, so a score that returns to an
   earlier value is not mistaken by the CRM for a replay). Older batches are sent first. A batch is
   marked delivered, and ``delivered_state`` updated, in one transaction right after a 2xx. A crash
   between the CRM's 2xx and that commit leaves the batch pending with the same id: the next run
   resends it with the same ``Idempotency-Key`` header, so a receiver that honours the key (as
   Stripe- or HubSpot-style APIs do) applies every changed score exactly once, and nothing queued
   is lost.
3. **Retries**: 429, 408, 5xx, timeouts and connection errors are retried with exponential
   backoff and full jitter (``Retry-After`` honoured, in seconds or as an HTTP date) until the
   run's ``max_retry_seconds`` would be exceeded (it counts only retrying: waits and failed
   attempts, summed over the run); then the sync stops and reports what is pending (exit code
   3). Redirects are never followed. 3xx, 401, 403, 404, 405 and 407 stop the run (a wrong
   endpoint or token; the batch stays pending). 400, 413 and 422 halve the batch until the
   rejected lead is alone, which is marked failed with the response text (a rejected request
   must have applied nothing: that is part of the receiving side's contract); other 4xx mark the
   batch failed. More than 20 rejections in a row stop the run.

4. **The scoring API's changes** (:mod:`lead_scoring.crm_changes`): the lines the API appended
   to ``$LEAD_SCORING_SERVE_DIR/crm_changes.jsonl`` since the last read are queued in the same
   transaction as the batch's changes, through the same payload SQL: per lead, the newest
   ``scored_at`` of its batch row and its API row is what is compared and sent, so the stale
   batch row of a lead rescored online is not queued over the API's payload before the next
   build. Malformed lines are skipped, named in the summary and make the run exit 3.
5. **Watch** (:func:`watch`, ``--watch SECONDS``): one sync per cycle (the API's changes, the
   batch's changes, delivery), then a sleep during which the warehouse is closed, so a ``dbt
   build`` can run between cycles; a cycle that finds it locked waits for the next one.

The token comes from the environment (``LEAD_SCORING_CRM_TOKEN``) and goes only into the
``Authorization`` header: it is never printed, logged or stored. The warehouse is opened for
writing only while syncing: run the sync after ``dbt build``, not during it.
"""

from __future__ import annotations

import collections
import dataclasses
import email.utils
import hashlib
import http.client
import ipaddress
import json
import random
import signal
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from lead_scoring import crm_changes
from lead_scoring.crm_mapping import CrmMapping, load_mapping
from lead_scoring.warehouse import open_warehouse

__all__ = ["SyncConfig", "SyncError", "SyncReport", "WarehouseBusyError", "sync", "watch"]

TOKEN_ENV = "LEAD_SCORING_CRM_TOKEN"
ENDPOINT_ENV = "LEAD_SCORING_CRM_ENDPOINT"
# 409: the key is still being processed by the CRM (a replay raced the first request): retry it,
# same key
RETRYABLE = {408, 409, 429}
# a bad record or too big a batch: halve the batch until the rejected lead is alone
SPLITTABLE = {400, 413, 422}
# (and every 3xx) a wrong endpoint or token: every batch would fail, so the run stops
STOPPING = {401, 403, 404, 405, 407}
MAX_REJECTIONS_IN_A_ROW = 20  # then the endpoint rejects everything: stop instead of splitting on
OUTBOX_DDL = """
create schema if not exists crm_sync;
create table if not exists crm_sync.outbox (
    lead_id varchar not null,
    payload_hash varchar not null,
    payload_json varchar not null,
    status varchar not null,          -- pending, delivered, failed
    batch_id varchar,
    attempts integer not null default 0,
    last_error varchar,
    enqueued_at timestamp not null,
    delivered_at timestamp
);
create table if not exists crm_sync.delivered_state (
    lead_id varchar primary key,
    payload_hash varchar not null,
    delivered_at timestamp not null
);
"""

class SyncError(Exception):
    """A problem the user can fix (missing endpoint, warehouse or table)."""


class WarehouseBusyError(SyncError):
    """Another process (a ``dbt build``) holds the warehouse's write lock: try again later."""


@dataclass
class SyncConfig:
    endpoint: str
    token: str | None = field(default=None, repr=False)
    batch_size: int = 100
    timeout: float = 30.0
    max_retry_seconds: float = 300.0
    backoff_base: float = 1.0
    backoff_cap: float = 60.0
    # never retry sooner than this, even when told to (Retry-After: 0 or a date in the past)
    backoff_min: float = 0.5
    # the whole run's wall-clock limit: the warehouse is released by then, whatever the CRM does
    deadline_seconds: float = 900.0
    # plain http:// is refused (the token and the scores would travel in clear) except to a
    # loopback host, unless this is set
    allow_insecure_http: bool = False
    # a lead whose same payload failed this many times goes to the dead letter: not sent again
    # until its score changes
    max_failures: int = 3
    dry_run: bool = False
    # which scored_leads columns are sent under which CRM property names (default: ours)
    mapping: CrmMapping = field(default_factory=load_mapping)
    # the scoring API's changes (crm_changes.jsonl); None: not read; an absent file: nothing
    api_changes: Path | None = None


@dataclass
class SyncReport:
    queued: int = 0
    delivered: int = 0
    failed: int = 0
    dead_letter: int = 0
    pending: int = 0
    requests: int = 0
    retry_seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    sample: list[dict] = field(default_factory=list)
    dry_run: bool = False
    api_lines: int = 0  # complete lines of the API's changes read this run
    api_queued: int = 0  # of ``queued``: leads whose payload came from the API's changes
    api_skipped: int = 0  # malformed lines of the API's changes skipped (named in api_notes)
    api_notes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.dry_run:
            return 0
        return 3 if self.pending or self.failed or self.dead_letter or self.api_skipped else 0

    @property
    def did_something(self) -> bool:
        """Whether a ``--watch`` cycle has something to say (a quiet cycle prints nothing)."""
        return bool(
            self.queued or self.requests or self.api_lines or self.api_notes or self.errors
        )

    def _queued_text(self) -> str:
        api = f" ({self.api_queued} from the API's changes)" if self.api_queued else ""
        return f"{self.queued} lead(s) queued{api}"

    def line(self) -> str:
        """One line for a ``--watch`` cycle: the counts, then the first note or error."""
        text = (
            f"{self._queued_text()}, {self.delivered} delivered, {self.failed} failed, "
            f"{self.pending} pending"
        )
        if self.api_lines:
            text += f", {self.api_lines} new API line(s)"
        if self.dead_letter:
            text += f", {self.dead_letter} to the dead letter"
        notes = self.api_notes + [f"error: {e}" for e in self.errors[-1:]]
        return "; ".join([text, *notes])

    def summary(self) -> str:
        api = [f"  {note}" for note in self.api_notes]
        if self.api_lines:
            api.insert(0, f"  {self.api_lines} new line(s) of the API's changes read")
        if self.dry_run:
            lines = [
                f"sync-crm (dry run): {self.queued} lead(s) changed since the last delivery"
                + (f" ({self.api_queued} from the API's changes)" if self.api_queued else "")
                + f", {self.pending} row(s) pending in crm_sync.outbox; nothing sent"
            ]
            lines += api
            lines += [f"  e.g. {json.dumps(p, sort_keys=True)}" for p in self.sample]
            return "\n".join(lines)
        lines = [
            f"sync-crm: {self._queued_text()} this run, {self.delivered} delivered, "
            f"{self.failed} failed, {self.pending} pending, {self.requests} request(s)"
        ]
        lines += api
        if self.dead_letter:
            lines.append(
                f"  {self.dead_letter} lead(s) moved to the dead letter this run (the same payload "
                "failed max_failures times): not sent again until their score changes; see "
                "select lead_id, attempts, last_error from crm_sync.outbox "
                "where status = 'dead_letter'"
            )
        if self.pending:
            lines.append(
                f"  {self.pending} lead(s) still pending in crm_sync.outbox: they are sent first "
                "by the next run (same batches, same Idempotency-Key)"
            )
        lines += [f"  error: {e}" for e in self.errors[-5:]]
        return "\n".join(lines)


Transport = Callable[[str, bytes, dict, float], tuple[int, dict, str]]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Never follow a redirect: urllib would turn the POST into a GET (a login page's 200 would
    count as delivered) and forward the Authorization header to the new location."""

    def redirect_request(self, *args, **kwargs):
        return None  # the 3xx comes back as an HTTPError


_OPENER = urllib.request.build_opener(_NoRedirect)


def _post_once(url: str, body: bytes, headers: dict, timeout: float) -> tuple[int, dict, str]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers or {}), exc.read().decode(errors="replace")


def http_post(url: str, body: bytes, headers: dict, timeout: float) -> tuple[int, dict, str]:
    """POST with urllib; returns (status, headers, text) for any HTTP status (3xx included).

    ``timeout`` bounds the whole exchange -- connecting, the headers and the body -- not only
    each socket read: a CRM that trickles its answer a byte at a time cannot hold the run (and
    the warehouse) past it. The request runs in a daemon thread that is abandoned on time-out.
    """
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["value"] = _post_once(url, body, headers, timeout)
        except BaseException as exc:  # handed to the caller below
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="crm-post", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise TimeoutError(f"no complete response within {timeout:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _retry_after(headers: dict, now: float) -> float | None:
    value = {k.lower(): v for k, v in headers.items()}.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:  # an HTTP date; a value that is neither falls back to the backoff
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError, OverflowError):
        return None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _connect(
    duckdb_path: Path, read_only: bool, mapping: CrmMapping
) -> duckdb.DuckDBPyConnection:
    con = open_warehouse(
        duckdb_path, read_only=read_only, error=SyncError, locked_error=WarehouseBusyError
    )
    columns = {
        name
        for (name,) in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'main' and table_name = 'scored_leads'"
        ).fetchall()
    }
    if not columns:
        con.close()
        raise SyncError(f"{duckdb_path} has no table main.scored_leads: run dbt build first")
    missing = [name for name in mapping.columns if name not in columns]
    if missing:
        con.close()
        raise SyncError(
            f"main.scored_leads in {duckdb_path} has no column {', '.join(missing)}, which "
            f"the field mapping ({mapping.source}) sends: an older build (run dbt build first) "
            "or a column name the mapping misspells"
        )
    return con


def _has_table(con, name: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'crm_sync' and table_name = ?",
            [name],
        ).fetchall()[0][0]
    )


def _has_outbox(con) -> bool:
    return _has_table(con, "outbox")


def _count_pending(con) -> int:
    query = "select count(*) from crm_sync.outbox where status = 'pending'"
    return int(con.execute(query).fetchall()[0][0])


# the state the CRM ends in once the queue drains: the newest pending payload of a lead, else the
# last delivered one (comparing with delivered_state alone would let a stale pending batch win
# when a score goes back to its delivered value while that batch waits)
EXPECTED_STATE_JOIN = """
left join (
    select lead_id, max_by(payload_hash, enqueued_at) as payload_hash
    from crm_sync.outbox
    where status = 'pending'
    group by lead_id
) as queued using (lead_id)
left join crm_sync.delivered_state as delivered using (lead_id)
where coalesce(queued.payload_hash, delivered.payload_hash)
    is distinct from current_scores.payload_hash
    -- a payload in the dead letter is not sent again (a new score is)
    and not exists (
        select 1 from crm_sync.outbox as dead
        where dead.status = 'dead_letter' and dead.lead_id = current_scores.lead_id
            and dead.payload_hash = current_scores.payload_hash
    )
"""


def _timestamp_columns(con) -> frozenset[str]:
    return frozenset(
        name
        for (name,) in con.execute(
            "select column_name from information_schema.columns where table_schema = 'main' "
            "and table_name = 'scored_leads' and data_type like 'TIMESTAMP%'"
        ).fetchall()
    )


def _changes_sql(con, mapping: CrmMapping, with_state: bool, table: str) -> str:
    """The leads of ``table`` (``crm_scores``: per lead, the newest of its batch and API rows)
    whose resend fields differ from the state the CRM will hold (every lead when there is no
    outbox yet): lead_id, payload_hash, payload_json."""
    join = EXPECTED_STATE_JOIN if with_state else ""
    payload = mapping.payload_sql(table=table, timestamps=_timestamp_columns(con))
    return (
        f"with current_scores as ({payload})\n"
        f"select current_scores.* from current_scores\n{join}"
    )


def _read_api_changes(con, config: SyncConfig, report: SyncReport):
    """Read the API's new lines into the temp view ``crm_scores`` (see :mod:`.crm_changes`)."""
    has_table = _has_table(con, "api_scores") and _has_table(con, "api_changes_read")
    if config.api_changes is None:
        read = crm_changes.ChangesRead(Path())
        con.execute("create or replace temp table api_lines (line_no bigint, line varchar)")
    else:
        required = [name for name in config.mapping.columns if name != "lead_id"]
        try:
            read = crm_changes.read_changes(con, config.api_changes, has_table, required)
        except OSError as exc:  # unreadable (permissions, a folder): one line, no traceback
            raise SyncError(str(exc)) from None
    crm_changes.prepare(con, read, has_table)
    report.api_lines = read.lines
    report.api_skipped = len(read.skipped)
    report.api_notes = read.notes()
    return read


def _count_api_changes(con) -> int:
    """How many of the temp table ``changes`` took their payload from the API's changes."""
    return int(
        con.execute(
            "select count(*) from changes where lead_id in (select lead_id from api_latest)"
        ).fetchall()[0][0]
    )


def _enqueue(con, mapping: CrmMapping, read, report: SyncReport) -> int:
    """Queue the changed leads (replacing an older pending payload of the same lead), save the
    API rows and how far their file was read: one transaction."""
    con.execute("begin transaction")
    changes = _changes_sql(con, mapping, True, "crm_scores")
    con.execute(f"create or replace temp table changes as {changes}")
    report.api_queued = _count_api_changes(con)
    # a newer score replaces a pending one that was never sent
    con.execute(
        "delete from crm_sync.outbox as o using changes as c where o.lead_id = c.lead_id "
        "and o.status = 'pending' and o.batch_id is null and o.payload_hash <> c.payload_hash"
    )
    # no "already pending" guard: `changes` compares with the newest pending payload, so an
    # older pending row with the same hash (5 -> 99 pending -> 5) must not stop the new one
    queued = con.execute(
        "insert into crm_sync.outbox (lead_id, payload_hash, payload_json, status, enqueued_at) "
        "select c.lead_id, c.payload_hash, c.payload_json, 'pending', (now() at time zone 'UTC') "
        "from changes as c"
    ).fetchall()[0][0]
    # last: a crash before this commit leaves the lines unread, so the next run reads them again
    crm_changes.save(con, read)
    con.execute("commit")
    return int(queued)


def _checked(config: SyncConfig) -> SyncConfig:
    """The config, validated (a SyncError names what to fix), its token stripped."""
    if not config.endpoint:
        raise SyncError(f"no endpoint: pass --endpoint URL or set {ENDPOINT_ENV}")
    url = urllib.parse.urlsplit(config.endpoint)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise SyncError(f"--endpoint must be an http(s) URL with a host, not {config.endpoint!r}")
    if url.scheme == "http" and not config.allow_insecure_http and not _is_loopback(url.hostname):
        raise SyncError(
            f"refusing plain http:// to {url.hostname}: the token and the scores would travel "
            "unencrypted; use https://, or pass --allow-insecure-http for a trusted network"
        )
    if config.batch_size < 1:
        raise SyncError("--batch-size must be at least 1")
    for name in ("timeout", "deadline_seconds"):
        if not getattr(config, name) > 0:
            raise SyncError(f"--{name.replace('_', '-')} must be a positive number of seconds")
    if config.max_failures < 1:
        raise SyncError("--max-failures must be at least 1")
    if config.token is not None:
        # a trailing newline (a token read from a file or a secret store) would make http.client
        # raise "Invalid header value b'Bearer <token>\n'", printing the token
        token = config.token.strip()
        if not (token.isascii() and token.isprintable()):
            raise SyncError(
                f"{TOKEN_ENV} holds a control or non-ASCII character (the value is not shown)"
            )
        config = dataclasses.replace(config, token=token or None)
    return config


def _assign_batches(con, batch_size: int) -> None:
    """Give unbatched pending rows a batch id, persisted before sending (one statement)."""
    con.execute(
        """
        update crm_sync.outbox set batch_id = assigned.batch_id
        from (
            with numbered as (
                select
                    lead_id,
                    payload_hash,
                    lead_id || ':' || payload_hash || ':' || epoch_us(enqueued_at) as batch_key,
                    (row_number() over (order by lead_id) - 1) // ? as batch_number
                from crm_sync.outbox
                where status = 'pending' and batch_id is null
            ),
            batch_keys as (
                select
                    batch_number,
                    sha256(string_agg(batch_key, chr(10) order by lead_id)) as batch_id
                from numbered
                group by batch_number
            )
            select numbered.lead_id, numbered.payload_hash, batch_keys.batch_id
            from numbered inner join batch_keys using (batch_number)
        ) as assigned
        where outbox.lead_id = assigned.lead_id and outbox.payload_hash = assigned.payload_hash
            and outbox.status = 'pending' and outbox.batch_id is null
        """,
        [batch_size],
    )


def _send(batch_id, payloads, config, transport, sleep, clock, rng, report, deadline):
    """Send one batch with retries. Returns (outcome, attempts, error, status, rejected):
    'delivered'; 'partial' (per-record results: ``rejected`` maps the key of each rejected
    record to its error, the others were applied); 'rejected'; 'stopped'; or 'pending' (gave
    up: retry budget or the run's deadline).

    The retry budget (``max_retry_seconds``) is for the whole run and counts only retrying:
    the waits and the failed attempts. A long but healthy sync keeps all of it for a late
    outage, and no run retries for longer than the budget (plus one request timeout). The
    run's ``deadline`` (a ``clock()`` value) bounds everything: no request starts after it and
    none outlives it.
    """
    mapping = config.mapping
    body = json.dumps(mapping.body(payloads)).encode()
    headers = {"Content-Type": "application/json", "Idempotency-Key": batch_id}
    if config.token:
        headers["Authorization"] = f"Bearer {config.token}"
    keys = [p[mapping.key.property] for p in payloads]
    attempt = 0
    while True:
        remaining = deadline - clock()
        if remaining <= 0:
            report.errors.append(
                f"batch {batch_id[:12]}: the run's deadline ({config.deadline_seconds:g} s) "
                "was reached; left pending for the next run"
            )
            return "pending", attempt, "deadline reached", None, {}
        attempt += 1
        report.requests += 1
        started = clock()
        try:
            status, response_headers, text = transport(
                config.endpoint, body, headers, min(config.timeout, remaining)
            )
        except (OSError, http.client.HTTPException) as exc:  # timeouts, refused, reset
            status, response_headers, text = None, {}, f"{type(exc).__name__}: {exc}"
        if status is not None and 200 <= status < 300:
            if not mapping.has_record_results(status):
                return "delivered", attempt, None, status, {}
            try:
                rejected = mapping.record_errors(text, keys)
            except ValueError as exc:
                error = f"HTTP {status} without usable per-record results ({exc})"
                report.errors.append(
                    f"batch {batch_id[:12]}: {error}; stopped: which records were applied is "
                    "unknown, so the batch stays pending (same Idempotency-Key next run)"
                )
                return "stopped", attempt, error, status, {}
            if not rejected:
                return "delivered", attempt, None, status, {}
            return "partial", attempt, f"HTTP {status} (per record)", status, rejected
        error = f"HTTP {status}: {text[:200]}" if status is not None else text[:200]
        if status is not None and 300 <= status < 400:
            error += " (redirects are not followed: pass the final URL as --endpoint)"
        if status is not None and status < 500 and status not in RETRYABLE:
            if status < 400 or status in STOPPING:
                report.errors.append(
                    f"batch {batch_id[:12]}: {error}; stopped (check --endpoint and {TOKEN_ENV})"
                )
                return "stopped", attempt, error, status, {}
            return "rejected", attempt, error, status, {}
        report.retry_seconds += clock() - started
        wait = _retry_after(response_headers, time.time())
        if wait is None:
            wait = rng() * min(config.backoff_cap, config.backoff_base * 2 ** (attempt - 1))
        # Retry-After: 0, a date in the past or a tiny jitter: never hammer the CRM
        wait = max(wait, config.backoff_min)
        if report.retry_seconds + wait > config.max_retry_seconds:
            report.errors.append(f"batch {batch_id[:12]}: {error}; gave up (retry budget spent)")
            return "pending", attempt, error, status, {}
        if clock() + wait >= deadline:
            report.errors.append(
                f"batch {batch_id[:12]}: {error}; the run's deadline "
                f"({config.deadline_seconds:g} s) comes before the next retry: left pending"
            )
            return "pending", attempt, error, status, {}
        sleep(wait)
        report.retry_seconds += wait


def _mark_failed(con, batch_id: str, errors: dict, attempts: int, max_failures: int) -> int:
    """Mark the pending rows of ``errors``' leads in the batch failed with their error, or
    'dead_letter' when the same payload of the lead has now failed ``max_failures`` times
    (counted over every run); returns how many went to the dead letter."""
    con.execute(
        """
        create or replace temp table failed_now as
        with errors as (select unnest(?) as lead_id, unnest(?) as last_error)
        select
            outbox.lead_id,
            errors.last_error,
            (
                select count(*) from crm_sync.outbox as earlier
                where earlier.lead_id = outbox.lead_id
                    and earlier.payload_hash = outbox.payload_hash
                    and earlier.status in ('failed', 'dead_letter')
            ) as failures
        from crm_sync.outbox
        inner join errors using (lead_id)
        where outbox.batch_id = ? and outbox.status = 'pending'
        """,
        [list(errors), [str(e)[:500] for e in errors.values()], batch_id],
    )
    con.execute(
        """
        update crm_sync.outbox set
            status = case when failed_now.failures + 1 >= ? then 'dead_letter' else 'failed' end,
            attempts = attempts + ?,
            last_error = failed_now.last_error
        from failed_now
        where outbox.batch_id = ? and outbox.status = 'pending'
            and outbox.lead_id = failed_now.lead_id
        """,
        [max_failures, attempts, batch_id],
    )
    return int(
        con.execute(
            "select count(*) from crm_sync.outbox where batch_id = ? and status = 'dead_letter' "
            "and lead_id in (select lead_id from failed_now)",
            [batch_id],
        ).fetchall()[0][0]
    )


def _split(batch_id: str, lead_ids: list, payload_rows: list) -> list[tuple]:
    """Halve a rejected batch; the halves' ids derive from the parent's (deterministic)."""
    middle = len(lead_ids) // 2
    halves = [
        (lead_ids[:middle], payload_rows[:middle]),
        (lead_ids[middle:], payload_rows[middle:]),
    ]
    return [
        (hashlib.sha256(f"{batch_id}:{i}".encode()).hexdigest(), leads, rows)
        for i, (leads, rows) in enumerate(halves)
    ]


def sync(
    duckdb_path: Path | str,
    config: SyncConfig,
    transport: Transport = http_post,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    rng: Callable[[], float] = random.random,
) -> SyncReport:
    """Queue the changed scores (the batch's and the API's) and deliver every pending batch
    (see the module docstring)."""
    config = _checked(config)
    path = Path(duckdb_path).resolve()
    report = SyncReport(dry_run=config.dry_run)
    if config.dry_run:
        con = _connect(path, read_only=True, mapping=config.mapping)
        try:
            has_outbox = _has_outbox(con)
            _read_api_changes(con, config, report)
            changes_sql = _changes_sql(con, config.mapping, has_outbox, "crm_scores")
            con.execute(f"create or replace temp table changes as {changes_sql}")
            changes = con.execute("select * from changes order by lead_id").fetchall()
            report.api_queued = _count_api_changes(con)
            if has_outbox:
                report.pending = _count_pending(con)
        finally:
            con.close()
        report.queued = len(changes)
        report.sample = [json.loads(row[2]) for row in changes[:3]]
        return report
    deadline = clock() + config.deadline_seconds
    con = _connect(path, read_only=False, mapping=config.mapping)
    try:
        con.execute(OUTBOX_DDL)
        con.execute(crm_changes.API_DDL)
        read = _read_api_changes(con, config, report)
        report.queued = _enqueue(con, config.mapping, read, report)
        _assign_batches(con, config.batch_size)
        batches = collections.deque(
            con.execute(
                "select batch_id, list(lead_id order by lead_id), "
                "list(payload_json order by lead_id) from crm_sync.outbox "
                "where status = 'pending' group by batch_id "
                # older batches first: a lead resent with a newer score must not be overtaken
                # by the stale payload of a batch left pending by an earlier run
                "order by min(enqueued_at), min(lead_id)"
            ).fetchall()
        )
        rejections = 0
        while batches:
            batch_id, lead_ids, payload_rows = batches.popleft()
            payloads = [json.loads(p) for p in payload_rows]
            outcome, attempts, error, status, rejected = _send(
                batch_id, payloads, config, transport, sleep, clock, rng, report, deadline
            )
            rejections = rejections + 1 if outcome == "rejected" else 0
            if rejections > MAX_REJECTIONS_IN_A_ROW:
                report.errors.append(f"{rejections} rejections in a row; stopped")
                outcome = "stopped"
            elif outcome == "rejected":
                outcome = "split" if len(lead_ids) > 1 and status in SPLITTABLE else "failed"
            if outcome == "split":
                # a rejected batch applied nothing (the contract): halve it until the rejected
                # leads are alone, so one bad record does not hold back the others
                halves = _split(batch_id, lead_ids, payload_rows)
                con.execute("begin transaction")
                for half_id, half_leads, _ in halves:
                    con.execute(
                        "update crm_sync.outbox set batch_id = ?, attempts = attempts + ?, "
                        "last_error = ? where batch_id = ? and status = 'pending' "
                        "and list_contains(?, lead_id)",
                        [half_id, attempts, error, batch_id, half_leads],
                    )
                con.execute("commit")
                batches.extendleft(reversed(halves))
                continue
            if outcome == "partial":  # per-record results: the lead ids of the rejected keys
                by_key = {p[config.mapping.key.property]: lead for p, lead in zip(
                    payloads, lead_ids, strict=True
                )}
                failed_leads = {by_key[key]: message for key, message in rejected.items()}
            elif outcome == "failed":
                failed_leads = dict.fromkeys(lead_ids, error)
            else:
                failed_leads = {}
            con.execute("begin transaction")
            if outcome in ("delivered", "partial"):
                accepted = [lead for lead in lead_ids if lead not in failed_leads]
                con.execute(
                    "update crm_sync.outbox set status = 'delivered', "
                    "delivered_at = (now() at time zone 'UTC'), attempts = attempts + ?, "
                    "last_error = null "
                    "where batch_id = ? and status = 'pending' and list_contains(?, lead_id)",
                    [attempts, batch_id, accepted],
                )
                con.execute(
                    "insert or replace into crm_sync.delivered_state "
                    "select lead_id, payload_hash, delivered_at from crm_sync.outbox "
                    "where batch_id = ? and status = 'delivered' and list_contains(?, lead_id)",
                    [batch_id, accepted],
                )
                report.delivered += len(accepted)
            if failed_leads:
                dead = _mark_failed(con, batch_id, failed_leads, attempts, config.max_failures)
                report.failed += len(failed_leads) - dead
                report.dead_letter += dead
            if outcome in ("pending", "stopped"):
                con.execute(
                    "update crm_sync.outbox set attempts = attempts + ?, last_error = ? "
                    "where batch_id = ? and status = 'pending'",
                    [attempts, error, batch_id],
                )
            con.execute("commit")
            if failed_leads:
                leads = next(iter(failed_leads)) if len(failed_leads) == 1 else (
                    f"{len(failed_leads)} of {len(lead_ids)} leads"
                )
                first = next(iter(failed_leads.values()))
                report.errors.append(
                    f"batch {batch_id[:12]} ({leads}): {first} (not retried this run)"
                )
            if outcome in ("pending", "stopped"):
                break  # the rest waits for the next run (same batches, same keys)
        report.pending = _count_pending(con)
    finally:
        con.close()
    return report


# --watch: a cycle that cannot deliver leaves the rest pending for the next cycle instead of
# holding the warehouse (and any dbt build waiting for it) for the one-shot run's 5 to 15 minutes
WATCH_MAX_RETRY_SECONDS = 30.0
WATCH_DEADLINE_SECONDS = 60.0


def watch(
    duckdb_path: Path | str,
    config: SyncConfig,
    interval: float,
    *,
    stop: Callable[[int], bool] = lambda cycle: False,
    wait: Callable[[float], object] | None = None,
    out: Callable[[str], None] = print,
    transport: Transport = http_post,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    rng: Callable[[], float] = random.random,
    handle_signals: bool = True,
) -> int:
    """Run :func:`sync` every ``interval`` seconds until SIGINT or SIGTERM (the cycle under way
    finishes first; a second Ctrl-C interrupts it) or until ``stop(cycle)`` says so after a
    cycle. Returns the number of cycles run.

    Each cycle opens the warehouse, reads the API's new changes, queues them with the batch's
    changes, delivers and closes it: the warehouse is never held while waiting, so a ``dbt
    build`` can run between cycles. A cycle that finds it locked (a build under way) or meets
    another problem prints one line and waits for the next cycle (the same problem is not
    repeated cycle after cycle). A cycle that did something prints one line (:meth:`SyncReport.
    line`); a quiet one prints nothing. ``wait`` (default: an interruptible sleep) and ``stop``
    are for tests.
    """
    if not interval > 0:
        raise SyncError("--watch must be a positive number of seconds")
    if config.dry_run:
        raise SyncError("--watch sends at every cycle: it cannot be combined with --dry-run")
    config = _checked(config)
    stopping = threading.Event()
    wait = wait or stopping.wait
    previous: dict = {}
    if handle_signals and threading.current_thread() is threading.main_thread():

        def on_signal(signum, frame) -> None:
            if stopping.is_set() and signum == signal.SIGINT:
                raise KeyboardInterrupt  # a second Ctrl-C: do not wait for the cycle
            stopping.set()

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    cycles = 0
    last_problem = None
    try:
        while not stopping.is_set():
            cycles += 1
            stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
            problem = None
            try:
                report = sync(duckdb_path, config, transport, sleep, clock, rng)
            except WarehouseBusyError:
                problem = (
                    "the warehouse is locked by another process (a dbt build?): "
                    "waiting for the next cycle"
                )
            except SyncError as exc:
                problem = f"error: {exc}; trying again next cycle"
            except duckdb.Error as exc:
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                problem = f"error: {first}; trying again next cycle"
            else:
                if report.did_something:
                    out(f"{stamp} sync-crm: {report.line()}")
            if problem and problem != last_problem:
                out(f"{stamp} sync-crm: {problem}")
            last_problem = problem
            if stop(cycles) or stopping.is_set():
                break
            wait(interval)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return cycles
