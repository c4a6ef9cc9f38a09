"""Timing features of fct_lead_features, end to end, with a scoring time that is not a midnight.

One build of ``+fct_lead_features`` (its dbt tests included, so the recount and consistency tests
run at 14:37 too) on a small generated funnel, scored at ``2025-06-30 14:37:00``. Then every
windowed count, every recency and every burst feature of every snapshot is recounted here from the
staged events with definitions written out independently of the SQL macros (which event types
are engaged or high-intent is read from the vocabulary, ``lead_scoring.vocabulary``):

* a window of N days is exactly (snapshot_at - N days, snapshot_at], for the grid snapshots
  (midnights) and the scoring snapshot alike; an active day counts once, at its first event;
* ``hours_since_last_<kind>`` is the hours from the last such event at or before snapshot_at;
* the strongest burst is the largest number of engaged events in 3 consecutive UTC days up to the
  snapshot's day, or in the exact last 3 days when larger, and it ends at its last engaged event;
* each lead's grid starts ``int(md5(lead_id)[:8], 16) % 7`` days after its first midnight.

The tests also show that the scoring snapshot's partial days are not empty (a day-aligned window
would differ), so the exactness is not checked vacuously.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pandas as pd
import pytest
from dbt_runner import run_dbt

from lead_scoring import vocabulary
from lead_scoring.generate import GeneratorConfig, generate_dataset

pytestmark = pytest.mark.e2e

N_LEADS = 300
SEED = 11
SCORING_AT = pd.Timestamp("2025-06-30 14:37:00")
INTERVAL_DAYS = 7  # var snapshot_interval_days (project default)
KEYS = ["lead_id", "snapshot_at"]


def _sql_list(names: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{name}'" for name in names) + ")"


# which event types are engaged or high-intent: the vocabulary (seeds/event_types.csv)
ENGAGED = f"event_type in {_sql_list(vocabulary.event_type_names('is_engaged'))}"
HIGH_INTENT = (
    "(event_type = 'page_view' and is_high_intent_page)"
    f" or event_type in {_sql_list(vocabulary.event_type_names('is_high_intent'))}"
    " or (event_type = 'form_submit' and page_type in ('contact', 'pricing', 'demo'))"
)
# what each windowed signal counts, written out apart from the macros (value, condition)
SIGNALS = {
    "events": ("1", "true"),
    "engaged_events": ("1", ENGAGED),
    "page_views": ("1", "event_type = 'page_view'"),
    "sessions": ("1", "is_session_start"),
    "time_on_site_seconds": ("coalesce(duration_seconds, 0)", "is_web_event"),
    "content_downloads": ("1", "event_type = 'content_download'"),
    "email_opens": ("1", "event_type = 'email_open'"),
    "email_clicks": ("1", "event_type = 'email_click'"),
    "webinars_attended": ("1", "event_type = 'webinar_attended'"),
    "demo_requests": ("1", "event_type = 'demo_request'"),
    "form_submits": ("1", "event_type = 'form_submit'"),
    "pricing_page_views": ("1", "event_type = 'page_view' and page_type = 'pricing'"),
    "demo_page_views": ("1", "event_type = 'page_view' and page_type = 'demo'"),
    "contact_page_views": ("1", "event_type = 'page_view' and page_type = 'contact'"),
    "comparison_page_views": ("1", "event_type = 'page_view' and page_type = 'comparison'"),
    "case_study_page_views": ("1", "event_type = 'page_view' and page_type = 'case_study'"),
    "careers_page_views": ("1", "event_type = 'page_view' and page_type = 'careers'"),
    "high_intent_page_views": ("1", "event_type = 'page_view' and is_high_intent_page"),
    "high_intent_events": ("1", HIGH_INTENT),
}
RECENCIES = {
    "demo_request": "event_type = 'demo_request'",
    "high_intent_form": (
        "event_type = 'form_submit' and page_type in ('contact', 'pricing', 'demo')"
    ),
    "pricing_view": "event_type = 'page_view' and page_type = 'pricing'",
    "comparison_view": "event_type = 'page_view' and page_type = 'comparison'",
    "case_study_view": "event_type = 'page_view' and page_type = 'case_study'",
    "webinar": "event_type = 'webinar_attended'",
    "chat": "event_type = 'chat_started'",
    "engaged_event": ENGAGED,
    "high_intent_event": HIGH_INTENT,
}
WINDOW = re.compile(r"(?P<signal>.+)_(?P<window>\d+d|prev_7d|total)$")


def _window_bounds(window: str) -> tuple[int, int | None]:
    """(end, start) in days before snapshot_at: the window is (S - start, S - end]."""
    if window == "total":
        return 0, None
    if window == "prev_7d":
        return 7, 14
    return 0, int(window[:-1])


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("feature_timing")
    raw = root / "raw"
    generate_dataset(GeneratorConfig(n_leads=N_LEADS, seed=SEED), raw, False)
    run = run_dbt(
        ["build", "--select", "+fct_lead_features", "--indirect-selection", "cautious"],
        root / "dbt",
        {"raw_data_path": str(raw), "scoring_date": str(SCORING_AT)},
        timeout=900,
        unit_tests=False,
    )
    assert run.returncode == 0, run.output[-5000:]
    return run


@pytest.fixture(scope="module")
def features(build) -> pd.DataFrame:
    return build.query("select * from fct_lead_features").sort_values(KEYS).reset_index(drop=True)


def _recount_sql(features: pd.DataFrame) -> tuple[str, list[str]]:
    """One query recounting every plain windowed column of the mart from the events."""
    columns, expressions = [], []
    for column in features.columns:
        match = WINDOW.match(column)
        if not match or match["signal"] not in SIGNALS:
            continue
        value, condition = SIGNALS[match["signal"]]
        end, start = _window_bounds(match["window"])
        bounds = f"events.occurred_at <= snapshots.snapshot_at - interval {end} day"
        if start is not None:
            bounds += f" and events.occurred_at > snapshots.snapshot_at - interval {start} day"
        expressions.append(
            f"coalesce(sum(case when events.event_id is not null and ({condition}) and {bounds} "
            f"then {value} else 0 end), 0) as {column}"
        )
        columns.append(column)
    sql = f"""
        select snapshots.lead_id, snapshots.snapshot_at, {", ".join(expressions)}
        from fct_lead_features as snapshots
        left join int_touchpoints_sessionized as events
            on events.lead_id = snapshots.lead_id and events.occurred_at <= snapshots.snapshot_at
        group by snapshots.lead_id, snapshots.snapshot_at
    """
    return sql, columns


def _mismatches(features: pd.DataFrame, expected: pd.DataFrame, columns: list[str]) -> dict:
    merged = features[KEYS + columns].merge(expected, on=KEYS, suffixes=("", "_expected"))
    assert len(merged) == len(features)
    found = {}
    for column in columns:
        a = merged[column].astype("float64")
        b = merged[f"{column}_expected"].astype("float64")
        same = np.isclose(a, b, rtol=0, atol=1e-6) | (a.isna() & b.isna())
        if (~same).any():
            found[column] = int((~same).sum())
    return found


def test_the_scoring_snapshot_is_at_the_scoring_time(features) -> None:
    scoring = features[features["is_scoring_snapshot"]]
    assert len(scoring) > 50
    assert (scoring["snapshot_at"] == SCORING_AT).all()
    grid = features[~features["is_scoring_snapshot"]]
    assert (grid["snapshot_at"] == grid["snapshot_at"].dt.normalize()).all()


def test_every_window_is_exact(build, features) -> None:
    sql, columns = _recount_sql(features)
    assert len(columns) >= 90, columns
    for window in ("1d", "3d", "14d"):
        assert f"demo_requests_{window}" in columns
    expected = build.query(sql)
    assert not _mismatches(features, expected, columns)


def test_active_days_and_touches_are_exact(build, features) -> None:
    windows = [c for c in features.columns if c.startswith("active_days_")]
    assert set(windows) >= {"active_days_3d", "active_days_14d", "active_days_total"}

    def counted(column: str, first: str) -> str:
        end, start = _window_bounds(column.rsplit("_", 1)[1])
        bound = (
            "" if start is None else f" and {first} > snapshots.snapshot_at - interval {start} day"
        )
        return f"count(case when {first} <= snapshots.snapshot_at{bound} then 1 end) as {column}"

    expected = build.query(
        f"""
        with days as (
            -- a UTC day (midnight, next midnight] counts once, at its first event
            select lead_id, min(occurred_at) as first_at
            from int_touchpoints_sessionized
            group by lead_id, cast(occurred_at - interval 1 microsecond as date)
        )
        select snapshots.lead_id, snapshots.snapshot_at,
            {", ".join(counted(c, "days.first_at") for c in windows)}
        from fct_lead_features as snapshots
        left join days on days.lead_id = snapshots.lead_id
        group by snapshots.lead_id, snapshots.snapshot_at
        """
    )
    assert not _mismatches(features, expected, windows)

    touches = ["marketing_touches_30d", "marketing_touches_total"]
    expected = build.query(
        f"""
        select snapshots.lead_id, snapshots.snapshot_at,
            {", ".join(counted(c, "touches.occurred_at") for c in touches)}
        from fct_lead_features as snapshots
        left join int_marketing_touches as touches on touches.lead_id = snapshots.lead_id
        group by snapshots.lead_id, snapshots.snapshot_at
        """
    )
    assert not _mismatches(features, expected, touches)


def test_the_partial_day_matters_at_the_scoring_snapshot(build, features) -> None:
    """A window starting at 14:37 N days ago is not a run of whole UTC days: the events of that
    day before 14:37 must be left out, and some leads have such events (else the exactness above
    would be checked vacuously)."""
    partial = build.query(
        f"""
        select window_days, count(distinct events.lead_id) as leads
        from int_touchpoints_sessionized as events
        inner join fct_lead_features as scoring
            on scoring.lead_id = events.lead_id and scoring.is_scoring_snapshot
        cross join (values (1), (3), (7), (14), (30), (90)) as windows (window_days)
        where
            events.occurred_at > timestamp '{SCORING_AT.normalize()}' - to_days(window_days)
            and events.occurred_at <= timestamp '{SCORING_AT}' - to_days(window_days)
        group by window_days
        """
    )
    assert set(partial["window_days"]) == {1, 3, 7, 14, 30, 90}
    assert (partial["leads"] > 0).all(), partial
    stored = build.query(
        "select window_days, count(*) as rows "
        "from int_lead_activity_partial_days group by window_days"
    )
    assert (
        stored.set_index("window_days")["rows"].to_dict()
        == partial.set_index("window_days")["leads"].to_dict()
    )


def test_recency_is_exact(build, features) -> None:
    columns = [f"hours_since_last_{kind}" for kind in RECENCIES]
    assert set(columns) <= set(features.columns)
    expected = build.query(
        f"""
        select snapshots.lead_id, snapshots.snapshot_at,
            {
            ", ".join(
                f"(epoch(snapshots.snapshot_at)"
                f" - epoch(max(events.occurred_at) filter (where {condition})))"
                f" / 3600.0 as hours_since_last_{kind}"
                for kind, condition in RECENCIES.items()
            )
        }
        from fct_lead_features as snapshots
        left join int_touchpoints_sessionized as events
            on events.lead_id = snapshots.lead_id and events.occurred_at <= snapshots.snapshot_at
        group by snapshots.lead_id, snapshots.snapshot_at
        """
    )
    assert not _mismatches(features, expected, columns)
    scoring = features[features["is_scoring_snapshot"]]
    assert scoring["hours_since_last_demo_request"].notna().any()
    assert (scoring["hours_since_last_engaged_event"] < 24).any()


def test_bursts_match_a_brute_force(build, features) -> None:
    engaged = build.query(
        f"""
        select lead_id, occurred_at,
            -- the UTC day (midnight, next midnight] as a day number
            date_diff(
                'day', date '1970-01-01', cast(occurred_at - interval 1 microsecond as date)
            ) as day
        from int_touchpoints_sessionized
        where {ENGAGED}
        """
    )
    by_lead = {lead: frame for lead, frame in engaged.groupby("lead_id")}
    empty = engaged.iloc[:0]
    rows = []
    for row in features[KEYS].itertuples(index=False):
        events = by_lead.get(row.lead_id, empty)
        events = events[events["occurred_at"] <= row.snapshot_at]
        last_3d = int((events["occurred_at"] > row.snapshot_at - pd.Timedelta(days=3)).sum())
        day_max, best_day = 0, None
        days = events["day"].to_numpy()
        for day in np.unique(days):
            count = int(((days >= day - 2) & (days <= day)).sum())
            if count >= day_max:
                day_max, best_day = count, day
        strongest = max(day_max, last_3d)
        if strongest == 0:
            ended = pd.NaT
        elif last_3d >= day_max:
            ended = events["occurred_at"].max()
        else:
            ended = events.loc[events["day"] == best_day, "occurred_at"].max()
        rows.append(
            {
                "lead_id": row.lead_id,
                "snapshot_at": row.snapshot_at,
                "max_burst_engaged_events_3d": strongest,
                "days_since_max_burst": (row.snapshot_at - ended).total_seconds() / 86400
                if strongest
                else np.nan,
                "engaged_events_3d_vs_max_burst": last_3d / strongest if strongest else np.nan,
            }
        )
    expected = pd.DataFrame(rows)
    columns = [
        "max_burst_engaged_events_3d",
        "days_since_max_burst",
        "engaged_events_3d_vs_max_burst",
    ]
    assert not _mismatches(features, expected, columns)
    assert (features["engaged_events_3d_vs_max_burst"] == 1).any()
    assert (
        (features["engaged_events_3d_vs_max_burst"] > 0)
        & (features["engaged_events_3d_vs_max_burst"] < 1)
    ).any()


def test_baselines_follow_their_definition(features) -> None:
    age = features["lead_age_days"]
    for signal in ("engaged_events", "high_intent_events"):
        recent = features[f"{signal}_7d"].astype("float64")
        before = features[f"{signal}_90d"].astype("float64") - recent
        weekly = before / (np.minimum(age - 7, 83) / 7)
        expected = ((recent + 1) / (weekly + 1)).where(age >= 14)
        actual = features[f"{signal}_7d_vs_baseline"].astype("float64")
        same = np.isclose(actual, expected, rtol=1e-12, atol=0) | (actual.isna() & expected.isna())
        assert same.all(), signal
        assert actual.notna().sum() > 1000
    # a quiet lead's few events stand out more than a busy lead's
    quiet = features[
        (features["engaged_events_90d"] == features["engaged_events_7d"]) & (age >= 14)
    ]
    assert (quiet["engaged_events_7d_vs_baseline"] == quiet["engaged_events_7d"] + 1).all()


def _md5_bucket(lead_id: str, buckets: int) -> int:
    return int(hashlib.md5(lead_id.encode()).hexdigest()[:8], 16) % buckets


def test_grid_offset_is_the_md5_bucket_of_the_lead(build, features) -> None:
    grid = build.query(
        """
        select lead_id, created_at, grid_offset_days, min(snapshot_at) as first_grid_snapshot_at
        from int_lead_snapshots_gridded
        where not is_scoring_snapshot
        group by lead_id, created_at, grid_offset_days
        """
    )
    assert len(grid) > 200
    buckets = grid["lead_id"].map(lambda lead: _md5_bucket(lead, INTERVAL_DAYS))
    assert (grid["grid_offset_days"] == buckets).all()
    first = grid["created_at"].dt.normalize() + pd.to_timedelta(1 + buckets, unit="D")
    assert (grid["first_grid_snapshot_at"] == first).all()
    assert set(buckets) == set(range(INTERVAL_DAYS))

    # training snapshots now see every lead age (mod the interval) and every weekday
    training = features[~features["is_scoring_snapshot"]]
    assert set(np.floor(training["lead_age_days"]).astype(int) % INTERVAL_DAYS) == set(range(7))
    per_lead_weekdays = training.groupby("lead_id")["snapshot_at"].agg(
        lambda s: s.dt.day_of_week.nunique()
    )
    assert (per_lead_weekdays == 1).all()
    assert training["snapshot_at"].dt.day_of_week.nunique() == 7


def test_title_features_reach_the_mart(build, features) -> None:
    leads = build.query(
        "select lead_id, job_title, job_function, is_student, is_self_employed from stg_crm__leads"
    )
    assert leads["job_function"].notna().all()
    assert (leads.loc[leads["job_title"].isna(), "job_function"] == "unknown").all()
    assert leads["is_student"].any() and leads["is_self_employed"].any()
    assert leads["job_function"].nunique() >= 10
    merged = features[["lead_id", "job_function", "is_student"]].merge(
        leads, on="lead_id", suffixes=("", "_staged")
    )
    assert (merged["job_function"] == merged["job_function_staged"]).all()
    assert (merged["is_student"] == merged["is_student_staged"]).all()
    assert "job_title" not in features.columns


def test_no_pii_reaches_the_mart(features) -> None:
    assert not {"email", "company_name", "job_title"} & set(features.columns)
