"""PSI and KS on known distributions."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp

from lead_scoring.monitoring.drift import (
    DRIFT_COLUMNS,
    drift_level,
    drift_table,
    ks_statistic,
    population_stability_index,
)


def test_identical_distributions_are_stable() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=50_000)
    b = rng.normal(size=50_000)
    assert population_stability_index(a, b) < 0.01
    assert ks_statistic(a, b) < 0.02


def test_psi_of_a_half_sigma_shift_matches_the_closed_form() -> None:
    """Two normals with equal variance: PSI -> (mu1 - mu0)^2 / sigma^2 as bins get fine (the
    symmetrised KL divergence); with deciles it is a little below it."""
    rng = np.random.default_rng(1)
    a = rng.normal(0.0, 1.0, 200_000)
    b = rng.normal(0.5, 1.0, 200_000)
    psi = population_stability_index(a, b)
    assert 0.20 < psi < 0.25
    assert drift_level(psi) == "moderate"
    assert population_stability_index(a, rng.normal(1.0, 1.0, 200_000)) > 0.25


def test_ks_equals_scipy() -> None:
    rng = np.random.default_rng(2)
    a = rng.exponential(size=3_000)
    b = rng.exponential(1.3, size=2_000)
    assert ks_statistic(a, b) == pytest.approx(ks_2samp(a, b).statistic, abs=1e-12)
    a_int = rng.integers(0, 5, 1_000)  # ties
    b_int = rng.integers(0, 6, 1_000)
    assert ks_statistic(a_int, b_int) == pytest.approx(ks_2samp(a_int, b_int).statistic)


def test_categorical_psi_and_new_categories() -> None:
    ref = pd.Series(["a"] * 500 + ["b"] * 500)
    same = pd.Series(["a"] * 250 + ["b"] * 250)
    assert population_stability_index(ref, same) == pytest.approx(0.0, abs=1e-12)
    # half the current rows in an unseen category: a major shift, finite thanks to the floor
    new = pd.Series(["a"] * 250 + ["c"] * 250)
    psi = population_stability_index(ref, new)
    assert math.isfinite(psi) and psi > 0.25


def test_missing_values_are_their_own_bin() -> None:
    ref = pd.Series([1.0, 2.0, 3.0, 4.0] * 250)
    cur = pd.Series([1.0, 2.0, None, None] * 250)
    assert population_stability_index(ref, cur) > 0.25


def test_drift_levels_follow_the_thresholds() -> None:
    assert drift_level(0.05) == "stable"
    assert drift_level(0.1) == "moderate"
    assert drift_level(0.25) == "moderate"
    assert drift_level(0.26) == "major"
    assert drift_level(0.2, moderate=0.05, major=0.15) == "major"
    assert drift_level(float("nan")) is None


def test_drift_table_has_the_score_and_every_feature() -> None:
    rng = np.random.default_rng(3)
    ref = pd.DataFrame({"x": rng.normal(size=1000), "c": rng.choice(["u", "v"], 1000)})
    cur = pd.DataFrame({"x": rng.normal(2, 1, size=800), "c": rng.choice(["u", "v"], 800)})
    table = drift_table(ref, cur, ["x", "c"], ["c"], rng.random(1000), rng.random(800))
    assert list(table.feature) == ["conversion_probability", "x", "c"]
    assert list(table.drift_scope) == ["score", "feature", "feature"]
    x = table.set_index("feature").loc["x"]
    assert x.drift_level == "major" and x.reference_rows == 1000 and x.current_rows == 800
    assert math.isnan(table.set_index("feature").loc["c", "ks_statistic"])


# --- weighted reference -------------------------------------------------------------------------


def _unweighted_psi_by_hand(ref: np.ndarray, cur: np.ndarray, n_bins: int = 10) -> float:
    """An independent plain PSI: inverted-CDF deciles of the reference, NaN apart, floor 1e-4."""
    ok = ref[~np.isnan(ref)]
    edges = np.unique(np.quantile(ok, np.linspace(0, 1, n_bins + 1)[1:-1], method="inverted_cdf"))
    size = edges.size + 2

    def shares(x):
        codes = np.where(np.isnan(x), edges.size + 1, np.searchsorted(edges, x, "left"))
        return np.maximum(np.bincount(codes, minlength=size) / x.size, 1e-4)

    r, c = shares(ref), shares(cur)
    return float(np.sum((c - r) * np.log(c / r)))


def test_weighted_psi_with_unit_weights_is_the_plain_psi() -> None:
    rng = np.random.default_rng(4)
    ref = rng.gamma(2.0, 1.0, 3_000)
    ref[rng.random(3_000) < 0.1] = np.nan
    cur = rng.gamma(2.3, 1.0, 1_000)
    cur[rng.random(1_000) < 0.2] = np.nan
    plain = population_stability_index(ref, cur)
    assert population_stability_index(ref, cur, reference_weights=np.ones(3_000)) == plain
    assert plain == pytest.approx(_unweighted_psi_by_hand(ref, cur), abs=1e-12)
    cats_ref = pd.Series(rng.choice(list("abcd"), 3_000))
    cats_cur = pd.Series(rng.choice(list("abce"), 1_000))
    assert population_stability_index(
        cats_ref, cats_cur, reference_weights=np.ones(3_000)
    ) == population_stability_index(cats_ref, cats_cur)


def test_integer_weights_are_repeated_rows() -> None:
    """A weight of k counts a reference row k times: bins, shares, PSI and KS alike."""
    rng = np.random.default_rng(5)
    ref = rng.integers(0, 40, 2_000).astype(float)  # ties, like the day counts of the mart
    cur = rng.integers(5, 45, 700).astype(float)
    w = rng.integers(0, 4, 2_000)
    repeated = np.repeat(ref, w)
    assert population_stability_index(ref, cur, reference_weights=w) == pytest.approx(
        population_stability_index(repeated, cur), abs=1e-12
    )
    assert ks_statistic(ref, cur, reference_weights=w) == pytest.approx(
        ks_2samp(repeated, cur).statistic, abs=1e-12
    )
    cats = pd.Series(rng.choice(list("abcdef"), 2_000))
    cur_cats = pd.Series(rng.choice(list("abcdeg"), 700))
    assert population_stability_index(cats, cur_cats, reference_weights=w) == pytest.approx(
        population_stability_index(pd.Series(np.repeat(cats.to_numpy(), w)), cur_cats), abs=1e-12
    )


def test_weighted_ks_with_unit_weights_equals_scipy() -> None:
    rng = np.random.default_rng(6)
    for a, b in (
        (rng.normal(size=1_500), rng.normal(0.2, 1.0, 900)),
        (rng.integers(0, 7, 800).astype(float), rng.integers(0, 9, 600).astype(float)),
    ):
        assert ks_statistic(a, b, reference_weights=np.ones(a.size)) == pytest.approx(
            ks_2samp(a, b).statistic, abs=1e-12
        )


def test_weights_change_the_reference_distribution() -> None:
    """Up-weighting the reference rows that look like the current run removes the shift."""
    rng = np.random.default_rng(8)
    young = rng.normal(0.0, 1.0, 4_000)
    old = rng.normal(2.0, 1.0, 4_000)
    ref = np.concatenate([young, old])  # half young, half old
    cur = np.concatenate([rng.normal(0.0, 1.0, 900), rng.normal(2.0, 1.0, 100)])  # 90 % young
    w = np.concatenate([np.full(4_000, 0.9 / 0.5), np.full(4_000, 0.1 / 0.5)])
    assert population_stability_index(ref, cur) > 0.25
    assert population_stability_index(ref, cur, reference_weights=w) < 0.02
    assert ks_statistic(ref, cur, reference_weights=w) < 0.05 < ks_statistic(ref, cur)


def test_bad_weights_are_refused() -> None:
    with pytest.raises(ValueError, match="reference_weights"):
        population_stability_index([1.0, 2.0], [1.0], reference_weights=[1.0])
    with pytest.raises(ValueError, match=">= 0"):
        population_stability_index([1.0, 2.0], [1.0], reference_weights=[1.0, -1.0])


def test_the_drift_table_carries_the_verdict_columns() -> None:
    rng = np.random.default_rng(9)
    ref = pd.DataFrame({"x": rng.normal(size=1_000), "events_total": rng.poisson(3, 1_000)})
    cur = pd.DataFrame({"x": rng.normal(2, 1, size=800), "events_total": rng.poisson(9, 800)})
    table = drift_table(ref, cur, ["x", "events_total"], (), rng.random(1_000), rng.random(800))
    assert list(table.columns) == DRIFT_COLUMNS
    rows = table.set_index("feature")
    assert rows.loc["x", "counts_for_verdict"] and rows.loc["x", "in_verdict"]
    assert rows.loc["events_total", "drift_level"] == "major"
    assert rows.loc["events_total", "is_significant"]
    assert not rows.loc["events_total", "in_verdict"]
    assert not rows.loc["events_total", "counts_for_verdict"]
    score = rows.loc["conversion_probability"]
    assert score.in_verdict and not score.counts_for_verdict and score.drift_level == "stable"
    assert (table.reference_effective_rows == 1_000).all()
    assert (table.p_value_adjusted >= table.p_value).all()
