"""The CRM sync against a local HTTP server that fails on purpose.

The server plays a CRM that honours ``Idempotency-Key``: it applies a batch once per key and
records every (lead_id, payload) it applied, so "exactly once" can be checked at the receiver.
Faults are scripted per request: 500, 429 with Retry-After, a connection dropped without an
answer, a response slower than the client's timeout, a 400, and a hang after applying a batch
(during which the test SIGKILLs the client).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pytest

from lead_scoring.crm import SyncConfig, SyncError, _retry_after, sync

TOKEN = "s3cr3t-token-value"


class FakeCrm:
    def __init__(self) -> None:
        # per request: an int status, (429, "Retry-After value"), "drop", "slow",
        # "hang_after_apply" or None (apply and answer 200)
        self.script: list = []
        self.requests = 0
        self.applied: list[tuple[str, int, str]] = []  # (lead_id, lead_score, band)
        self.keys: set[str] = set()
        self.auth: list[str | None] = []
        self.applied_event = threading.Event()
        self.lock = threading.Lock()
        crm = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with crm.lock:
                    crm.requests += 1
                    action = crm.script.pop(0) if crm.script else None
                    crm.auth.append(self.headers.get("Authorization"))
                if action == "slow":
                    time.sleep(1.0)
                if action == "drop":  # close the connection without answering
                    self.close_connection = True
                    return
                if isinstance(action, tuple):
                    action, retry_after = action
                else:
                    retry_after = "0"
                if isinstance(action, int):
                    self.send_response(action)
                    if action == 429:
                        self.send_header("Retry-After", retry_after)
                    self.end_headers()
                    self.wfile.write(b'{"error": "injected"}')
                    return
                key = self.headers["Idempotency-Key"]
                with crm.lock:
                    if key not in crm.keys:  # a replay of a known key is acknowledged, not applied
                        crm.keys.add(key)
                        for lead in body["leads"]:
                            crm.applied.append(
                                (lead["lead_id"], lead["lead_score"], lead["score_band"])
                            )
                if action == "hang_after_apply":
                    crm.applied_event.set()
                    time.sleep(30)  # the client is killed meanwhile
                    return
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b'{"ok": true}')

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/scores"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def crm():
    server = FakeCrm()
    yield server
    server.server.shutdown()


def make_warehouse(path: Path, n: int = 250) -> Path:
    con = duckdb.connect(str(path))
    con.execute(
        f"""
        create table main.scored_leads as
        select
            'L' || lpad(cast(i as varchar), 5, '0') as lead_id,
            timestamp '2025-06-30 00:00:00' as scored_at,
            (i % 100) / 100.0 as conversion_probability,
            cast(i % 100 as integer) as lead_score,
            case when i % 100 >= 40 then 'A' when i % 100 >= 20 then 'B' else 'D' end
                as score_band,
            'Pricing page views (30d) = 3 (+)' as top_factors,
            '[]' as top_factors_json,
            50 as fit_score,
            50 as engagement_score,
            0.8 as score_confidence,
            'abc123' as model_version
        from range({n}) t(i)
        """
    )
    con.close()
    return path


def fast(url: str, **kw) -> SyncConfig:
    return SyncConfig(**{"endpoint": url, "token": TOKEN, "batch_size": 100, "timeout": 0.5, **kw})


def no_sleep(_: float) -> None:
    pass


def outbox(path: Path):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.sql("select * from crm_sync.outbox").df()
    finally:
        con.close()


def test_delivers_in_batches_then_sends_nothing_when_nothing_changed(tmp_path, crm) -> None:
    wh = make_warehouse(tmp_path / "w.duckdb")
    report = sync(wh, fast(crm.url), sleep=no_sleep)
    assert (report.queued, report.delivered, report.pending, report.exit_code) == (250, 250, 0, 0)
    assert crm.requests == 3  # 100 + 100 + 50
    assert Counter(lead for lead, _, _ in crm.applied) == {f"L{i:05d}": 1 for i in range(250)}
    assert set(crm.auth) == {f"Bearer {TOKEN}"}
    again = sync(wh, fast(crm.url), sleep=no_sleep)
    assert (again.queued, again.requests, crm.requests) == (0, 0, 3)


def test_only_changed_scores_are_resent(tmp_path, crm) -> None:
    wh = make_warehouse(tmp_path / "w.duckdb")
    sync(wh, fast(crm.url), sleep=no_sleep)
    con = duckdb.connect(str(wh))
    con.execute("update main.scored_leads set lead_score = 99 where lead_id = 'L00007'")
    # the probability alone changes nothing a rep sees: not resent
    con.execute(
        "update main.scored_leads set conversion_probability = 0.5 where lead_id = 'L00008'"
    )
    con.close()
    report = sync(wh, fast(crm.url), sleep=no_sleep)
    assert report.queued == 1 and report.delivered == 1
    assert crm.applied[-1] == ("L00007", 99, "D")


def test_faults_are_retried_and_everything_arrives_exactly_once(tmp_path, crm) -> None:
    wh = make_warehouse(tmp_path / "w.duckdb")
    crm.script = [500, 429, "slow", 503, "drop", None, 502, None, None]
    waits: list[float] = []
    report = sync(wh, fast(crm.url), sleep=waits.append)
    assert report.delivered == 250 and report.pending == 0 and report.exit_code == 0
    assert Counter(lead for lead, _, _ in crm.applied) == {f"L{i:05d}": 1 for i in range(250)}
    assert 0.0 in waits  # Retry-After: 0 honoured instead of the backoff
    # the slow response timed out on the client although the server applied it: the retry
    # carried the same Idempotency-Key and was not applied twice
    assert not outbox(wh).status.ne("delivered").any()


def test_gives_up_after_the_retry_budget_and_reports_pending(tmp_path, crm) -> None:
    wh = make_warehouse(tmp_path / "w.duckdb", n=150)
    crm.script = [503] * 1000
    clock = iter(range(0, 10_000)).__next__  # one "second" per call
    report = sync(
        wh,
        fast(crm.url, max_retry_seconds=20, backoff_base=1, backoff_cap=4),
        sleep=no_sleep,
        clock=lambda: float(clock()),
        rng=lambda: 1.0,
    )
    assert report.exit_code == 3 and report.pending == 150 and report.delivered == 0
    assert "gave up" in report.summary() and "150 lead(s) still pending" in report.summary()
    assert set(outbox(wh).status) == {"pending"}
    crm.script = []  # the CRM is back: the next run delivers the pending leads
    later = sync(wh, fast(crm.url), sleep=no_sleep)
    assert later.delivered == 150 and later.queued == 0
    assert Counter(lead for lead, _, _ in crm.applied) == {f"L{i:05d}": 1 for i in range(150)}


def test_a_rejected_batch_is_marked_failed_and_the_rest_goes_on(tmp_path, crm) -> None:
    wh = make_warehouse(tmp_path / "w.duckdb")
    crm.script = [400]
    report = sync(wh, fast(crm.url), sleep=no_sleep)
    assert (report.failed, report.delivered, report.exit_code) == (100, 150, 3)
    assert "HTTP 400" in report.summary() and "not retried" in report.summary()
    failed = outbox(wh)
    assert (failed.status == "failed").sum() == 100
    assert failed.last_error.dropna().str.contains("HTTP 400").all()


def test_dry_run_sends_and_writes_nothing(tmp_path, crm) -> None:
    wh = make_warehouse(tmp_path / "w.duckdb")
    report = sync(wh, fast(crm.url, dry_run=True))
    assert report.queued == 250 and crm.requests == 0
    assert "nothing sent" in report.summary() and "L00000" in report.summary()
    con = duckdb.connect(str(wh), read_only=True)
    schemas = con.sql("select schema_name from information_schema.schemata").df()
    con.close()
    assert "crm_sync" not in set(schemas.schema_name)


def test_clear_errors_without_traceback(tmp_path) -> None:
    with pytest.raises(SyncError, match="no endpoint"):
        sync(tmp_path / "x.duckdb", SyncConfig(endpoint=""))
    with pytest.raises(SyncError, match="no warehouse"):
        sync(tmp_path / "x.duckdb", SyncConfig(endpoint="http://x"))
    duckdb.connect(str(tmp_path / "empty.duckdb")).close()
    with pytest.raises(SyncError, match="run dbt build first"):
        sync(tmp_path / "empty.duckdb", SyncConfig(endpoint="http://x"))
    cli = subprocess.run(
        [sys.executable, "-m", "lead_scoring.cli", "sync-crm", "--duckdb", str(tmp_path / "x")],
        capture_output=True,
        text=True,
        env={**os.environ, "LEAD_SCORING_CRM_ENDPOINT": ""},
    )
    assert cli.returncode == 2 and "Traceback" not in cli.stderr and "no endpoint" in cli.stderr


def test_killed_mid_run_then_rerun_delivers_each_change_exactly_once(tmp_path, crm) -> None:
    """The client is SIGKILLed after the CRM applied its second batch but before it answered:
    nothing is lost, and the batch resent with the same key is not applied twice."""
    wh = make_warehouse(tmp_path / "w.duckdb", n=350)
    crm.script = [None, "hang_after_apply"]
    env = {**os.environ, "LEAD_SCORING_CRM_TOKEN": TOKEN}
    command = [
        sys.executable,
        "-m",
        "lead_scoring.cli",
        "sync-crm",
        "--endpoint",
        crm.url,
        "--duckdb",
        str(wh),
        "--timeout",
        "60",
    ]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert crm.applied_event.wait(30), "the client never reached the second batch"
    proc.send_signal(signal.SIGKILL)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    states = outbox(wh).status.value_counts().to_dict()
    assert states == {"delivered": 100, "pending": 250}  # batch 2 applied but not marked
    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "250 delivered" in rerun.stdout
    assert Counter(lead for lead, _, _ in crm.applied) == {f"L{i:05d}": 1 for i in range(350)}
    assert set(outbox(wh).status) == {"delivered"}
    # the token went to the Authorization header only
    for text in (out.decode(), err.decode(), rerun.stdout, rerun.stderr):
        assert TOKEN not in text
    con = duckdb.connect(str(wh), read_only=True)
    for table in ("crm_sync.outbox", "crm_sync.delivered_state"):
        rows = con.sql(f"select * from {table}").fetchall()
        assert rows and not any(TOKEN in str(value) for row in rows for value in row)
    con.close()


def test_retry_after_in_seconds_or_as_an_http_date() -> None:
    now = 1_750_000_000.0  # 2025-06-15 15:06:40 UTC
    assert _retry_after({"Retry-After": "7"}, now) == 7.0
    assert _retry_after({"retry-after": "Sun, 15 Jun 2025 15:07:10 GMT"}, now) == 30.0
    assert _retry_after({"Retry-After": "Sun, 15 Jun 2025 15:00:00 GMT"}, now) == 0.0  # past
    assert _retry_after({"Retry-After": "soon"}, now) is None  # falls back to the backoff
    assert _retry_after({}, now) is None


def test_retry_after_is_waited_instead_of_the_backoff(tmp_path, crm) -> None:
    wh = make_warehouse(tmp_path / "w.duckdb", n=10)
    crm.script = [(429, "2"), 503]
    waits: list[float] = []
    report = sync(wh, fast(crm.url, backoff_base=8), sleep=waits.append, rng=lambda: 0.5)
    assert report.delivered == 10
    assert waits == [2.0, 8.0]  # Retry-After; then attempt 2: jitter 0.5 * base 8 * 2 ** 1


def update_scores(path: Path, sql: str) -> None:
    con = duckdb.connect(str(path))
    con.execute(sql)
    con.close()


def test_a_score_back_to_an_earlier_value_is_applied_again(tmp_path, crm) -> None:
    """Each enqueue gets its own Idempotency-Key: 5 -> 99 -> 5 is three changes, not a replay."""
    wh = make_warehouse(tmp_path / "w.duckdb", n=1)
    config = fast(crm.url, batch_size=1)
    sync(wh, config, sleep=no_sleep)
    update_scores(wh, "update main.scored_leads set lead_score = 99")
    sync(wh, config, sleep=no_sleep)
    update_scores(wh, "update main.scored_leads set lead_score = 0")
    report = sync(wh, config, sleep=no_sleep)
    assert report.delivered == 1
    assert crm.applied == [("L00000", 0, "D"), ("L00000", 99, "D"), ("L00000", 0, "D")]


def test_a_batch_left_pending_never_overtakes_a_newer_score(tmp_path, crm) -> None:
    """Batches left pending by a failed run go first, so the CRM ends on the newest score."""
    wh = make_warehouse(tmp_path / "w.duckdb", n=250)
    crm.script = [503] * 5
    gave_up = sync(wh, fast(crm.url, max_retry_seconds=0), sleep=no_sleep)
    assert gave_up.pending == 250 and crm.applied == []
    # L00000 and L00150 change while L00150's old payload waits in the second pending batch
    update_scores(
        wh,
        "update main.scored_leads set lead_score = 77, score_band = 'A' "
        "where lead_id in ('L00000', 'L00150')",
    )
    crm.script = []
    report = sync(wh, fast(crm.url), sleep=no_sleep)
    assert report.pending == 0 and report.delivered == 252
    last = {lead: (score, band) for lead, score, band in crm.applied}
    assert last["L00150"] == (77, "A") and last["L00000"] == (77, "A")
    requests = crm.requests
    assert sync(wh, fast(crm.url), sleep=no_sleep).queued == 0  # delivered state is current
    assert crm.requests == requests
