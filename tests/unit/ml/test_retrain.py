"""Retrain or score with the registered model (var ml_retrain)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from lead_scoring.ml.config import resolve_config
from lead_scoring.ml.retrain import parse_retrain_mode, retrain_decision

CONFIG = resolve_config({"horizon_days": 30}).to_dict()
FEATURES = ["a", "b"]


def _row(version, trained_at, scoring_at, name="xgboost", config=CONFIG, features=FEATURES):
    return {
        "model_version": version,
        "model_name": name,
        "trained_at": pd.Timestamp(trained_at),
        "scoring_at": pd.Timestamp(scoring_at) if scoring_at else pd.NaT,
        "metadata_json": json.dumps({"config": config}),
        "features_json": json.dumps(features),
    }


REGISTRY = pd.DataFrame(
    [
        _row("old", "2025-05-01 06:00", "2025-05-01"),
        _row("new", "2025-06-01 06:00", "2025-06-01"),
    ]
)


def decide(mode="auto", registry=REGISTRY, now="2025-06-03", **kw):
    return retrain_decision(mode, registry, pd.Timestamp(now), CONFIG, FEATURES, **kw)


def test_modes():
    assert parse_retrain_mode(True) == "true" and parse_retrain_mode("FALSE") == "false"
    assert parse_retrain_mode(None) == "auto" and parse_retrain_mode("null") == "auto"
    with pytest.raises(ValueError, match="ml_retrain"):
        parse_retrain_mode("sometimes")
    assert decide("true").retrain
    d = decide("false", now="2025-09-01")
    assert not d.retrain and d.model["model_version"] == "new"  # even when old, as asked


def test_auto_scores_with_a_current_model_and_retrains_on_schedule():
    d = decide()
    assert not d.retrain and d.model["model_version"] == "new" and "current" in d.reason
    d = decide(now="2025-06-08")
    assert d.retrain and "7 days old" in d.reason
    assert not decide(now="2025-06-08", every_days=14).retrain


def test_auto_retrains_when_something_changed():
    assert decide(registry=pd.DataFrame()).retrain  # nothing registered
    fallback = pd.DataFrame([_row("rules-1", "2025-06-01", None, name="rule_points")])
    assert "rule-based" in decide(registry=fallback).reason
    other = pd.DataFrame([_row("x", "2025-06-01", "2025-06-01", config={**CONFIG, "cv_folds": 5})])
    assert "cv_folds" in decide(registry=other).reason
    wider = pd.DataFrame([_row("x", "2025-06-01", "2025-06-01", features=["a"])])
    d = decide(registry=wider)
    assert d.retrain and "feature columns changed" in d.reason and "'b'" in d.reason


def test_auto_follows_the_health_check():
    health = pd.DataFrame(
        [
            {"model_version": "new", "scored_at": pd.Timestamp("2025-06-02"),
             "checked_at": pd.Timestamp("2025-06-02 07:00"), "requires_retraining": True,
             "reasons": "realized AUC 0.61 is 0.2 below the registered test AUC"},
            {"model_version": "old", "scored_at": pd.Timestamp("2025-06-02"),
             "checked_at": pd.Timestamp("2025-06-02 07:00"), "requires_retraining": False,
             "reasons": ""},
        ]
    )
    d = decide(health=health)
    assert d.retrain and "realized AUC" in d.reason
    assert not decide(health=health.assign(requires_retraining=False)).retrain


def test_a_model_trained_for_a_later_date_never_scores_an_earlier_one():
    d = decide("false", now="2025-05-15")  # replaying history between the two models
    assert not d.retrain and d.model["model_version"] == "old"
    d = decide("auto", now="2025-05-03")
    assert not d.retrain and d.model["model_version"] == "old"
    d = decide("false", now="2025-04-01")
    assert d.retrain and "later scoring date" in d.reason
