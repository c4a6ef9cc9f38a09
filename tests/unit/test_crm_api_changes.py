"""The CRM sync delivers the scoring API's changes (``crm_changes.jsonl``) with the batch's.

The API appends one line per online rescoring that changed what a rep sees, with every column
of ``scored_leads`` and a ``scored_at`` later than the batch's. The sync reads only the new
lines (a cursor committed with the enqueue), sends per lead the newest of its batch and API rows
through the same payload SQL, skips and names malformed lines, and ``--watch`` keeps doing it
every few seconds without holding the warehouse between cycles. No dbt: a hand-made warehouse
(``crm_fakes.make_warehouse``) and the local fake CRM.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from crm_fakes import FakeCrm, make_warehouse, no_sleep

from lead_scoring import crm_changes
from lead_scoring.crm import SyncConfig, SyncError, sync, watch
from lead_scoring.crm_mapping import load_mapping

BATCH_AT = "2025-06-30 00:00:00.000000"  # make_warehouse's scored_at
LATER = "2025-06-30 12:00:00.000000"


@pytest.fixture
def crm():
    server = FakeCrm()
    yield server
    server.server.shutdown()


def config(url: str, changes: Path, **kw) -> SyncConfig:
    return SyncConfig(
        **{"endpoint": url, "batch_size": 100, "timeout": 2.0, "api_changes": changes, **kw}
    )


def batch_row(wh: Path, lead_id: str) -> dict:
    """A lead's row of main.scored_leads as the API writes it (the contract's formats)."""
    con = duckdb.connect(str(wh), read_only=True)
    try:
        cursor = con.execute("select * from main.scored_leads where lead_id = ?", [lead_id])
        names = [d[0] for d in cursor.description]
        values = cursor.fetchone()
    finally:
        con.close()
    row = {
        name: float(value) if isinstance(value, Decimal) else value  # JSON numbers
        for name, value in zip(names, values, strict=True)
    }
    row["scored_at"] = row["scored_at"].strftime("%Y-%m-%d %H:%M:%S.%f")
    return row


def api_row(wh: Path, lead_id: str, scored_at: str = LATER, **changes) -> dict:
    return {**batch_row(wh, lead_id), "scored_at": scored_at, **changes}


def append(path: Path, *rows: dict | str | bytes) -> None:
    """Append lines as the API does (a dict as JSON; a str or bytes as is, for bad lines)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "ab") as handle:
        for row in rows:
            if isinstance(row, dict):
                row = json.dumps(row)
            handle.write((row.encode() if isinstance(row, str) else row) + b"\n")


def sql(wh: Path, statement: str, params=None) -> list[tuple]:
    con = duckdb.connect(str(wh))
    try:
        return con.execute(statement, params or []).fetchall()
    finally:
        con.close()


def last_record(crm: FakeCrm, lead_id: str) -> dict:
    return [r for r in crm.records if r["lead_id"] == lead_id][-1]


def test_an_api_change_is_sent_with_the_mapping_and_hash_of_a_batch_row(tmp_path, crm) -> None:
    wh = make_warehouse(tmp_path / "w.duckdb", n=5)
    changes = tmp_path / "serve" / "crm_changes.jsonl"
    first = sync(wh, config(crm.url, changes), sleep=no_sleep)
    assert (first.queued, first.api_lines, first.exit_code) == (5, 0, 0)  # no file yet: fine
    append(changes, api_row(wh, "L00003", lead_score=90, lead_priority=95, score_band="A"))
    report = sync(wh, config(crm.url, changes), sleep=no_sleep)
    assert (report.api_lines, report.queued, report.api_queued, report.delivered) == (1, 1, 1, 1)
    assert "1 lead(s) queued (1 from the API's changes)" in report.summary()
    sent = last_record(crm, "L00003")
    assert (sent["lead_score"], sent["score_band"], sent["lead_priority"]) == (90, "A", 95)
    assert sent["scored_at"] == "2025-06-30T12:00:00Z"
    # one definition of the payload: the record is exactly what the batch would send for the
    # same values (same properties, rounding, timestamp format and payload_hash)
    sql(
        wh,
        "update main.scored_leads set lead_score = 90, lead_priority = 95, score_band = 'A', "
        "scored_at = ? where lead_id = 'L00003'",
        [LATER],
    )
    con = duckdb.connect(str(wh), read_only=True)
    mapping = load_mapping()
    (batch_json,) = con.execute(
        f"select payload_json from ({mapping.payload_sql(timestamps=frozenset({'scored_at'}))}) "
        "where lead_id = 'L00003'"
    ).fetchone()
    con.close()
    assert json.loads(batch_json) == sent
    # so a build that scores the lead as the API did sends nothing more
    requests = crm.requests
    assert sync(wh, config(crm.url, changes), sleep=no_sleep).queued == 0
    assert crm.requests == requests


def test_the_stale_batch_row_waits_until_a_build_scores_later(tmp_path, crm) -> None:
    wh = make_warehouse(tmp_path / "w.duckdb", n=5)
    changes = tmp_path / "crm_changes.jsonl"
    sync(wh, config(crm.url, changes), sleep=no_sleep)
    append(changes, api_row(wh, "L00002", lead_score=88, score_band="A"))
    assert sync(wh, config(crm.url, changes), sleep=no_sleep).delivered == 1
    # no build yet: main.scored_leads still holds the older score 2 of L00002, which differs
    # from what the CRM holds; the API's newer payload stands
    for _ in range(2):
        again = sync(wh, config(crm.url, changes), sleep=no_sleep)
        assert (again.queued, again.requests) == (0, 0)
    assert sql(wh, "select lead_id, source_line from crm_sync.api_scores") == [("L00002", 1)]
    # a build scored at an earlier time than the API (here: a change of another lead only)
    # does not bring the stale row back either
    sql(wh, "update main.scored_leads set lead_score = 55 where lead_id = 'L00004'")
    report = sync(wh, config(crm.url, changes), sleep=no_sleep)
    assert report.queued == 1 and last_record(crm, "L00004")["lead_score"] == 55
    assert last_record(crm, "L00002")["lead_score"] == 88
    # the next build scores later: its row wins again, and the API's row is dropped
    sql(
        wh,
        "update main.scored_leads set scored_at = timestamp '2025-07-01 00:00:00', "
        "lead_score = 30, score_band = 'B' where lead_id = 'L00002'",
    )
    built = sync(wh, config(crm.url, changes), sleep=no_sleep)
    assert (built.queued, built.api_queued, built.delivered) == (1, 0, 1)
    assert (last_record(crm, "L00002")["lead_score"], crm.applied[-1][2]) == (30, "B")
    assert sql(wh, "select count(*) from crm_sync.api_scores") == [(0,)]


def test_at_an_equal_scored_at_the_api_wins_until_a_build_rewrites_the_lead(
    tmp_path, crm
) -> None:
    """The API scores at the time the next build will (the latest of the batch's scored_at and
    the events' occurred_at): a late event gives the batch's own scored_at. The API row wins over
    the batch row it was read against, not over one a build wrote since at that same time."""
    wh = make_warehouse(tmp_path / "w.duckdb", n=5)
    changes = tmp_path / "crm_changes.jsonl"
    sync(wh, config(crm.url, changes), sleep=no_sleep)
    append(changes, api_row(wh, "L00001", BATCH_AT, lead_score=91, score_band="A"))
    late = sync(wh, config(crm.url, changes), sleep=no_sleep)
    assert (late.api_queued, late.delivered) == (1, 1)
    assert last_record(crm, "L00001")["lead_score"] == 91
    # a build that leaves the lead's row as it was (another lead changed): the API row stands
    sql(wh, "update main.scored_leads set lead_score = 44 where lead_id = 'L00004'")
    other = sync(wh, config(crm.url, changes), sleep=no_sleep)
    assert other.queued == 1 and last_record(crm, "L00001")["lead_score"] == 91
    # the build that took the late event in: the same scored_at, the API's values; nothing to
    # resend, and the batch row is the lead's row again
    sql(
        wh,
        "update main.scored_leads set lead_score = 91, score_band = 'A' where lead_id = 'L00001'",
    )
    rebuilt = sync(wh, config(crm.url, changes), sleep=no_sleep)
    assert rebuilt.queued == 0
    assert sql(wh, "select count(*) from crm_sync.api_scores") == [(0,)]
    # so a retrain at the same scoring date reaches the CRM
    sql(wh, "update main.scored_leads set lead_score = 50 where lead_id = 'L00001'")
    retrained = sync(wh, config(crm.url, changes), sleep=no_sleep)
    assert (retrained.queued, retrained.api_queued) == (1, 0)
    assert last_record(crm, "L00001")["lead_score"] == 50


def test_per_lead_the_newest_scored_at_wins_not_the_file_order(tmp_path, crm) -> None:
    wh = make_warehouse(tmp_path / "w.duckdb", n=5)
    changes = tmp_path / "crm_changes.jsonl"
    sync(wh, config(crm.url, changes), sleep=no_sleep)
    append(
        changes,
        api_row(wh, "L00001", "2025-06-30 12:00:00.000000", lead_score=90),
        api_row(wh, "L00001", "2025-06-30 14:00:00.000001", lead_score=70),
        api_row(wh, "L00001", "2025-06-30 13:00:00.000000", lead_score=80),
        # older than the batch's row of the lead: the batch's score is newer, nothing to send
        api_row(wh, "L00002", "2025-06-29 23:00:00.000000", lead_score=99),
    )
    report = sync(wh, config(crm.url, changes), sleep=no_sleep)
    assert (report.api_lines, report.queued, report.delivered) == (4, 1, 1)
    assert [(lead, score) for lead, score, _ in crm.applied[5:]] == [("L00001", 70)]
    # a line read later that is older than the one kept changes nothing either
    append(changes, api_row(wh, "L00001", "2025-06-30 13:30:00.000000", lead_score=75))
    assert sync(wh, config(crm.url, changes), sleep=no_sleep).queued == 0
    # a second run of the same instant: the later line wins
    append(
        changes,
        api_row(wh, "L00003", LATER, lead_score=61),
        api_row(wh, "L00003", LATER, lead_score=62),
    )
    sync(wh, config(crm.url, changes), sleep=no_sleep)
    assert last_record(crm, "L00003")["lead_score"] == 62


def test_a_lead_the_batch_does_not_hold_is_sent_only_if_scored_after_the_build(
    tmp_path, crm
) -> None:
    wh = make_warehouse(tmp_path / "w.duckdb", n=3)
    changes = tmp_path / "crm_changes.jsonl"
    sync(wh, config(crm.url, changes), sleep=no_sleep)
    append(
        changes,
        {**api_row(wh, "L00000", LATER, lead_score=64), "lead_id": "NEW0001"},  # created since
        # scored online before the build, which no longer holds it (it converted)
        {**api_row(wh, "L00000", "2025-06-29 08:00:00.000000"), "lead_id": "GONE001"},
    )
    report = sync(wh, config(crm.url, changes), sleep=no_sleep)
    assert (report.queued, report.delivered) == (1, 1)
    assert crm.records[-1]["lead_id"] == "NEW0001" and crm.records[-1]["lead_score"] == 64


def test_only_new_lines_are_read_and_a_partial_last_line_waits(tmp_path, crm) -> None:
    wh = make_warehouse(tmp_path / "w.duckdb", n=5)
    changes = tmp_path / "crm_changes.jsonl"
    sync(wh, config(crm.url, changes), sleep=no_sleep)
    append(changes, api_row(wh, "L00001", lead_score=91), api_row(wh, "L00002", lead_score=92))
    assert sync(wh, config(crm.url, changes), sleep=no_sleep).api_lines == 2
    nothing = sync(wh, config(crm.url, changes), sleep=no_sleep)
    assert (nothing.api_lines, nothing.queued) == (0, 0)
    # the API is writing a line: its first half is there, without the newline
    line = json.dumps(api_row(wh, "L00004", lead_score=94)).encode()
    with open(changes, "ab") as handle:
        handle.write(line[:40])
    size_before = changes.stat().st_size - 40
    waiting = sync(wh, config(crm.url, changes), sleep=no_sleep)
    assert (waiting.api_lines, waiting.queued) == (0, 0)
    assert sql(wh, "select byte_offset, lines_read from crm_sync.api_changes_read") == [
        (size_before, 2)
    ]
    with open(changes, "ab") as handle:
        handle.write(line[40:] + b"\n")
    done = sync(wh, config(crm.url, changes), sleep=no_sleep)
    assert (done.api_lines, done.delivered) == (1, 1)
    assert last_record(crm, "L00004")["lead_score"] == 94
    assert sql(wh, "select byte_offset, lines_read, file_path from crm_sync.api_changes_read") == [
        (changes.stat().st_size, 3, str(changes.resolve()))
    ]


def test_a_rotated_or_truncated_file_is_read_from_its_start(tmp_path, crm) -> None:
    wh = make_warehouse(tmp_path / "w.duckdb", n=5)
    changes = tmp_path / "crm_changes.jsonl"
    sync(wh, config(crm.url, changes), sleep=no_sleep)
    first = api_row(wh, "L00001", lead_score=91)
    append(changes, first, api_row(wh, "L00002", lead_score=92))
    sync(wh, config(crm.url, changes), sleep=no_sleep)
    # rotated: a new file whose first line is another one
    changes.rename(tmp_path / "crm_changes.jsonl.1")
    append(changes, api_row(wh, "L00003", lead_score=93))
    rotated = sync(wh, config(crm.url, changes), sleep=no_sleep)
    assert (rotated.api_lines, rotated.delivered) == (1, 1)
    assert "truncated or replaced" in rotated.summary()
    assert last_record(crm, "L00003")["lead_score"] == 93
    first_line = changes.read_bytes()
    append(changes, api_row(wh, "L00004", lead_score=44))
    assert sync(wh, config(crm.url, changes), sleep=no_sleep).api_lines == 1
    # truncated to its first line: shorter than the offset, read again from the start; what it
    # holds was delivered already, so nothing is resent
    requests = crm.requests
    changes.write_bytes(first_line)
    truncated = sync(wh, config(crm.url, changes), sleep=no_sleep)
    assert (truncated.api_lines, truncated.queued, crm.requests) == (1, 0, requests)
    assert "truncated or replaced" in truncated.summary()
    # the old file put back: its first line differs, read again, nothing resent
    changes.write_bytes((tmp_path / "crm_changes.jsonl.1").read_bytes())
    again = sync(wh, config(crm.url, changes), sleep=no_sleep)
    assert (again.api_lines, again.queued, crm.requests) == (2, 0, requests)
    # and with nothing new, the offset holds
    assert sync(wh, config(crm.url, changes), sleep=no_sleep).api_lines == 0


def test_a_crash_before_the_commit_reads_the_lines_again(tmp_path, crm, monkeypatch) -> None:
    wh = make_warehouse(tmp_path / "w.duckdb", n=5)
    changes = tmp_path / "crm_changes.jsonl"
    sync(wh, config(crm.url, changes), sleep=no_sleep)
    append(changes, api_row(wh, "L00002", lead_score=92))
    save = crm_changes.save

    def crash(con, read) -> None:
        save(con, read)  # everything is written, but not committed
        raise RuntimeError("killed")

    monkeypatch.setattr(crm_changes, "save", crash)
    with pytest.raises(RuntimeError, match="killed"):
        sync(wh, config(crm.url, changes), sleep=no_sleep)
    monkeypatch.setattr(crm_changes, "save", save)
    assert sql(wh, "select count(*) from crm_sync.outbox where status = 'pending'") == [(0,)]
    assert sql(wh, "select count(*) from crm_sync.api_changes_read") == [(0,)]
    report = sync(wh, config(crm.url, changes), sleep=no_sleep)
    assert (report.api_lines, report.delivered) == (1, 1)
    assert last_record(crm, "L00002")["lead_score"] == 92


def test_an_api_change_goes_after_a_batch_payload_left_pending(tmp_path, crm) -> None:
    """The CRM was down: the lead's batch payload waits in the outbox when the API rescores it.
    The older batch is sent first, the API's payload after it: the CRM ends on the API's."""
    wh = make_warehouse(tmp_path / "w.duckdb", n=5)
    changes = tmp_path / "crm_changes.jsonl"
    crm.script = [503]
    down = sync(wh, config(crm.url, changes, max_retry_seconds=0), sleep=no_sleep)
    assert down.pending == 5 and crm.applied == []
    crm.script = []
    append(changes, api_row(wh, "L00001", lead_score=81, score_band="A"))
    report = sync(wh, config(crm.url, changes), sleep=no_sleep)
    assert (report.queued, report.api_queued, report.delivered, report.pending) == (1, 1, 6, 0)
    assert [a for a in crm.applied if a[0] == "L00001"] == [("L00001", 1, "D"), ("L00001", 81, "A")]


def test_malformed_lines_are_skipped_named_and_counted(tmp_path, crm) -> None:
    wh = make_warehouse(tmp_path / "w.duckdb", n=5)
    changes = tmp_path / "crm_changes.jsonl"
    sync(wh, config(crm.url, changes), sleep=no_sleep)
    no_band = api_row(wh, "L00003", lead_score=93)
    del no_band["score_band"]
    append(
        changes,
        api_row(wh, "L00001", lead_score=91),  # 1: fine
        '{"lead_id": "L00002", "lead_score": ',  # 2: cut short
        "[1, 2]",  # 3
        {k: v for k, v in api_row(wh, "L00002").items() if k != "lead_id"},  # 4
        api_row(wh, "L00002", "2025-06-30T12:00:00+02:00"),  # 5: an offset
        api_row(wh, "L00002", lead_score="high"),  # 6
        no_band,  # 7
        b"\xff\xfe not utf-8",  # 8
        api_row(wh, "L00004", lead_score=94),  # 9: fine
    )
    report = sync(wh, config(crm.url, changes), sleep=no_sleep)
    assert (report.api_lines, report.api_skipped, report.delivered) == (9, 7, 2)
    assert {r["lead_id"] for r in crm.records[5:]} == {"L00001", "L00004"}
    summary = report.summary()
    assert f"skipped 7 malformed line(s) of {changes.resolve()} (not sent)" in summary
    for expected in (
        "line 2: not valid JSON",
        "line 3: not a JSON object",
        "line 4: no lead_id",
        "line 5: lead L00002: scored_at '2025-06-30T12:00:00+02:00' is not a UTC time",
        "line 6: lead_score = high is not integer",
        "and 2 more",
    ):
        assert expected in summary, expected
    assert report.exit_code == 3  # never silent: a cron job alerts on it
    assert "Traceback" not in summary
    # read once: the next run does not report them again
    again = sync(wh, config(crm.url, changes), sleep=no_sleep)
    assert (again.api_lines, again.api_skipped, again.exit_code) == (0, 0, 0)


def test_each_skip_reason_names_its_line(tmp_path) -> None:
    """The reasons past the summary's first five, and the other timestamp columns, straight
    from the reader."""
    wh = make_warehouse(tmp_path / "w.duckdb", n=2)
    changes = tmp_path / "crm_changes.jsonl"
    row = api_row(wh, "L00001")
    del row["score_band"]
    append(
        changes,
        row,
        b"\xff not utf-8",
        json.dumps({**api_row(wh, "L00001"), "conversion_probability": float("nan")}),
        api_row(wh, "L00001", previous_scored_at="2025-06-23 00:00:00+02:00"),
        api_row(wh, "L00001", lead_score=12),
    )
    con = duckdb.connect(str(wh))
    try:
        con.execute("alter table main.scored_leads add column previous_scored_at timestamp")
        read = crm_changes.read_changes(con, changes, False, ["score_band", "lead_score"])
        assert crm_changes.prepare(con, read, False) == 1
        assert con.execute("select lead_id, lead_score from crm_scores where lead_score = 12")
    finally:
        con.close()
    assert read.skipped == [
        (1, "lead L00001: no score_band, which the field mapping sends (an API older than the "
            "build?)"),
        (2, "not UTF-8 text"),
        (3, "not valid JSON (NaN is not a JSON number)"),
        (4, "previous_scored_at = 2025-06-23 00:00:00+02:00 is not a UTC time "
            "'YYYY-MM-DD HH:MM:SS.ffffff'"),
    ]


def test_dry_run_counts_the_api_changes_and_moves_nothing(tmp_path, crm) -> None:
    wh = make_warehouse(tmp_path / "w.duckdb", n=5)
    changes = tmp_path / "crm_changes.jsonl"
    sync(wh, config(crm.url, changes), sleep=no_sleep)
    append(changes, api_row(wh, "L00001", lead_score=91))
    dry = sync(wh, config(crm.url, changes, dry_run=True))
    assert (dry.queued, dry.api_queued, dry.api_lines) == (1, 1, 1)
    assert '"lead_score": 91' in dry.summary() and "nothing sent" in dry.summary()
    report = sync(wh, config(crm.url, changes), sleep=no_sleep)  # the line was not consumed
    assert (report.api_lines, report.delivered) == (1, 1)


def test_the_cli_reads_the_serve_dir_or_api_changes(tmp_path, crm) -> None:
    wh = make_warehouse(tmp_path / "w.duckdb", n=3)
    serve = tmp_path / "serve"
    append(serve / "crm_changes.jsonl", api_row(wh, "L00001", lead_score=71))
    command = [
        sys.executable, "-m", "lead_scoring.cli", "sync-crm", "--endpoint", crm.url,
        "--duckdb", str(wh),
    ]
    env = {**os.environ, "LEAD_SCORING_SERVE_DIR": str(serve)}
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "3 lead(s) queued (1 from the API's changes)" in run.stdout
    assert last_record(crm, "L00001")["lead_score"] == 71
    other = tmp_path / "elsewhere.jsonl"
    append(other, api_row(wh, "L00002", lead_score=72))
    run = subprocess.run(
        [*command, "--api-changes", str(other)], env=env, capture_output=True, text=True
    )
    assert run.returncode == 0 and "1 lead(s) queued (1 from the API's changes)" in run.stdout
    helptext = subprocess.run([*command[:4], "--help"], capture_output=True, text=True).stdout
    assert "--api-changes PATH" in helptext and "--watch SECONDS" in helptext


# ------------------------------------------------------------------------------------ --watch


def open_for_writing(wh: Path) -> subprocess.CompletedProcess:
    """Another process opens the warehouse for writing, as a dbt build would."""
    code = (
        "import duckdb, sys; con = duckdb.connect(sys.argv[1]); "
        "con.execute('create or replace table main.build_marker as select 1 as ok'); con.close()"
    )
    return subprocess.run(
        [sys.executable, "-c", code, str(wh)], capture_output=True, text=True, timeout=60
    )


def test_watch_delivers_an_appended_change_within_one_cycle(tmp_path, crm) -> None:
    wh = make_warehouse(tmp_path / "w.duckdb", n=20)
    changes = tmp_path / "serve" / "crm_changes.jsonl"
    lines: list[str] = []
    builds: list[int] = []
    seen: dict[int, list] = {}

    def wait(seconds: float) -> None:
        if len(seen) == 1:  # between cycles 1 and 2: a build runs, the API writes a change
            builds.append(open_for_writing(wh).returncode)
            append(changes, api_row(wh, "L00007", lead_score=77, score_band="A"))
        time.sleep(seconds)

    def stop(cycle: int) -> bool:
        seen[cycle] = list(crm.applied)
        return cycle >= 3

    started = time.monotonic()
    cycles = watch(
        wh, config(crm.url, changes), 0.2, stop=stop, wait=wait, out=lines.append,
        sleep=no_sleep, handle_signals=False,
    )
    assert cycles == 3 and time.monotonic() - started < 20
    assert builds == [0]  # the warehouse was not held while the watch slept
    assert len(seen[1]) == 20 and ("L00007", 77, "A") not in seen[1]
    assert seen[2][20:] == [("L00007", 77, "A")]  # the very next cycle delivered it
    assert len(seen[3]) == 21  # nothing more
    # one line per cycle that did something; the quiet third cycle printed nothing
    assert len(lines) == 2, lines
    assert "20 lead(s) queued, 20 delivered, 0 failed, 0 pending" in lines[0]
    assert "1 lead(s) queued (1 from the API's changes), 1 delivered" in lines[1]
    assert "1 new API line(s)" in lines[1]
    assert re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ sync-crm: ", lines[1]), lines[1]


def test_watch_waits_while_a_build_holds_the_warehouse(tmp_path, crm) -> None:
    wh = make_warehouse(tmp_path / "w.duckdb", n=5)
    changes = tmp_path / "crm_changes.jsonl"
    holder_code = (
        "import duckdb, sys; con = duckdb.connect(sys.argv[1]); print('locked', flush=True); "
        "sys.stdin.read(); con.close()"
    )
    holder: list[subprocess.Popen] = []
    lines: list[str] = []
    change = api_row(wh, "L00003", lead_score=83)  # read now: the "build" will hold the file

    def wait(seconds: float) -> None:
        if not holder:  # after cycle 1: a "build" takes the lock and the API writes a change
            proc = subprocess.Popen(
                [sys.executable, "-c", holder_code, str(wh)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            )
            assert proc.stdout.readline().strip() == "locked"
            holder.append(proc)
            append(changes, change)
        elif holder[0].poll() is None and len(lines) >= 2:  # after cycle 2: the build ends
            holder[0].communicate("", timeout=30)
        time.sleep(seconds)

    try:
        cycles = watch(
            wh, config(crm.url, changes), 0.2, stop=lambda cycle: cycle >= 3, wait=wait,
            out=lines.append, sleep=no_sleep, handle_signals=False,
        )
    finally:
        for proc in holder:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert cycles == 3
    assert len(lines) == 3, lines
    assert lines[1].endswith(
        "sync-crm: the warehouse is locked by another process (a dbt build?): "
        "waiting for the next cycle"
    )
    assert "1 lead(s) queued (1 from the API's changes), 1 delivered" in lines[2]
    assert last_record(crm, "L00003")["lead_score"] == 83


def test_watch_refuses_a_dry_run_or_a_bad_interval(tmp_path) -> None:
    wh = make_warehouse(tmp_path / "w.duckdb", n=1)
    with pytest.raises(SyncError, match="cannot be combined with --dry-run"):
        watch(wh, SyncConfig(endpoint="https://x", dry_run=True), 1.0)
    with pytest.raises(SyncError, match="positive number of seconds"):
        watch(wh, SyncConfig(endpoint="https://x"), 0)


def test_the_watch_command_stops_cleanly_on_sigterm(tmp_path, crm) -> None:
    wh = make_warehouse(tmp_path / "w.duckdb", n=5)
    changes = tmp_path / "crm_changes.jsonl"
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "lead_scoring.cli", "sync-crm", "--endpoint", crm.url,
            "--duckdb", str(wh), "--api-changes", str(changes), "--watch", "0.2",
        ],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    lines: queue.Queue = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True)
    reader.start()
    change = api_row(wh, "L00002", lead_score=62)  # read before the watch holds the file
    try:
        first = lines.get(timeout=30)
        assert "5 lead(s) queued, 5 delivered" in first, first
        append(changes, change)
        second = lines.get(timeout=30)
        assert "1 lead(s) queued (1 from the API's changes), 1 delivered" in second, second
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        reader.join(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    err = proc.stderr.read()
    assert proc.returncode == 0, err
    rest = [lines.get_nowait() for _ in range(lines.qsize())]
    assert "stopped after" in rest[-1] and "Traceback" not in err
    assert last_record(crm, "L00002")["lead_score"] == 62
