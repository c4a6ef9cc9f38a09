"""End to end on a generated funnel: drift that means something, and a health verdict to trust.

Build 1: a stationary generated funnel (the generator's market never changes; its open leads
accumulate and age) scored a week before its last day. ml_drift compares the open leads with the
model's age-weighted test window: nothing counts for the verdict, and ml_model_health gives no
drift reason.

Build 2: the same funnel plus a flood of new leads in the three weeks before the (default)
scoring date -- a new lead source, companies of 1-10 people, intern and student titles -- scored
with the model of build 1 (var ml_retrain false: the model has not seen the flood). ml_drift flags
lead_source, company_size and seniority_level (major, significant, in the verdict), and
ml_model_health gives the drift reason.

Two builds of ``+ml_model_health`` (the first trains the model, the second only scores).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from dbt_runner import DbtRun, run_dbt

from lead_scoring.generate import GeneratorConfig, generate_dataset

pytestmark = pytest.mark.e2e

N_LEADS = 2_000
STATIONARY_SCORING_DATE = "2025-06-23"
FLOOD_LEADS = 1_200
FLOOD_DAYS = 21
SELECT = ["build", "--select", "+ml_model_health", "--indirect-selection", "cautious"]
TITLES = ["Marketing Intern", "Student", "Sales Intern", "Intern", "Student Assistant"]


def add_flood(source: Path, target: Path, n: int, seed: int = 0) -> None:
    """Copy the raw files of ``source`` to ``target`` and append ``n`` new leads created in the
    FLOOD_DAYS days before the last touch of the data, each with one to three page views."""
    shutil.copytree(source, target)
    con = duckdb.connect()
    last = pd.Timestamp(
        con.execute(
            f"select max(occurred_at) from read_parquet('{source / 'touchpoints.parquet'}') "
            "where occurred_at < timestamp '2090-01-01'"
        ).fetchall()[0][0]
    )
    rng = np.random.default_rng(seed)
    start = last - pd.Timedelta(days=FLOOD_DAYS)
    span = (last - pd.Timedelta(hours=1) - start).total_seconds()
    created = start + pd.to_timedelta(rng.uniform(0, 0.9, n) * span, unit="s")
    leads = pd.DataFrame(
        {
            "lead_id": [f"F{i:07d}" for i in range(n)],
            "created_at": created.astype("datetime64[us]"),
            "email": [f"student{i}@gmail.com" for i in range(n)],
            "company_name": [f"Tiny Studio {i}" for i in range(n)],
            "job_title": rng.choice(TITLES, n),
            "company_size": "1-10",
            "industry": "education",
            "country": "US",
            "lead_source": "Student Giveaway",
            "tech_stack": pd.Series([None] * n, dtype="string"),
        }
    )
    visits = rng.integers(1, 4, n)
    lead_index = np.repeat(np.arange(n), visits)
    until_last = (last - pd.Timedelta(minutes=30) - created[lead_index]).total_seconds()
    occurred = created[lead_index] + pd.to_timedelta(
        rng.uniform(0, 1, lead_index.size) * until_last.to_numpy(), unit="s"
    )
    touches = pd.DataFrame(
        {
            "event_id": [f"ev_flood_{i:08d}" for i in range(lead_index.size)],
            "lead_id": leads["lead_id"].to_numpy()[lead_index],
            "occurred_at": occurred.astype("datetime64[us]"),
            "event_type": "page_view",
            "channel": "paid_social",
            "utm_source": "facebook",
            "utm_medium": "paid_social",
            "utm_campaign": "student_giveaway",
            "referrer_domain": pd.Series([None] * lead_index.size, dtype="string"),
            "page_url": "/blog/free-templates",
            "asset_name": pd.Series([None] * lead_index.size, dtype="string"),
            "session_id": [f"ss_flood_{i:08d}" for i in range(lead_index.size)],
            "duration_seconds": rng.integers(10, 120, lead_index.size).astype("int32"),
        }
    )
    for name, extra in (("leads", leads), ("touchpoints", touches)):
        con.register("extra", extra)
        path = target / f"{name}.parquet"
        con.execute(
            f"copy (select * from read_parquet('{source / f'{name}.parquet'}') "
            f"union all by name select * from extra) to '{path}' (format parquet)"
        )
        con.unregister("extra")
    con.close()


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = Path(tmp_path_factory.mktemp("drift_e2e"))
    stationary, flooded = work / "raw_stationary", work / "raw_flooded"
    generate_dataset(GeneratorConfig(n_leads=N_LEADS, seed=11), stationary, progress=False)
    add_flood(stationary, flooded, FLOOD_LEADS)
    first = run_dbt(
        SELECT,
        work,
        {"raw_data_path": str(stationary), "scoring_date": STATIONARY_SCORING_DATE},
        unit_tests=False,
    )
    assert first.returncode == 0, first.output[-6000:]
    out = {
        "drift_1": first.query("select * from ml_drift"),
        "health_1": first.query("select * from ml_model_health"),
        "models_1": first.query("select model_version, validation_method from ml_models"),
    }
    second = run_dbt(
        SELECT, work, {"raw_data_path": str(flooded), "ml_retrain": False}, unit_tests=False
    )
    assert second.returncode == 0, second.output[-6000:]
    out.update(
        drift_2=second.query("select * from ml_drift"),
        health_2=second.query("select * from ml_model_health order by scored_at"),
        final=second,
    )
    return out


def test_a_stationary_funnel_has_no_drift_reason(builds: dict) -> None:
    drift, health = builds["drift_1"], builds["health_1"]
    assert (builds["models_1"].validation_method == "rolling_origin_cv").all()
    assert len(drift) > 100 and (drift.drift_scope == "score").sum() == 1
    assert set(drift.reference_source) == {"test_window"}
    assert not drift.counts_for_verdict.any(), drift[drift.counts_for_verdict].to_string()
    rows = drift.set_index("feature")
    for feature in ("lead_age_days", "events_total", "days_since_first_activity"):
        assert not rows.loc[feature, "in_verdict"]
    assert (drift.reference_effective_leads <= drift.reference_effective_rows + 1e-9).all()
    assert (drift.reference_effective_rows <= drift.reference_rows).all()
    assert len(health) == 1
    row = health.iloc[0]
    assert row.scored_at.normalize() == pd.Timestamp(STATIONARY_SCORING_DATE)
    assert row.n_features_drift_for_verdict == 0
    assert "drift" not in row.reasons, row.reasons
    assert row.score_psi == pytest.approx(rows.loc["conversion_probability", "psi"])
    assert row.validation_method == "rolling_origin_cv"
    assert row.requires_retraining == (row.reasons != "")


def test_a_flood_of_new_leads_is_drift(builds: dict) -> None:
    drift, health = builds["drift_2"], builds["health_2"]
    assert len(health) == 2  # a new scoring run of the same model: a second health row
    first, last = health.iloc[0], health.iloc[-1]
    assert last.model_version == first.model_version  # scored with the model of build 1
    assert last.scored_at > first.scored_at
    rows = drift.set_index("feature")
    for feature in ("lead_source", "company_size", "seniority_level"):
        row = rows.loc[feature]
        assert row.drift_level == "major", (feature, row.psi)
        assert row.is_significant and row.in_verdict and row.counts_for_verdict, row.verdict_note
    assert last.n_features_drift_for_verdict >= 3
    assert last.requires_retraining
    assert "feature(s) with major, significant drift" in last.reasons
    assert "lead_source" in last.reasons  # the largest PSI is named first
    # the health row counts exactly the drift rows that count
    assert last.n_features_drift_for_verdict == (
        drift.counts_for_verdict & (drift.drift_scope == "feature")
    ).sum()


def test_the_drift_tests_of_the_build_report_it(builds: dict) -> None:
    final: DbtRun = builds["final"]
    assert "assert_no_major_drift" in final.output
    warned = [line for line in final.output.splitlines() if "WARN" in line]
    assert any("assert_no_major_drift" in line for line in warned)
    assert any("assert_model_health_does_not_require_retraining" in line for line in warned)
