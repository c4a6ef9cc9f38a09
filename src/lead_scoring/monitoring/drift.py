"""Population stability index and Kolmogorov-Smirnov distance, per feature and for the score.

PSI (the credit-scoring standard): bins are fixed on the *reference* (the model's test split):
deciles of a numeric feature (fewer when it has fewer distinct values), the categories of a
categorical one (the 20 most frequent, the rest pooled as ``__other__``), and one bin for missing
values. With ``r_i`` and ``c_i`` the shares of reference and current rows in bin ``i``,

    PSI = sum_i (c_i - r_i) * ln(c_i / r_i),

each share floored at ``1e-4`` so an empty bin gives a large but finite value. Usual reading:
< 0.1 stable, 0.1-0.25 moderate, > 0.25 major shift (:func:`drift_level`).

KS: the largest gap between the two empirical distribution functions of a numeric feature
(non-missing values), in [0, 1]; computed exactly from the sorted samples with ``searchsorted``
(no loop over rows). Not defined for categorical features (NaN).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

__all__ = [
    "DRIFT_COLUMNS",
    "drift_level",
    "drift_table",
    "ks_statistic",
    "population_stability_index",
]

EPS = 1e-4
MISSING = "__missing__"
OTHER = "__other__"
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
]


def _psi_from_counts(ref: np.ndarray, cur: np.ndarray) -> float:
    if ref.sum() == 0 or cur.sum() == 0:
        return float("nan")
    r = np.maximum(ref / ref.sum(), EPS)
    c = np.maximum(cur / cur.sum(), EPS)
    return float(np.sum((c - r) * np.log(c / r)))


def _numeric(values: Iterable) -> np.ndarray:
    s = pd.to_numeric(pd.Series(values), errors="coerce")
    return s.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)


def population_stability_index(
    reference: Iterable, current: Iterable, n_bins: int = 10, categorical: bool | None = None
) -> float:
    """PSI of ``current`` against ``reference`` (see the module docstring for the bins)."""
    ref_s, cur_s = pd.Series(reference), pd.Series(current)
    if categorical is None:
        categorical = not (
            ptypes.is_numeric_dtype(ref_s.dtype) or ptypes.is_bool_dtype(ref_s.dtype)
        )
    if categorical:
        ref_c = ref_s.astype("string").fillna(MISSING)
        cur_c = cur_s.astype("string").fillna(MISSING)
        levels = ref_c.value_counts().index[:20].tolist()
        ref_c = ref_c.where(ref_c.isin(levels), OTHER)
        cur_c = cur_c.where(cur_c.isin(levels), OTHER)
        keys = sorted(set(ref_c.unique()) | set(cur_c.unique()))
        ref_counts = ref_c.value_counts().reindex(keys, fill_value=0).to_numpy(np.float64)
        cur_counts = cur_c.value_counts().reindex(keys, fill_value=0).to_numpy(np.float64)
        return _psi_from_counts(ref_counts, cur_counts)
    ref = _numeric(ref_s)
    cur = _numeric(cur_s)
    ref_ok = ref[~np.isnan(ref)]
    if ref_ok.size == 0:
        edges = np.array([])
    else:
        edges = np.unique(np.quantile(ref_ok, np.linspace(0, 1, n_bins + 1)[1:-1]))
    # bin k = values in (edges[k-1], edges[k]]; the last bin holds everything above; NaN apart
    ref_bins = np.where(np.isnan(ref), len(edges) + 1, np.searchsorted(edges, ref, "left"))
    cur_bins = np.where(np.isnan(cur), len(edges) + 1, np.searchsorted(edges, cur, "left"))
    size = len(edges) + 2
    return _psi_from_counts(
        np.bincount(ref_bins, minlength=size).astype(np.float64),
        np.bincount(cur_bins, minlength=size).astype(np.float64),
    )


def ks_statistic(reference: Iterable, current: Iterable) -> float:
    """Two-sample Kolmogorov-Smirnov statistic of the non-missing numeric values."""
    a = np.sort(_numeric(reference))
    b = np.sort(_numeric(current))
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    if a.size == 0 or b.size == 0:
        return float("nan")
    pooled = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, pooled, side="right") / a.size
    cdf_b = np.searchsorted(b, pooled, side="right") / b.size
    return float(np.max(np.abs(cdf_a - cdf_b)))


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
) -> pd.DataFrame:
    """One row for the score (``drift_scope`` 'score', feature 'conversion_probability') and
    one per feature ('feature'), with :data:`DRIFT_COLUMNS`."""
    rows = []
    if reference_scores is not None and current_scores is not None:
        ref, cur = _numeric(reference_scores), _numeric(current_scores)
        rows.append(_row("score", "conversion_probability", ref, cur, False, moderate, major))
    cats = set(categorical)
    for feature in features:
        rows.append(
            _row(
                "feature",
                feature,
                reference[feature],
                current[feature],
                feature in cats,
                moderate,
                major,
            )
        )
    return pd.DataFrame(rows, columns=DRIFT_COLUMNS)


def _row(scope, feature, ref, cur, is_categorical, moderate, major) -> dict:
    ref_s, cur_s = pd.Series(ref), pd.Series(cur)
    psi = population_stability_index(ref_s, cur_s, categorical=is_categorical)
    ks = float("nan") if is_categorical else ks_statistic(ref_s, cur_s)
    return {
        "drift_scope": scope,
        "feature": feature,
        "psi": psi,
        "ks_statistic": ks,
        "reference_rows": len(ref_s),
        "current_rows": len(cur_s),
        "reference_missing_share": float(ref_s.isna().mean()) if len(ref_s) else float("nan"),
        "current_missing_share": float(cur_s.isna().mean()) if len(cur_s) else float("nan"),
        "drift_level": drift_level(psi, moderate, major),
    }
