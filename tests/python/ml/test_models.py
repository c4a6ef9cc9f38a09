from __future__ import annotations

import numpy as np
import pytest

from lead_scoring.ml.config import resolve_config
from lead_scoring.ml.dataset import build_feature_spec, prepare_features, time_split
from lead_scoring.ml.models import (
    predict_margin,
    resolve_scale_pos_weight,
    train_extra_model,
    train_logistic_regression,
    train_xgboost,
    xgb_params_from_config,
)
from lead_scoring.ml.pipeline import train_and_evaluate

from .conftest import FAST_CONFIG


@pytest.fixture(scope="module")
def splits(snapshots):
    b = time_split(snapshots)
    assigned = b.assign(snapshots)
    parts = {s: snapshots[assigned == s] for s in ("train", "valid", "test")}
    spec = build_feature_spec(
        parts["train"],
        [
            "pricing_page_views_30d",
            "email_opens_30d",
            "days_since_last_visit",
            "seniority_level",
            "company_size_band",
        ],
    )
    X = {s: prepare_features(p, spec) for s, p in parts.items()}
    y = {s: p["label_converted_in_horizon"].astype(int).to_numpy() for s, p in parts.items()}
    return spec, X, y


def test_xgboost_is_deterministic_and_early_stopped(splits):
    _, X, y = splits
    params = xgb_params_from_config(resolve_config(FAST_CONFIG))
    a = train_xgboost((X["train"], y["train"]), (X["valid"], y["valid"]), params)
    b = train_xgboost((X["train"], y["train"]), (X["valid"], y["valid"]), params)
    assert bytes(a.booster.save_raw("ubj")) == bytes(b.booster.save_raw("ubj"))
    assert a.best_iteration < a.n_rounds_trained - 1  # early stopping kicked in
    assert a.booster.num_boosted_rounds() == a.best_iteration + 1  # cut to the best iteration
    assert a.params["tree_method"] == "hist" and a.params["nthread"] == 1
    m = predict_margin(a.booster, X["test"])
    assert m.shape == (len(X["test"]),) and np.isfinite(m).all()


def test_scale_pos_weight(splits):
    _, X, y = splits
    auto = resolve_scale_pos_weight("auto", y["train"])
    assert auto == pytest.approx((y["train"] == 0).sum() / y["train"].sum())
    assert resolve_scale_pos_weight(3, y["train"]) == 3.0
    model = train_xgboost(
        (X["train"], y["train"]),
        (X["valid"], y["valid"]),
        {"scale_pos_weight": "auto", "num_boost_round": 20, "nthread": 1},
    )
    assert model.params["scale_pos_weight"] == pytest.approx(auto)


def test_baselines_produce_probabilities(splits):
    spec, X, y = splits
    lr = train_logistic_regression(X["train"], y["train"], spec, C=0.5, class_weight="balanced")
    p = lr.predict_proba(X["test"])
    assert p.shape == (len(X["test"]),) and ((p > 0) & (p < 1)).all()
    for name in ("decision_tree", "random_forest", "mlp"):
        model = train_extra_model(name, X["train"], y["train"], spec, max_rows=1500)
        q = model.predict_proba(X["test"])
        assert ((q >= 0) & (q <= 1)).all()
    with pytest.raises(ValueError):
        train_extra_model("svm", X["train"], y["train"], spec)


def test_xgboost_beats_the_additive_baselines(trained):
    """The synthetic signal has an XOR interaction and a peaked effect: additive models (the
    rule points and logistic regression) cannot represent it, a working tree ensemble can."""
    m = trained.metrics[trained.metrics["split"] == "test"]
    v = m.pivot(index="model_name", columns="metric", values="value")
    for baseline in ("rule_points", "logistic_regression"):
        assert v.loc["xgboost", "auc"] > v.loc[baseline, "auc"] + 0.05, baseline
        assert v.loc["xgboost", "pr_auc"] > v.loc[baseline, "pr_auc"], baseline
        assert v.loc["xgboost", "log_loss"] < v.loc[baseline, "log_loss"], baseline


def test_calibration_repairs_a_miscalibrated_booster(snapshots):
    """scale_pos_weight='auto' inflates the raw probabilities; the calibrator must undo it."""
    r = train_and_evaluate(snapshots, {**FAST_CONFIG, "scale_pos_weight": "auto"})
    v = r.metrics[r.metrics["split"] == "test"].pivot(
        index="model_name", columns="metric", values="value"
    )
    assert v.loc["xgboost", "log_loss"] < v.loc["xgboost_raw", "log_loss"] - 0.02
    assert v.loc["xgboost", "ece"] < 0.05 < v.loc["xgboost_raw", "ece"]
    assert v.loc["xgboost", "mean_predicted"] == pytest.approx(
        v.loc["xgboost", "positive_rate"], abs=0.04
    )
    # both calibrators reported, exactly one chosen
    assert sorted(r.calibration["method"]) == ["isotonic", "platt"]
    assert r.calibration["is_chosen"].sum() == 1
    assert {"xgboost_platt", "xgboost_isotonic"} <= set(v.index)
