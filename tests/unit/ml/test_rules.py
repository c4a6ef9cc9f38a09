from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lead_scoring.ml.rules import (
    PointsMapping,
    evaluate_rules,
    fit_points_mapping,
    rule_points,
    rules_version,
    validate_rules,
)

FRAME = pd.DataFrame(
    {
        "seniority_level": pd.array(["c_level", "vp", None, "manager"], dtype="str"),
        "views": [0, 3, 5, None],
        "is_personal_email": [True, False, True, False],
    }
)


def _rule(feature, operator, threshold, points=10, name="r"):
    return [
        {
            "rule_name": name,
            "feature": feature,
            "operator": operator,
            "threshold": threshold,
            "points": points,
            "description": "d",
        }
    ]


@pytest.mark.parametrize(
    ("feature", "operator", "threshold", "expected"),
    [
        ("seniority_level", "=", "c_level", [1, 0, 0, 0]),
        ("seniority_level", "!=", "c_level", [0, 1, 0, 1]),  # missing never fires
        ("seniority_level", "in", "vp; manager", [0, 1, 0, 1]),
        ("views", ">", "3", [0, 0, 1, 0]),
        ("views", ">=", "3", [0, 1, 1, 0]),
        ("views", "<", "3", [1, 0, 0, 0]),
        ("views", "<=", "3", [1, 1, 0, 0]),
        ("views", "=", "5", [0, 0, 1, 0]),
        ("views", "in", "0;5", [1, 0, 1, 0]),
        ("is_personal_email", "=", "true", [1, 0, 1, 0]),
        ("is_personal_email", "!=", "true", [0, 1, 0, 1]),
    ],
)
def test_each_operator(feature, operator, threshold, expected):
    points = evaluate_rules(FRAME, _rule(feature, operator, threshold))
    assert points["r"].tolist() == [10 * e for e in expected]


def test_points_are_summed_and_validated():
    rules = _rule("seniority_level", "=", "c_level", 10, "a") + _rule("views", ">=", "3", -4, "b")
    assert rule_points(FRAME, rules).tolist() == [10, -4, -4, 0]
    with pytest.raises(ValueError, match="operator"):
        validate_rules(_rule("views", "~", "3"))
    with pytest.raises(ValueError, match="numeric threshold"):
        validate_rules(_rule("views", ">", "many"))
    with pytest.raises(ValueError, match="not in the frame"):
        evaluate_rules(FRAME, _rule("nope", "=", "x"))
    with pytest.raises(ValueError, match="duplicate"):
        validate_rules(_rule("views", ">", "1") * 2)


def test_points_mapping():
    assert PointsMapping().predict(np.array([-5, 30, 150])).tolist() == [0.0, 0.3, 1.0]
    rng = np.random.default_rng(0)
    pts = rng.integers(0, 40, 3000)
    y = (rng.random(3000) < 1 / (1 + np.exp(-(-3 + 0.08 * pts)))).astype(int)
    m = fit_points_mapping(pts, y)
    assert m.method == "logistic" and m.slope == pytest.approx(0.08, abs=0.03)
    assert np.all(np.diff(m.predict(np.arange(40))) > 0)
    v = rules_version(_rule("views", ">", "1"), m)
    assert v.startswith("rules-") and len(v) == 18
    assert v == rules_version(_rule("views", ">", "1"), m)
    assert v != rules_version(_rule("views", ">", "2"), m)
