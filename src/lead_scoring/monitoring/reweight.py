"""Importance weights that give the reference population the lead-age mix of the current one.

Why: the current population of a scoring run is *every lead open at the scoring date*; the
reference is the model's recent labeled history (weekly grid snapshots of the leads open then).
Leads that never convert stay open, so the open population keeps accumulating old leads: even
in a market that did not change at all, the current run holds more (and older) old leads than a
window of snapshots taken weeks earlier, and everything that depends on age -- lifetime counts,
recency, the fit mix of the survivors (good fits convert and leave, poor fits stay) -- differs.
That is a difference of *composition by age*, not drift. Comparing like with like means
re-weighting the reference so its age mix is the current one (the covariate-shift correction of
importance sampling) and computing every PSI / KS on the weighted reference.

:func:`age_weights`: bins = quantiles of the current population's age (10 by default, the
inverted-CDF quantiles, so an edge is an observed age); a reference row in bin ``b`` gets
``w = current share of b / reference share of b``, at most ``cap`` (20 by default) so a handful of
reference rows can never stand for a large part of the current population. The cap is met by
*coarsening*, not by truncation: while a bin would need a larger weight (or has no reference row
at all), it is merged with its neighbour (the one with more reference rows), so the weighted
reference keeps the current population's whole mass -- ages the reference never saw (leads older
than any lead of its window) are represented by the oldest ages it did see. Reference rows in a
bin the current population does not reach get weight 0. Rows without an age keep weight 1.

:func:`effective_sample_size`: the size an unweighted sample of the same precision would have,
Kish's ``n_eff = (sum w)^2 / sum w^2`` -- over rows, or over groups (the lead: a lead's weekly
snapshots repeat its firmographics, so they are one observation of them, not several).
:func:`weighted_quantiles`: the inverted-CDF quantile with weights (with unit weights, exactly
``numpy.quantile(..., method='inverted_cdf')``).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

__all__ = [
    "DEFAULT_AGE_BINS",
    "DEFAULT_WEIGHT_CAP",
    "age_weights",
    "effective_sample_size",
    "weighted_quantiles",
]

DEFAULT_AGE_BINS = 10
DEFAULT_WEIGHT_CAP = 20.0


def _float(values: Iterable) -> np.ndarray:
    s = pd.Series(values)
    if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        s = pd.to_numeric(s, errors="coerce")
    return s.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)


def weighted_quantiles(
    values: Iterable, probs: Iterable[float], weights: Iterable | None = None
) -> np.ndarray:
    """Inverted-CDF quantiles: for each ``q``, the smallest value whose cumulative weight share
    reaches ``q``. Missing values and their weights are ignored; empty input gives NaN."""
    x = _float(values)
    q = np.asarray(list(probs), dtype=np.float64)
    w = np.ones_like(x) if weights is None else _float(weights)
    keep = ~np.isnan(x) & (w > 0)
    x, w = x[keep], w[keep]
    if x.size == 0:
        return np.full(q.shape, np.nan)
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    cum = np.cumsum(w)
    # numpy's inverted_cdf: the first index whose cumulative weight is >= q * total
    idx = np.searchsorted(cum, q * cum[-1], side="left")
    return x[np.clip(idx, 0, x.size - 1)]


def _coarsen(ref_counts: np.ndarray, cur_counts: np.ndarray, cap: float) -> np.ndarray:
    """Group contiguous bins until every group's ratio (current share / reference share) is at
    most ``cap``: the worst group is merged with its neighbour (the one with more reference rows).
    Returns the group of each bin."""
    groups = [[b] for b in range(ref_counts.size)]
    ref_total, cur_total = ref_counts.sum(), cur_counts.sum()
    while len(groups) > 1:
        ref = np.array([ref_counts[g].sum() for g in groups]) / ref_total
        cur = np.array([cur_counts[g].sum() for g in groups]) / cur_total
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(ref > 0, cur / np.where(ref > 0, ref, 1.0), np.inf)
        ratio = np.where(cur > 0, ratio, 0.0)
        worst = int(np.argmax(ratio))
        if ratio[worst] <= cap:
            break
        if worst == 0:
            other = 1
        elif worst == len(groups) - 1:
            other = worst - 1
        else:
            left, right = groups[worst - 1], groups[worst + 1]
            other = worst - 1 if ref_counts[left].sum() >= ref_counts[right].sum() else worst + 1
        lo, hi = sorted((worst, other))
        groups[lo:hi + 1] = [groups[lo] + groups[hi]]
    target = np.empty(ref_counts.size, dtype=np.int64)
    for k, g in enumerate(groups):
        target[g] = k
    return target


def age_weights(
    reference_age: Iterable,
    current_age: Iterable,
    n_bins: int = DEFAULT_AGE_BINS,
    cap: float = DEFAULT_WEIGHT_CAP,
) -> np.ndarray:
    """One weight per reference row: current share / reference share of its age bin, capped
    (see the module docstring). All ones when either population has no age."""
    ref = _float(reference_age)
    cur = _float(current_age)
    weights = np.ones(ref.size, dtype=np.float64)
    ref_ok, cur_ok = ~np.isnan(ref), cur[~np.isnan(cur)]
    if cur_ok.size == 0 or not ref_ok.any():
        return weights
    probs = np.linspace(0.0, 1.0, n_bins + 1)[1:-1]
    edges = np.unique(weighted_quantiles(cur_ok, probs))
    size = edges.size + 1
    ref_bin = np.searchsorted(edges, ref[ref_ok], side="left")
    cur_bin = np.searchsorted(edges, cur_ok, side="left")
    ref_counts = np.bincount(ref_bin, minlength=size).astype(np.float64)
    cur_counts = np.bincount(cur_bin, minlength=size).astype(np.float64)
    target = _coarsen(ref_counts, cur_counts, cap)
    ref_merged = np.bincount(target, weights=ref_counts)
    cur_merged = np.bincount(target, weights=cur_counts)
    ref_share = ref_merged / ref_merged.sum()
    cur_share = cur_merged / cur_merged.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(ref_share > 0, cur_share / ref_share, 0.0)
    weights[ref_ok] = np.minimum(ratio[target[ref_bin]], cap)
    return weights


def effective_sample_size(weights: Iterable, groups: Iterable | None = None) -> float:
    """Kish's ``(sum w)^2 / sum w^2``; with ``groups``, computed on the groups' weight totals
    (every row of a group moves together). 0 for no weight."""
    w = _float(weights)
    w = np.where(np.isnan(w), 0.0, w)
    if groups is not None:
        codes, _ = pd.factorize(pd.Series(groups), use_na_sentinel=False)
        w = np.bincount(codes, weights=w)
    total, squares = float(w.sum()), float(np.square(w).sum())
    return total * total / squares if squares > 0 else 0.0
