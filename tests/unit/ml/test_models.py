from __future__ import annotations

import numpy as np
import pytest

from lead_scoring.ml.config import resolve_config
from lead_scoring.ml.dataset import build_feature_spec, horizon_labels, prepare_features
from lead_scoring.ml.models import (
    fit_booster,
    make_dmatrix,
    native_params,
    predict_margin,
    train_extra_model,
    train_logistic_regression,
)
from lead_scoring.ml.pipeline import train_and_evaluate

from .conftest import FAST_CONFIG

FEATURES = [
    "pricing_page_views_30d",
    "email_opens_30d",
    "days_since_last_visit",
    "seniority_level",
    "company_size_band",
]


@pytest.fixture(scope="module")
def parts(snapshots):
    known, y = horizon_labels(snapshots, 30)
    lab = snapshots[known].sort_values("snapshot_at")
    y = y[known][np.argsort(snapshots.loc[known, "snapshot_at"].to_numpy(), kind="stable")]
    cut = [int(len(lab) * f) for f in (0.6, 0.8)]
    rows = {"train": slice(0, cut[0]), "valid": slice(cut[0], cut[1]), "test": slice(cut[1], None)}
    spec = build_feature_spec(lab.iloc[rows["train"]], FEATURES)
    X = {s: prepare_features(lab.iloc[r], spec) for s, r in rows.items()}
    return spec, X, {s: y[r] for s, r in rows.items()}


def _params(**overrides):
    cfg = resolve_config(FAST_CONFIG)
    return native_params(cfg.xgb_params, overrides, cfg.seed, cfg.nthread)


def test_booster_is_deterministic_and_records_its_validation_curve(parts):
    _, X, y = parts
    dtrain = make_dmatrix(X["train"], y["train"], 1, quantile=True)
    dvalid = make_dmatrix(X["valid"], y["valid"], 1)
    a = fit_booster(dtrain, _params(), 400, dvalid, 20)
    b = fit_booster(dtrain, _params(), 400, dvalid, 20)
    assert bytes(a.booster.save_raw("ubj")) == bytes(b.booster.save_raw("ubj"))
    assert len(a.curve) == a.n_rounds < 400  # early stopping kicked in
    best = int(np.argmin(a.curve)) + 1
    assert a.n_rounds == best + 20  # it ran 20 rounds past the best one
    assert a.params["tree_method"] == "hist" and a.params["nthread"] == 1
    # the curve is the validation log loss after each round, reproducible from the booster
    p = 1 / (1 + np.exp(-predict_margin(a.booster, X["valid"], 1, rounds=best)))
    ll = -np.mean(y["valid"] * np.log(p) + (1 - y["valid"]) * np.log(1 - p))
    assert ll == pytest.approx(a.curve[best - 1], rel=1e-4)
    m = predict_margin(a.booster, X["test"], 1, rounds=best)
    assert m.shape == (len(X["test"]),) and np.isfinite(m).all()
    assert not np.allclose(m, predict_margin(a.booster, X["test"], 1))  # all rounds differ


def test_native_params_layer_config_and_candidate():
    p = native_params({"max_depth": 7, "eta": 0.2}, {"max_depth": 3}, seed=5, nthread=1)
    assert p["max_depth"] == 3 and p["eta"] == 0.2 and p["seed"] == 5
    assert p["objective"] == "binary:logistic" and p["eval_metric"] == "logloss"


def test_baselines_produce_probabilities(parts):
    spec, X, y = parts
    lr = train_logistic_regression(X["train"], y["train"], spec, C=0.5)
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
    """A positive-class weight of 8 inflates the raw probabilities about eightfold in odds; the
    calibrator fitted on the earlier folds' out-of-fold predictions must undo it on the test
    fold it never saw."""
    config = {**FAST_CONFIG, "xgb_params": {"scale_pos_weight": 8}, "blend_weights": []}
    r = train_and_evaluate(snapshots, config)
    v = r.metrics[r.metrics["split"] == "test"].pivot(
        index="model_name", columns="metric", values="value"
    )
    assert v.loc["xgboost_raw", "observed_to_expected"] < 0.6  # raw: far too optimistic
    assert v.loc["xgboost", "observed_to_expected"] == pytest.approx(1.0, abs=0.2)
    assert v.loc["xgboost", "log_loss"] < v.loc["xgboost_raw", "log_loss"] - 0.02
    assert v.loc["xgboost", "ece_equal_mass"] < v.loc["xgboost_raw", "ece_equal_mass"] / 3
    assert r.calibration["is_chosen"].sum() == 1
