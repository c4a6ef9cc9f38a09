"""Is a difference between two binned distributions more than noise, over many features at once?

PSI measures *how much* a distribution moved, not whether the move is real: with a few hundred
open leads, ten bins and ~150 features, some feature passes any fixed PSI threshold by chance.
So every drift row also gets the p-value of "same distribution":

* :func:`homogeneity_test` -- Pearson's chi-square test of homogeneity on the 2 x K table of the
  binned counts. The weighted reference enters as its bin shares times its *effective* size
  (``n_eff``, see :mod:`.reweight`), so re-weighting never buys precision it does not have.
  Bins whose expected count -- their reference share times the smaller sample size -- is below 5
  are pooled into one (then, if that pool is still below 5 and two bins remain without it, into
  the smallest other bin): the
  chi-square approximation is poor on sparse cells and a rare category must not decide alone. A
  category the reference never had (a new lead source) lands in that pool, where its current
  count still weighs. df = bins - 1.
* :func:`benjamini_hochberg` -- step-up adjusted p-values controlling the false discovery rate
  over every row of a drift table (all features and the score): a feature is significant when its
  adjusted p-value is below q (var ``drift_fdr``, 0.05). With 150 features and no shift, the
  chance that *anything* is declared significant is at most q.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from scipy import stats

__all__ = ["MIN_EXPECTED", "benjamini_hochberg", "homogeneity_test", "pool_sparse_bins"]

MIN_EXPECTED = 5.0


def pool_sparse_bins(
    reference: np.ndarray, current: np.ndarray, min_expected: float = MIN_EXPECTED
) -> tuple[np.ndarray, np.ndarray]:
    """Drop empty bins and pool the sparse ones (see the module docstring). Sparse is judged on
    the *reference* share alone: the bins are fixed on the reference (its quantiles, its
    categories), so the current counts are the random part -- pooling on them would pool exactly
    the bins where the current run deviates and inflate the statistic."""
    ref = np.asarray(reference, dtype=np.float64)
    cur = np.asarray(current, dtype=np.float64)
    keep = (ref + cur) > 0
    ref, cur = ref[keep], cur[keep]
    n_ref, n_cur = ref.sum(), cur.sum()
    if ref.size < 2 or n_ref <= 0 or n_cur <= 0:
        return ref, cur
    expected = ref / n_ref * min(n_ref, n_cur)
    sparse = expected < min_expected
    if not sparse.any():
        return ref, cur
    pooled_ref, pooled_cur = ref[sparse].sum(), cur[sparse].sum()
    ref, cur = ref[~sparse], cur[~sparse]
    if pooled_ref / n_ref * min(n_ref, n_cur) < min_expected and ref.size >= 2:
        smallest = int(np.argmin(ref))
        ref[smallest] += pooled_ref
        cur[smallest] += pooled_cur
    else:
        ref = np.append(ref, pooled_ref)
        cur = np.append(cur, pooled_cur)
    return ref, cur


def homogeneity_test(
    reference_counts: Iterable[float],
    current_counts: Iterable[float],
    reference_size: float | None = None,
    min_expected: float = MIN_EXPECTED,
) -> tuple[float, int, float]:
    """``(chi-square statistic, df, p-value)`` of "the two samples come from one distribution".

    ``reference_counts`` may be weighted: they are rescaled to sum to ``reference_size`` (the
    effective size; default: their own sum). NaN p-value when a sample is empty; p = 1 when a
    single bin is left (nothing can differ)."""
    ref = np.asarray(list(reference_counts), dtype=np.float64)
    cur = np.asarray(list(current_counts), dtype=np.float64)
    total_ref = ref.sum()
    size = total_ref if reference_size is None else float(reference_size)
    if total_ref <= 0 or cur.sum() <= 0 or not np.isfinite(size) or size <= 0:
        return float("nan"), 0, float("nan")
    ref = ref / total_ref * size
    ref, cur = pool_sparse_bins(ref, cur, min_expected)
    if ref.size < 2:
        return 0.0, 0, 1.0
    n_ref, n_cur = ref.sum(), cur.sum()
    pooled = (ref + cur) / (n_ref + n_cur)
    e_ref, e_cur = pooled * n_ref, pooled * n_cur
    statistic = float(np.sum((ref - e_ref) ** 2 / e_ref) + np.sum((cur - e_cur) ** 2 / e_cur))
    df = int(ref.size - 1)
    return statistic, df, float(stats.chi2.sf(statistic, df))


def benjamini_hochberg(p_values: Iterable[float]) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (same order; NaN stays NaN and is not counted in the
    number of tests): ``p_(i) * m / i``, made monotone from the largest down, capped at 1."""
    p = np.asarray(list(p_values), dtype=np.float64)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = ok.size
    if m == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    ranked = p[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    out[order] = np.minimum(adjusted, 1.0)
    return out
