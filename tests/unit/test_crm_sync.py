"""The CRM sync against a local HTTP server that fails on purpose.

The server plays a CRM that honours ``Idempotency-Key``: it applies a batch once per key and
records every (lead_id, payload) it applied, so "exactly once" can be checked at the receiver.
Faults are scripted per request: 500, 429 with Retry-After, a connection dropped without an
answer, a response slower than the client's timeout, a 400, and a hang after applying a batch
(during which the test SIGKILLs the client).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from crm_fakes import FakeCrm, make_warehouse, no_sleep

from lead_scoring.crm import SyncConfig, SyncError, _retry_after, sync

TOKEN = "s3cr3t-token-value"


@pytest.fixture
def crm():
    server = FakeCrm()
    yield server
    server.server.shutdown()


def fast(url: str, **kw) -> SyncConfig:
    return SyncConfig(**{"endpoint": url, "token": TOKEN, "batch_size": 100, "timeout": 0.5, **kw})


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
    by_lead = {r["lead_id"]: r for r in crm.records}
    record = by_lead["L00007"]
    assert set(record) == {
        "lead_id", "lead_priority", "lead_score", "conversion_probability",
        "conversion_probability_7d", "conversion_probability_30d", "conversion_probability_90d",
        "score_band", "reasons_for", "reasons_against", "top_factors", "model_version",
        "scored_at", "experiment_arm", "payload_hash",
    }
    assert record["scored_at"] == "2025-06-30T00:00:00Z" and len(record["payload_hash"]) == 32
    assert record["lead_priority"] == 8
    assert record["conversion_probability_7d"] == pytest.approx(0.0175)
    assert record["reasons_for"] == "Pricing page views in the last 30 days: 3"
    assert record["reasons_against"] is None and by_lead["L00008"]["reasons_against"] == (
        "Personal email address: yes"
    )
    again = sync(wh, fast(crm.url), sleep=no_sleep)
    assert (again.queued, again.requests, crm.requests) == (0, 0, 3)


def test_only_changed_scores_are_resent(tmp_path, crm) -> None:
    wh = make_warehouse(tmp_path / "w.duckdb")
    sync(wh, fast(crm.url), sleep=no_sleep)
    con = duckdb.connect(str(wh))
    con.execute("update main.scored_leads set lead_score = 99 where lead_id = 'L00007'")
    # the probability alone changes nothing a rep sees: not resent
    con.execute(
        "update main.scored_leads set conversion_probability = 0.5, "
        "conversion_probability_7d = 0.4 where lead_id = 'L00008'"
    )
    con.close()
    assert sync(wh, fast(crm.url, dry_run=True)).queued == 1
    report = sync(wh, fast(crm.url), sleep=no_sleep)
    assert report.queued == 1 and report.delivered == 1
    assert crm.applied[-1] == ("L00007", 99, "D")


@pytest.mark.parametrize(
    "change",
    [
        "lead_priority = 100",
        "reasons_for = 'Demo requests in the last 30 days: 1'",
        "reasons_against = 'Careers page views in the last 30 days: 2'",
    ],
)
def test_a_new_priority_or_reason_is_resent(tmp_path, crm, change) -> None:
    wh = make_warehouse(tmp_path / "w.duckdb")
    sync(wh, fast(crm.url), sleep=no_sleep)
    update_scores(wh, f"update main.scored_leads set {change} where lead_id = 'L00011'")
    report = sync(wh, fast(crm.url), sleep=no_sleep)
    assert (report.queued, report.delivered) == (1, 1)
    assert crm.records[-1]["lead_id"] == "L00011"


def test_faults_are_retried_and_everything_arrives_exactly_once(tmp_path, crm) -> None:
    wh = make_warehouse(tmp_path / "w.duckdb")
    crm.script = [500, 429, "slow", 503, "drop", None, 502, None, None]
    waits: list[float] = []
    report = sync(wh, fast(crm.url), sleep=waits.append)
    assert report.delivered == 250 and report.pending == 0 and report.exit_code == 0
    assert Counter(lead for lead, _, _ in crm.applied) == {f"L{i:05d}": 1 for i in range(250)}
    # Retry-After: 0 (the 429, second request) waits the minimum backoff, never 0
    assert waits[1] == 0.5 and min(waits) >= 0.5
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
    crm.script = [410]  # a rejection that no smaller batch would fix
    report = sync(wh, fast(crm.url), sleep=no_sleep)
    assert (report.failed, report.delivered, report.exit_code) == (100, 150, 3)
    assert "HTTP 410" in report.summary() and "not retried" in report.summary()
    failed = outbox(wh)
    assert (failed.status == "failed").sum() == 100
    assert failed.last_error.dropna().str.contains("HTTP 410").all()


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
        sync(tmp_path / "x.duckdb", SyncConfig(endpoint="https://x"))
    with pytest.raises(SyncError, match="http\\(s\\) URL"):
        sync(tmp_path / "x.duckdb", SyncConfig(endpoint="crm.example.com/scores"))
    duckdb.connect(str(tmp_path / "empty.duckdb")).close()
    with pytest.raises(SyncError, match="run dbt build first"):
        sync(tmp_path / "empty.duckdb", SyncConfig(endpoint="https://x"))
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


def test_a_score_back_to_its_delivered_value_while_a_change_waits_is_sent(tmp_path, crm) -> None:
    """0 delivered, 60 left pending, back to 0: the CRM must end on 0, not on the stale 60."""
    wh = make_warehouse(tmp_path / "w.duckdb", n=1)
    sync(wh, fast(crm.url), sleep=no_sleep)
    update_scores(wh, "update main.scored_leads set lead_score = 60")
    crm.script = [503]
    assert sync(wh, fast(crm.url, max_retry_seconds=0), sleep=no_sleep).pending == 1
    update_scores(wh, "update main.scored_leads set lead_score = 0")
    report = sync(wh, fast(crm.url), sleep=no_sleep)
    assert (report.queued, report.delivered, report.pending) == (1, 2, 0)
    assert crm.applied == [("L00000", 0, "D"), ("L00000", 60, "D"), ("L00000", 0, "D")]
    assert sync(wh, fast(crm.url), sleep=no_sleep).queued == 0


def test_one_bad_lead_is_isolated_and_its_batch_mates_are_delivered(tmp_path, crm) -> None:
    wh = make_warehouse(tmp_path / "w.duckdb")
    crm.rejected_leads = {"L00005"}
    report = sync(wh, fast(crm.url), sleep=no_sleep)
    assert (report.delivered, report.failed, report.pending, report.exit_code) == (249, 1, 0, 3)
    assert Counter(lead for lead, _, _ in crm.applied) == {
        f"L{i:05d}": 1 for i in range(250) if i != 5
    }
    assert crm.requests <= 3 + 2 * 7  # halving 100 leads down to one: 7 levels, 2 requests each
    assert "(L00005): HTTP 422" in report.summary()
    rows = outbox(wh)
    assert rows.loc[rows.status == "failed", "lead_id"].tolist() == ["L00005"]
    # the next run queues the failed lead again, alone: nothing else is resent
    requests = crm.requests
    again = sync(wh, fast(crm.url), sleep=no_sleep)
    assert (again.queued, again.failed, crm.requests - requests) == (1, 1, 1)


def test_a_wrong_token_or_endpoint_stops_the_run_with_everything_pending(tmp_path, crm) -> None:
    wh = make_warehouse(tmp_path / "w.duckdb")
    crm.script = [401]
    report = sync(wh, fast(crm.url), sleep=no_sleep)
    assert (crm.requests, report.pending, report.failed, report.exit_code) == (1, 250, 0, 3)
    assert "stopped (check --endpoint and LEAD_SCORING_CRM_TOKEN)" in report.summary()
    assert sync(wh, fast(crm.url), sleep=no_sleep).delivered == 250


def test_a_redirect_is_not_followed(tmp_path, crm) -> None:
    """urllib would re-send a 302'd POST as a GET with the token: a login page's 200 is not a
    delivery, and the token must not follow the redirect."""
    wh = make_warehouse(tmp_path / "w.duckdb", n=5)
    crm.script = [302]
    report = sync(wh, fast(crm.url), sleep=no_sleep)
    assert (report.delivered, report.pending, crm.gets) == (0, 5, 0)
    assert "HTTP 302" in report.summary() and "redirects are not followed" in report.summary()


def test_a_receiver_that_rejects_everything_trips_the_breaker(tmp_path, crm) -> None:
    wh = make_warehouse(tmp_path / "w.duckdb")
    crm.script = [400] * 1000
    report = sync(wh, fast(crm.url), sleep=no_sleep)
    assert crm.requests == 21 and report.exit_code == 3
    assert report.pending + report.failed == 250 and report.delivered == 0
    assert "21 rejections in a row; stopped" in report.summary()


def test_the_retry_budget_bounds_the_whole_run(tmp_path, crm) -> None:
    """Each batch needs 15 s of retrying; a 20 s budget covers the first batch, not the second."""
    wh = make_warehouse(tmp_path / "w.duckdb", n=300)
    crm.script = ([503] * 5 + [None]) * 3
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    report = sync(
        wh,
        fast(crm.url, max_retry_seconds=20, backoff_base=1, backoff_cap=4),
        sleep=sleep,
        clock=lambda: now[0],
        rng=lambda: 1.0,
    )
    assert (report.delivered, report.pending, report.exit_code) == (100, 200, 3)
    assert now[0] <= 20


def test_token_hygiene(tmp_path, crm) -> None:
    wh = make_warehouse(tmp_path / "w.duckdb", n=5)
    # a token read from a file keeps its newline: stripped, never echoed by http.client
    assert sync(wh, fast(crm.url, token=TOKEN + "\n"), sleep=no_sleep).delivered == 5
    assert set(crm.auth) == {f"Bearer {TOKEN}"}
    with pytest.raises(SyncError, match="control or non-ASCII") as raised:
        sync(wh, fast(crm.url, token=TOKEN + "\x00x"), sleep=no_sleep)
    assert TOKEN not in str(raised.value)
    cli = subprocess.run(
        [sys.executable, "-m", "lead_scoring.cli", "sync-crm", "--endpoint", crm.url,
         "--duckdb", str(wh)],
        capture_output=True,
        text=True,
        env={**os.environ, "LEAD_SCORING_CRM_TOKEN": TOKEN + "\r\nX-Injected: 1"},
    )
    assert cli.returncode == 2 and TOKEN not in cli.stdout + cli.stderr
    assert "Traceback" not in cli.stderr


def test_a_scored_leads_table_from_an_older_build_is_named(tmp_path) -> None:
    wh = tmp_path / "w.duckdb"
    update_scores(wh, "create table main.scored_leads as select 'L1' as lead_id, 5 as lead_score")
    missing = "no column lead_priority, score_band, .*conversion_probability.*dbt build"
    with pytest.raises(SyncError, match=missing):
        sync(wh, SyncConfig(endpoint="https://x"))


def test_outbox_times_are_utc_whatever_the_local_time_zone(tmp_path, crm) -> None:
    wh = make_warehouse(tmp_path / "w.duckdb", n=1)
    command = [sys.executable, "-m", "lead_scoring.cli", "sync-crm", "--endpoint", crm.url,
               "--duckdb", str(wh)]
    env = {**os.environ, "TZ": "America/New_York"}
    subprocess.run(command, env=env, check=True, capture_output=True)
    con = duckdb.connect(str(wh), read_only=True)
    lag = con.sql(
        "select max(abs(epoch(now() at time zone 'UTC') - epoch(enqueued_at))), "
        "max(abs(epoch(now() at time zone 'UTC') - epoch(delivered_at))) from crm_sync.outbox"
    ).fetchall()[0]
    con.close()
    assert max(lag) < 600


# ------------------------------------------------------------------ delivery edge cases (issue 13)


def test_a_207_counts_only_the_accepted_records_as_delivered(tmp_path, crm) -> None:
    wh = make_warehouse(tmp_path / "w.duckdb", n=10)
    crm.partial = True
    crm.rejected_leads = {"L00003", "L00007"}
    report = sync(wh, fast(crm.url), sleep=no_sleep)
    assert (report.delivered, report.failed, report.exit_code) == (8, 2, 3)
    assert crm.requests == 1  # one 207: no splitting, nothing resent
    rows = outbox(wh).set_index("lead_id")
    assert set(rows.index[rows.status == "failed"]) == {"L00003", "L00007"}
    assert (rows.loc[["L00003", "L00007"], "last_error"] == "bad").all()
    assert (rows.drop(index=["L00003", "L00007"]).status == "delivered").all()
    assert {lead for lead, _, _ in crm.applied} == {f"L{i:05d}" for i in range(10)} - {
        "L00003",
        "L00007",
    }
    # the next run sends only the two refused leads again
    crm.rejected_leads = set()
    again = sync(wh, fast(crm.url), sleep=no_sleep)
    assert (again.queued, again.delivered, again.failed) == (2, 2, 0)


def test_a_207_that_does_not_say_which_records_were_applied_stops_with_all_pending(
    tmp_path, crm
) -> None:
    wh = make_warehouse(tmp_path / "w.duckdb", n=10)
    crm.script = [207]  # a 207 whose body has no per-record results
    report = sync(wh, fast(crm.url), sleep=no_sleep)
    assert (report.delivered, report.pending, report.exit_code) == (0, 10, 3)
    assert "without usable per-record results" in report.summary()


def test_409_is_retried_under_the_same_key(tmp_path, crm) -> None:
    wh = make_warehouse(tmp_path / "w.duckdb", n=10)
    crm.script = [409, 409, None]
    report = sync(wh, fast(crm.url), sleep=no_sleep)
    assert (report.delivered, report.failed, report.requests) == (10, 0, 3)
    assert len(crm.keys) == 1  # the same Idempotency-Key all three times


def test_a_trickling_response_times_out_and_the_run_ends_by_its_deadline(tmp_path, crm) -> None:
    wh = make_warehouse(tmp_path / "w.duckdb", n=10)
    crm.script = ["trickle"] * 50
    started = time.monotonic()
    report = sync(
        wh, fast(crm.url, timeout=0.4, deadline_seconds=2.0, backoff_min=0.1), rng=lambda: 0.0
    )
    seconds = time.monotonic() - started
    assert seconds < 3.5, seconds  # each trickle drips for 5 s: the timeout cut every one
    assert (report.delivered, report.pending, report.exit_code) == (0, 10, 3)
    assert "deadline" in report.summary()
    # the warehouse is released: another writer can open it at once
    duckdb.connect(str(wh)).close()


def test_plain_http_to_another_host_is_refused_unless_allowed(tmp_path) -> None:
    wh = make_warehouse(tmp_path / "w.duckdb", n=3)
    sent: list[str] = []

    def transport(url, body, headers, timeout):
        sent.append(url)
        return 200, {}, "{}"

    with pytest.raises(SyncError, match="refusing plain http:// to crm.example.com"):
        sync(wh, SyncConfig(endpoint="http://crm.example.com/x", token=TOKEN), transport)
    assert sent == []
    allowed = SyncConfig(endpoint="http://crm.example.com/x", allow_insecure_http=True)
    assert sync(wh, allowed, transport).delivered == 3
    # loopback needs no flag (a local relay or test server)
    for host in ("127.0.0.1", "localhost", "[::1]"):
        sync(wh, SyncConfig(endpoint=f"http://{host}:8080/x", dry_run=True), transport)


def test_a_lead_that_keeps_failing_goes_to_the_dead_letter_until_its_score_changes(
    tmp_path, crm
) -> None:
    wh = make_warehouse(tmp_path / "w.duckdb", n=4)
    crm.rejected_leads = {"L00002"}
    for run in (1, 2):
        report = sync(wh, fast(crm.url, max_failures=3), sleep=no_sleep)
        assert (report.failed, report.dead_letter) == (1, 0), run
    third = sync(wh, fast(crm.url, max_failures=3), sleep=no_sleep)
    assert (third.queued, third.failed, third.dead_letter, third.exit_code) == (1, 0, 1, 3)
    assert "dead letter" in third.summary()
    requests = crm.requests
    fourth = sync(wh, fast(crm.url, max_failures=3), sleep=no_sleep)
    assert (fourth.queued, crm.requests) == (0, requests)  # not sent again
    rows = outbox(wh)
    assert rows[rows.lead_id == "L00002"].status.tolist().count("dead_letter") == 1
    # a new score of the lead is a new payload: it is sent again (and now accepted)
    crm.rejected_leads = set()
    update_scores(wh, "update main.scored_leads set lead_score = 77 where lead_id = 'L00002'")
    fifth = sync(wh, fast(crm.url, max_failures=3), sleep=no_sleep)
    assert (fifth.queued, fifth.delivered) == (1, 1)
