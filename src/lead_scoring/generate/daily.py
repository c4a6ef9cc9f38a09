"""Day-by-day exports of a generated funnel: what a daily export taken at the end of a day holds.

The generator writes the whole history at once; a production pipeline receives it a day at a
time. :func:`write_export` writes the four raw contract files (same columns and types as the
generator's, see :mod:`.schema`) as the export taken at the end of day ``until`` would hold
them. Every row gets a *delivery day*, a function of the row alone (never of ``until``), and
the export of day D holds the rows delivered on or before D. So exports are monotone: every
row of export D is in export D + 1.

Delivery day of a row, file by file:

* leads by ``created_at``, touchpoints by ``occurred_at``, conversions by ``converted_at``,
  ad spend by ``spend_date``: the row's own date (UTC), i.e. the export of D holds the rows
  dated up to D 23:59:59.999999.
* A time that is null, does not parse, or lies outside the data's range (the generator's mess
  writes a few year-2099 timestamps) cannot say when the row was delivered. Such a row is
  delivered on a day picked by a stable hash of the whole row (md5 of its text) among the days
  of the data range, and is in every export from that day on. The data range is the largest
  run of dates (over the four files, by row count) with no gap longer than ``RANGE_GAP_DAYS``.
* Late arrivals (:class:`LateArrivals`): a share of the touchpoints, chosen by a stable hash of
  ``event_id``, is first delivered 1..``max_days`` days after the day it occurred (the delay is
  another hash of ``event_id``; every copy of an event gets the same delay).
* Redeliveries (:class:`Redeliveries`): a share of the touchpoints, chosen by a stable hash of
  ``event_id``, is delivered a second time ``after_days`` days after its first delivery: the
  same ``event_id``, and either the same ``occurred_at`` or (a hashed share of them,
  ``restamped_share``) ``occurred_at`` moved ``after_days`` days later, as a tracker that
  re-sends its buffer stamps it anew.

Everything is a pure function of the raw files and the parameters: the same call writes the
same files. The work is done by DuckDB (no Python loop over rows).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from lead_scoring.generate.schema import FILES

# the time column that dates each raw file (its delivery day)
TIME_COLUMNS = {
    "leads": "created_at",
    "touchpoints": "occurred_at",
    "conversions": "converted_at",
    "ad_spend": "spend_date",
}
# a gap between dated rows longer than this ends the data range (year-2099 typos lie past it)
RANGE_GAP_DAYS = 31


@dataclass(frozen=True)
class LateArrivals:
    """A share of the touchpoints (stable hash of event_id) first delivered 1..max_days days
    after the day they occurred."""

    share: float
    max_days: int
    salt: str = "late"

    def __post_init__(self) -> None:
        if not 0 <= self.share <= 1:
            raise ValueError(f"LateArrivals.share must be in [0, 1], got {self.share}")
        if self.max_days < 1:
            raise ValueError(f"LateArrivals.max_days must be >= 1, got {self.max_days}")


@dataclass(frozen=True)
class Redeliveries:
    """A share of the touchpoints (stable hash of event_id) delivered again after_days days
    after their first delivery; restamped_share of those copies carry occurred_at moved
    after_days days later, the others the original occurred_at."""

    share: float
    after_days: int
    restamped_share: float = 0.5
    salt: str = "redeliver"

    def __post_init__(self) -> None:
        for name in ("share", "restamped_share"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"Redeliveries.{name} must be in [0, 1]")
        if self.after_days < 1:
            raise ValueError(f"Redeliveries.after_days must be >= 1, got {self.after_days}")


def _sql_string(value: str | Path) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _unit_hash(expression: str, salt: str) -> str:
    """A number in [0, 1) from the md5 of salt and a SQL text expression: stable everywhere."""
    return (
        f"(('0x' || left(md5({_sql_string(salt + ':')} || coalesce({expression}, '')), 8))"
        "::ubigint / 4294967296.0)"
    )


def _read(raw_dir: Path, name: str) -> str:
    """The raw file as the generator writes it (Parquet), with its row numbers."""
    path = raw_dir / f"{name}.parquet"
    if not path.exists():
        raise FileNotFoundError(f"no {name}.parquet in {raw_dir}")
    return f"read_parquet({_sql_string(path)}, file_row_number = true)"


def _parsed_date(name: str) -> str:
    column = TIME_COLUMNS[name]
    return f"cast(try_cast({column} as timestamp) as date)"


def data_range(con: duckdb.DuckDBPyConnection, raw_dir: Path) -> tuple[dt.date, dt.date]:
    """The first and last day of the data: the run of dates (over the four files) holding the
    most rows with no gap longer than RANGE_GAP_DAYS between consecutive dates."""
    dates = " union all ".join(
        f"select {_parsed_date(name)} as d from {_read(raw_dir, name)}" for name in FILES
    )
    row = con.execute(
        f"""
        with days as (
            select d, count(*) as n from ({dates}) where d is not null group by d
        ),
        gaps as (
            select d, n, coalesce(d - lag(d) over (order by d) > {RANGE_GAP_DAYS}, false) as gap
            from days
        ),
        islands as (
            select d, n, sum(gap::int) over (order by d) as island from gaps
        )
        select min(d), max(d) from islands
        where island = (
            select island from islands group by island order by sum(n) desc, island limit 1
        )
        """
    ).fetchall()[0]
    if row[0] is None:
        raise ValueError(f"no dated row in the raw files of {raw_dir}")
    return row[0], row[1]


def _delivered_sql(
    raw_dir: Path,
    name: str,
    first: dt.date,
    last: dt.date,
    late: LateArrivals | None,
    redeliver: Redeliveries | None,
) -> str:
    """A query of the file's rows (every original column), plus _delivery_day, _row (the
    position in the raw file) and _copy (0; 1 for a redelivered copy)."""
    columns = list(FILES[name].names)
    select = ", ".join(f'"{c}"' for c in columns)
    n_days = (last - first).days + 1
    own_day = _parsed_date(name)
    in_range = f"{own_day} between date '{first}' and date '{last}'"
    row_text = "cast(struct_pack(" + ", ".join(f'"{c}" := "{c}"' for c in columns) + ") as varchar)"
    hashed_day = (
        f"date '{first}' + cast(floor({_unit_hash(row_text, 'undated')} * {n_days}) as integer)"
    )
    delivery = f"case when {in_range} then {own_day} else {hashed_day} end"
    if name == "touchpoints" and late is not None:
        event = "cast(event_id as varchar)"
        is_late = f"{_unit_hash(event, late.salt)} < {late.share}"
        delay = (
            f"1 + cast(floor({_unit_hash(event, late.salt + ':delay')} * {late.max_days}) "
            "as integer)"
        )
        delivery = (
            f"case when {in_range} and {is_late} then {own_day} + {delay} else {delivery} end"
        )
    base = (
        f"select {select}, {delivery} as _delivery_day, file_row_number as _row, 0 as _copy "
        f"from {_read(raw_dir, name)}"
    )
    if name != "touchpoints" or redeliver is None:
        return base
    event = "cast(event_id as varchar)"
    restamped = f"{_unit_hash(event, redeliver.salt + ':restamp')} < {redeliver.restamped_share}"
    copy_columns = ", ".join(
        f"case when {restamped} then occurred_at + interval {redeliver.after_days} day "
        "else occurred_at end as occurred_at"
        if c == "occurred_at"
        else f'"{c}"'
        for c in columns
    )
    # one copy per event: the first row of each chosen event_id with a time in range
    return f"""
        with delivered as ({base})
        select * from delivered
        union all
        select {copy_columns}, _delivery_day + {redeliver.after_days} as _delivery_day, _row,
            1 as _copy
        from delivered
        where event_id is not null
            and {in_range}
            and {_unit_hash(event, redeliver.salt)} < {redeliver.share}
        qualify row_number() over (partition by event_id order by _row) = 1
    """


def delivered(
    raw_dir: Path | str,
    name: str,
    *,
    late: LateArrivals | None = None,
    redeliver: Redeliveries | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> duckdb.DuckDBPyRelation:
    """Every row of raw file ``name`` that any export will hold (redelivered copies included),
    with its ``_delivery_day``, ``_row`` (position in the raw file) and ``_copy`` (1 for a
    redelivered copy). For tests and reports; :func:`write_export` writes from the same query."""
    raw_dir = Path(raw_dir)
    con = con or duckdb.connect()
    first, last = data_range(con, raw_dir)
    return con.sql(_delivered_sql(raw_dir, name, first, last, late, redeliver))


def write_export(
    raw_dir: Path | str,
    out_dir: Path | str,
    until: dt.date | str,
    *,
    late: LateArrivals | None = None,
    redeliver: Redeliveries | None = None,
) -> dict[str, int]:
    """Write leads, touchpoints, conversions and ad_spend .parquet into ``out_dir`` as the daily
    export taken at the end of day ``until`` holds them (see the module docstring); return the
    row count of each file. Rows keep the raw file's order, a redelivered copy after them."""
    raw_dir, out_dir = Path(raw_dir), Path(out_dir)
    until = dt.date.fromisoformat(str(until))
    out_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        first, last = data_range(con, raw_dir)
        counts = {}
        for name, schema in FILES.items():
            query = _delivered_sql(raw_dir, name, first, last, late, redeliver)
            columns = ", ".join(f'"{c}"' for c in schema.names)
            reader = con.sql(
                f"select {columns} from ({query}) where _delivery_day <= date '{until}' "
                "order by _copy, _row"
            ).to_arrow_reader(batch_size=1_000_000)
            tmp = out_dir / f".{name}.parquet.tmp"
            counts[name] = 0
            # pyarrow writes the contract's schema exactly (DuckDB's writer would mark columns
            # without nulls as required)
            with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
                for batch in reader:
                    writer.write_batch(batch.cast(schema))
                    counts[name] += batch.num_rows
            tmp.replace(out_dir / f"{name}.parquet")
        return counts
    finally:
        con.close()
