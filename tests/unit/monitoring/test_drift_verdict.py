"""The drift verdict on simulated funnels: an ageing open population is not drift, a flood of
new leads from a new source is, and 150 unshifted features at small n raise no alarm."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lead_scoring.monitoring import age_weighted_drift_table, drift_table

from .funnel_sim import CATEGORICAL, FEATURES, Funnel, flood


def _table(reference: pd.DataFrame, current: pd.DataFrame, weighted: bool = True):
    make = age_weighted_drift_table if weighted else drift_table
    return make(
        reference,
        current,
        FEATURES,
        CATEGORICAL,
        reference["conversion_probability"],
        current["conversion_probability"],
    ).set_index("feature")


@pytest.mark.parametrize(
    ("seed", "window_end"),
    [(0, 80), (1, 80), (2, 80), (3, 165)],
    ids=["old-window-0", "old-window-1", "old-window-2", "one-horizon-before"],
)
def test_an_ageing_open_population_is_not_drift(seed: int, window_end: int) -> None:
    """Reference: weekly snapshots of the open leads in an earlier window; current: the leads
    open at day 200. Same market, older open population."""
    funnel = Funnel(seed)
    reference, current = funnel.grid(window_end), funnel.open_at(200)
    table = _table(reference, current)
    assert not table["counts_for_verdict"].any(), table[table.counts_for_verdict]
    # the features that grow with age are reported, out of the verdict
    for feature in ("lead_age_days", "events_total"):
        assert not table.loc[feature, "in_verdict"]
        assert "grows with lead age" in table.loc[feature, "verdict_note"]
    assert table.loc["conversion_probability", "in_verdict"]
    naive = _table(reference, current, weighted=False)
    if window_end == 80:
        # what the unweighted comparison said: the age itself moved a lot, and so did a feature
        # that is in the verdict -- the false alarm the age weights remove
        assert naive.loc["lead_age_days", "psi"] > 0.25
        assert naive.loc["events_30d", "counts_for_verdict"]
        assert table.loc["events_30d", "psi"] < 0.1 < naive.loc["events_30d", "psi"]
        score = "conversion_probability"
        assert table.loc[score, "psi"] < naive.loc[score, "psi"]
    # the effective size of the weighted reference is reported; the leads bound it from below
    n_eff_leads = table["reference_effective_leads"].iloc[0]
    n_eff_rows = table["reference_effective_rows"].iloc[0]
    assert 0 < n_eff_leads <= n_eff_rows <= len(reference)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_flood_from_a_new_source_is_caught(seed: int) -> None:
    """The same funnel, plus brand-new leads from a new source (tiny companies, junior titles)
    flooding in during the last three weeks: 40 % of the open leads."""
    funnel = Funnel(seed)
    reference = funnel.grid(165)
    stationary = funnel.open_at(200)
    current = pd.concat([stationary, flood(int(0.67 * len(stationary)), seed)], ignore_index=True)
    table = _table(reference, current)
    for feature in ("lead_source", "company_size", "seniority_level"):
        row = table.loc[feature]
        assert row.drift_level == "major", (feature, row.psi)
        assert row.is_significant and row.p_value_adjusted < 1e-6
        assert row.in_verdict and row.counts_for_verdict
        assert row.verdict_note.startswith("major and significant")
    assert table.loc["conversion_probability", "in_verdict"]


def _independent_features(rng: np.random.Generator, n: int) -> pd.DataFrame:
    columns = {}
    for k in range(150):
        kind = k % 5
        if kind == 0:
            columns[f"f{k:03d}_normal"] = rng.normal(size=n)
        elif kind == 1:
            columns[f"f{k:03d}_skewed"] = rng.exponential(size=n)
        elif kind == 2:
            columns[f"f{k:03d}_count"] = rng.poisson(0.7, n).astype(float)
        elif kind == 3:
            values = rng.normal(size=n)
            values[rng.random(n) < 0.3] = np.nan
            columns[f"f{k:03d}_sparse"] = values
        else:
            columns[f"f{k:03d}_category"] = rng.choice(
                list("abcdefg"), n, p=[0.3, 0.2, 0.15, 0.15, 0.1, 0.06, 0.04]
            )
    return pd.DataFrame(columns)


@pytest.mark.parametrize("seed", range(5))
def test_150_unshifted_features_at_small_n_raise_no_alarm(seed: int) -> None:
    """150 features, all drawn from the same distributions in both samples (200 reference rows,
    80 current leads): by chance several pass the PSI threshold and several have p < 0.05, but
    after Benjamini-Hochberg nothing counts for the verdict."""
    rng = np.random.default_rng(100 + seed)
    reference, current = _independent_features(rng, 200), _independent_features(rng, 80)
    features = list(reference.columns)
    categorical = [f for f in features if f.endswith("_category")]
    table = drift_table(reference, current, features, categorical)
    assert len(table) == 150
    assert not table["counts_for_verdict"].any()
    assert not table["is_significant"].any()
    # what the PSI threshold alone, or a test without multiple-testing control, would flag
    assert (table["drift_level"] == "major").sum() >= 10
    assert (table["p_value"] < 0.05).sum() >= 2


def test_a_real_shift_at_small_n_survives_the_correction() -> None:
    """The correction is no blindfold: among 150 unshifted features, one that really moved is
    still flagged at the same small n."""
    rng = np.random.default_rng(7)
    reference, current = _independent_features(rng, 200), _independent_features(rng, 80)
    current["f000_normal"] = rng.normal(1.5, 1.0, 80)
    features = list(reference.columns)
    categorical = [f for f in features if f.endswith("_category")]
    table = drift_table(reference, current, features, categorical).set_index("feature")
    assert table.loc["f000_normal", "counts_for_verdict"]
    assert table["counts_for_verdict"].sum() == 1


def test_fdr_and_patterns_are_settings() -> None:
    funnel = Funnel(0)
    reference, current = funnel.grid(165), funnel.open_at(200)
    current = pd.concat([current, flood(len(current), 0)], ignore_index=True)
    strict = age_weighted_drift_table(
        reference, current, FEATURES, CATEGORICAL, fdr=0.0,
        time_growing_patterns=("lead_*", "*_total"),
    ).set_index("feature")  # fmt: skip
    assert not strict["is_significant"].any()  # q = 0: nothing can be significant
    assert not strict.loc["lead_source", "in_verdict"]  # matched by 'lead_*'
    assert strict.loc["days_since_last_activity", "in_verdict"]
