"""Probabilities over 7 / 30 / 90 days: monotone in the horizon, the main horizon untouched."""

from __future__ import annotations

import numpy as np
import pytest

from lead_scoring.ml.timing import monotone_in_horizon, probability_columns, timing_probabilities


def test_monotone_keeps_the_main_horizon_and_orders_the_others():
    p = {
        7: np.array([0.30, 0.01, 0.05]),
        30: np.array([0.20, 0.10, 0.05]),
        90: np.array([0.10, 0.30, 0.04]),
    }
    out = monotone_in_horizon(p, 30)
    np.testing.assert_array_equal(out[30], p[30])
    np.testing.assert_array_equal(out[7], [0.20, 0.01, 0.05])  # capped by the 30-day value
    np.testing.assert_array_equal(out[90], [0.20, 0.30, 0.05])  # floored by it
    for a, b in ((7, 30), (30, 90)):
        assert (out[a] <= out[b]).all()


def test_a_main_horizon_between_the_columns_takes_part():
    p = {7: np.array([0.5]), 30: np.array([0.4]), 60: np.array([0.3]), 90: np.array([0.2])}
    out = monotone_in_horizon(p, 60)
    assert out[7][0] == out[30][0] == pytest.approx(0.3) and out[90][0] == pytest.approx(0.3)


def test_columns_without_a_model_are_null():
    frame = timing_probabilities(np.array([0.1, 0.2]), 30, {}, None)
    assert list(frame.columns) == probability_columns((7, 30, 90))
    assert frame["conversion_probability_30d"].tolist() == [0.1, 0.2]
    assert frame["conversion_probability_7d"].isna().all()
    assert frame["conversion_probability_90d"].isna().all()
    with pytest.raises(ValueError, match="main horizon"):
        monotone_in_horizon({7: np.array([0.1])}, 30)
