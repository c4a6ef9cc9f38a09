"""Drift of the current scoring run against the model's recent labeled history, like for like.

What is compared (:func:`age_weighted_drift_table`, what ``ml_drift`` runs):

* **current** -- the scoring population: one row per lead open at the scoring date, with the
  probability the model gave it;
* **reference** -- the model's recent labeled history: the weekly grid snapshots of the leads
  open during the model's test window (no window -- an unvalidated model -- the last 28 days of
  labeled snapshots), scored by the same registered model;
* **re-weighted to the current lead-age mix** (:mod:`.reweight`): open leads accumulate and age,
  so an unweighted comparison reports the ageing of the open population as drift even when the
  market did not change. Every PSI / KS below is computed on the weighted reference;
  ``psi_unweighted`` keeps the naive number for comparison.

Per feature and for the score:

PSI (the credit-scoring standard): bins are fixed on the (weighted) *reference*: deciles of a
numeric feature (inverted-CDF weighted quantiles, fewer bins when it has fewer distinct values), the
categories of a categorical one (the 20 heaviest, the rest pooled as ``__other__``), and one bin
for missing values. With ``r_i`` the weighted reference share and ``c_i`` the current share of bin
``i``,

    PSI = sum_i (c_i - r_i) * ln(c_i / r_i),

each share floored at ``1e-4`` so an empty bin gives a large but finite value. Usual reading:
< 0.1 stable, 0.1-0.25 moderate, > 0.25 major shift (:func:`drift_level`).

KS: the largest gap between the weighted empirical distribution function of the reference and
the one of the current run (non-missing numeric values), in [0, 1]; exact, from the sorted
samples with ``searchsorted``. Not defined for categorical features (NaN).

p-value of "same distribution": chi-square test of homogeneity on the same bins, the reference
counted at its effective size (:mod:`.significance`), then Benjamini-Hochberg over every row of
the table. Which rows may ask for retraining: :mod:`.verdict`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from lead_scoring.monitoring.reweight import (
    DEFAULT_AGE_BINS,
    DEFAULT_WEIGHT_CAP,
    age_weights,
    effective_sample_size,
)
from lead_scoring.monitoring.significance import benjamini_hochberg, homogeneity_test
from lead_scoring.monitoring.verdict import TIME_GROWING_PATTERNS, verdict_columns

__all__ = [
    "DRIFT_COLUMNS",
    "age_weighted_drift_table",
    "binned_counts",
    "drift_level",
    "drift_table",
    "ks_statistic",
    "population_stability_index",
]

EPS = 1e-4
MAX_LEVELS = 20
DRIFT_COLUMNS = [
    "drift_scope",
    "feature",
    "psi",
    "ks_statistic",
    "reference_rows",
    "current_rows",
    "reference_missing_share",
    "current_missing_share",
    "drift_level",
    "psi_unweighted",
    "reference_effective_rows",
    "reference_effective_leads",
    "p_value",
    "p_value_adjusted",
    "is_significant",
    "in_verdict",
    "counts_for_verdict",
    "verdict_note",
]


def _psi_from_counts(ref: np.ndarray, cur: np.ndarray) -> float:
    if ref.sum() <= 0 or cur.sum() <= 0:
        return float("nan")
    r = np.maximum(ref / ref.sum(), EPS)
    c = np.maximum(cur / cur.sum(), EPS)
    return float(np.sum((c - r) * np.log(c / r)))


def _numeric(values: Iterable) -> np.ndarray:
    s = pd.Series(values)
    if not (ptypes.is_numeric_dtype(s.dtype) or ptypes.is_bool_dtype(s.dtype)):
        s = pd.to_numeric(s, errors="coerce")
    return s.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)


def _weights(weights: Iterable | None, n: int) -> np.ndarray:
    if weights is None:
        return np.ones(n, dtype=np.float64)
    w = pd.Series(weights).astype("float64").to_numpy()
    if w.shape != (n,):
        raise ValueError(f"reference_weights has {w.size} values for {n} reference rows")
    if np.any(np.isnan(w)) or np.any(w < 0):
        raise ValueError("reference_weights must be finite and >= 0")
    return w


def _is_categorical(ref_s: pd.Series, categorical: bool | None) -> bool:
    if categorical is not None:
        return categorical
    return not (ptypes.is_numeric_dtype(ref_s.dtype) or ptypes.is_bool_dtype(ref_s.dtype))


class _Numeric:
    """A numeric reference and current sample, each sorted once: the weighted and the plain
    bins and the KS distance all come from these sorts."""

    def __init__(self, reference: Iterable, current: Iterable, weights: np.ndarray):
        self.ref, self.cur, self.w = _numeric(reference), _numeric(current), weights
        ok = ~np.isnan(self.ref)
        order = np.argsort(self.ref[ok], kind="stable")
        self.ref_sorted = self.ref[ok][order]
        self.w_sorted = weights[ok][order]
        self.cur_sorted = np.sort(self.cur[~np.isnan(self.cur)])

    def counts(self, n_bins: int, weighted: bool) -> tuple[np.ndarray, np.ndarray]:
        w = self.w if weighted else np.ones_like(self.w)
        w_sorted = self.w_sorted if weighted else np.ones_like(self.w_sorted)
        cum = np.cumsum(w_sorted)
        if cum.size and cum[-1] > 0:
            # inverted-CDF (weighted) quantiles: weighted_quantiles, on the sorted sample
            probs = np.linspace(0, 1, n_bins + 1)[1:-1]
            idx = np.searchsorted(cum, probs * cum[-1], side="left")
            edges = np.unique(self.ref_sorted[np.clip(idx, 0, cum.size - 1)])
        else:
            edges = np.array([])
        # bin k = values in (edges[k-1], edges[k]]; the last value bin holds everything above
        size = edges.size + 2
        ref_codes = np.where(
            np.isnan(self.ref), edges.size + 1, np.searchsorted(edges, self.ref, "left")
        )
        cur_codes = np.where(
            np.isnan(self.cur), edges.size + 1, np.searchsorted(edges, self.cur, "left")
        )
        return (
            np.bincount(ref_codes, weights=w, minlength=size),
            np.bincount(cur_codes, minlength=size).astype(np.float64),
        )

    def ks(self) -> float:
        a, w, b = self.ref_sorted, self.w_sorted, self.cur_sorted
        if a.size == 0 or b.size == 0 or w.sum() <= 0:
            return float("nan")
        cum_a = np.concatenate([[0.0], np.cumsum(w)]) / w.sum()
        pooled = np.concatenate([a, b])
        cdf_a = cum_a[np.searchsorted(a, pooled, side="right")]
        cdf_b = np.searchsorted(b, pooled, side="right") / b.size
        return float(np.max(np.abs(cdf_a - cdf_b)))


class _Categorical:
    """A categorical reference and current sample, factorized once."""

    def __init__(self, reference: Iterable, current: Iterable, weights: np.ndarray):
        ref = pd.Series(reference).astype("string")
        cur = pd.Series(current).astype("string")
        self.ref_codes, self.uniques = pd.factorize(ref, use_na_sentinel=True)
        self.cur_codes = pd.Index(self.uniques).get_indexer(cur)  # -1: unseen or missing
        self.cur_missing = cur.isna().to_numpy()
        self.w = weights

    def counts(self, weighted: bool) -> tuple[np.ndarray, np.ndarray]:
        w = self.w if weighted else np.ones_like(self.w)
        n = len(self.uniques)
        seen = self.ref_codes >= 0
        mass = np.bincount(self.ref_codes[seen], weights=w[seen], minlength=n)
        names = np.asarray(self.uniques, dtype=object)
        ranked = sorted((k for k in range(n) if mass[k] > 0), key=lambda k: (-mass[k], names[k]))
        # bins: the MAX_LEVELS heaviest levels, then OTHER, then MISSING
        other, missing = min(len(ranked), MAX_LEVELS), min(len(ranked), MAX_LEVELS) + 1
        bin_of = np.full(n + 1, other, dtype=np.int64)  # last slot: code -1
        bin_of[ranked[:MAX_LEVELS]] = np.arange(other)
        ref_bins = np.where(self.ref_codes < 0, missing, bin_of[self.ref_codes])
        cur_bins = np.where(self.cur_missing, missing, bin_of[self.cur_codes])
        return (
            np.bincount(ref_bins, weights=w, minlength=missing + 1),
            np.bincount(cur_bins, minlength=missing + 1).astype(np.float64),
        )


def _sample(reference, current, w: np.ndarray, categorical: bool | None):
    ref_s = pd.Series(reference)
    if _is_categorical(ref_s, categorical):
        return _Categorical(ref_s, current, w)
    return _Numeric(ref_s, current, w)


def binned_counts(
    reference: Iterable,
    current: Iterable,
    reference_weights: Iterable | None = None,
    categorical: bool | None = None,
    n_bins: int = 10,
) -> tuple[np.ndarray, np.ndarray]:
    """``(weighted reference counts, current counts)`` per bin, the bins fixed on the weighted
    reference (see the module docstring); the last bin holds the missing values."""
    ref_s = pd.Series(reference)
    sample = _sample(ref_s, current, _weights(reference_weights, len(ref_s)), categorical)
    if isinstance(sample, _Categorical):
        return sample.counts(weighted=True)
    return sample.counts(n_bins, weighted=True)


def population_stability_index(
    reference: Iterable,
    current: Iterable,
    n_bins: int = 10,
    categorical: bool | None = None,
    reference_weights: Iterable | None = None,
) -> float:
    """PSI of ``current`` against the (weighted) ``reference`` (see the module docstring)."""
    ref_counts, cur_counts = binned_counts(
        reference, current, reference_weights, categorical, n_bins
    )
    return _psi_from_counts(ref_counts, cur_counts)


def ks_statistic(
    reference: Iterable, current: Iterable, reference_weights: Iterable | None = None
) -> float:
    """Two-sample Kolmogorov-Smirnov statistic of the non-missing numeric values, the reference
    distribution function weighted by ``reference_weights``."""
    ref_s = pd.Series(reference)
    return _Numeric(ref_s, current, _weights(reference_weights, len(ref_s))).ks()


def drift_level(psi: float, moderate: float = 0.1, major: float = 0.25) -> str | None:
    """'stable' (< moderate), 'moderate' (up to major) or 'major' (> major); None for NaN."""
    if psi is None or np.isnan(psi):
        return None
    if psi > major:
        return "major"
    if psi >= moderate:
        return "moderate"
    return "stable"


def drift_table(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    features: Sequence[str],
    categorical: Sequence[str] = (),
    reference_scores: Iterable | None = None,
    current_scores: Iterable | None = None,
    moderate: float = 0.1,
    major: float = 0.25,
    *,
    reference_weights: Iterable | None = None,
    reference_groups: Iterable | None = None,
    fdr: float = 0.05,
    time_growing_patterns: Iterable[str] = TIME_GROWING_PATTERNS,
) -> pd.DataFrame:
    """One row for the score (``drift_scope`` 'score', feature 'conversion_probability') and
    one per feature ('feature'), with :data:`DRIFT_COLUMNS`.

    ``reference_weights``: one weight per reference row (default: all 1); ``reference_groups``:
    the lead of each reference row (its snapshots count as one observation in the test);
    ``fdr``: the q of Benjamini-Hochberg over all rows; ``time_growing_patterns``: the features
    kept out of the verdict (:mod:`.verdict`)."""
    w = _weights(reference_weights, len(reference))
    n_eff_rows = effective_sample_size(w)
    n_eff_leads = (
        effective_sample_size(w, reference_groups) if reference_groups is not None else n_eff_rows
    )
    context = {"w": w, "n_eff_rows": n_eff_rows, "n_eff_leads": n_eff_leads}
    rows = []
    if reference_scores is not None and current_scores is not None:
        ref, cur = _numeric(reference_scores), _numeric(current_scores)
        rows.append(_row("score", "conversion_probability", ref, cur, False, context))
    cats = set(categorical)
    for feature in features:
        is_cat = True if feature in cats else None
        rows.append(
            _row("feature", feature, reference[feature], current[feature], is_cat, context)
        )
    table = pd.DataFrame(rows)
    if table.empty:
        return pd.DataFrame(columns=DRIFT_COLUMNS)
    table["drift_level"] = [drift_level(p, moderate, major) for p in table["psi"]]
    table["p_value_adjusted"] = benjamini_hochberg(table["p_value"])
    table = verdict_columns(table, fdr, time_growing_patterns)
    return table[DRIFT_COLUMNS]


def _row(scope, feature, ref, cur, is_categorical, context) -> dict:
    ref_s, cur_s = pd.Series(ref), pd.Series(cur)
    w = context["w"]
    sample = _sample(ref_s, cur_s, w, is_categorical)
    if isinstance(sample, _Categorical):
        ref_counts, cur_counts = sample.counts(weighted=True)
        plain_ref, plain_cur = sample.counts(weighted=False)
        ks = float("nan")
    else:
        ref_counts, cur_counts = sample.counts(10, weighted=True)
        plain_ref, plain_cur = sample.counts(10, weighted=False)
        ks = sample.ks()
    _, _, p_value = homogeneity_test(ref_counts, cur_counts, context["n_eff_leads"])
    total_w = float(w.sum())
    return {
        "drift_scope": scope,
        "feature": feature,
        "psi": _psi_from_counts(ref_counts, cur_counts),
        "ks_statistic": ks,
        "reference_rows": len(ref_s),
        "current_rows": len(cur_s),
        "reference_missing_share": (
            float(w[ref_s.isna().to_numpy()].sum() / total_w) if total_w > 0 else float("nan")
        ),
        "current_missing_share": float(cur_s.isna().mean()) if len(cur_s) else float("nan"),
        "psi_unweighted": _psi_from_counts(plain_ref, plain_cur),
        "reference_effective_rows": context["n_eff_rows"],
        "reference_effective_leads": context["n_eff_leads"],
        "p_value": p_value,
    }


def age_weighted_drift_table(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    features: Sequence[str],
    categorical: Sequence[str] = (),
    reference_scores: Iterable | None = None,
    current_scores: Iterable | None = None,
    moderate: float = 0.1,
    major: float = 0.25,
    *,
    age_column: str = "lead_age_days",
    lead_column: str | None = "lead_id",
    n_age_bins: int = DEFAULT_AGE_BINS,
    weight_cap: float = DEFAULT_WEIGHT_CAP,
    fdr: float = 0.05,
    time_growing_patterns: Iterable[str] = TIME_GROWING_PATTERNS,
) -> pd.DataFrame:
    """:func:`drift_table` with the reference re-weighted to the current population's
    ``age_column`` mix (:func:`~.reweight.age_weights`) and its snapshots grouped by
    ``lead_column`` for the effective size (either column absent: no weights / no groups)."""
    if age_column in reference.columns and age_column in current.columns:
        weights = age_weights(reference[age_column], current[age_column], n_age_bins, weight_cap)
    else:
        weights = np.ones(len(reference))
    groups = (
        reference[lead_column].to_numpy()
        if lead_column is not None and lead_column in reference.columns
        else None
    )
    return drift_table(
        reference,
        current,
        features,
        categorical,
        reference_scores,
        current_scores,
        moderate,
        major,
        reference_weights=weights,
        reference_groups=groups,
        fdr=fdr,
        time_growing_patterns=time_growing_patterns,
    )
