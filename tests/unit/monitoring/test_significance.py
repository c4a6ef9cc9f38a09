"""Chi-square test of homogeneity, sparse-bin pooling and Benjamini-Hochberg."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from lead_scoring.monitoring.drift import binned_counts
from lead_scoring.monitoring.significance import (
    benjamini_hochberg,
    homogeneity_test,
    pool_sparse_bins,
)


def test_homogeneity_test_is_pearsons_chi_square() -> None:
    ref = np.array([120, 90, 60, 30])
    cur = np.array([50, 40, 40, 20])
    statistic, df, p = homogeneity_test(ref, cur)
    expected = stats.chi2_contingency(np.vstack([ref, cur]), correction=False)
    assert statistic == pytest.approx(expected.statistic)
    assert df == expected.dof == 3
    assert p == pytest.approx(expected.pvalue)


def test_the_reference_counts_at_its_effective_size() -> None:
    """Weighted counts are rescaled to n_eff: a reference of 10,000 weighted rows worth 300
    observations is tested as 300."""
    shares = np.array([0.4, 0.3, 0.2, 0.1])
    cur = np.array([30, 30, 25, 15])
    _, _, p_eff = homogeneity_test(shares * 10_000, cur, reference_size=300)
    _, _, p_300 = homogeneity_test(shares * 300, cur)
    _, _, p_big = homogeneity_test(shares * 10_000, cur)
    assert p_eff == pytest.approx(p_300)
    assert p_big < p_eff


def test_sparse_bins_are_pooled_on_the_reference_share() -> None:
    ref = np.array([500.0, 400.0, 80.0, 15.0, 5.0, 0.0])
    cur = np.array([50.0, 40.0, 8.0, 3.0, 2.0, 0.0])
    # min sample 103: expected 51.5, 41.2, 8.2, 1.5, 0.5 -> the last two pooled (2.1 < 5) into
    # the smallest other bin; the empty bin is dropped
    pooled_ref, pooled_cur = pool_sparse_bins(ref, cur)
    assert pooled_ref.tolist() == [500.0, 400.0, 100.0]
    assert pooled_cur.tolist() == [50.0, 40.0, 13.0]
    # a category the reference never had is pooled, and its current count still weighs
    _, _, p = homogeneity_test([500, 400, 100, 0], [50, 40, 10, 60])
    assert p < 1e-10
    assert homogeneity_test([10, 0], [0, 10])[2] < 0.01
    assert np.isnan(homogeneity_test([0, 0], [1, 2])[2])
    assert homogeneity_test([100], [40]) == (0.0, 0, 1.0)


def test_p_values_are_uniform_under_the_null() -> None:
    """Reference deciles, 200 reference rows, 80 current ones, 30 % missing: the rejection
    rate at 5 % and 1 % is the nominal one. (Pooling sparse bins on the *current* counts would
    pool exactly the bins where the current run deviates: about 10 % at 5 % here.)"""
    rng = np.random.default_rng(0)
    p_values = []
    for _ in range(1_000):
        ref = rng.normal(size=200)
        ref[rng.random(200) < 0.3] = np.nan
        cur = rng.normal(size=80)
        cur[rng.random(80) < 0.3] = np.nan
        p_values.append(homogeneity_test(*binned_counts(ref, cur))[2])
    p_values = np.array(p_values)
    assert 0.03 < (p_values < 0.05).mean() < 0.07
    assert (p_values < 0.01).mean() < 0.02


def test_benjamini_hochberg_matches_scipy() -> None:
    rng = np.random.default_rng(1)
    p = np.concatenate([rng.uniform(size=140), rng.uniform(0, 1e-4, 10)])
    rng.shuffle(p)
    assert benjamini_hochberg(p) == pytest.approx(stats.false_discovery_control(p, method="bh"))
    # NaN stays NaN and is not counted as a test
    with_nan = np.array([0.01, np.nan, 0.04, 0.03])
    adjusted = benjamini_hochberg(with_nan)
    assert np.isnan(adjusted[1])
    assert adjusted[[0, 2, 3]] == pytest.approx(
        stats.false_discovery_control([0.01, 0.04, 0.03], method="bh")
    )
    assert np.isnan(benjamini_hochberg([np.nan])).all()
    assert benjamini_hochberg([]).size == 0
