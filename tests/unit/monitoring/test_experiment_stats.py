"""The statistics of ml_experiment_results (lead_scoring.monitoring.experiment), checked against
published values: the SQL model is checked against these functions (a dbt unit test and
tests/e2e/test_experiment_e2e.py)."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from lead_scoring.monitoring.experiment import (
    Z_95,
    leads_per_arm,
    newcombe_interval,
    wilson_interval,
)

# Newcombe RG (1998), "Interval estimation for the difference between independent proportions:
# comparison of eleven methods", Statistics in Medicine 17:873-890, Table II, method 10 (hybrid
# score, no continuity correction): (x1, n1, x2, n2) -> (lower, upper), 4 decimals.
NEWCOMBE_1998_TABLE_II = [
    ((56, 70, 48, 80), (0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.1705, 0.8090)),
    ((6, 7, 2, 7), (0.0582, 0.8062)),
    ((5, 56, 0, 29), (-0.0381, 0.1926)),
    ((0, 10, 0, 20), (-0.1611, 0.2775)),
    ((0, 10, 0, 10), (-0.2775, 0.2775)),
    ((10, 10, 0, 20), (0.6791, 1.0000)),
    ((10, 10, 0, 10), (0.6075, 1.0000)),
]

# Newcombe RG (1998), "Two-sided confidence intervals for the single proportion", Statistics in
# Medicine 17:857-872, Table I, method 3 (Wilson score, no continuity correction).
WILSON_1998_TABLE_I = [
    ((81, 263), (0.2553, 0.3662)),
    ((15, 148), (0.0624, 0.1605)),
    ((0, 20), (0.0000, 0.1611)),
    ((1, 29), (0.0061, 0.1718)),
]


def test_z_is_the_two_sided_95_percent_quantile():
    assert abs(Z_95 - 1.959963984540054) < 1e-15


@pytest.mark.parametrize(("counts", "expected"), WILSON_1998_TABLE_I)
def test_wilson_interval_matches_the_published_values(counts, expected):
    lower, upper = wilson_interval(*counts)
    assert (round(lower, 4), round(upper, 4)) == expected


@pytest.mark.parametrize("counts", [(81, 263), (0, 20), (1, 29), (20, 20), (17, 1973)])
def test_wilson_interval_matches_scipy(counts):
    reference = stats.binomtest(counts[0], counts[1]).proportion_ci(method="wilson")
    assert wilson_interval(*counts) == pytest.approx((reference.low, reference.high), abs=1e-12)


@pytest.mark.parametrize(("counts", "expected"), NEWCOMBE_1998_TABLE_II)
def test_newcombe_interval_matches_the_published_values(counts, expected):
    lower, upper = newcombe_interval(*counts)
    assert (round(lower, 4), round(upper, 4)) == expected


def test_newcombe_interval_holds_the_difference_and_mirrors_when_the_arms_swap():
    lower, upper = newcombe_interval(17, 980, 9, 990)
    difference = 17 / 980 - 9 / 990
    assert lower < difference < upper
    assert newcombe_interval(9, 990, 17, 980) == pytest.approx((-upper, -lower), abs=1e-15)
    # a wider interval with fewer leads, at the same rates
    small = newcombe_interval(2, 98, 1, 99)
    assert small[1] - small[0] > upper - lower


def test_an_arm_without_leads_has_no_interval():
    assert all(math.isnan(v) for v in newcombe_interval(0, 0, 3, 10))
    assert all(math.isnan(v) for v in wilson_interval(0, 0))
    with pytest.raises(ValueError, match="successes"):
        wilson_interval(11, 10)


def test_leads_per_arm_matches_fleiss():
    # 5 % against 10 %, two-sided 5 %, power 80 %: 435 per group (Fleiss, without correction)
    assert leads_per_arm(0.05, 0.10) == 435
    assert leads_per_arm(0.10, 0.05) == 435
    # rarer conversions and a smaller lift need far more leads
    assert leads_per_arm(0.02, 0.03) > 3000
    with pytest.raises(ValueError, match="two different rates"):
        leads_per_arm(0.05, 0.05)
