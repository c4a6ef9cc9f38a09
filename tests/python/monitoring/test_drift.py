"""PSI and KS on known distributions."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp

from lead_scoring.monitoring.drift import (
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
