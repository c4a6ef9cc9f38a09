"""The grid sized to the data, the pooled selection and the time decay."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lead_scoring.ml.config import resolve_config
from lead_scoring.ml.tuning import (
    Candidate,
    FoldCurve,
    candidate_grid,
    choose,
    default_rounds,
    pooled_curve,
    recency_weights,
)


def test_grid_adapts_to_the_history_size():
    cfg = resolve_config({"horizon_days": 30})
    small, medium, large = (candidate_grid(n, cfg) for n in (150, 1_500, 15_000))
    depth = lambda grid: sorted({c.params["max_depth"] for c in grid})  # noqa: E731
    assert depth(small) == [2, 3] and depth(medium) == [3, 5] and depth(large) == [4, 6]
    assert {c.half_life_days for c in small} == {None, 120.0, 30.0}
    assert {c.half_life_days for c in medium} == {None, 120.0}
    assert {c.half_life_days for c in large} == {None}
    assert max(c.params["eta"] for c in small) < min(c.params["eta"] for c in large)
    explicit = resolve_config({"xgb_candidates": [{"max_depth": 7}], "recency_half_life_days": []})
    assert candidate_grid(150, explicit) == [Candidate(params={"max_depth": 7})]
    assert "half_life_days=30" in Candidate({"max_depth": 2}, 30.0).name


def test_choose_pools_the_folds_by_weight():
    # candidate 0 is best on the small fold, candidate 1 on the big one: the big one decides
    a = [FoldCurve(np.array([0.5, 0.3, 0.35]), 10.0), FoldCurve(np.array([0.5, 0.45, 0.44]), 90.0)]
    b = [FoldCurve(np.array([0.5, 0.4, 0.41]), 10.0), FoldCurve(np.array([0.5, 0.40, 0.39]), 90.0)]
    index, rounds, score = choose({0: a, 1: b})
    assert index == 1 and rounds == 3
    assert score == pytest.approx((10 * 0.41 + 90 * 0.39) / 100)
    # on the first fold alone, candidate 0 wins at round 2
    assert choose({0: a[:1], 1: b[:1]})[:2] == (0, 2)


def test_a_fold_that_stopped_early_keeps_its_last_loss():
    curve = pooled_curve(
        [FoldCurve(np.array([3.0, 2.0]), 1.0), FoldCurve(np.array([3.0, 2.0, 1.0]), 1.0)]
    )
    assert curve.tolist() == [3.0, 2.0, 1.5]


def test_recency_weights_halve_every_half_life():
    ref = np.datetime64("2025-01-31")
    t = pd.to_datetime(["2025-01-31", "2025-01-01", "2024-12-02", "2025-03-01"]).to_numpy()
    w = recency_weights(t, ref, 30.0)
    assert w == pytest.approx([1.0, 0.5, 0.25, 1.0])  # a later row is not up-weighted
    assert (recency_weights(t, ref, None) == 1).all()


def test_default_rounds_grow_with_the_history():
    assert default_rounds(143, 0.05, 600) == 143  # 12 x sqrt(143) = 143.5
    assert default_rounds(10_000, 0.05, 600) == 600
    assert default_rounds(143, 0.1, 600) == 72
