"""The point-in-time rule of fct_lead_features, proved end to end (DESIGN.md, "Time and labels"):
appending data dated after a cut T must not change any feature of any snapshot at or before T.

Two builds of ``+fct_lead_features`` with the same scoring date, later than all the data:

* **before**: the generated raw data dated at or before T (plus undated rows, which staging
  rejects in both builds), and a few touchpoints at exactly T;
* **after**: the same plus everything dated after T — touchpoints and conversions of existing
  leads, new leads — and boundary events one second and one hour after T for leads that have a
  grid snapshot exactly at T (a day-level aggregation that leaked the rest of T's day would
  show here), with a conversion one second after T for one of them.

Every non-label column of every snapshot at or before T must be identical (NaN-aware); and the
appended data must have changed something after T, so that the comparison cannot pass vacuously.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from dbt_runner import run_dbt

from lead_scoring.generate import GeneratorConfig, generate_dataset

pytestmark = pytest.mark.e2e

N_LEADS = 300
SEED = 11
END_DATE = "2025-06-30"
CUT = pd.Timestamp("2025-04-01 00:00:00")  # T: a UTC midnight, like the grid snapshots
SCORING_DATE = "2025-07-01"  # later than every event of both builds (the same "now" for both)
INTERVAL_DAYS = 7  # var snapshot_interval_days (project default)
KEYS = ["lead_id", "snapshot_at"]
TOUCHPOINT_COLUMNS = (
    "event_id, lead_id, occurred_at, event_type, channel, utm_source, utm_medium, utm_campaign, "
    "referrer_domain, page_url, asset_name, session_id, duration_seconds"
)


def _copy(con: duckdb.DuckDBPyConnection, query: str, target: Path) -> None:
    con.execute(f"copy ({query}) to '{target}' (format parquet)")


def _grid_offset_days(lead_id: str) -> int:
    """The lead's grid offset (doc snapshot_grid): the first 8 hex digits of md5(lead_id) mod the
    interval, computed here apart from the SQL macro stable_hash_bucket."""
    return int(hashlib.md5(lead_id.encode()).hexdigest()[:8], 16) % INTERVAL_DAYS


def _boundary_leads(con: duckdb.DuckDBPyConnection, full: Path) -> list[str]:
    """Leads created well before T, not converted by T, with a grid snapshot exactly at T."""
    rows = con.execute(
        f"""
        with leads as (
            select lead_id, max(created_at) as created_at
            from read_parquet('{full}/leads.parquet')
            group by lead_id
        ),
        conversions as (
            select lead_id, min(converted_at) as converted_at
            from read_parquet('{full}/conversions.parquet')
            group by lead_id
        )
        select
            leads.lead_id,
            date_diff('day', date_trunc('day', leads.created_at), timestamp '{CUT}') as days
        from leads
        left join conversions on leads.lead_id = conversions.lead_id
        where
            leads.lead_id is not null
            and leads.created_at < timestamp '{CUT}' - interval 3 day
            and coalesce(conversions.converted_at > timestamp '{CUT}' + interval 8 day, true)
        order by leads.lead_id
        """
    ).fetchall()
    # grid snapshots at date_trunc('day', created_at) + (1 + offset + k x interval) days
    steps = {lead_id: days - 1 - _grid_offset_days(lead_id.strip()) for lead_id, days in rows}
    on_grid = [
        lead_id for lead_id, step in steps.items() if step >= 0 and step % INTERVAL_DAYS == 0
    ]
    return on_grid[:4]


def _boundary_touchpoints(leads: list[str], offsets: dict[str, str]) -> str:
    """Synthetic touchpoints of the given leads at CUT + each offset (a SQL interval)."""
    selects = []
    for i, lead_id in enumerate(leads):
        for name, offset in offsets.items():
            for event_type, page_url, asset in (
                ("page_view", "/pricing", None),
                ("content_download", "/resources/pit-guide", "PIT Guide"),
                ("email_open", None, None),
            ):
                asset_sql = f"'{asset}'" if asset else "null"
                page_sql = f"'{page_url}'" if page_url else "null"
                selects.append(
                    f"select 'PIT-{name}-{i}-{event_type}' as event_id, '{lead_id}' as lead_id, "
                    f"timestamp '{CUT}' + interval {offset} as occurred_at, "
                    f"'{event_type}' as event_type, 'direct' as channel, "
                    "null as utm_source, null as utm_medium, null as utm_campaign, "
                    f"null as referrer_domain, {page_sql} as page_url, {asset_sql} as asset_name, "
                    "null as session_id, cast(30 as integer) as duration_seconds"
                )
    return " union all ".join(selects)


def _write_raw(full: Path, before: Path, after: Path) -> list[str]:
    """Split the generated data at CUT into the two raw folders; return the boundary leads."""
    before.mkdir(parents=True)
    after.mkdir(parents=True)
    con = duckdb.connect()
    leads = _boundary_leads(con, full)
    assert leads, "no lead with a grid snapshot at the cut: change CUT or SEED"
    at_cut = _boundary_touchpoints(leads, {"at": "0 second"})
    past_cut = _boundary_touchpoints(leads, {"s1": "1 second", "h1": "1 hour"})
    cut = f"timestamp '{CUT}'"

    # leads: a lead belongs to "before" when its first version is dated at or before T
    _copy(
        con,
        f"""select * from read_parquet('{full}/leads.parquet')
            where lead_id is null or lead_id in (
                select lead_id from read_parquet('{full}/leads.parquet')
                group by lead_id having min(created_at) <= {cut} or min(created_at) is null
            )""",
        before / "leads.parquet",
    )
    _copy(
        con,
        f"""select {TOUCHPOINT_COLUMNS} from read_parquet('{full}/touchpoints.parquet')
            where occurred_at <= {cut} or occurred_at is null
            union all select {TOUCHPOINT_COLUMNS} from ({at_cut})""",
        before / "touchpoints.parquet",
    )
    _copy(
        con,
        f"""select * from read_parquet('{full}/conversions.parquet')
            where converted_at <= {cut} or converted_at is null""",
        before / "conversions.parquet",
    )
    _copy(
        con,
        f"""select * from read_parquet('{full}/ad_spend.parquet')
            where spend_date <= cast({cut} as date) or spend_date is null""",
        before / "ad_spend.parquet",
    )

    # after: everything, plus the boundary events and a conversion one second after T
    _copy(con, f"select * from read_parquet('{full}/leads.parquet')", after / "leads.parquet")
    _copy(
        con,
        f"""select {TOUCHPOINT_COLUMNS} from read_parquet('{full}/touchpoints.parquet')
            union all select {TOUCHPOINT_COLUMNS} from ({at_cut})
            union all select {TOUCHPOINT_COLUMNS} from ({past_cut})""",
        after / "touchpoints.parquet",
    )
    _copy(
        con,
        f"""select * from read_parquet('{full}/conversions.parquet')
            union all by name
            select '{leads[0]}' as lead_id, {cut} + interval 1 second as converted_at,
                'opportunity' as conversion_type, 1000.0 as amount""",
        after / "conversions.parquet",
    )
    _copy(con, f"select * from read_parquet('{full}/ad_spend.parquet')", after / "ad_spend.parquet")
    con.close()
    return leads


def _build(raw: Path, workdir: Path) -> pd.DataFrame:
    run = run_dbt(
        ["build", "--select", "+fct_lead_features", "--indirect-selection", "cautious"],
        workdir,
        {"raw_data_path": str(raw), "scoring_date": SCORING_DATE},
        timeout=600,
        unit_tests=False,
    )
    assert run.returncode == 0, run.output[-5000:]
    frame = run.query("select * from fct_lead_features")
    return frame.sort_values(KEYS).reset_index(drop=True)


def _differences(left: pd.DataFrame, right: pd.DataFrame, columns: list[str]) -> dict[str, int]:
    """Columns whose values differ between two frames aligned on KEYS (NaN equals NaN), with
    the number of differing rows."""
    merged = left.merge(right, on=KEYS, how="inner", suffixes=("_left", "_right"))
    found = {}
    for column in columns:
        a, b = merged[f"{column}_left"], merged[f"{column}_right"]
        both_missing = a.isna() & b.isna()
        if pd.api.types.is_float_dtype(a) and pd.api.types.is_float_dtype(b):
            same = np.isclose(a.astype(float), b.astype(float), rtol=1e-12, atol=1e-12)
        else:
            same = (a == b).fillna(False).to_numpy(dtype=bool)
        differing = int((~(same | both_missing.to_numpy())).sum())
        if differing:
            found[column] = differing
    return found


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("point_in_time")
    full = root / "generated"
    generate_dataset(GeneratorConfig(n_leads=N_LEADS, seed=SEED, end_date=END_DATE), full, False)
    leads = _write_raw(full, root / "raw_before", root / "raw_after")
    before = _build(root / "raw_before", root / "dbt_before")
    after = _build(root / "raw_after", root / "dbt_after")
    return before, after, leads


def test_features_at_or_before_the_cut_do_not_change(builds) -> None:
    before, after, _ = builds
    past_before = before[before["snapshot_at"] <= CUT]
    past_after = after[after["snapshot_at"] <= CUT]
    assert len(past_before) > 1000, "too few snapshots before the cut to prove anything"

    keys_before = set(map(tuple, past_before[KEYS].to_numpy()))
    keys_after = set(map(tuple, past_after[KEYS].to_numpy()))
    assert keys_before == keys_after, (
        f"snapshots at or before T differ: {len(keys_before - keys_after)} only before, "
        f"{len(keys_after - keys_before)} only after"
    )

    features = [c for c in before.columns if not c.startswith("label_") and c not in KEYS]
    assert set(features) == {c for c in after.columns if not c.startswith("label_")} - set(KEYS)
    assert len(features) > 80
    changed = _differences(past_before, past_after, features)
    assert not changed, f"features of snapshots at or before T changed (column: rows): {changed}"


def test_snapshot_exactly_at_the_cut_ignores_events_one_second_later(builds) -> None:
    before, after, leads = builds
    at_cut = after[(after["snapshot_at"] == CUT) & after["lead_id"].isin(leads)]
    assert set(at_cut["lead_id"]) == set(leads)
    # the events stamped exactly at T are counted (at or before snapshot_at) ...
    assert (at_cut["pricing_page_views_7d"] >= 1).all()
    assert (at_cut["last_activity_at"] == CUT).all()
    # ... and the same rows before the appended data are identical (checked in full above)
    assert not _differences(
        before[(before["snapshot_at"] == CUT) & before["lead_id"].isin(leads)],
        at_cut,
        [c for c in after.columns if not c.startswith("label_") and c not in KEYS],
    )


def test_appended_data_changes_snapshots_after_the_cut(builds) -> None:
    """The test can fail: the appended data does change what comes after T."""
    before, after, leads = builds
    assert set(after["lead_id"]) - set(before["lead_id"]), "no new lead after the cut"

    # the lead converting one second after T keeps its snapshots up to T and loses the later ones
    converted = leads[0]
    assert (before[before["lead_id"] == converted]["snapshot_at"] > CUT).any()
    assert not (after[after["lead_id"] == converted]["snapshot_at"] > CUT).any()
    assert (after[after["lead_id"] == converted]["snapshot_at"] == CUT).any()
    known = after[(after["lead_id"] == converted) & after["label_is_known"]]
    assert (known[known["snapshot_at"] == CUT]["label_converted_in_horizon"] == 1).all()

    # the next grid snapshot of the other boundary leads counts the events one second after T
    next_grid = CUT + pd.Timedelta(days=INTERVAL_DAYS)
    later_before = before[(before["snapshot_at"] == next_grid) & before["lead_id"].isin(leads[1:])]
    later_after = after[(after["snapshot_at"] == next_grid) & after["lead_id"].isin(leads[1:])]
    changed = _differences(later_before, later_after, ["events_7d", "pricing_page_views_7d"])
    assert changed.get("events_7d", 0) == len(later_after) > 0, changed

    # and in general something after T differs between the two builds
    features = [c for c in after.columns if not c.startswith("label_") and c not in KEYS]
    future_changes = _differences(
        before[before["snapshot_at"] > CUT], after[after["snapshot_at"] > CUT], features
    )
    assert future_changes, "appending data after the cut changed nothing after it"
