"""Forward-in-time check: score the leads open at a date D, then look at the next H days.

This is how users meet the model: ``scored_leads`` of a build with ``scoring_date: D`` promises
``conversion_probability`` = P(first conversion in (D, D + H]). Once D + H has passed, the raw
conversions say what happened. Plain functions (no dbt inside), used by
``scripts/bench_forward.py`` and tested in ``tests/unit/test_forward.py``:

* :func:`read_raw_conversions` -- the valid conversion rows of a raw folder (DuckDB);
* :func:`forward_outcomes` -- 0/1 per scored lead: first conversion in (D, D + H];
* :func:`forward_metrics` -- ranking and calibration of the probabilities against them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from lead_scoring.ml.metrics import (
    average_precision,
    brier_score,
    ece_equal_mass,
    observed_to_expected,
    roc_auc,
    top_fraction_stats,
)

__all__ = [
    "FORWARD_METRIC_KEYS",
    "first_conversions",
    "forward_metrics",
    "forward_outcomes",
    "raw_file",
    "read_raw_conversions",
]

FORWARD_METRIC_KEYS = (
    "n_leads",
    "n_converted",
    "realized_rate",
    "mean_probability",
    "observed_to_expected",
    "auc",
    "pr_auc",
    "brier",
    "ece_equal_mass",
    "lift_top_decile",
)


def _timestamp(value) -> pd.Timestamp:
    """A naive UTC timestamp (the warehouse's convention) from a date, string or Timestamp."""
    ts = pd.Timestamp(value)
    if ts is pd.NaT:
        raise ValueError(f"not a timestamp: {value!r}")
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts


def _timestamps(values: pd.Series) -> pd.Series:
    out = pd.to_datetime(values, errors="coerce")
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_convert("UTC").dt.tz_localize(None)
    return out


def first_conversions(conversions: pd.DataFrame) -> pd.Series:
    """First ``converted_at`` per ``lead_id`` (repeats collapse; null ids or times are ignored)."""
    missing = {"lead_id", "converted_at"} - set(conversions.columns)
    if missing:
        raise ValueError(f"conversions lacks column(s) {sorted(missing)}")
    frame = pd.DataFrame(
        {
            "lead_id": conversions["lead_id"].astype("string"),
            "converted_at": _timestamps(conversions["converted_at"]),
        }
    ).dropna()
    return frame.groupby("lead_id", sort=False)["converted_at"].min()


def forward_outcomes(
    scored: pd.DataFrame,
    conversions: pd.DataFrame,
    scored_at,
    horizon_days: float,
) -> np.ndarray:
    """1 where the scored lead's FIRST conversion lies in ``(scored_at, scored_at + horizon]``.

    ``scored``: one row per lead (column ``lead_id``), e.g. ``scored_leads``; the result is aligned
    with its rows. ``conversions``: ``lead_id, converted_at`` rows, repeats and unknown leads
    allowed. A conversion exactly at ``scored_at`` is in the past (the lead was not open); one
    exactly at ``scored_at + horizon`` is in the horizon. A scored lead whose first conversion is
    at or before ``scored_at`` should not have been scored: ``ValueError``.
    """
    if "lead_id" not in scored.columns:
        raise ValueError("scored lacks column lead_id")
    if not horizon_days or horizon_days <= 0:
        raise ValueError(f"horizon_days must be > 0, got {horizon_days!r}")
    lead_ids = scored["lead_id"].astype("string")
    if lead_ids.isna().any():
        raise ValueError("scored has rows with a null lead_id")
    duplicated = lead_ids[lead_ids.duplicated()]
    if len(duplicated):
        raise ValueError(
            f"scored must hold one row per lead: {duplicated.nunique()} lead_id(s) repeat, "
            f"e.g. {list(duplicated.unique()[:5])}"
        )
    start = _timestamp(scored_at)
    end = start + pd.Timedelta(days=float(horizon_days))
    firsts = first_conversions(conversions)
    first = pd.Series(
        pd.to_datetime(firsts.reindex(pd.Index(lead_ids, dtype="string")).to_numpy()),
        index=scored.index,
    )
    already = first.notna() & (first <= start)
    if already.any():
        examples = [
            f"{lead} ({at})"
            for lead, at in zip(lead_ids[already][:5], first[already][:5], strict=True)
        ]
        raise ValueError(
            f"{int(already.sum())} scored lead(s) had their first conversion at or before "
            f"scored_at={start}, so they were not open then and should not be in scored_leads: "
            + ", ".join(examples)
        )
    return ((first > start) & (first <= end)).to_numpy(dtype=np.int64)


def forward_metrics(y: Iterable, p: Iterable) -> dict[str, float]:
    """How the probabilities ``p`` of the open leads did against their outcomes ``y`` (0/1).

    Keys (:data:`FORWARD_METRIC_KEYS`): ``n_leads, n_converted, realized_rate,
    mean_probability, observed_to_expected`` (sum y / sum p), ``auc, pr_auc, brier,
    ece_equal_mass`` (10 equal-mass bins), ``lift_top_decile`` (conversion rate of the top 10 %
    by p over the overall rate). Undefined values (one class only, no rows) are NaN.
    """
    y_arr = np.asarray(y, dtype=np.float64).ravel()
    p_arr = np.asarray(p, dtype=np.float64).ravel()
    if y_arr.shape != p_arr.shape:
        raise ValueError(f"y and p differ in length: {y_arr.size} vs {p_arr.size}")
    if np.isnan(p_arr).any():
        raise ValueError(f"p holds {int(np.isnan(p_arr).sum())} missing probabilities")
    if ((p_arr < 0) | (p_arr > 1)).any():
        raise ValueError("p must lie in [0, 1]")
    if not np.isin(y_arr, (0.0, 1.0)).all():
        raise ValueError("y must be 0/1")
    n = y_arr.size
    return {
        "n_leads": n,
        "n_converted": int(y_arr.sum()),
        "realized_rate": float(y_arr.mean()) if n else math.nan,
        "mean_probability": float(p_arr.mean()) if n else math.nan,
        "observed_to_expected": observed_to_expected(y_arr, p_arr) if n else math.nan,
        "auc": roc_auc(y_arr, p_arr),
        "pr_auc": average_precision(y_arr, p_arr),
        "brier": brier_score(y_arr, p_arr),
        "ece_equal_mass": ece_equal_mass(y_arr, p_arr) if n else math.nan,
        "lift_top_decile": top_fraction_stats(y_arr, p_arr, 0.1)["lift"],
    }


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def raw_file(raw_dir: str | Path, name: str) -> str:
    """DuckDB table function reading ``<raw_dir>/<name>.parquet``, else ``<name>.csv`` (the
    contract's order; CSV columns are read as text and cast by the caller)."""
    folder = Path(raw_dir)
    parquet, csv = folder / f"{name}.parquet", folder / f"{name}.csv"
    if parquet.exists():
        return f"read_parquet({_sql_text(str(parquet))})"
    if csv.exists():
        return f"read_csv({_sql_text(str(csv))}, header = true, all_varchar = true)"
    raise FileNotFoundError(f"neither {parquet.name} nor {csv.name} in {folder}")


def read_raw_conversions(
    raw_dir: str | Path,
    as_of=None,
    drop_before_created: bool = True,
) -> pd.DataFrame:
    """The conversion rows of a raw folder as ``lead_id`` (trimmed text), ``converted_at``.

    Rows whose lead_id is empty or whose converted_at does not parse are left out; repeats and
    unknown leads are kept (:func:`forward_outcomes` ignores them). With ``drop_before_created``
    (the default) a conversion dated before its lead's ``created_at`` is left out, as staging does
    (rule ``converted_before_lead_created`` in ``base_crm__conversions``): the lead's version is
    the latest raw row created at or before ``as_of`` (the scoring date), else the latest row.
    """
    conversions = raw_file(raw_dir, "conversions")
    sql = f"""
        select
            nullif(trim(cast(lead_id as varchar)), '') as lead_id,
            try_cast(converted_at as timestamp) as converted_at
        from {conversions}
    """
    con = duckdb.connect()
    try:
        if drop_before_created:
            leads = raw_file(raw_dir, "leads")
            as_of_filter = ""
            if as_of is not None:
                as_of_text = _sql_text(str(_timestamp(as_of)))
                as_of_filter = f"and created_at <= cast({as_of_text} as timestamp)"
            sql = f"""
                with conversions as ({sql}),
                leads as (
                    select
                        nullif(trim(cast(lead_id as varchar)), '') as lead_id,
                        try_cast(created_at as timestamp) as created_at
                    from {leads}
                ),
                lead_versions as (
                    select lead_id, max(created_at) as created_at
                    from leads
                    where lead_id is not null and created_at is not null {as_of_filter}
                    group by lead_id
                )
                select conversions.lead_id, conversions.converted_at
                from conversions
                left join lead_versions on conversions.lead_id = lead_versions.lead_id
                where
                    conversions.lead_id is not null
                    and conversions.converted_at is not null
                    and (lead_versions.created_at is null
                         or conversions.converted_at >= lead_versions.created_at)
            """
        else:
            sql = f"select * from ({sql}) where lead_id is not null and converted_at is not null"
        frame = con.sql(sql).df()
    finally:
        con.close()
    frame["lead_id"] = frame["lead_id"].astype("string")
    frame["converted_at"] = _timestamps(frame["converted_at"])
    return frame
