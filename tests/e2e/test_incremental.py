"""Daily runs equal a full refresh: the SQL layers built day by day over a generated funnel
produce exactly the tables `dbt build --full-refresh` produces on the last day's export.

A funnel of N_LEADS leads is generated and cut into the daily exports of its last eight days
(lead_scoring.generate.daily): with late touchpoints (delivered up to LATE.max_days after they
occurred: the models have no lookback window, a fingerprint of every lead's raw rows finds a late
row however late) and redeliveries (an event delivered again ten days
later, same event_id, with the same occurred_at or one restamped to the redelivery day); its
seed puts touches delivered before their lead, a lead's newer row and conversions in the last
week too (test_the_exports_exercise_late_rows_and_redeliveries checks all of it). One
warehouse is built at FIRST_DAY (a first, full build) and then once a day up to LAST_DAY, each
run reading that day's export; a second warehouse is built with --full-refresh from the last
export. Every relation of the selected models must be equal, row for row and column for column
(scripts/compare_warehouses.py's comparison).

Only the SQL layers are built (SELECTOR: staging, features, attribution, core marts and the
data-quality ledger, with their tests): the ML layer legitimately depends on the run history
(retraining schedule, the model registry, the score history).

scoring_date is explicit, the last microsecond of the export's day: the export of day D holds
the rows dated up to D 23:59:59.999999, so that is its "now". The default (null: the latest
occurred_at) would put "now" at the day's last touchpoint and leave out the leads, conversions
and late touches of the same day that come after it; and it would be moved by the exports'
undated rows rule rather than by the calendar.

The full builds (the first and the full refresh) build the feature mart three buckets of
leads at a time (var lead_buckets, as a million leads would), the daily runs in one batch. The
last test shows the comparison can fail: a full refresh on the day before's export differs.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import time
from pathlib import Path

import duckdb
import pytest
from dbt_runner import DbtRun, run_dbt
from project import PROJECT_DIR

from lead_scoring.generate import GeneratorConfig, generate_dataset
from lead_scoring.generate.daily import LateArrivals, Redeliveries, delivered, write_export

pytestmark = pytest.mark.e2e

_spec = importlib.util.spec_from_file_location(
    "compare_warehouses", PROJECT_DIR / "scripts" / "compare_warehouses.py"
)
compare_warehouses = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(compare_warehouses)

N_LEADS = 500
# a seed whose last week holds what an incremental model can get wrong (test_the_exports_...):
# touches delivered before their lead (browsing before the form fill), a lead's second row
# (the CRM's newer version) on a later day, conversions, year-2099 timestamps
SEED = 32
LAST_DAY = dt.date(2025, 6, 30)  # the generator's default end_date: the last data day L
DAILY_RUNS = 7  # a full build at L-7, then a run a day for L-6 .. L
FIRST_DAY = LAST_DAY - dt.timedelta(days=DAILY_RUNS)
OLD_DAYS = 3  # a redelivered event older than this at its redelivery counts as old
# late by up to nine days: beyond the few days a lookback window would cover
LATE = LateArrivals(share=0.1, max_days=9)
# delivered again ten days later: deduplicated against the rows of earlier runs
REDELIVER = Redeliveries(share=0.03, after_days=10, restamped_share=0.5)
SELECTOR = [
    "resource_type:seed",
    "tag:staging",
    "tag:features",
    "tag:attribution",
    "tag:core",
    "fct_data_quality_issues",
]
# a full build runs every test of the selection; only tests on selected models (cautious)
BUILD = ["build", "--indirect-selection", "cautious", "--select", *SELECTOR]
# the days between the first and the last: models only (the tests run on the first and last day)
RUN = ["run", "--select", *SELECTOR]
# the reference: models and seeds, no tests
FULL_REFRESH = [
    "build", "--full-refresh", "--resource-type", "model", "--resource-type", "seed",
    "--select", *SELECTOR,
]  # fmt: skip


def _vars(export: Path, day: dt.date) -> dict:
    # lead_buckets 3: the full builds build the feature mart three buckets of leads at a time
    # (as a million leads would), the daily runs in one batch: both must equal the full refresh
    return {
        "raw_data_path": str(export),
        "scoring_date": f"{day} 23:59:59.999999",
        "lead_buckets": 3,
    }


# the incremental runs' own decision (which snapshots to recompute, and why): a full refresh
# recomputes everything by definition, so it differs there and nowhere else
RUN_DECISIONS = {"int_lead_feature_recompute"}


def _built_relations(run: DbtRun, workdir: Path) -> set[str]:
    """The relations (aliases) of the models and seeds the run executed, but the decisions."""
    results = json.loads((workdir / "target" / "run_results.json").read_text())
    manifest = json.loads((workdir / "target" / "manifest.json").read_text())
    return {
        manifest["nodes"][r["unique_id"]]["alias"]
        for r in results["results"]
        if r["unique_id"].startswith(("model.", "seed."))
    } - RUN_DECISIONS


def _check(run: DbtRun, what: str) -> None:
    assert run.returncode == 0, f"{what} failed:\n{run.output[-6000:]}"


@pytest.fixture(scope="module")
def funnel(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The generated funnel and its daily exports, FIRST_DAY .. LAST_DAY."""
    root = tmp_path_factory.mktemp("incremental")
    raw = root / "raw"
    generate_dataset(
        GeneratorConfig(n_leads=N_LEADS, seed=SEED, end_date=str(LAST_DAY)), raw, False
    )
    exports = {}
    for k in range(DAILY_RUNS + 1):
        day = FIRST_DAY + dt.timedelta(days=k)
        exports[day] = root / "exports" / str(day)
        write_export(raw, exports[day], day, late=LATE, redeliver=REDELIVER)
    return {"root": root, "raw": raw, "exports": exports}


@pytest.fixture(scope="module")
def daily_and_full(funnel: dict) -> dict:
    """The warehouse built day by day, and the full refresh of the last export."""
    root, exports = funnel["root"], funnel["exports"]
    started = time.perf_counter()
    daily_dir = root / "daily"
    for day, export in exports.items():
        args = BUILD if day in (FIRST_DAY, LAST_DAY) else RUN
        run = run_dbt(args, daily_dir, _vars(export, day), unit_tests=False)
        _check(run, f"the daily run of {day}")
    daily_seconds = time.perf_counter() - started
    full_dir = root / "full"
    full = run_dbt(FULL_REFRESH, full_dir, _vars(exports[LAST_DAY], LAST_DAY), unit_tests=False)
    _check(full, "the full refresh")
    print(
        f"\n{DAILY_RUNS + 1} daily runs {daily_seconds:.1f} s, full refresh "
        f"{time.perf_counter() - started - daily_seconds:.1f} s"
    )
    return {
        "daily": daily_dir / "warehouse.duckdb",
        "full": full.duckdb_path,
        "relations": _built_relations(full, full_dir),
    }


def test_the_exports_exercise_late_rows_and_redeliveries(funnel: dict) -> None:
    """The daily runs receive late touchpoints, redelivered old events, touches of leads not
    delivered yet, a lead's newer row and conversions (else the equality below proves less
    than it says)."""
    con = duckdb.connect()
    for name in ("leads", "touchpoints", "conversions"):
        plan = delivered(funnel["raw"], name, late=LATE, redeliver=REDELIVER, con=con)
        plan.create_view(name)
    window = f"between date '{FIRST_DAY + dt.timedelta(days=1)}' and date '{LAST_DAY}'"
    counts = con.sql(
        f"""
        with lead_days as (
            select lead_id, min(_delivery_day) as first_day, count(distinct _delivery_day) as days
            from leads
            group by lead_id
        )
        select
            (select count(*) from touchpoints where _delivery_day {window}
                and _copy = 0 and _delivery_day > cast(occurred_at as date)) as late,
            (select count(*) from touchpoints where _delivery_day {window}
                and _copy = 0 and _delivery_day > cast(occurred_at as date) + 3) as very_late,
            (select count(*) from touchpoints where _delivery_day {window}
                and _copy = 1) as redelivered,
            (select count(*) from touchpoints where _delivery_day {window} and _copy = 1
                and occurred_at < _delivery_day - {OLD_DAYS}) as redelivered_as_old,
            (select count(*) from touchpoints join lead_days using (lead_id)
                where first_day {window} and _delivery_day < first_day) as before_their_lead,
            (select count(*) from leads join lead_days using (lead_id)
                where days > 1 and _delivery_day {window} and _delivery_day > first_day)
                as newer_lead_rows,
            (select count(*) from conversions where _delivery_day {window}) as conversions
        """
    ).df()
    print("\nreceived by the daily runs: " + ", ".join(f"{c} {counts.at[0, c]}" for c in counts))
    assert counts.at[0, "late"] >= 5
    for column in counts.columns.drop("late"):
        assert counts.at[0, column] >= 1, column


def test_daily_runs_equal_a_full_refresh(daily_and_full: dict) -> None:
    relations = daily_and_full["relations"]
    assert len(relations) > 30  # seeds, staging, features, attribution, dim_leads, the ledger
    problems = compare_warehouses.compare(
        daily_and_full["full"], daily_and_full["daily"], names=relations, log=lambda _: None
    )
    assert not problems, (
        "the daily runs differ from the full refresh (BEFORE = full refresh, AFTER = daily):\n"
        + "\n".join(problems)
    )


def test_comparison_detects_a_full_refresh_of_another_export(
    funnel: dict, daily_and_full: dict
) -> None:
    """The comparison can fail: a full refresh on the export of the day before the last
    differs from the daily runs (new leads, touches, spend and a later scoring date)."""
    day = LAST_DAY - dt.timedelta(days=1)
    workdir = funnel["root"] / "full_day_before"
    run = run_dbt(FULL_REFRESH, workdir, _vars(funnel["exports"][day], day), unit_tests=False)
    _check(run, "the full refresh of the day before")
    problems = compare_warehouses.compare(
        run.duckdb_path,
        daily_and_full["daily"],
        names=daily_and_full["relations"],
        log=lambda _: None,
    )
    print("\n" + "\n".join(f"DIFFERENT {problem}" for problem in problems))
    differing = {problem.split(":")[0] for problem in problems}
    assert {"stg_web__touchpoints", "fct_lead_features", "dim_leads"} <= differing
    # the seeds do not depend on the export: equal
    assert "channels" not in differing
