"""End to end: two scoring runs a horizon apart on the committed sample, then a rerun
(the session fixture sample_history in conftest.py, shared with other e2e tests).

Run 1 scores at T1 = 2025-05-20; run 2 at the default scoring date (2025-06-30, 41 days
later: T1's 30-day horizon has passed); run 3 repeats run 2 with --full-refresh. Checks the
history is appended and never rewritten (not even by a full refresh), the score trend, the
backtest of the matured T1 cohort against a direct recount, drift and one health row per
scoring run and model, with the relative calibration check (observed / expected conversions)."""

from __future__ import annotations

import pandas as pd
import pytest
from dbt_runner import SAMPLE_HISTORY_T1 as T1
from dbt_runner import DbtRun
from sklearn.metrics import brier_score_loss, roc_auc_score

pytestmark = pytest.mark.e2e

HORIZON_DAYS = 30


@pytest.fixture(scope="module")
def runs(sample_history: dict) -> dict:
    return sample_history


def test_history_is_appended_and_never_rewritten(runs: dict) -> None:
    h1, h2 = runs["history_1"], runs["history_2"]
    final: DbtRun = runs["final"]
    h3 = final.query("select * from scored_leads_history order by scored_at, lead_id")
    assert h1.scored_at.nunique() == 1 and h2.scored_at.nunique() == 2
    t1 = h1.scored_at.iloc[0]
    assert t1 == pd.Timestamp(T1)
    # run 1's rows are untouched by runs 2 and 3
    again = h3[h3.scored_at == t1].sort_values("lead_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(again, h1.reset_index(drop=True))
    # the rerun of the same scoring date added nothing
    assert len(h3) == len(h2)
    assert not h3.duplicated(["lead_id", "scored_at"]).any()


def test_scored_leads_carry_the_score_trend(runs: dict) -> None:
    scored = runs["scored_2"]
    h1 = runs["history_1"].set_index("lead_id")
    both = scored[scored.lead_id.isin(h1.index)]
    assert len(both) > 100  # most leads open at T1 are still open 41 days later
    expected = both.lead_score - h1.loc[both.lead_id, "lead_score"].to_numpy()
    assert (both.score_change.to_numpy() == expected.to_numpy()).all()
    assert (both.previous_scored_at == pd.Timestamp(T1)).all()
    new = scored[~scored.lead_id.isin(h1.index)]
    assert new.score_change.isna().all() and new.previous_lead_score.isna().all()


def test_backtest_of_the_matured_cohort_matches_a_recount(runs: dict) -> None:
    final: DbtRun = runs["final"]
    backtest = final.query("select * from ml_backtest")
    assert set(backtest.scored_at) == {pd.Timestamp(T1)}  # run 2 has not matured yet
    overall = backtest[backtest.score_band == "all"].iloc[0]
    # one row per lead of the T1 run with what happened to it, recounted from the conversions
    leads = final.query(
        f"""
        select h.lead_id, h.score_band, h.conversion_probability,
            (c.lead_id is not null)::int as converted
        from scored_leads_history h
        left join stg_crm__conversions c
            on c.lead_id = h.lead_id
            and c.converted_at > h.scored_at
            and c.converted_at <= h.scored_at + interval {HORIZON_DAYS} day
        where h.scored_at = timestamp '{T1}'
        """
    )
    assert overall.n_leads == len(leads)
    assert overall.n_converted == leads.converted.sum() > 0
    # exact Mann-Whitney AUC (ties count one half) and Brier score, as scikit-learn computes them
    assert overall.auc == pytest.approx(
        roc_auc_score(leads.converted, leads.conversion_probability), abs=1e-12
    )
    assert overall.brier == pytest.approx(
        brier_score_loss(leads.converted, leads.conversion_probability), abs=1e-12
    )
    assert 0.5 < overall.auc <= 1.0  # the model ranks the real outcomes better than chance
    bands = backtest[backtest.score_band != "all"].set_index("score_band").sort_index()
    per_band = leads.groupby("score_band").agg(
        n_leads=("lead_id", "size"),
        n_converted=("converted", "sum"),
        mean_probability=("conversion_probability", "mean"),
    )
    assert list(bands.index) == list(per_band.index)
    assert (bands.n_leads == per_band.n_leads).all()
    assert (bands.n_converted == per_band.n_converted).all()
    assert bands.mean_probability.to_numpy() == pytest.approx(per_band.mean_probability.to_numpy())
    assert bands.auc.isna().all()


def test_drift_and_health_per_run(runs: dict) -> None:
    final: DbtRun = runs["final"]
    drift = final.query("select * from ml_drift")
    assert (drift.drift_scope == "score").sum() == 1
    assert (drift.psi >= 0).all() and len(drift) > 10
    health = final.query("select * from ml_model_health order by scored_at")
    assert list(health.scored_at.drop_duplicates()) == [pd.Timestamp(T1), health.scored_at.max()]
    assert not health.duplicated(["scored_at", "model_version"]).any()
    # the model version is a hash of data and config: the rerun of T2 adds no health row
    assert len(health) == 2
    first, last = health.iloc[0], health.iloc[-1]
    assert pd.isna(first.backtest_auc)  # nothing had matured at T1
    assert last.backtest_scored_at == pd.Timestamp(T1)
    assert last.auc_drop == pytest.approx(
        float(
            final.query(
                "select cast(json_extract_string(metrics_json, '$.auc') as double) as auc "
                f"from ml_models where model_version = '{first.model_version}'"
            ).auc.iloc[0]
        )
        - last.backtest_auc
    )
    assert last.requires_retraining == (last.reasons != "")
    cohort = final.query(
        f"select * from ml_backtest where score_band = 'all' and scored_at = timestamp '{T1}'"
    ).iloc[0]
    # calibration: relative (observed / expected conversions) and beyond Poisson noise;
    # calibration_gap stays for compatibility
    assert last.calibration_gap == pytest.approx(
        abs(cohort.mean_probability - cohort.conversion_rate)
    )
    observed, expected = cohort.n_converted, cohort.n_leads * cohort.mean_probability
    assert last.backtest_observed_conversions == observed
    assert last.backtest_expected_conversions == pytest.approx(expected)
    assert last.observed_to_expected == pytest.approx(observed / expected)
    ratio = 1.25  # var health_max_calibration_ratio
    miscalibrated = abs(observed - expected) > 3 * expected**0.5 and not (
        1 / ratio <= observed / expected <= ratio
    )
    assert ("miscalibrated on the latest matured cohort" in last.reasons) == miscalibrated
    assert "calibration gap" not in last.reasons  # the absolute check is gone
    # drift: the health row counts the drift rows that count for the verdict, and the stationary
    # sample has none (the open leads age between runs, which the age weights take out)
    assert last.score_psi == pytest.approx(drift[drift.drift_scope == "score"].psi.iloc[0])
    counted = drift[(drift.drift_scope == "feature") & drift.counts_for_verdict]
    assert last.n_features_drift_for_verdict == len(counted)
    assert "drift" not in last.reasons, last.reasons
    assert not drift[~drift.in_verdict].feature.isin(["conversion_probability"]).any()
    assert set(health.validation_method.dropna()) <= {"rolling_origin_cv", "none"}
    unvalidated = health.validation_method == "none"
    assert health[unvalidated].reasons.str.contains("could not be validated").all()
