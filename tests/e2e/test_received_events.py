"""The events the real-time scoring API received (file 1 of its contract): a rebuild reads
<received_events_path>/touchpoints.jsonl as rows of raw.touchpoints, so staging treats them
exactly as raw rows; an event also delivered by the raw export counts once; a bad line stops
the build with a message naming the file and the line."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from dbt_runner import DbtRun, run_dbt, write_tiny_raw
from project import PROJECT_DIR

pytestmark = pytest.mark.e2e

SAMPLE = PROJECT_DIR / "data" / "sample"
# staging, the data-quality ledger and their tests (assert_every_raw_row_is_accounted_for among
# them): all that reads the raw touchpoints, without training a model
STAGING = [
    "build",
    "--select",
    "+fct_data_quality_issues",
    "path:models/staging",
    "--indirect-selection",
    "cautious",
]
# only the raw contract check (the on-run-start hook) and one cheap node
MODELS_ONLY = ["--resource-type", "seed", "--resource-type", "model"]
CHECK = ["build", "--select", "+base_ads__ad_spend", *MODELS_ONLY]
TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


def _write_events(folder: Path, *events: dict, tail: str = "") -> Path:
    """Write received events the way the API does: one JSON object per line (then ``tail``)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "touchpoints.jsonl"
    path.write_text("".join(json.dumps(event) + "\n" for event in events) + tail, encoding="utf-8")
    return path


def _event(event_id: str, lead_id: str, occurred_at: datetime, **values) -> dict:
    """One received event: the 13 touchpoint contract columns, plus received_at (ignored)."""
    event = {
        "event_id": event_id,
        "lead_id": lead_id,
        "occurred_at": occurred_at.strftime(TIME_FORMAT),
        "event_type": "page_view",
        "channel": None,
        "utm_source": None,
        "utm_medium": None,
        "utm_campaign": None,
        "referrer_domain": None,
        "page_url": None,
        "asset_name": None,
        "session_id": None,
        "duration_seconds": None,
    }
    event.update(values)
    event["received_at"] = (occurred_at + timedelta(seconds=1)).strftime(TIME_FORMAT)
    return event


def _sample_facts() -> dict:
    """From the committed sample: its latest valid touch, an open lead, and an event of the raw
    export kept by staging (a known lead, after its creation, delivered once)."""
    con = duckdb.connect()
    touchpoints = f"read_parquet('{SAMPLE / 'touchpoints.parquet'}')"
    leads = f"read_parquet('{SAMPLE / 'leads.parquet'}')"
    conversions = f"read_parquet('{SAMPLE / 'conversions.parquet'}')"
    latest = con.sql(
        f"select max(occurred_at) from {touchpoints} "
        "where occurred_at <= timezone('UTC', current_timestamp)"
    ).fetchall()[0][0]
    open_lead = con.sql(
        f"select min(lead_id) from {leads} where lead_id not in "
        f"(select lead_id from {conversions} where lead_id is not null) "
        f"and created_at < timestamp '{latest}'"
    ).fetchall()[0][0]
    raw_event = con.sql(
        f"""
        select touchpoints.* from {touchpoints} as touchpoints
        inner join {leads} as leads on touchpoints.lead_id = leads.lead_id
        where touchpoints.event_id in (
            select event_id from {touchpoints} group by event_id having count(*) = 1
        )
        and touchpoints.occurred_at between leads.created_at and timestamp '{latest}'
        order by touchpoints.event_id
        limit 1
        """
    ).df()
    raw_rows = con.sql(f"select count(*) from {touchpoints}").fetchall()[0][0]
    con.close()
    return {
        "latest": latest,
        "open_lead": open_lead,
        "raw_event": raw_event.iloc[0].to_dict(),
        "raw_rows": raw_rows,
    }


@pytest.fixture(scope="module")
def received_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[DbtRun, dict]:
    """The sample's staging and ledger built once with a received-events file holding a demo
    request of an open lead after the sample's latest touch, and a copy of a raw event."""
    facts = _sample_facts()
    workdir = tmp_path_factory.mktemp("received_events")
    demo_at = facts["latest"] + timedelta(hours=1)
    demo = _event(
        "api_demo_1", facts["open_lead"], demo_at, event_type="demo_request", page_url="/demo"
    )
    raw = facts["raw_event"]
    duplicate = _event(
        raw["event_id"],
        raw["lead_id"],
        raw["occurred_at"].to_pydatetime(),
        **{
            column: (None if value != value else value)  # NaN (a null of pandas) -> null
            for column, value in raw.items()
            if column not in ("event_id", "lead_id", "occurred_at")
        },
    )
    if duplicate["duration_seconds"] is not None:
        duplicate["duration_seconds"] = int(duplicate["duration_seconds"])
    folder = workdir / "received"
    _write_events(folder, duplicate, demo)
    run = run_dbt(STAGING, workdir / "dbt", env={"LEAD_SCORING_RECEIVED_EVENTS": str(folder)})
    assert run.returncode == 0, run.output[-6000:]
    return run, {**facts, "demo": demo, "demo_at": demo_at, "duplicate": duplicate}


def test_received_event_is_staged_and_moves_the_scoring_date(received_build) -> None:
    run, facts = received_build
    assert "received events ok: 2 events" in run.output
    staged = run.query(
        "select lead_id, event_type, page_path, occurred_at from stg_web__touchpoints "
        f"where event_id = '{facts['demo']['event_id']}'"
    )
    assert len(staged) == 1
    assert staged.lead_id.iloc[0] == facts["open_lead"]
    assert staged.event_type.iloc[0] == "demo_request"
    assert staged.page_path.iloc[0] == "/demo"
    assert staged.occurred_at.iloc[0] == facts["demo_at"]
    # the default "now" of the rebuild is the received event's time: the latest one
    latest = run.query("select latest_occurred_at from raw.run_context").iloc[0, 0]
    assert latest == facts["demo_at"] > facts["latest"]


def test_event_received_and_exported_counts_once_and_in_the_ledger(received_build) -> None:
    run, facts = received_build
    event_id = facts["duplicate"]["event_id"]
    copies = run.query(
        "select dq_issue, occurred_at, channel from base_web__touchpoints "
        f"where event_id = '{event_id}' order by dq_issue nulls first"
    )
    assert list(copies.dq_issue.fillna("kept")) == ["kept", "duplicate_event_id"]
    assert copies.occurred_at.iloc[0] == facts["raw_event"]["occurred_at"]
    assert len(run.query(f"select 1 from stg_web__touchpoints where event_id = '{event_id}'")) == 1
    # the ledger accounts for every row of raw.touchpoints: the raw file's and the received ones
    ledger = run.query(
        "select rule, row_count from fct_data_quality_issues "
        "where source_file = 'touchpoints' and action in ('kept', 'dropped')"
    ).set_index("rule")["row_count"]
    assert ledger.sum() == facts["raw_rows"] + 2
    # every copy beyond the first of an event id is a duplicate, the received copy included
    expected_duplicates = run.query(
        "select count(event_id) - count(distinct event_id) from "
        "(select nullif(trim(event_id), '') as event_id from raw.touchpoints)"
    ).iloc[0, 0]
    raw_duplicates = (
        duckdb.connect()
        .sql(
            "select count(event_id) - count(distinct event_id) from (select nullif(trim(event_id),"
            f" '') as event_id from read_parquet('{SAMPLE / 'touchpoints.parquet'}'))"
        )
        .fetchall()[0][0]
    )
    assert ledger["duplicate_event_id"] == expected_duplicates == raw_duplicates + 1


@pytest.mark.parametrize(
    ("tail", "line", "says"),
    [
        # the API stopped mid-write: the last line is cut short
        ('{"event_id": "E9", "lead_id": "L1", "occurred_at": "2025-01-0', 3, "not valid JSON"),
        # a wrong type: a duration given as text
        (
            json.dumps({"event_id": "E9", "lead_id": "L1", "duration_seconds": "12"}) + "\n",
            3,
            "duration_seconds is a string",
        ),
    ],
    ids=["truncated_line", "wrong_type"],
)
def test_bad_line_stops_the_build_naming_file_and_line(
    tiny_raw: Path, tmp_path: Path, tail: str, line: int, says: str
) -> None:
    good = _event("E8", "L1", datetime(2025, 1, 7, 10, 0))
    path = _write_events(tmp_path / "received", good, good | {"event_id": "E7"}, tail=tail)
    run = run_dbt(
        CHECK,
        tmp_path / "dbt",
        {"raw_data_path": str(tiny_raw), "received_events_path": str(path.parent)},
    )
    assert run.returncode != 0
    assert f"Received events: file '{path}', line {line}: {says}" in run.output
    assert "delete it" in run.output  # how to fix
    assert "Traceback" not in run.output


def test_received_events_join_a_csv_export_and_an_empty_file_changes_nothing(
    tmp_path: Path,
) -> None:
    """With a CSV export (every raw column text) the received events are cast to text too;
    an empty file leaves raw.touchpoints as the raw file alone."""
    raw = write_tiny_raw(tmp_path / "raw", fmt="csv")
    folder = tmp_path / "received"
    _write_events(
        folder,
        _event("E9", "L2", datetime(2025, 1, 8, 9, 30, 15, 250000), duration_seconds=42),
    )
    run = run_dbt(
        ["build", "--select", "+stg_web__touchpoints", *MODELS_ONLY],
        tmp_path / "dbt",
        {"raw_data_path": str(raw)},
        env={"LEAD_SCORING_RECEIVED_EVENTS": str(folder)},
    )
    assert run.returncode == 0, run.output[-6000:]
    staged = run.query(
        "select event_id, lead_id, occurred_at, duration_seconds from stg_web__touchpoints "
        "order by event_id"
    )
    assert list(staged.event_id) == ["E1", "E2", "E9"]
    assert str(staged.occurred_at.iloc[2]) == "2025-01-08 09:30:15.250000"
    assert staged.duration_seconds.iloc[2] == 42

    (folder / "touchpoints.jsonl").write_text("", encoding="utf-8")
    run = run_dbt(
        CHECK,
        tmp_path / "dbt",
        {"raw_data_path": str(raw)},
        env={"LEAD_SCORING_RECEIVED_EVENTS": str(folder)},
    )
    assert run.returncode == 0, run.output[-6000:]
    assert "is empty" in run.output
    assert run.query("select count(*) from raw.touchpoints").iloc[0, 0] == 2
    raw_tables = run.query("select table_name from duckdb_tables() where schema_name = 'raw'")
    assert "received_touchpoints" not in set(raw_tables.table_name)
