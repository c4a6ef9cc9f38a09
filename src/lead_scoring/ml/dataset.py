"""Feature selection, categorical levels, labels by horizon, row sampling and the leakage trap.

Input frame (the dbt mart ``fct_lead_features``): one row per lead x ``snapshot_at`` with

* ``lead_id`` (str), ``snapshot_at`` (datetime64),
* ``is_scoring_snapshot`` (bool): the snapshot at the scoring date, to be scored, label unknown,
* ``label_converted_in_horizon`` (nullable Int 1/0; NA while not yet known) and
  ``label_converted_at`` (the lead's first conversion; labels of any horizon derive from it,
  :func:`horizon_labels`),
* optionally ``sample_weight``: the weight of a row kept by a sample (1 / sampling rate),
* optionally other ``label_*`` columns, other ids / times (``*_id``, ``*_at``),
* feature columns: numeric (int / float / bool, nullable or not) and categorical (string).

**Reserved columns are never features:** :data:`RESERVED_COLUMNS`, every name starting with
``label_`` and every name ending in ``_at`` or ``_id``, plus datetime / timedelta columns. All other
columns are features, unless the config gives an explicit ``include_features`` list (which must
not name a reserved column) or ``exclude_features``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from lead_scoring.ml.errors import LeakageError
from lead_scoring.ml.metrics import roc_auc

logger = logging.getLogger(__name__)

__all__ = [
    "LABEL_COLUMN",
    "RESERVED_COLUMNS",
    "SAMPLE_WEIGHT_COLUMN",
    "FeatureSpec",
    "build_feature_spec",
    "canonical_row_order",
    "censored_horizon_labels",
    "check_leakage",
    "downsample_negatives",
    "horizon_labels",
    "is_reserved",
    "labeled_mask",
    "matured_label_predicate",
    "prepare_features",
    "select_features",
    "times_ns",
]

LABEL_COLUMN = "label_converted_in_horizon"
SAMPLE_WEIGHT_COLUMN = "sample_weight"
RESERVED_COLUMNS: frozenset[str] = frozenset(
    {
        "lead_id",
        "snapshot_at",
        "is_scoring_snapshot",
        "created_at",
        LABEL_COLUMN,
        SAMPLE_WEIGHT_COLUMN,
    }
)


def is_reserved(name: str) -> bool:
    """True for ids, times, labels and the bookkeeping columns (never features)."""
    return (
        name in RESERVED_COLUMNS
        or name.startswith("label_")
        or name.endswith("_at")
        or name.endswith("_id")
    )


def _is_categorical(s: pd.Series) -> bool:
    return bool(
        isinstance(s.dtype, pd.CategoricalDtype)
        or ptypes.is_string_dtype(s.dtype)
        or ptypes.is_object_dtype(s.dtype)
    )


def _is_numeric(s: pd.Series) -> bool:
    return bool(ptypes.is_bool_dtype(s.dtype) or ptypes.is_numeric_dtype(s.dtype))


def select_features(
    df: pd.DataFrame,
    include: Sequence[str] | None = None,
    exclude: Sequence[str] = (),
) -> list[str]:
    """Feature columns of ``df`` by rule, in frame order.

    Without ``include``: every column that is not reserved (:func:`is_reserved`), is numeric /
    boolean / string / categorical, and is not in ``exclude``. With ``include``: exactly those
    columns (minus ``exclude``); naming a reserved or missing column raises ``ValueError``.
    """
    excluded = set(exclude)
    if include is not None:
        missing = [c for c in include if c not in df.columns]
        if missing:
            raise ValueError(f"include_features not in the frame: {missing}")
        reserved = [c for c in include if is_reserved(c)]
        if reserved:
            raise ValueError(f"include_features names reserved (id/time/label) columns: {reserved}")
        chosen = [c for c in df.columns if c in set(include) and c not in excluded]
    else:
        chosen = []
        for c in df.columns:
            if is_reserved(c) or c in excluded:
                continue
            s = df[c]
            if ptypes.is_datetime64_any_dtype(s.dtype) or ptypes.is_timedelta64_dtype(s.dtype):
                continue
            if _is_numeric(s) or _is_categorical(s):
                chosen.append(c)
            else:
                logger.info("column %s (dtype %s) is not a usable feature type", c, s.dtype)
    for c in chosen:
        if not (_is_numeric(df[c]) or _is_categorical(df[c])):
            raise ValueError(f"feature {c!r} has unsupported dtype {df[c].dtype}")
    if not chosen:
        raise ValueError("no feature columns selected")
    return chosen


@dataclass(frozen=True)
class FeatureSpec:
    """The feature columns of a model and the categorical levels fixed at training time.

    ``columns`` keeps the training order; a column in ``categorical_levels`` is categorical
    (levels sorted, values outside them become missing), every other column is numeric
    (float32; ``boolean`` lists the ones that were bool, for display).
    """

    columns: tuple[str, ...]
    categorical_levels: dict[str, tuple[str, ...]] = field(default_factory=dict)
    boolean: tuple[str, ...] = ()
    zero_missing: tuple[str, ...] = ()
    """Numeric columns whose zeros the trees read as missing (:meth:`for_trees`)."""

    @property
    def categorical(self) -> tuple[str, ...]:
        return tuple(c for c in self.columns if c in self.categorical_levels)

    @property
    def numeric(self) -> tuple[str, ...]:
        return tuple(c for c in self.columns if c not in self.categorical_levels)

    def to_dict(self) -> dict:
        return {
            "columns": list(self.columns),
            "categorical_levels": {k: list(v) for k, v in self.categorical_levels.items()},
            "boolean": list(self.boolean),
            "zero_missing": list(self.zero_missing),
        }

    @classmethod
    def from_dict(cls, d: dict) -> FeatureSpec:
        return cls(
            columns=tuple(d["columns"]),
            categorical_levels={k: tuple(v) for k, v in d["categorical_levels"].items()},
            boolean=tuple(d.get("boolean", ())),
            zero_missing=tuple(d.get("zero_missing", ())),
        )

    def for_trees(self, X: pd.DataFrame) -> pd.DataFrame:
        """The boosters' input: ``X`` (from :func:`prepare_features`) with the zeros of
        :attr:`zero_missing` as missing.

        Half the numeric cells of the mart are zeros (windowed counts of what a lead did not do).
        XGBoost's histogram method skips missing cells, so this halves a boosting round (measured:
        0.10 s -> 0.05 s per round on 100k snapshots). It loses nothing: these columns have no
        missing values of their own, and a tree routes "missing" to whichever side of a split the
        zeros belonged to (the learned default direction), so every split of the dense data is
        still available. Logistic regression and the displayed values use ``X`` itself."""
        if not self.zero_missing:
            return X
        out = X.copy()
        for c in self.zero_missing:
            values = out[c].to_numpy()
            out[c] = np.where(values == 0, np.float32(np.nan), values).astype(np.float32)
        return out


def build_feature_spec(
    df_train: pd.DataFrame, columns: Sequence[str], max_levels: int = 100
) -> FeatureSpec:
    """Fix the categorical levels from the training rows: the ``max_levels`` most frequent
    non-missing values (ties by name), stored sorted.

    A column that is missing on every training row carries nothing to learn (e.g. a funnel
    without job titles): it is left out of the model, with a log line. Numeric, non-boolean
    columns without a missing value in the training rows are :attr:`FeatureSpec.zero_missing`."""
    levels: dict[str, tuple[str, ...]] = {}
    boolean: list[str] = []
    kept: list[str] = []
    zero_missing: list[str] = []
    for c in columns:
        s = df_train[c]
        if not s.notna().any():
            logger.info("feature %s is missing on every training row: left out", c)
            continue
        kept.append(c)
        if _is_numeric(s) and not isinstance(s.dtype, pd.CategoricalDtype):
            if ptypes.is_bool_dtype(s.dtype):
                boolean.append(c)
            elif not s.isna().any():
                zero_missing.append(c)
            continue
        counts = s.dropna().astype(str).value_counts()
        counts = counts.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
        if len(counts) > max_levels:
            logger.info("%s: keeping %d of %d levels", c, max_levels, len(counts))
        levels[c] = tuple(sorted(counts.index[:max_levels].tolist()))
    return FeatureSpec(
        columns=tuple(kept),
        categorical_levels=levels,
        boolean=tuple(boolean),
        zero_missing=tuple(zero_missing),
    )


def prepare_features(
    df: pd.DataFrame, spec: FeatureSpec, rows: np.ndarray | None = None
) -> pd.DataFrame:
    """The model matrix: numerics as float32 (NA -> NaN), categoricals as pandas ``category``
    with exactly the training levels (a value unseen in training -> missing), in spec order.

    ``rows`` (positions) restricts the matrix to those rows without copying the whole frame.
    """
    missing = [c for c in spec.columns if c not in df.columns]
    if missing:
        raise ValueError(f"feature columns missing from the frame: {missing}")
    index = df.index if rows is None else df.index[rows]
    out: dict[str, object] = {}
    for c in spec.columns:
        s = df[c] if rows is None else df[c].iloc[rows]
        if c in spec.categorical_levels:
            levels = pd.Index(spec.categorical_levels[c], dtype=object)
            own_codes, uniques = pd.factorize(s, use_na_sentinel=True)
            mapping = levels.get_indexer(pd.Index([str(u) for u in uniques], dtype=object))
            mapping = np.r_[mapping, -1]  # own code -1 (missing) -> index -1 -> missing
            codes = mapping[own_codes]
            out[c] = pd.Categorical.from_codes(
                codes, dtype=pd.CategoricalDtype(levels.astype(str), ordered=False)
            )
        else:
            out[c] = s.to_numpy(dtype=np.float32, na_value=np.nan)
    return pd.DataFrame(out, index=index)


def labeled_mask(df: pd.DataFrame, label: str = LABEL_COLUMN) -> pd.Series:
    """Rows with a known label that are not scoring snapshots."""
    if label not in df.columns:
        raise ValueError(f"label column {label!r} not in the frame")
    mask = df[label].notna()
    if "is_scoring_snapshot" in df.columns:
        mask &= ~df["is_scoring_snapshot"].fillna(False).astype(bool)
    return mask


def times_ns(df: pd.DataFrame, column: str = "snapshot_at") -> np.ndarray:
    """A timestamp column as naive datetime64[ns] (tz-aware values are converted to UTC)."""
    s = df[column]
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    return s.to_numpy(dtype="datetime64[ns]")


def matured_label_predicate(scoring_at: pd.Timestamp, horizon_days: int) -> str:
    """:func:`horizon_labels`' ``known`` as a SQL predicate over the mart (either engine): not a
    scoring snapshot, and ``snapshot_at + horizon <= scoring_at``."""
    cutoff = pd.Timestamp(scoring_at) - pd.Timedelta(days=int(horizon_days))
    return f"not is_scoring_snapshot and snapshot_at <= timestamp '{cutoff}'"


def horizon_labels(
    df: pd.DataFrame, horizon_days: int, scoring_at: pd.Timestamp | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``(known, y)`` for "first conversion within ``horizon_days`` of snapshot_at".

    From ``label_converted_at`` (the lead's first conversion, null when none by the scoring
    time) when the frame has it and ``scoring_at`` is given: the label is known when
    ``snapshot_at + horizon <= scoring_at`` and positive when the conversion falls in
    ``(snapshot_at, snapshot_at + horizon]``. Otherwise from :data:`LABEL_COLUMN` (the mart's label
    of the var horizon; only that horizon can be asked for then, NA = unknown).
    Scoring snapshots are never labeled.
    """
    scoring = (
        df["is_scoring_snapshot"].fillna(False).astype(bool).to_numpy()
        if "is_scoring_snapshot" in df.columns
        else np.zeros(len(df), dtype=bool)
    )
    if "label_converted_at" in df.columns and scoring_at is not None:
        t = times_ns(df)
        horizon = np.timedelta64(int(horizon_days), "D")
        end = t + horizon
        known = (end <= np.datetime64(pd.Timestamp(scoring_at).as_unit("ns"))) & ~scoring
        converted = times_ns(df, "label_converted_at")
        y = (~np.isnat(converted)) & (converted > t) & (converted <= end)
        return known, (y & known).astype(np.int64)
    if LABEL_COLUMN not in df.columns:
        raise ValueError(
            f"the frame has neither label_converted_at (with scoring_at) nor {LABEL_COLUMN!r}"
        )
    values = df[LABEL_COLUMN].to_numpy(dtype=np.float64, na_value=np.nan)
    known = ~np.isnan(values) & ~scoring
    return known, np.where(known, values, 0).astype(np.int64)


def censored_horizon_labels(
    df: pd.DataFrame, horizon_days: int, scoring_at: pd.Timestamp
) -> tuple[np.ndarray, np.ndarray]:
    """``(rows, y)``: every non-scoring snapshot, labeled as far as ``scoring_at`` tells.

    A snapshot followed up for ``c = scoring_at - snapshot_at`` days is labeled 1 when its first
    conversion fell within the horizon and by ``scoring_at`` (whatever ``c``), 0 when its horizon
    ended without one (as :func:`horizon_labels`), and -- *censored*: horizon not ended, no
    conversion yet -- ``P(T <= H | T > c) = 1 - S(H) / S(c)``, its chance of still converting
    within the horizon, with ``S`` the Kaplan-Meier survival of the conversion delay ``T`` over
    every snapshot (administrative censoring at ``min(c, H)``). Unlike the matured labels alone,
    these cover the most recent months with their negatives as well as their positives, so a
    funnel whose conversions are recent is not learned as "recent snapshots convert"."""
    scoring = (
        df["is_scoring_snapshot"].fillna(False).astype(bool).to_numpy()
        if "is_scoring_snapshot" in df.columns
        else np.zeros(len(df), dtype=bool)
    )
    t = times_ns(df)
    now = np.datetime64(pd.Timestamp(scoring_at).as_unit("ns"))
    day = 86400.0 * 1e9
    horizon = float(horizon_days)
    follow = (now - t).astype(np.float64) / day
    converted = times_ns(df, "label_converted_at")
    seen = ~np.isnat(converted) & (converted <= now)
    delay = np.where(seen, (converted - t).astype(np.float64) / day, np.inf)
    rows = ~scoring & (follow > 0)
    event = rows & (delay > 0) & (delay <= horizon)
    # Kaplan-Meier of the delay on [0, H]: a row is at risk until its conversion or min(c, H)
    exit_days = np.where(event, delay, np.minimum(follow, horizon))[rows]
    event_days, deaths = np.unique(exit_days[event[rows]], return_counts=True)
    exits = np.sort(exit_days)
    at_risk = len(exits) - np.searchsorted(exits, event_days, side="left")
    survival = np.cumprod(1.0 - deaths / at_risk)

    def surv(days: np.ndarray) -> np.ndarray:
        i = np.searchsorted(event_days, days, side="right") - 1
        return np.where(i >= 0, survival[np.clip(i, 0, None)], 1.0)

    s_h = float(surv(np.array([horizon]))[0])
    s_c = surv(np.minimum(follow, horizon))
    still = 1.0 - s_h / np.where(s_c > 0, s_c, 1.0)
    y = np.where(event, 1.0, np.where(follow >= horizon, 0.0, np.clip(still, 0.0, 1.0)))
    return rows, np.where(rows, y, 0.0)


def _target_encode(codes: np.ndarray, y: np.ndarray, smoothing: float = 10.0) -> np.ndarray:
    """Smoothed in-sample mean label per category code (-1 = missing is its own level)."""
    shifted = codes.astype(np.int64) + 1
    n = np.bincount(shifted)
    s = np.bincount(shifted, weights=y)
    prior = y.mean()
    return ((s + smoothing * prior) / (n + smoothing))[shifted]


def check_leakage(
    X: pd.DataFrame,
    y: Sequence[int] | np.ndarray | pd.Series,
    auc_threshold: float = 0.98,
    corr_threshold: float = 0.95,
    max_rows: int | None = 200_000,
    seed: int = 0,
) -> pd.DataFrame:
    """Raise :class:`LeakageError` if a single feature (nearly) reveals the label.

    A feature is flagged when its name starts with ``label_``, or its univariate train AUC
    ``max(AUC, 1 - AUC)`` exceeds ``auc_threshold``, or (numerics) ``|Pearson corr|`` with the
    label exceeds ``corr_threshold``. Numerics are ranked with NaN as the lowest value (a column
    that is only filled for converters is a leak too); categoricals are scored by their smoothed
    in-sample target encoding. At most ``max_rows`` rows (seeded sample) are used.

    Returns the per-feature table (feature, auc, abs_corr, is_leak) when nothing leaks.
    """
    y_arr = np.asarray(pd.Series(y).astype("float64"), dtype=np.float64)
    if len(X) != y_arr.size:
        raise ValueError("X and y differ in length")
    if max_rows is not None and y_arr.size > max_rows:
        take = np.sort(np.random.default_rng(seed).choice(y_arr.size, max_rows, replace=False))
        X = X.iloc[take]
        y_arr = y_arr[take]
    rows = []
    for c in X.columns:
        s = X[c]
        abs_corr = math.nan
        if isinstance(s.dtype, pd.CategoricalDtype):
            score = _target_encode(s.cat.codes.to_numpy(), y_arr)
        elif _is_categorical(s):
            score = _target_encode(pd.factorize(s, use_na_sentinel=True)[0], y_arr)
        else:
            v = s.to_numpy(dtype=np.float64, na_value=np.nan)
            ok = ~np.isnan(v)
            score = np.where(ok, v, -np.inf)
            if ok.sum() > 2 and np.std(v[ok]) > 0 and np.std(y_arr[ok]) > 0:
                abs_corr = float(abs(np.corrcoef(v[ok], y_arr[ok])[0, 1]))
        auc = roc_auc(y_arr, score)
        auc = max(auc, 1 - auc) if not math.isnan(auc) else math.nan
        leak = (
            str(c).startswith("label_")
            or (not math.isnan(auc) and auc > auc_threshold)
            or (not math.isnan(abs_corr) and abs_corr > corr_threshold)
        )
        rows.append({"feature": c, "auc": auc, "abs_corr": abs_corr, "is_leak": leak})
    table = pd.DataFrame(rows, columns=["feature", "auc", "abs_corr", "is_leak"])
    leaks = table[table["is_leak"]]
    if not leaks.empty:
        detail = "; ".join(
            f"{r.feature} (auc={r.auc:.3f}, |corr|={r.abs_corr:.3f})" for r in leaks.itertuples()
        )
        raise LeakageError(
            f"label leakage suspected in feature(s): {detail}. A single feature this predictive "
            "almost always encodes the outcome; exclude it (exclude_features) or fix the mart.",
            leaks["feature"].tolist(),
        )
    return table


def downsample_negatives(
    rows: np.ndarray, y: np.ndarray, max_rows: int | None, seed: int
) -> tuple[np.ndarray, np.ndarray, float]:
    """Cap a training split at ``max_rows`` by sampling its negatives, keeping every positive.

    Conversions are rare (1-3 % of snapshots), so the negatives carry most of the rows and little
    of the information: a seeded uniform sample of them, re-weighted by ``1 / rate``, leaves the
    expected loss (and so the model) unchanged while training on a fraction of the rows. At least
    as many negatives as positives are kept. Returns the kept positions (in their input order),
    their weights (1 for positives, ``1 / rate`` for negatives) and the negative sampling
    ``rate`` (1.0 when the split is not larger than ``max_rows``).
    """
    rows = np.asarray(rows)
    y = np.asarray(y)
    if max_rows is None or len(rows) <= max_rows:
        return rows, np.ones(len(rows), dtype=np.float32), 1.0
    positive = y == 1
    negatives = np.flatnonzero(~positive)
    keep_neg = min(len(negatives), max(int(max_rows) - int(positive.sum()), int(positive.sum())))
    rate = keep_neg / len(negatives) if len(negatives) else 1.0
    keep = positive.copy()
    keep[np.random.default_rng(seed).choice(negatives, keep_neg, replace=False)] = True
    weight = np.where(positive[keep], 1.0, 1.0 / rate).astype(np.float32)
    logger.debug(
        "%d rows capped at %d (all %d positives, negatives sampled at rate %.3f)",
        len(rows),
        int(keep.sum()),
        int(positive.sum()),
        rate,
    )
    return rows[keep], weight, float(rate)


def canonical_row_order(df: pd.DataFrame) -> np.ndarray:
    """Rank of every row by (``snapshot_at``, ``lead_id``), a total order of the mart's grain.

    The pipeline orders each split by it, so the model, its version and every seeded sample
    depend on the rows, not on the order a parallel scan delivered them in.
    """
    lead_codes, _ = pd.factorize(df["lead_id"], sort=True)
    order = np.lexsort((lead_codes, times_ns(df).view(np.int64)))
    rank = np.empty(len(df), dtype=np.int64)
    rank[order] = np.arange(len(df))
    return rank
