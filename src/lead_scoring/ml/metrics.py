"""Evaluation metrics for binary conversion probabilities, all vectorised numpy.

Conventions
-----------
* ``y`` is 0/1 (any int/bool/float array), ``p`` a probability in [0, 1].
* Ranking metrics sort by ``-p`` with a *stable* sort, so ties keep the input order (deterministic).
* Log loss clips ``p`` to ``[EPS, 1 - EPS]`` with ``EPS = 1e-6`` (isotonic calibrators have flat
  ends at exactly 0 or 1; one such row must not make the loss infinite).
* A metric that is undefined (AUC with a single class, ...) is ``NaN`` (null in the warehouse).
* ECE uses ``n_bins`` **equal-width** bins on [0, 1] (default 10), weighted by bin count:
  ``ECE = sum_b n_b / N * |mean(p)_b - mean(y)_b|``. Equal width is the standard definition and
  puts every model on the same grid, so ECEs are comparable across models and runs; with a ~10 %
  base rate most rows fall into the first bins, which is where the calibration matters most.
  :func:`calibration_bins` also offers ``strategy='quantile'`` (equal frequency) for plots.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy.stats import rankdata

__all__ = [
    "CALIBRATION_BIN_COLUMNS",
    "CONFUSION_COLUMNS",
    "EPS",
    "LIFT_COLUMNS",
    "METRIC_COLUMNS",
    "SEGMENT_COLUMNS",
    "average_precision",
    "binary_metrics",
    "brier_score",
    "calibration_bins",
    "confusion_at_f1_threshold",
    "ece_equal_mass",
    "expected_calibration_error",
    "lift_by_decile",
    "log_loss",
    "observed_to_expected",
    "metrics_long",
    "paired_auc_margin",
    "roc_auc",
    "segment_metrics",
    "top_fraction_stats",
]

EPS = 1e-6
METRIC_COLUMNS = ["model_name", "split", "metric", "value"]
CALIBRATION_BIN_COLUMNS = [
    "bin",
    "bin_lower",
    "bin_upper",
    "mean_predicted",
    "observed_rate",
    "count",
    "n_positives",
]
LIFT_COLUMNS = [
    "decile",
    "n_rows",
    "n_positives",
    "conversion_rate",
    "lift",
    "min_probability",
    "max_probability",
    "mean_probability",
    "cumulative_rows",
    "cumulative_positives",
    "cumulative_conversion_rate",
    "cumulative_lift",
    "cumulative_recall",
]
SEGMENT_COLUMNS = [
    "segment_column",
    "segment_value",
    "n_rows",
    "n_positives",
    "positive_rate",
    "mean_predicted",
    "calibration_gap",
    "auc",
    "overall_auc",
    "auc_gap",
    "is_flagged",
    "flag_reason",
]
CONFUSION_COLUMNS = ["threshold", "tp", "fp", "tn", "fn", "precision", "recall", "f1"]


def _arrays(y: Iterable, p: Iterable) -> tuple[np.ndarray, np.ndarray]:
    y_arr = np.asarray(y, dtype=np.float64).ravel()
    p_arr = np.asarray(p, dtype=np.float64).ravel()
    if y_arr.shape != p_arr.shape:
        raise ValueError(f"y and p differ in length: {y_arr.size} vs {p_arr.size}")
    if np.isnan(y_arr).any():
        raise ValueError("y contains missing labels")
    return y_arr, p_arr


def _weights(w: Iterable | None, n: int) -> np.ndarray | None:
    if w is None:
        return None
    arr = np.asarray(w, dtype=np.float64).ravel()
    if arr.size != n:
        raise ValueError(f"weight has {arr.size} values for {n} rows")
    if (arr < 0).any() or not np.isfinite(arr).all():
        raise ValueError("weights must be finite and >= 0")
    return arr


def _mean(values: np.ndarray, w: np.ndarray | None) -> float:
    if w is None:
        return float(np.mean(values))
    return float(np.sum(values * w) / np.sum(w))


def roc_auc(y: Iterable, score: Iterable, weight: Iterable | None = None) -> float:
    """Area under the ROC curve (Mann-Whitney U with average ranks for ties); NaN if one class.

    ``weight``: row weights (e.g. 1 / sampling rate of the rows a sample kept), the weighted
    Mann-Whitney statistic with ties counting one half."""
    y_arr, s = _arrays(y, score)
    w = _weights(weight, y_arr.size)
    if w is not None:
        if (w[y_arr == 1].sum() == 0) or (w[y_arr == 0].sum() == 0):
            return math.nan
        order = np.argsort(s, kind="mergesort")
        sorted_s = s[order]
        starts = np.flatnonzero(np.r_[True, sorted_s[1:] != sorted_s[:-1]])
        return float(_grouped_weighted_auc(y_arr[order], starts, w[order][None, :])[0])
    n_pos = float(y_arr.sum())
    n_neg = float(y_arr.size - n_pos)
    if n_pos == 0 or n_neg == 0:
        return math.nan
    ranks = rankdata(s, method="average")
    return float((ranks[y_arr == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _grouped_weighted_auc(order_y: np.ndarray, starts: np.ndarray, w: np.ndarray) -> np.ndarray:
    """AUC for each row of the weight matrix ``w`` (bootstrap draws x rows, rows sorted by score
    ascending); ``starts`` are the first positions of each distinct score (ties share a group and
    count half, as in the Mann-Whitney statistic)."""
    pos_w = w * order_y
    if len(starts) == w.shape[1]:  # no ties: every row is its own group
        pos = pos_w.astype(np.float64)
        neg = w.astype(np.float64) - pos
    else:
        pos = np.add.reduceat(pos_w, starts, axis=1, dtype=np.float64)
        neg = np.add.reduceat(w, starts, axis=1, dtype=np.float64) - pos
    neg_below = np.cumsum(neg, axis=1) - neg
    total_pos, total_neg = pos.sum(axis=1), neg.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (pos * (neg_below + 0.5 * neg)).sum(axis=1) / (total_pos * total_neg)


def paired_auc_margin(
    y: Iterable,
    p_model: Iterable,
    p_baseline: Iterable,
    groups: Iterable,
    n_boot: int = 100,
    seed: int = 0,
    level: float = 0.90,
    chunk: int = 25,
    weight: Iterable | None = None,
) -> dict[str, float]:
    """AUC(model) - AUC(baseline) on the same rows, with a cluster bootstrap interval.

    Snapshots of one lead are correlated, so the bootstrap resamples *leads* (``groups``), not
    rows: every draw gives each lead a Poisson(1) weight (the Poisson bootstrap, equivalent to
    resampling with replacement for large samples), applied to both models' rows at once (paired).
    Returns ``margin``, ``ci_low``, ``ci_high`` (the central ``level`` interval of the draws) and
    ``p_not_better`` (share of draws where the model does not beat the baseline). Vectorised: one
    sort per model, ``chunk`` draws at a time. ``weight``: row weights (a sample of whole leads
    re-weighted to the population): each draw's lead weight multiplies them.
    """
    y_arr = np.asarray(pd.Series(y).astype("float64"), dtype=np.float64)
    a = np.asarray(p_model, dtype=np.float64)
    b = np.asarray(p_baseline, dtype=np.float64)
    w = _weights(weight, y_arr.size)
    margin = roc_auc(y_arr, a, w) - roc_auc(y_arr, b, w)
    row_w = np.ones(y_arr.size, dtype=np.float32) if w is None else w.astype(np.float32)
    codes, _ = pd.factorize(pd.Series(groups), use_na_sentinel=False)
    n_groups = int(codes.max()) + 1 if len(codes) else 0
    prepared = []
    for p in (a, b):
        order = np.argsort(p, kind="mergesort")
        sorted_p = p[order]
        starts = np.flatnonzero(np.r_[True, sorted_p[1:] != sorted_p[:-1]])
        prepared.append((codes[order], y_arr[order].astype(np.float32), starts, row_w[order]))
    rng = np.random.default_rng(seed)
    diffs = []
    for first in range(0, n_boot, chunk):
        draws = min(chunk, n_boot - first)
        lead_w = rng.poisson(1.0, size=(draws, n_groups)).astype(np.float32)
        auc = [_grouped_weighted_auc(yo, st, lead_w[:, co] * ro) for co, yo, st, ro in prepared]
        diffs.append(auc[0] - auc[1])
    d = np.concatenate(diffs) if diffs else np.array([])
    d = d[np.isfinite(d)]
    if not d.size:
        return {"margin": margin, "ci_low": math.nan, "ci_high": math.nan, "p_not_better": math.nan}
    tail = (1.0 - level) / 2.0
    return {
        "margin": float(margin),
        "ci_low": float(np.quantile(d, tail)),
        "ci_high": float(np.quantile(d, 1.0 - tail)),
        "p_not_better": float(np.mean(d <= 0.0)),
    }


def average_precision(y: Iterable, p: Iterable, weight: Iterable | None = None) -> float:
    """PR-AUC as average precision ``sum_k (R_k - R_{k-1}) P_k`` over distinct thresholds
    (weighted counts with ``weight``)."""
    y_arr, p_arr = _arrays(y, p)
    w = _weights(weight, y_arr.size)
    w = np.ones_like(y_arr) if w is None else w
    n_pos = float((w * y_arr).sum())
    if n_pos == 0:
        return math.nan
    order = np.argsort(-p_arr, kind="stable")
    ys, ps, ws = y_arr[order], p_arr[order], w[order]
    last_of_tie = np.r_[np.nonzero(np.diff(ps))[0], ps.size - 1]
    tp = np.cumsum(ys * ws)[last_of_tie]
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.nan_to_num(tp / np.cumsum(ws)[last_of_tie])
    recall = tp / n_pos
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def log_loss(y: Iterable, p: Iterable, eps: float = EPS, weight: Iterable | None = None) -> float:
    """(Weighted) mean negative log-likelihood with ``p`` clipped to ``[eps, 1 - eps]``."""
    y_arr, p_arr = _arrays(y, p)
    if y_arr.size == 0:
        return math.nan
    pc = np.clip(p_arr, eps, 1 - eps)
    return -_mean(y_arr * np.log(pc) + (1 - y_arr) * np.log1p(-pc), _weights(weight, y_arr.size))


def brier_score(y: Iterable, p: Iterable, weight: Iterable | None = None) -> float:
    """(Weighted) mean squared error of the probability."""
    y_arr, p_arr = _arrays(y, p)
    if not y_arr.size:
        return math.nan
    return _mean((p_arr - y_arr) ** 2, _weights(weight, y_arr.size))


def _bin_index(
    p: np.ndarray, n_bins: int, strategy: str, w: np.ndarray | None = None
) -> np.ndarray:
    if strategy == "uniform":
        return np.minimum((np.clip(p, 0, 1) * n_bins).astype(np.int64), n_bins - 1)
    if strategy == "quantile":
        order = np.argsort(p, kind="stable")
        idx = np.empty(p.size, dtype=np.int64)
        if w is None:
            idx[order] = np.arange(p.size) * n_bins // max(p.size, 1)
        else:  # equal *weight* per bin: by the cumulative weight before each row
            cum = np.cumsum(w[order]) - w[order]
            total = max(float(w.sum()), 1e-300)
            idx[order] = np.minimum((cum / total * n_bins).astype(np.int64), n_bins - 1)
        return idx
    raise ValueError("strategy must be 'uniform' or 'quantile'")


def calibration_bins(
    y: Iterable,
    p: Iterable,
    n_bins: int = 10,
    strategy: str = "uniform",
    weight: Iterable | None = None,
) -> pd.DataFrame:
    """Reliability table: one row per bin (1-based), with :data:`CALIBRATION_BIN_COLUMNS`.

    ``strategy='uniform'``: equal-width bins on [0, 1], every bin listed (an empty bin has count 0
    and NaN means); ``'quantile'``: equal-frequency bins by rank. ``bin_lower``/``bin_upper`` are
    the nominal edges (uniform) or the min/max predicted probability in the bin (quantile).
    ``weight``: row weights (a re-weighted sample): means are weighted, equal-mass bins hold equal
    weight, and ``count`` / ``n_positives`` are the weighted counts rounded (the population's).
    """
    y_arr, p_arr = _arrays(y, p)
    w = _weights(weight, y_arr.size)
    ww = np.ones(y_arr.size) if w is None else w
    idx = _bin_index(p_arr, n_bins, strategy, w)
    mass = np.bincount(idx, weights=ww, minlength=n_bins)
    count = np.rint(mass).astype(np.int64)
    sum_p = np.bincount(idx, weights=p_arr * ww, minlength=n_bins)
    sum_y = np.bincount(idx, weights=y_arr * ww, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_p = np.where(mass > 0, sum_p / mass, np.nan)
        rate = np.where(mass > 0, sum_y / mass, np.nan)
    if strategy == "uniform":
        lower = np.arange(n_bins) / n_bins
        upper = (np.arange(n_bins) + 1) / n_bins
    else:
        frame = pd.DataFrame({"b": idx, "p": p_arr}).groupby("b")["p"]
        lower = frame.min().reindex(range(n_bins)).to_numpy()
        upper = frame.max().reindex(range(n_bins)).to_numpy()
    return pd.DataFrame(
        {
            "bin": np.arange(1, n_bins + 1),
            "bin_lower": lower,
            "bin_upper": upper,
            "mean_predicted": mean_p,
            "observed_rate": rate,
            "count": count,
            "n_positives": np.rint(sum_y).astype(np.int64),
        }
    )


def expected_calibration_error(
    y: Iterable,
    p: Iterable,
    n_bins: int = 10,
    strategy: str = "uniform",
    weight: Iterable | None = None,
) -> float:
    """ECE weighted by bin count: ``strategy='uniform'`` (equal-width bins, the default) or
    ``'quantile'`` (equal-mass bins; see :func:`ece_equal_mass`); ``weight``: row weights."""
    y_arr, p_arr = _arrays(y, p)
    if y_arr.size == 0:
        return math.nan
    w = _weights(weight, y_arr.size)
    idx = _bin_index(p_arr, n_bins, strategy, w)
    w = np.ones_like(y_arr) if w is None else w
    gap = np.abs(
        np.bincount(idx, weights=p_arr * w, minlength=n_bins)
        - np.bincount(idx, weights=y_arr * w, minlength=n_bins)
    )
    return float(gap.sum() / w.sum())


def ece_equal_mass(
    y: Iterable, p: Iterable, n_bins: int = 10, weight: Iterable | None = None
) -> float:
    """ECE over ``n_bins`` **equal-mass** bins (each holds 1/n_bins of the rows, by rank of p).

    At a 2 % base rate nearly every row falls into the first equal-width bin, where the
    equal-width ECE is small whatever the model does; equal-mass bins look inside that mass
    (``sum_b n_b / N * |mean(p)_b - mean(y)_b|`` with ``n_b ~ N / n_bins``)."""
    return expected_calibration_error(y, p, n_bins, "quantile", weight)


def observed_to_expected(
    y: Iterable, p: Iterable, n_bins: int = 0, weight: Iterable | None = None
) -> np.ndarray | float:
    """Observed / expected conversions: ``sum(y) / sum(p)`` (1 = calibrated on average, 1.3 = 30 %
    more conversions than predicted). With ``n_bins > 0``: one ratio per equal-mass bin of ``p``,
    bin 1 holding the *highest* probabilities (the deciles of :func:`lift_by_decile`); NaN where a
    bin expects nothing."""
    y_arr, p_arr = _arrays(y, p)
    w = _weights(weight, y_arr.size)
    ww = np.ones_like(y_arr) if w is None else w
    if n_bins <= 0:
        expected = (p_arr * ww).sum()
        return float((y_arr * ww).sum() / expected) if expected > 0 else math.nan
    if y_arr.size == 0:
        return np.full(n_bins, np.nan)
    idx = _bin_index(-p_arr, n_bins, "quantile", w)  # rank of -p: bin 0 = highest probabilities
    observed = np.bincount(idx, weights=y_arr * ww, minlength=n_bins)
    expected = np.bincount(idx, weights=p_arr * ww, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(expected > 0, observed / expected, np.nan)


def top_fraction_stats(
    y: Iterable, p: Iterable, fraction: float, weight: Iterable | None = None
) -> dict[str, float]:
    """Precision, recall and lift among the top ``ceil(fraction * n)`` rows by ``p`` (with
    ``weight``: the top rows holding ``fraction`` of the total weight)."""
    y_arr, p_arr = _arrays(y, p)
    w = _weights(weight, y_arr.size)
    if w is not None:
        total, pos = float(w.sum()), float((w * y_arr).sum())
        if total == 0:
            return {"precision": math.nan, "recall": math.nan, "lift": math.nan}
        order = np.argsort(-p_arr, kind="stable")
        top = order[(np.cumsum(w[order]) - w[order]) < fraction * total - 1e-12]
        if not top.size:
            return {"precision": math.nan, "recall": math.nan, "lift": math.nan}
        hits, mass = float((w[top] * y_arr[top]).sum()), float(w[top].sum())
        precision = hits / mass
        return {
            "precision": precision,
            "recall": hits / pos if pos else math.nan,
            "lift": precision / (pos / total) if pos else math.nan,
        }
    n = y_arr.size
    n_pos = y_arr.sum()
    n_top = min(n, math.ceil(fraction * n - 1e-9))
    if n == 0 or n_top == 0:
        return {"precision": math.nan, "recall": math.nan, "lift": math.nan}
    order = np.argsort(-p_arr, kind="stable")[:n_top]
    hits = y_arr[order].sum()
    precision = hits / n_top
    base = n_pos / n
    return {
        "precision": float(precision),
        "recall": float(hits / n_pos) if n_pos else math.nan,
        "lift": float(precision / base) if base else math.nan,
    }


def binary_metrics(
    y: Iterable,
    p: Iterable,
    lift_fractions: Sequence[float] = (0.1, 0.2, 0.3),
    ece_bins: int = 10,
    weight: Iterable | None = None,
) -> dict[str, float]:
    """Headline metrics of one model on one split, as an ordered ``{metric: value}`` dict.

    Keys: ``auc, pr_auc, log_loss, brier, ece`` (equal-width bins), ``ece_equal_mass``,
    ``observed_to_expected`` (sum y / sum p), ``precision_at_K, recall_at_K, lift_at_K`` (K in
    percent, e.g. ``lift_at_10``), ``positive_rate, mean_predicted, n_rows, n_positives``, and
    ``observed_to_expected_decile_D`` for D = 1 (highest probabilities) .. ``ece_bins``.
    """
    y_arr, p_arr = _arrays(y, p)
    w = _weights(weight, y_arr.size)
    out: dict[str, float] = {
        "auc": roc_auc(y_arr, p_arr, w),
        "pr_auc": average_precision(y_arr, p_arr, w),
        "log_loss": log_loss(y_arr, p_arr, weight=w),
        "brier": brier_score(y_arr, p_arr, w),
        "ece": expected_calibration_error(y_arr, p_arr, ece_bins, weight=w),
        "ece_equal_mass": ece_equal_mass(y_arr, p_arr, ece_bins, w),
        "observed_to_expected": observed_to_expected(y_arr, p_arr, weight=w),
    }
    for fraction in lift_fractions:
        k = round(fraction * 100)
        stats = top_fraction_stats(y_arr, p_arr, fraction, w)
        out[f"precision_at_{k}"] = stats["precision"]
        out[f"recall_at_{k}"] = stats["recall"]
        out[f"lift_at_{k}"] = stats["lift"]
    n = y_arr.size
    ww = np.ones_like(y_arr) if w is None else w
    out["positive_rate"] = _mean(y_arr, ww) if n else math.nan
    out["mean_predicted"] = _mean(p_arr, ww) if n else math.nan
    out["n_rows"] = float(n)
    out["n_positives"] = float(y_arr.sum())
    for d, ratio in enumerate(observed_to_expected(y_arr, p_arr, ece_bins, w), start=1):
        out[f"observed_to_expected_decile_{d}"] = float(ratio)
    return out


def metrics_long(
    model_name: str,
    split: str,
    y: Iterable,
    p: Iterable,
    lift_fractions: Sequence[float] = (0.1, 0.2, 0.3),
    ece_bins: int = 10,
    weight: Iterable | None = None,
) -> pd.DataFrame:
    """:func:`binary_metrics` as long rows with :data:`METRIC_COLUMNS`."""
    values = binary_metrics(y, p, lift_fractions, ece_bins, weight)
    return pd.DataFrame(
        {
            "model_name": model_name,
            "split": split,
            "metric": list(values),
            "value": np.array(list(values.values()), dtype=np.float64),
        }
    )


def lift_by_decile(
    y: Iterable, p: Iterable, n_groups: int = 10, weight: Iterable | None = None
) -> pd.DataFrame:
    """Gains table: decile 1 = the highest-scored tenth of the rows (:data:`LIFT_COLUMNS`).

    Rows are ranked by ``p`` (stable sort, so tied scores split by input order) and cut into
    ``n_groups`` groups of (almost) equal size. ``lift`` = group conversion rate / overall rate;
    ``cumulative_recall`` (the gains curve) = share of all positives in deciles 1..d.
    ``weight``: row weights (a re-weighted sample): groups of equal weight, weighted rates, and
    the counts are the weighted counts rounded (the population's).
    """
    y_arr, p_arr = _arrays(y, p)
    n = y_arr.size
    w = _weights(weight, n)
    ww = np.ones(n) if w is None else w
    order = np.argsort(-p_arr, kind="stable")
    group = np.empty(n, dtype=np.int64)
    if w is None:
        group[order] = np.arange(n) * n_groups // max(n, 1)
    else:
        cum = np.cumsum(ww[order]) - ww[order]
        total = max(float(ww.sum()), 1e-300)
        group[order] = np.minimum((cum / total * n_groups).astype(np.int64), n_groups - 1)
    frame = pd.DataFrame({"g": group, "w": ww, "yw": y_arr * ww, "pw": p_arr * ww, "p": p_arr})
    agg = (
        frame.groupby("g")
        .agg(
            mass=("w", "sum"),
            positives=("yw", "sum"),
            sum_p=("pw", "sum"),
            min_probability=("p", "min"),
            max_probability=("p", "max"),
        )
        .reindex(range(n_groups))
    )
    mass = agg["mass"].fillna(0.0)
    positives = agg["positives"].fillna(0.0)
    total_w = float(ww.sum())
    base = float((y_arr * ww).sum() / total_w) if n else math.nan
    total_pos = float(positives.sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = positives / mass.replace(0, np.nan)
        cum_mass = mass.cumsum()
        cum_pos = positives.cumsum()
        cum_rate = cum_pos / cum_mass.replace(0, np.nan)
        out = pd.DataFrame(
            {
                "decile": np.arange(1, n_groups + 1),
                "n_rows": np.rint(mass.to_numpy()).astype(np.int64),
                "n_positives": np.rint(positives.to_numpy()).astype(np.int64),
                "conversion_rate": rate.to_numpy(dtype=np.float64),
                "lift": (rate / base).to_numpy(dtype=np.float64) if base else np.nan,
                "min_probability": agg["min_probability"].to_numpy(),
                "max_probability": agg["max_probability"].to_numpy(),
                "mean_probability": (agg["sum_p"] / mass.replace(0, np.nan)).to_numpy(),
                "cumulative_rows": np.rint(cum_mass.to_numpy()).astype(np.int64),
                "cumulative_positives": np.rint(cum_pos.to_numpy()).astype(np.int64),
                "cumulative_conversion_rate": cum_rate.to_numpy(dtype=np.float64),
                "cumulative_lift": (cum_rate / base).to_numpy(dtype=np.float64) if base else np.nan,
                "cumulative_recall": (cum_pos / total_pos).to_numpy(dtype=np.float64)
                if total_pos
                else np.nan,
            }
        )
    return out


def segment_metrics(
    df: pd.DataFrame,
    y: Iterable,
    p: Iterable,
    segment_columns: Sequence[str],
    min_rows: int = 100,
    gap_threshold: float = 0.05,
    auc_gap_threshold: float = 0.10,
    min_positives: int = 30,
    weight: Iterable | None = None,
) -> pd.DataFrame:
    """Per segment value: size, positive rate, AUC and calibration gap (:data:`SEGMENT_COLUMNS`).

    ``calibration_gap`` = mean predicted - observed rate (positive = over-predicts);
    ``auc_gap`` = segment AUC - overall AUC (NaN when the segment has a single class).
    A segment is flagged when ``|calibration_gap| > gap_threshold`` ('calibration') or when its
    AUC is worse than the overall AUC by more than ``auc_gap_threshold`` ('auc'; a segment that
    ranks *better* than overall is not a problem; only with at least ``min_positives`` positives
    and as many negatives in the segment: the AUC of 5 conversions is noise). Missing values form
    the segment
    ``'(missing)'``; segments with fewer than ``min_rows`` rows are left out (too noisy).
    ``weight``: row weights (a re-weighted sample): rates, means and AUCs are weighted and the
    counts are the weighted counts rounded; ``min_rows`` and ``min_positives`` apply to the rows
    observed (the evidence), not to the weighted counts.
    """
    y_arr, p_arr = _arrays(y, p)
    if len(df) != y_arr.size:
        raise ValueError("df, y and p must have the same length")
    w = _weights(weight, y_arr.size)
    ww = np.ones(y_arr.size) if w is None else w
    overall_auc = roc_auc(y_arr, p_arr, w)
    parts: list[pd.DataFrame] = []
    for column in segment_columns:
        if column not in df.columns:
            raise ValueError(f"segment column {column!r} not in the frame")
        values = df[column].astype("object").where(df[column].notna(), "(missing)")
        values = values.astype(str).to_numpy()
        frame = pd.DataFrame(
            {"v": values, "y": y_arr, "p": p_arr, "w": ww, "yw": y_arr * ww, "pw": p_arr * ww}
        )
        agg = frame.groupby("v", sort=True).agg(
            observed=("y", "size"),
            observed_positives=("y", "sum"),
            mass=("w", "sum"),
            positives=("yw", "sum"),
            sum_p=("pw", "sum"),
        )
        agg = agg[agg["observed"] >= min_rows]
        if agg.empty:
            continue
        keep = frame[frame["v"].isin(agg.index)]
        aucs = {
            str(v): roc_auc(g["y"].to_numpy(), g["p"].to_numpy(), g["w"].to_numpy())
            for v, g in keep.groupby("v", sort=True)
        }
        part = pd.DataFrame(
            {
                "segment_column": column,
                "segment_value": agg.index.astype(str),
                "n_rows": np.rint(agg["mass"].to_numpy()).astype(np.int64),
                "n_positives": np.rint(agg["positives"].to_numpy()).astype(np.int64),
                "mean_predicted": (agg["sum_p"] / agg["mass"]).to_numpy(),
                "observed": agg["observed"].to_numpy(dtype=np.int64),
                "observed_positives": agg["observed_positives"].to_numpy(dtype=np.int64),
                "positive_rate": (agg["positives"] / agg["mass"]).to_numpy(),
            }
        )
        parts.append(part.assign(auc=part["segment_value"].map(aucs).astype(np.float64)))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in SEGMENT_COLUMNS})
    out = pd.concat(parts, ignore_index=True)
    out["calibration_gap"] = out["mean_predicted"] - out["positive_rate"]
    out["overall_auc"] = overall_auc
    out["auc_gap"] = out["auc"] - overall_auc
    cal_flag = out["calibration_gap"].abs() > gap_threshold
    supported = (out["observed_positives"] >= min_positives) & (
        (out["observed"] - out["observed_positives"]) >= min_positives
    )
    auc_flag = ((-out["auc_gap"]) > auc_gap_threshold) & supported  # NaN compares False
    out["is_flagged"] = cal_flag | auc_flag
    reason = np.where(cal_flag & auc_flag, "calibration;auc", "")
    reason = np.where(cal_flag & ~auc_flag, "calibration", reason)
    reason = np.where(~cal_flag & auc_flag, "auc", reason)
    out["flag_reason"] = pd.Series(reason).replace("", None).to_numpy(dtype=object)
    return out[SEGMENT_COLUMNS]


def confusion_at_f1_threshold(
    y: Iterable, p: Iterable, weight: Iterable | None = None
) -> dict[str, float]:
    """Confusion counts at the threshold that maximises F1 (:data:`CONFUSION_COLUMNS`).

    A row is predicted positive when ``p >= threshold``; candidate thresholds are the distinct
    predicted values; on a tie in F1 the highest threshold wins. Without positives the threshold
    is NaN and nothing is predicted positive. ``weight``: row weights (a re-weighted sample):
    weighted counts, rounded.
    """
    y_arr, p_arr = _arrays(y, p)
    w = _weights(weight, y_arr.size)
    if w is not None:
        return _weighted_confusion(y_arr, p_arr, w)
    n = y_arr.size
    n_pos = float(y_arr.sum())
    if n == 0 or n_pos == 0:
        return {
            "threshold": math.nan,
            "tp": 0,
            "fp": 0,
            "tn": int(n - n_pos),
            "fn": int(n_pos),
            "precision": math.nan,
            "recall": math.nan,
            "f1": 0.0,
        }
    order = np.argsort(-p_arr, kind="stable")
    ys, ps = y_arr[order], p_arr[order]
    last_of_tie = np.r_[np.nonzero(np.diff(ps))[0], n - 1]
    tp_all = np.cumsum(ys)[last_of_tie]
    k_all = last_of_tie + 1
    f1_all = 2 * tp_all / (k_all + n_pos)
    best = int(np.argmax(f1_all))
    tp = int(tp_all[best])
    k = int(k_all[best])
    fp = k - tp
    fn = int(n_pos) - tp
    return {
        "threshold": float(ps[last_of_tie[best]]),
        "tp": tp,
        "fp": fp,
        "tn": int(n - n_pos) - fp,
        "fn": fn,
        "precision": tp / k,
        "recall": tp / n_pos,
        "f1": float(f1_all[best]),
    }


def _weighted_confusion(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> dict[str, float]:
    n, n_pos = float(w.sum()), float((w * y).sum())
    if y.size == 0 or n_pos == 0:
        return {
            "threshold": math.nan,
            "tp": 0,
            "fp": 0,
            "tn": int(round(n - n_pos)),
            "fn": int(round(n_pos)),
            "precision": math.nan,
            "recall": math.nan,
            "f1": 0.0,
        }
    order = np.argsort(-p, kind="stable")
    ys, ps, ws = y[order], p[order], w[order]
    last_of_tie = np.r_[np.nonzero(np.diff(ps))[0], y.size - 1]
    tp_all = np.cumsum(ys * ws)[last_of_tie]
    k_all = np.cumsum(ws)[last_of_tie]
    f1_all = 2 * tp_all / (k_all + n_pos)
    best = int(np.argmax(f1_all))
    tp, k = float(tp_all[best]), float(k_all[best])
    return {
        "threshold": float(ps[last_of_tie[best]]),
        "tp": int(round(tp)),
        "fp": int(round(k - tp)),
        "tn": int(round(n - n_pos - (k - tp))),
        "fn": int(round(n_pos - tp)),
        "precision": tp / k,
        "recall": tp / n_pos,
        "f1": float(f1_all[best]),
    }
