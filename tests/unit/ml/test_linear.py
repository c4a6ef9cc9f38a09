"""The logistic regression of the baselines and blends: fit, exact contributions, JSON."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from lead_scoring.ml.dataset import build_feature_spec, horizon_labels, prepare_features
from lead_scoring.ml.linear import LinearModel, fit_linear
from lead_scoring.ml.metrics import roc_auc
from lead_scoring.ml.scoring import score_open_leads

FEATURES = ["pricing_page_views_30d", "email_opens_30d", "days_since_last_visit",
            "webinar_attended", "seniority_level", "company_size_band"]  # fmt: skip


@pytest.fixture(scope="module")
def data(snapshots):
    known, y = horizon_labels(snapshots, 30)
    lab = snapshots[known]
    spec = build_feature_spec(lab, FEATURES)
    return spec, prepare_features(lab, spec), y[known]


def test_contributions_add_up_to_the_margin_and_match_sklearn(data):
    spec, X, y = data
    model = fit_linear(X, y, spec, C=0.5, max_rows=None)
    contribs, bias = model.contributions(X)
    assert contribs.shape == (len(X), len(spec.columns))
    np.testing.assert_allclose(contribs.sum(1) + bias, model.margin(X), atol=1e-10)
    # a missing value contributes through its indicator; an average row contributes about 0
    assert np.abs(contribs.mean(axis=0)).max() < 1e-8
    # the same fit as scikit-learn on the same centred design
    design = model.design(X)
    ref = LogisticRegression(C=0.5, max_iter=2000).fit(design, y)
    np.testing.assert_allclose(model.margin(X), ref.decision_function(design), atol=1e-3)
    np.testing.assert_allclose(model.margin(X), design @ model.coefficients() + model.intercept)
    assert roc_auc(y, model.predict_proba(X)) > 0.6
    # a warm start from these coefficients lands on the same optimum
    again = fit_linear(X, y, spec, C=0.5, max_rows=None, init=model)
    np.testing.assert_allclose(again.margin(X), model.margin(X), atol=1e-3)


def test_json_round_trip_and_unseen_levels(data):
    spec, X, y = data
    model = fit_linear(X, y, spec, max_rows=2000, seed=3)
    back = LinearModel.from_dict(json.loads(json.dumps(model.to_dict())))
    np.testing.assert_array_equal(back.margin(X), model.margin(X))
    odd = X.head(3).copy()
    levels = X["seniority_level"].cat.categories
    odd["seniority_level"] = pd.Categorical([None] * 3, categories=levels)
    assert np.isfinite(model.margin(odd)).all()


def test_a_blend_scores_and_explains_itself(trained, snapshots):
    """A blended production model (half XGBoost, half logistic regression, on the log-odds):
    its margin is the blend of the two, and so are its explanations, which still add up."""
    import dataclasses

    from lead_scoring.ml.explain import shap_contributions
    from lead_scoring.ml.scoring import model_margin

    bundle = trained.bundle
    linear = fit_linear(prepare_features(snapshots, bundle.spec), horizon_labels(snapshots, 30)[1],
                        bundle.spec, max_rows=3000)  # fmt: skip
    blend = dataclasses.replace(bundle, linear=linear, blend_weight=0.5)
    leads = snapshots[snapshots["is_scoring_snapshot"]]
    Xl = prepare_features(leads, bundle.spec)
    margin = model_margin(blend, Xl)
    tree, tree_bias = shap_contributions(bundle.booster, bundle.spec.for_trees(Xl))
    lin, lin_bias = linear.contributions(Xl)
    both = 0.5 * tree + 0.5 * lin
    np.testing.assert_allclose(both.sum(1) + 0.5 * tree_bias + 0.5 * lin_bias, margin, atol=1e-4)
    scores = score_open_leads(blend, leads)
    np.testing.assert_allclose(scores["conversion_probability"], blend.calibrator.predict(margin))
    assert not np.allclose(scores["conversion_probability"],
                           score_open_leads(bundle, leads)["conversion_probability"])  # fmt: skip
