"""End to end: `dbt build` on the committed sample trains the model, scores the open leads and
publishes scored_leads and ml_model_metrics; with too little history (min_positive_labels above
the data) the build still passes on the rule-based fallback."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DbtRun, run_dbt

pytestmark = pytest.mark.e2e

SCORED_COLUMNS = [
    "lead_id",
    "scored_at",
    "conversion_probability",
    "lead_score",
    "score_band",
    "top_factors",
    "top_factors_json",
    "fit_score",
    "engagement_score",
    "score_confidence",
    "model_version",
    "previous_scored_at",
    "previous_lead_score",
    "previous_score_band",
    "score_change",
]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> DbtRun:
    run = run_dbt(["build"], Path(tmp_path_factory.mktemp("ml_e2e")))
    assert run.returncode == 0, run.output[-6000:]
    return run


def test_scored_leads_cover_the_open_leads(built: DbtRun) -> None:
    scored = built.query("select * from scored_leads")
    assert list(scored.columns) == SCORED_COLUMNS
    n_open = built.query(
        "select count(*) as n from fct_lead_features where is_scoring_snapshot"
    ).n.iloc[0]
    assert len(scored) == n_open > 0
    assert scored.conversion_probability.between(0, 1).all()
    assert set(scored.score_band) <= {"A", "B", "C", "D"}
    registry = built.query("select model_version, model_name from ml_models")
    assert registry.model_name.tolist() == ["xgboost"]
    assert set(scored.model_version) == set(registry.model_version)


def test_metrics_compare_xgboost_with_the_baselines(built: DbtRun) -> None:
    metrics = built.query("select * from ml_model_metrics")
    assert list(metrics.columns)[:5] == ["model_version", "model_name", "split", "metric", "value"]
    auc = metrics[(metrics.split == "test") & (metrics.metric == "auc")].set_index("model_name")
    assert {"xgboost", "logistic_regression", "rule_points"} <= set(auc.index)
    assert auc.value["xgboost"] > auc.value["rule_points"]
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
    )
    assert run.returncode == 0, run.output[-6000:]
    assert "InsufficientHistoryError" in run.output or "rule-based fallback" in run.output
    registry = run.query("select model_version, model_name from ml_models")
    assert registry.model_name.tolist() == ["rule_points"]
    assert registry.model_version.iloc[0].startswith("rules-")
    scored = run.query("select distinct model_version from scored_leads")
    assert scored.model_version.tolist() == registry.model_version.tolist()
    assert run.query("select count(*) as n from ml_model_metrics").n.iloc[0] == 0
