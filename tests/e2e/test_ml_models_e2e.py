"""End to end: `dbt build` on the committed sample trains the model, scores the open leads and
publishes scored_leads and ml_model_metrics; with too little history (min_positive_labels above
the data) the build still passes on the rule-based fallback."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from dbt_runner import DbtRun, copy_build, run_dbt

pytestmark = pytest.mark.e2e

SCORED_COLUMNS = [
    "lead_id",
    "scored_at",
    "conversion_probability",
    "conversion_probability_7d",
    "conversion_probability_30d",
    "conversion_probability_90d",
    "lead_score",
    "lead_priority",
    "lift",
    "score_band",
    "top_factors",
    "top_factors_json",
    "reasons_for",
    "reasons_against",
    "fit_score",
    "engagement_score",
    "score_confidence",
    "model_version",
    "previous_scored_at",
    "previous_lead_score",
    "previous_score_band",
    "score_change",
    "experiment_arm",
]


@pytest.fixture(scope="module")
def built(sample_build: DbtRun, tmp_path_factory: pytest.TempPathFactory) -> DbtRun:
    # a private copy: the last test of this module builds later scoring dates into it
    return copy_build(sample_build, Path(tmp_path_factory.mktemp("ml_e2e")))


def test_the_sample_build_runs_every_dbt_unit_test(sample_build: DbtRun) -> None:
    """The builds that repeat a build of the sample leave dbt's unit tests out
    (dbt_runner.WITHOUT_UNIT_TESTS); this one runs every one of them, and they pass."""
    manifest = json.loads((sample_build.duckdb_path.parent / "target/manifest.json").read_text())
    n_unit_tests = len(manifest["unit_tests"])
    assert n_unit_tests >= 20
    finished = [line for line in sample_build.output.splitlines() if "Finished running" in line]
    assert len(finished) == 1 and f" {n_unit_tests} unit tests" in finished[0], finished
    assert "ERROR=0" in sample_build.output


def test_scored_leads_cover_the_open_leads(built: DbtRun) -> None:
    scored = built.query("select * from scored_leads")
    assert list(scored.columns) == SCORED_COLUMNS
    n_open = built.query(
        "select count(*) as n from fct_lead_features where is_scoring_snapshot"
    ).n.iloc[0]
    assert len(scored) == n_open > 0
    assert scored.conversion_probability.between(0, 1).all()
    assert set(scored.score_band) <= {"A", "B", "C", "D"}
    registry = built.query(
        "select model_version, model_name, validation_method, calibration_source from ml_models"
    )
    assert registry.model_name.tolist() == ["xgboost"]
    assert registry.validation_method.tolist() == ["rolling_origin_cv"]
    assert registry.calibration_source.tolist() == ["oof"]
    assert set(scored.model_version) == set(registry.model_version)
    # the timing probabilities: every horizon modelled on the sample, monotone in the horizon
    p7, p30, p90 = (scored[f"conversion_probability_{h}d"] for h in (7, 30, 90))
    assert p7.notna().all() and p90.notna().all()
    assert (p30 == scored.conversion_probability).all()
    assert (p7 <= p30).all() and (p30 <= p90).all()
    _check_priority_lift_and_reasons(scored)


def _check_priority_lift_and_reasons(scored: pd.DataFrame) -> None:
    """lead_priority spreads 1-100 in the order of the probability; bands are lift ranges;
    reasons are plain words."""
    ordered = scored.sort_values(["conversion_probability", "lead_id"], ascending=[True, False])
    assert ordered.lead_priority.is_monotonic_increasing
    assert ordered.lead_priority.iloc[-1] == 100 and ordered.lead_priority.iloc[0] >= 1
    if len(scored) >= 100:
        assert scored.lead_priority.nunique() == 100
    assert (scored.lift >= 0).all()
    by_band = scored.groupby("score_band").lift.agg(["min", "max"]).sort_index()
    assert (by_band["min"].to_numpy()[:-1] > by_band["max"].to_numpy()[1:]).all()
    reasons = pd.concat([scored.reasons_for.dropna(), scored.reasons_against.dropna()])
    assert len(reasons) > 0 and not reasons.str.contains("_").any()


def test_metrics_compare_xgboost_with_the_baselines(built: DbtRun) -> None:
    metrics = built.query("select * from ml_model_metrics")
    assert list(metrics.columns)[:5] == ["model_version", "model_name", "split", "metric", "value"]
    auc = metrics[(metrics.split == "test") & (metrics.metric == "auc")].set_index("model_name")
    assert {"xgboost", "logistic_regression", "rule_points"} <= set(auc.index)
    assert auc.value["xgboost"] > auc.value["rule_points"]
    assert {"test", "cv", "cv_fold_1", "train", "timing"} <= set(metrics.split)
    folds = built.query("select * from ml_split_boundaries")
    assert {"test", "train"} <= set(folds.split) and folds.is_used.any()
    test = folds.set_index("split").loc["test"]
    registry = built.query("select test_start, scoring_at from ml_models").iloc[0]
    assert test.start == registry.test_start
    assert test.purge_cutoff == test.start - pd.Timedelta(days=30)
    for table in ("ml_calibration_bins", "ml_lift_by_decile", "ml_feature_importance"):
        assert built.query(f"select count(*) as n from {table}").n.iloc[0] > 0


def test_rule_fallback_when_history_is_too_short(tmp_path: Path) -> None:
    run = run_dbt(
        [
            "build",
            "--select",
            "+scored_leads",
            "+ml_model_metrics",
            "--indirect-selection",
            "cautious",
        ],
        tmp_path,
        {"ml_min_positive_labels": 10**9},
        unit_tests=False,
    )
    assert run.returncode == 0, run.output[-6000:]
    assert "InsufficientHistoryError" in run.output or "rule-based fallback" in run.output
    registry = run.query("select model_version, model_name from ml_models")
    assert registry.model_name.tolist() == ["rule_points"]
    assert registry.model_version.iloc[0].startswith("rules-")
    scored = run.query("select distinct model_version from scored_leads")
    assert scored.model_version.tolist() == registry.model_version.tolist()
    assert run.query("select count(*) as n from ml_model_metrics").n.iloc[0] == 0
    # the fallback fills the same rep-facing columns
    _check_priority_lift_and_reasons(run.query("select * from scored_leads"))


def test_scoring_only_runs_keep_the_registered_model(built: DbtRun) -> None:
    """(Last in this module: it builds later scoring dates into the shared warehouse.)
    var ml_retrain: false scores a later date with the registered model (no new registry row,
    the same version in scored_leads); auto does the same within ml_retrain_every_days and
    retrains once the model is that old; a date before the model's own is never scored with it."""
    registry = built.query("select model_version, scoring_at from ml_models")
    version, trained_for = registry.model_version.iloc[0], registry.scoring_at.iloc[0]
    # the scoring_date var is passed to the second: later dates are whole seconds after it
    trained_for = trained_for.ceil("s")
    workdir = built.duckdb_path.parent

    def build(date: pd.Timestamp, retrain: str) -> DbtRun:
        run = run_dbt(
            ["build", "--select", "+scored_leads", "--indirect-selection", "cautious"],
            workdir,
            {"scoring_date": f"{date:%Y-%m-%d %H:%M:%S}", "ml_retrain": retrain},
            duckdb_path=built.duckdb_path,
            unit_tests=False,
        )
        assert run.returncode == 0, run.output[-6000:]
        return run

    later = build(trained_for + pd.Timedelta(days=3), "false")
    assert "no retrain: var ml_retrain is false" in later.output
    assert later.query("select count(*) as n from ml_models").n.iloc[0] == 1
    scored = later.query("select distinct model_version, scored_at from scored_leads")
    assert scored.model_version.tolist() == [version]
    assert scored.scored_at.iloc[0] == trained_for + pd.Timedelta(days=3)

    auto = build(trained_for + pd.Timedelta(days=5), "auto")
    assert "no retrain: the active model is current" in auto.output
    assert auto.query("select count(*) as n from ml_models").n.iloc[0] == 1

    stale = build(trained_for + pd.Timedelta(days=8), "auto")
    assert "retrain: the active model is 8 days old" in stale.output
    new = stale.query("select model_version, scoring_at from ml_models order by trained_at")
    assert len(new) == 2 and new.scoring_at.iloc[-1] == trained_for + pd.Timedelta(days=8)
    scored = stale.query("select distinct model_version from scored_leads")
    assert scored.model_version.tolist() == [new.model_version.iloc[-1]]
