"""End to end: the A/B test of the model against the rule points on the committed sample.

The session fixture sample_history (conftest.py) scores the sample at T1 = 2025-05-20 and at the
default scoring date (2025-06-30, T1's 30-day horizon passed), then rebuilds, every build with
var experiment_rules_share 0.5; sample_build is a default build (share 0: no experiment). Checks
that the arms are the documented hash, stable across runs and about half each; that each arm
is ranked and banded by its own ranker; that ml_experiment_results matches a recount from
scored_leads_history and the conversions (the interval against the Python reference); and that
without the var every lead is in the model arm and nothing is reported."""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pandas as pd
import pytest
from dbt_runner import SAMPLE_HISTORY_T1 as T1
from dbt_runner import DbtRun, run_dbt

from lead_scoring.monitoring.experiment import newcombe_interval

pytestmark = pytest.mark.e2e

HORIZON_DAYS = 30
EXPERIMENT = "model_vs_rules"  # var experiment_name, default
SHARE = 0.5  # conftest.SAMPLE_HISTORY_VARS
SEGMENTS = {
    "top_10pct": lambda frame: frame.lead_priority > 90,
    "top_20pct": lambda frame: frame.lead_priority > 80,
    **{band: (lambda frame, band=band: frame.score_band == band) for band in "ABCD"},
}


@pytest.fixture(scope="module")
def final(sample_history: dict) -> DbtRun:
    return sample_history["final"]


def _expected_arm(lead_ids: pd.Series, name: str = EXPERIMENT, share: float = SHARE) -> pd.Series:
    """The arm by the documented hash (macro experiment_arm), computed apart from SQL."""
    buckets = lead_ids.map(
        lambda lead: int(hashlib.md5(f"{name}|{lead}".encode()).hexdigest()[:8], 16) % 10000
    )
    return pd.Series(np.where(buckets < round(share * 10000), "rules", "model"), lead_ids.index)


def _percentile(frame: pd.DataFrame, ranker: str) -> pd.Series:
    """Macro lead_priority in pandas: ceil(100 x rank / n), ascending by the ranker, equal values
    ordered by lead_id descending."""
    ordered = frame.sort_values([ranker, "lead_id"], ascending=[True, False])
    rank = pd.Series(np.arange(1, len(ordered) + 1), index=ordered.index)
    return np.ceil(100.0 * rank / len(ordered)).astype(int).reindex(frame.index)


def test_arms_are_the_documented_hash_stable_across_runs_and_about_half(final: DbtRun) -> None:
    history = final.query("select * from scored_leads_history")
    assert set(history.scored_at) == {pd.Timestamp(T1), history.scored_at.max()}
    assert (history.experiment_name == EXPERIMENT).all()
    assert (history.experiment_arm == _expected_arm(history.lead_id)).all()
    # a lead scored in both runs keeps its arm
    arms = history.groupby("lead_id").experiment_arm.nunique()
    assert (history.lead_id.value_counts() > 1).sum() > 100 and (arms == 1).all()
    # about half: within 4 binomial standard deviations of the share, in each run
    for _, run in history.groupby("scored_at"):
        rules = (run.experiment_arm == "rules").mean()
        assert abs(rules - SHARE) < 4 * math.sqrt(SHARE * (1 - SHARE) / len(run)), rules
    scored = final.query("select lead_id, experiment_arm from scored_leads")
    assert (scored.experiment_arm == _expected_arm(scored.lead_id)).all()


def test_each_arm_is_ranked_and_banded_by_its_own_ranker(final: DbtRun) -> None:
    scored = final.query(
        """
        select scored.*, scores.rule_points, scores.score_band as model_score_band
        from scored_leads as scored
        inner join ml_scores as scores on scored.lead_id = scores.lead_id
        """
    )
    model = scored[scored.experiment_arm == "model"]
    rules = scored[scored.experiment_arm == "rules"]
    assert len(model) > 500 and len(rules) > 500
    # priority: the percentile within the arm, by the probability or by the rule points
    assert (model.lead_priority == _percentile(model, "conversion_probability")).all()
    assert (rules.lead_priority == _percentile(rules, "rule_points")).all()
    assert rules.lead_priority.corr(rules.rule_points, method="spearman") > 0.9
    by_points = rules.groupby("rule_points").lead_priority.agg(["min", "max"]).sort_index()
    assert (by_points["min"].to_numpy()[1:] >= by_points["max"].to_numpy()[:-1]).all()
    # bands: the model's in the model arm; in the rules arm cut down the rule points to the
    # model arm's band shares
    assert (model.score_band == model.model_score_band).all()
    order = rules.sort_values(["rule_points", "lead_id"], ascending=[False, True])
    cumulative = model.score_band.value_counts().reindex(list("ABCD"), fill_value=0)
    # round half away from zero, as SQL round does
    cuts = np.floor(len(rules) * (cumulative.cumsum().to_numpy() / len(model)) + 0.5)
    position = np.arange(1, len(order) + 1)
    expected = np.select(
        [position <= cuts[0], position <= cuts[1], position <= cuts[2]], ["A", "B", "C"], "D"
    )
    assert (order.score_band.to_numpy() == expected).all()
    assert rules.score_band.nunique() > 1  # the check compares something


def _recount(final: DbtRun) -> tuple[pd.DataFrame, pd.DataFrame]:
    """ml_experiment_results' counts from scored_leads_history and the conversions, in pandas;
    and the matured experiment rows they come from."""
    history = final.query("select * from scored_leads_history")
    conversions = final.query("select lead_id, converted_at from stg_crm__conversions")
    scoring_date = history.scored_at.max()  # run 2 scores at the scoring date
    horizon = pd.Timedelta(days=HORIZON_DAYS)
    matured = history[
        history.experiment_name.notna() & (history.scored_at + horizon <= scoring_date)
    ].merge(conversions, on="lead_id", how="left")
    matured["converted"] = (
        (matured.converted_at > matured.scored_at)
        & (matured.converted_at <= matured.scored_at + horizon)
    ).astype(int)
    # each lead once per experiment: its first matured run
    first = matured.sort_values("scored_at").drop_duplicates(["experiment_name", "lead_id"])
    rows = []
    for name, runs in first.groupby("experiment_name"):
        for segment, select in SEGMENTS.items():
            in_segment = runs[select(runs)]
            row = {"experiment_name": name, "segment": segment}
            for arm in ("model", "rules"):
                members = in_segment[in_segment.experiment_arm == arm]
                row[f"{arm}_leads"] = len(members)
                row[f"{arm}_conversions"] = int(members.converted.sum())
            rows.append(row)
    return pd.DataFrame(rows), matured


def test_experiment_results_match_a_recount(final: DbtRun) -> None:
    results = final.query("select * from ml_experiment_results")
    expected, matured = _recount(final)
    assert set(matured.scored_at) == {pd.Timestamp(T1)}  # run 2 has not matured yet
    assert list(results.columns) == [
        "experiment_name",
        "segment_type",
        "segment",
        "matured_runs",
        "model_leads",
        "model_conversions",
        "model_conversion_rate",
        "rules_leads",
        "rules_conversions",
        "rules_conversion_rate",
        "rate_difference",
        "ci_lower",
        "ci_upper",
        "is_significant",
    ]
    assert len(results) == 6 and (results.experiment_name == EXPERIMENT).all()
    assert (results.matured_runs == 1).all()
    merged = results.merge(expected, on=["experiment_name", "segment"], suffixes=("", "_recount"))
    assert len(merged) == 6
    for column in ("model_leads", "model_conversions", "rules_leads", "rules_conversions"):
        assert (merged[column] == merged[f"{column}_recount"]).all(), column
    # every lead of the matured run once: the bands add up to it, with its conversions
    bands = merged[merged.segment_type == "band"]
    assert bands.model_leads.sum() + bands.rules_leads.sum() == matured.lead_id.nunique()
    assert bands.model_conversions.sum() + bands.rules_conversions.sum() == matured.converted.sum()
    assert matured.converted.sum() > 0
    # rates, difference and the Newcombe interval against the Python reference
    for row in merged.itertuples():
        assert row.model_conversion_rate == pytest.approx(row.model_conversions / row.model_leads)
        assert row.rules_conversion_rate == pytest.approx(row.rules_conversions / row.rules_leads)
        assert row.rate_difference == pytest.approx(
            row.model_conversion_rate - row.rules_conversion_rate, abs=1e-15
        )
        lower, upper = newcombe_interval(
            row.model_conversions, row.model_leads, row.rules_conversions, row.rules_leads
        )
        assert (row.ci_lower, row.ci_upper) == pytest.approx((lower, upper), abs=5e-7)
        assert row.is_significant == (row.ci_lower > 0 or row.ci_upper < 0)
    # the top 10% of each arm is about a tenth of it
    top = merged.set_index("segment").loc["top_10pct"]
    assert 0.08 < top.model_leads / bands.model_leads.sum() < 0.12
    assert 0.08 < top.rules_leads / bands.rules_leads.sum() < 0.12


def test_without_the_var_every_lead_is_in_the_model_arm(sample_build: DbtRun) -> None:
    scored = sample_build.query("select experiment_arm, count(*) as n from scored_leads group by 1")
    assert list(scored.experiment_arm) == ["model"] and scored.n.iloc[0] > 1000
    history = sample_build.query(
        "select count(*) as n, count(experiment_name) as named from scored_leads_history "
        "where experiment_arm = 'model'"
    ).iloc[0]
    assert history.n > 1000 and history.named == 0
    assert sample_build.query("select count(*) as n from ml_experiment_results").n.iloc[0] == 0


@pytest.mark.parametrize("share", [1, -0.1, "half"])
def test_a_share_outside_zero_to_one_is_a_compile_error_naming_it(tmp_path, share) -> None:
    run = run_dbt(
        ["compile", "--target", "lint", "--select", "int_lead_scores_ranked"],
        tmp_path,
        {"experiment_rules_share": share},
    )
    assert run.returncode != 0
    assert "var experiment_rules_share must be a number in [0, 1)" in run.output
    assert f"got {share}" in run.output
