"""Lead-age importance weights, weighted quantiles and effective sample sizes."""

from __future__ import annotations

import numpy as np
import pytest

from lead_scoring.monitoring.drift import binned_counts
from lead_scoring.monitoring.reweight import (
    age_weights,
    effective_sample_size,
    weighted_quantiles,
)


def test_weighted_quantiles_are_numpys_inverted_cdf() -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 30, 501).astype(float)
    probs = np.linspace(0, 1, 11)
    assert weighted_quantiles(x, probs) == pytest.approx(
        np.quantile(x, probs, method="inverted_cdf")
    )
    w = rng.random(501)
    assert weighted_quantiles(x, probs, w) == pytest.approx(
        np.quantile(x, probs, method="inverted_cdf", weights=w)
    )
    with_nan = np.append(x, [np.nan, np.nan])
    assert weighted_quantiles(with_nan, probs) == pytest.approx(weighted_quantiles(x, probs))
    assert np.isnan(weighted_quantiles([np.nan], [0.5])).all()


def test_weights_give_the_reference_the_current_age_mix() -> None:
    rng = np.random.default_rng(1)
    reference_age = rng.uniform(0, 120, 20_000)  # an earlier window: younger open leads
    current_age = rng.uniform(0, 150, 5_000) ** 1.1 / 150**0.1  # older, skewed
    w = age_weights(reference_age, current_age)
    assert w.shape == reference_age.shape and (w >= 0).all() and w.max() <= 20.0
    # on the current deciles the weighted reference shares are the current shares; the top
    # decile lies beyond the oldest reference lead, so it is merged with the one below
    edges = np.quantile(current_age, np.linspace(0, 1, 11)[1:-1], method="inverted_cdf")
    assert edges[-1] > reference_age.max()
    ref_bins = np.minimum(np.searchsorted(edges, reference_age, "left"), 8)
    cur_bins = np.minimum(np.searchsorted(edges, current_age, "left"), 8)
    ref_share = np.bincount(ref_bins, weights=w, minlength=9) / w.sum()
    cur_share = np.bincount(cur_bins, minlength=9) / current_age.size
    assert ref_share == pytest.approx(cur_share, abs=1e-9)
    assert cur_share[8] == pytest.approx(0.2, abs=0.01)  # the old current leads are represented


def test_ages_beyond_the_reference_are_carried_by_its_oldest_rows() -> None:
    """Half the current leads are older than any reference lead: the bins are coarsened until
    the weights fit under the cap (not truncated, which would drop part of the current mass), and
    the oldest reference rows carry the old current leads."""
    reference_age = np.arange(0, 60, dtype=float).repeat(10)  # 600 rows, ages 0..59
    current_age = np.concatenate([np.linspace(0, 59, 150).round(), np.full(150, 200.0)])
    w = age_weights(reference_age, current_age, cap=20.0)
    old = reference_age >= 48  # the reference's oldest decile group
    assert np.average(old, weights=w) == pytest.approx(np.mean(current_age >= 48), abs=0.01)
    assert w.max() == pytest.approx(3.0, rel=0.05)
    capped = age_weights(reference_age, current_age, cap=2.0)
    assert capped.max() <= 2.0
    older = reference_age >= 36
    assert np.average(older, weights=capped) == pytest.approx(np.mean(current_age >= 36), abs=0.01)


def test_identical_age_mixes_give_unit_weights() -> None:
    ages = np.tile(np.arange(100, dtype=float), 7)
    assert age_weights(ages, np.arange(100, dtype=float)) == pytest.approx(np.ones(700))
    assert (age_weights(ages, []) == 1).all()
    with_nan = np.append(ages, np.nan)
    assert age_weights(with_nan, np.arange(100.0))[-1] == 1.0


def test_effective_sample_size() -> None:
    assert effective_sample_size(np.ones(500)) == pytest.approx(500)
    # half the rows at weight 3: (1000 + 3000)^2 / (1000 + 9000) = 1600
    w = np.r_[np.ones(1_000), np.full(1_000, 3.0)]
    assert effective_sample_size(w) == pytest.approx(1_600)
    # 5 snapshots of each of 100 leads count as 100 observations
    leads = np.repeat(np.arange(100), 5)
    assert effective_sample_size(np.ones(500), leads) == pytest.approx(100)
    assert effective_sample_size(np.zeros(3)) == 0.0


def test_weighted_bins_hold_the_weighted_shares() -> None:
    ref = np.array([1.0, 2.0, 3.0, 4.0, np.nan])
    w = np.array([1.0, 1.0, 1.0, 1.0, 4.0])
    ref_counts, cur_counts = binned_counts(ref, [1.0, np.nan], w, n_bins=2)
    assert ref_counts.sum() == pytest.approx(8.0) and ref_counts[-1] == pytest.approx(4.0)
    assert cur_counts.tolist() == [1.0, 0.0, 1.0]
