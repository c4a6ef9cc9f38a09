from __future__ import annotations

import json

import numpy as np
import pandas as pd

from lead_scoring.ml.dataset import prepare_features
from lead_scoring.ml.explain import (
    feature_label,
    mean_abs_shap,
    shap_contributions,
    top_factors,
    top_k_order,
)
from lead_scoring.ml.models import predict_margin


def test_shap_contributions_sum_to_the_margin(trained, snapshots):
    bundle = trained.bundle
    X = prepare_features(snapshots.iloc[:500], bundle.spec)
    contribs, bias = shap_contributions(bundle.booster, X)
    assert contribs.shape == (500, len(bundle.spec.columns))
    margin = predict_margin(bundle.booster, X)
    np.testing.assert_allclose(contribs.sum(axis=1) + bias, margin, atol=1e-4)


def test_top_factors_order_direction_and_format():
    X = pd.DataFrame(
        {
            "pricing_page_views_30d": np.array([4.0, 0.0], dtype=np.float32),
            "seniority_level": pd.Categorical(["c_level", None], categories=["c_level", "vp"]),
            "days_since_last_visit": np.array([2.5, np.nan], dtype=np.float32),
            "webinar_attended": np.array([1.0, 0.0], dtype=np.float32),
        }
    )
    contribs = np.array(
        [
            [0.9, 0.5, -0.7, 0.0],  # zero contribution never listed
            [-0.1, -0.2, 0.3, 0.05],
        ]
    )
    labels = {"pricing_page_views_30d": "Pricing page views (30d)", "seniority_level": "Seniority"}
    out = top_factors(contribs, X, labels, k=5, boolean=["webinar_attended"])
    assert out["top_factors"].iloc[0] == (
        "Pricing page views (30d)=4 (+); Days since last visit=2.5 (-); Seniority=c_level (+)"
    )
    assert out["top_factors"].iloc[1] == (
        "Days since last visit=missing (+); Seniority=missing (-); "
        "Pricing page views (30d)=0 (-); Webinar attended=false (+)"
    )
    parsed = json.loads(out["top_factors_json"].iloc[0])
    assert [f["feature"] for f in parsed] == [
        "pricing_page_views_30d",
        "days_since_last_visit",
        "seniority_level",
    ]
    assert [f["direction"] for f in parsed] == ["+", "-", "+"]
    assert parsed[0] == {
        "feature": "pricing_page_views_30d",
        "label": "Pricing page views (30d)",
        "value": "4",
        "direction": "+",
        "contribution": 0.9,
    }
    top2 = top_factors(contribs, X, labels, k=2)
    assert top2["top_factors"].iloc[1].count(";") == 1
    assert len(json.loads(top2["top_factors_json"].iloc[1])) == 2


def test_top_factors_json_escapes_and_labels():
    assert feature_label("pricing_page_views_30d") == "Pricing page views 30d"
    X = pd.DataFrame({"note": pd.Categorical(['say "hi"\n'])})
    out = top_factors(np.array([[1.0]]), X, {"note": 'Quote "label"'})
    parsed = json.loads(out["top_factors_json"].iloc[0])
    assert parsed[0]["value"] == 'say "hi"\n' and parsed[0]["label"] == 'Quote "label"'


def test_mean_abs_shap_ranks_features():
    c = np.array([[1.0, -3.0, 0.0], [-1.0, 1.0, 0.0]])
    imp = mean_abs_shap(c, ["a", "b", "c"])
    assert imp["feature"].tolist() == ["b", "a", "c"]
    assert imp["mean_abs_shap"].tolist() == [2.0, 1.0, 0.0]
    assert imp["share"].sum() == 1.0 and imp["rank"].tolist() == [1, 2, 3]


def test_global_importance_finds_the_signal(trained):
    top3 = set(trained.feature_importance["feature"].head(3))
    assert top3 == {"pricing_page_views_30d", "email_opens_30d", "days_since_last_visit"}


def test_top_k_order_is_the_head_of_a_stable_sort_by_magnitude():
    rng = np.random.default_rng(3)
    # ties (rounded values, +x and -x, zeros), missing values, infinities, whole missing rows
    c = np.round(rng.normal(size=(500, 40)), 1)
    c[rng.random(c.shape) < 0.2] = 0.0
    c[rng.random(c.shape) < 0.1] *= -1
    c[rng.random(c.shape) < 0.05] = np.nan
    c[7, 3], c[8, 5] = np.inf, -np.inf
    c[9] = np.nan
    c[10] = 0.0
    expected = np.argsort(-np.abs(c), axis=1, kind="stable")
    for k in (1, 3, 5, 40, 60):
        assert np.array_equal(top_k_order(c, k), expected[:, : min(k, 40)])
    assert top_k_order(c, 5).dtype == np.intp
    assert top_k_order(np.zeros((0, 4)), 3).shape == (0, 3)
