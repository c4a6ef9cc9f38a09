"""Tests of the day-by-day exports (lead_scoring.generate.daily): the contract schema, cut-offs
at the end of the day, monotone exports, undated rows, late arrivals and redeliveries.

A small generated funnel (the generator's mess included: year-2099 timestamps, duplicate
deliveries) and a hand-made file with the edge cases (a row at 23:59:59.999999, a null time).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lead_scoring.generate import FILES, GeneratorConfig, generate_dataset
from lead_scoring.generate.daily import (
    TIME_COLUMNS,
    LateArrivals,
    Redeliveries,
    data_range,
    delivered,
    write_export,
)

END = dt.date(2025, 6, 30)
LATE = LateArrivals(share=0.2, max_days=3)
REDELIVER = Redeliveries(share=0.05, after_days=10, restamped_share=0.5)


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("daily_raw")
    generate_dataset(GeneratorConfig(n_leads=150, seed=3, end_date=str(END)), folder, False)
    return folder


def _rows(folder: Path, name: str) -> list[tuple]:
    """The file's rows, sorted (a multiset, for containment checks)."""
    table = pq.read_table(folder / f"{name}.parquet")
    return sorted(table.to_pylist(), key=repr)


def _multiset_missing(smaller: Path, larger: Path, name: str) -> int:
    """Rows of smaller/name that are not in larger/name, counting duplicates."""
    con = duckdb.connect()
    return con.execute(
        f"select count(*) from (select * from '{smaller}/{name}.parquet' except all "
        f"select * from '{larger}/{name}.parquet')"
    ).fetchall()[0][0]


def test_the_export_has_the_contract_schema(raw: Path, tmp_path: Path) -> None:
    write_export(raw, tmp_path, END - dt.timedelta(days=5), late=LATE, redeliver=REDELIVER)
    for name, schema in FILES.items():
        assert pq.read_schema(tmp_path / f"{name}.parquet").remove_metadata() == schema, name


def test_exports_are_monotone(raw: Path, tmp_path: Path) -> None:
    days = [END - dt.timedelta(days=k) for k in (40, 12, 11, 10, 2, 1, 0)]
    for day in days:
        write_export(raw, tmp_path / str(day), day, late=LATE, redeliver=REDELIVER)
    for before, after in zip(days, days[1:], strict=False):
        for name in FILES:
            missing = _multiset_missing(tmp_path / str(before), tmp_path / str(after), name)
            assert missing == 0, f"{name}: {missing} rows of {before} missing on {after}"


def test_without_late_rows_the_export_holds_the_rows_dated_up_to_the_end_of_the_day(
    raw: Path, tmp_path: Path
) -> None:
    until = END - dt.timedelta(days=20)
    first, last = data_range(duckdb.connect(), raw)
    assert last == END and first.year == 2024  # the year-2099 typos are outside
    write_export(raw, tmp_path, until)
    con = duckdb.connect()
    for name, column in TIME_COLUMNS.items():
        dated = f"cast({column} as date) between date '{first}' and date '{last}'"
        exported = con.execute(
            f"select count(*) filter (where {dated}), "
            f"count(*) filter (where {dated} and cast({column} as date) > date '{until}') "
            f"from '{tmp_path}/{name}.parquet'"
        ).fetchall()[0]
        expected = con.execute(
            f"select count(*) from '{raw}/{name}.parquet' "
            f"where {dated} and cast({column} as date) <= date '{until}'"
        ).fetchall()[0][0]
        assert exported == (expected, 0), name


def test_the_export_of_the_last_day_holds_every_raw_row(raw: Path, tmp_path: Path) -> None:
    write_export(raw, tmp_path, END)
    for name in FILES:
        assert _rows(tmp_path, name) == _rows(raw, name), name


def test_the_cut_off_is_the_last_microsecond_of_the_day(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    _write_edge_case_raw(raw)
    day = dt.date(2025, 1, 10)
    write_export(raw, tmp_path / "d", day)
    ids = set(pq.read_table(tmp_path / "d" / "touchpoints.parquet")["event_id"].to_pylist())
    assert "at_end_of_day" in ids
    assert "next_midnight" not in ids
    write_export(raw, tmp_path / "d1", day + dt.timedelta(days=1))
    ids = set(pq.read_table(tmp_path / "d1" / "touchpoints.parquet")["event_id"].to_pylist())
    assert {"at_end_of_day", "next_midnight"} <= ids


def test_undated_rows_appear_from_one_fixed_day_in_the_data_range(
    raw: Path, tmp_path: Path
) -> None:
    """A null or far-future (2099) time cannot date a row: it is delivered on a day hashed from
    the row, inside the data range, and stays in every later export."""
    con = duckdb.connect()
    first, last = data_range(con, raw)
    undated = delivered(raw, "touchpoints", con=con).filter(
        f"occurred_at is null or occurred_at > timestamp '{last}' + interval 1 day"
    )
    rows = undated.fetchall()
    assert rows, "the generator's mess should hold a year-2099 timestamp at this size"
    columns = undated.columns
    for row in rows:
        record = dict(zip(columns, row, strict=True))
        day = record["_delivery_day"]
        assert first <= day <= last
        for until, present in ((day - dt.timedelta(days=1), False), (day, True), (last, True)):
            out = tmp_path / f"{record['event_id']}_{until}"
            write_export(raw, out, until)
            ids = pq.read_table(out / "touchpoints.parquet")["event_id"].to_pylist()
            assert (record["event_id"] in ids) == present, (record["event_id"], until)


def test_null_times_are_delivered_on_a_day_of_the_data_range(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    _write_edge_case_raw(raw)
    rows = delivered(raw, "touchpoints").filter("event_id = 'no_time'").fetchall()
    assert len(rows) == 1
    con = duckdb.connect()
    first, last = data_range(con, raw)
    assert first <= rows[0][-3] <= last  # _delivery_day


def test_late_touchpoints_appear_on_the_day_of_their_delay(raw: Path, tmp_path: Path) -> None:
    con = duckdb.connect()
    delivered(raw, "touchpoints", late=LATE, con=con).create_view("plan")
    late = con.sql(
        "select event_id, cast(occurred_at as date) as occurred_on, _delivery_day from plan "
        "where _delivery_day > cast(occurred_at as date) "
        "and occurred_at < timestamp '2030-01-01'"
    ).df()
    on_time = con.sql(
        "select count(*) from plan where _delivery_day = cast(occurred_at as date)"
    ).fetchall()[0][0]
    share = len(late) / (len(late) + on_time)
    assert 0.17 < share < 0.23, share  # the configured 20%, by a hash of event_id
    delays = (late["_delivery_day"] - late["occurred_on"]).dt.days
    assert set(delays) == {1, 2, 3}
    # every copy of an event (the generator's duplicate deliveries) is late by the same delay
    assert late.groupby("event_id")["_delivery_day"].nunique().max() == 1
    # one late event near the end: absent the day before its delivery, present on the day
    sample = late[late["_delivery_day"] <= pd.Timestamp(END)].sort_values("_delivery_day").iloc[-1]
    delivery = sample["_delivery_day"].date()
    for until, present in ((delivery - dt.timedelta(days=1), False), (delivery, True)):
        out = tmp_path / str(until)
        write_export(raw, out, until, late=LATE)
        ids = pq.read_table(out / "touchpoints.parquet")["event_id"].to_pylist()
        assert (sample["event_id"] in ids) == present, until


def test_redelivered_events_come_again_after_the_configured_days(raw: Path, tmp_path: Path) -> None:
    con = duckdb.connect()
    delivered(raw, "touchpoints", late=LATE, redeliver=REDELIVER, con=con).create_view("plan")
    pairs = con.sql(
        """
        select c.event_id, o.occurred_at as original_at, c.occurred_at as copy_at,
            o._delivery_day as first_day, c._delivery_day as again_day
        from plan as c
        join plan as o on o.event_id = c.event_id and o._row = c._row and o._copy = 0
        where c._copy = 1
        """
    ).df()
    assert len(pairs) > 20
    assert pairs["event_id"].is_unique  # one copy per event
    assert ((pairs["again_day"] - pairs["first_day"]).dt.days == 10).all()
    moved = (pairs["copy_at"] - pairs["original_at"]).dt.days
    assert set(moved) == {0, 10}  # the same occurred_at, or restamped ten days later
    assert 0.3 < (moved == 10).mean() < 0.7
    # a copy is in the export of its day, not the day before, with the same event_id
    pair = pairs[pairs["again_day"] <= pd.Timestamp(END)].sort_values("again_day").iloc[-1]
    again = pair["again_day"].date()
    counts = {}
    for until in (again - dt.timedelta(days=1), again):
        out = tmp_path / str(until)
        write_export(raw, out, until, late=LATE, redeliver=REDELIVER)
        events = pq.read_table(out / "touchpoints.parquet").to_pandas()
        counts[until] = events[events["event_id"] == pair["event_id"]]
    before, after = counts.values()
    assert len(after) == len(before) + 1
    assert sorted(after["occurred_at"]) == sorted([*before["occurred_at"], pair["copy_at"]])


def test_exports_are_deterministic(raw: Path, tmp_path: Path) -> None:
    day = END - dt.timedelta(days=3)
    for k in (1, 2):
        write_export(raw, tmp_path / str(k), day, late=LATE, redeliver=REDELIVER)
    for name in FILES:
        first = pq.read_table(tmp_path / "1" / f"{name}.parquet")
        assert first.equals(pq.read_table(tmp_path / "2" / f"{name}.parquet")), name


@pytest.mark.parametrize(
    ("factory", "kwargs"),
    [
        (LateArrivals, {"share": 1.5, "max_days": 2}),
        (LateArrivals, {"share": 0.1, "max_days": 0}),
        (Redeliveries, {"share": -0.1, "after_days": 5}),
        (Redeliveries, {"share": 0.1, "after_days": 0}),
    ],
)
def test_bad_parameters_are_refused(factory, kwargs) -> None:
    with pytest.raises(ValueError):
        factory(**kwargs)


def _write_edge_case_raw(folder: Path) -> None:
    """Four contract files; the touchpoints hold a row at the last microsecond of 2025-01-10,
    one at the next midnight and one with a null occurred_at."""
    t = dt.datetime
    tables = {
        "leads": {"lead_id": ["L1"], "created_at": [t(2025, 1, 1, 10)]},
        "touchpoints": {
            "event_id": ["early", "at_end_of_day", "next_midnight", "no_time"],
            "lead_id": ["L1"] * 4,
            "occurred_at": [
                t(2025, 1, 2, 9),
                t(2025, 1, 10, 23, 59, 59, 999999),
                t(2025, 1, 11),
                None,
            ],
        },
        "conversions": {"lead_id": ["L1"], "converted_at": [t(2025, 1, 12, 8)]},
        "ad_spend": {"spend_date": [dt.date(2025, 1, 3)], "spend": [1.0]},
    }
    for name, schema in FILES.items():
        data = tables[name]
        n = len(next(iter(data.values())))
        columns = [pa.array(data.get(f.name, [None] * n), type=f.type) for f in schema]
        pq.write_table(pa.Table.from_arrays(columns, schema=schema), folder / f"{name}.parquet")
