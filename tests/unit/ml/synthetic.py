"""Test fixture: a synthetic ``fct_lead_features`` frame with a known, non-linear signal.

The true log-odds contain an XOR interaction (pricing-page views vs e-mail opens), a peaked effect
of the days since the last visit and additive firmographic effects, so a tree ensemble must beat
additive models (logistic regression, rule points) on it. Each row is its own lead with a first
conversion time (``label_converted_at``: within 30 days with the true probability, sooner after a
recent visit; within 30-90 days with 0.6 times it; else never; null when after the end date), so
labels of any horizon can be derived. Labels of snapshots younger than ``horizon_days`` at the end
of the window are not yet known (NA); ``n_scoring`` extra rows are scoring snapshots at the end
date.

Its company-size bands are the warehouse's (``seeds/company_size_bands.csv``, read through
``lead_scoring.vocabulary``); :data:`LARGE_BANDS`, 201+ employees, carry the firmographic effect
and the tests' rule seed (``conftest.rules``) names them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lead_scoring.vocabulary import company_size_bands

__all__ = ["LARGE_BANDS", "SENIORITY_LEVELS", "make_synthetic_snapshots", "true_logit"]

SENIORITY_LEVELS = ("c_level", "vp", "director", "manager", "individual_contributor")
SIZE_BANDS = company_size_bands()
LARGE_BANDS = SIZE_BANDS[3:]  # 201+ employees
SOURCES = ("organic", "paid_search", "webinar", "referral", "event")


def true_logit(df: pd.DataFrame, base: float = -4.3) -> np.ndarray:
    """The generating log-odds of a frame made by :func:`make_synthetic_snapshots`."""
    pricing = df["pricing_page_views_30d"].to_numpy(dtype=np.float64)
    email = df["email_opens_30d"].to_numpy(dtype=np.float64)
    days = df["days_since_last_visit"].to_numpy(dtype=np.float64, na_value=np.nan)
    senior = df["seniority_level"].isin(["c_level", "vp"]).to_numpy()
    large = df["company_size_band"].isin(LARGE_BANDS).to_numpy()
    xor = (pricing >= 3) ^ (email >= 4)
    peak = np.where(np.isnan(days), 0.0, np.exp(-(((days - 7.0) / 4.0) ** 2)))
    return base + 2.4 * xor + 1.6 * peak + 0.9 * senior + 0.6 * large


def make_synthetic_snapshots(
    n_rows: int = 4000,
    seed: int = 0,
    start: str = "2024-07-01",
    days: int = 365,
    horizon_days: int = 30,
    n_scoring: int = 200,
    n_extra_numeric: int = 0,
    n_extra_categorical: int = 0,
    base_logit: float = -4.3,
) -> pd.DataFrame:
    """``n_rows`` labeled-or-maturing snapshots over ``days`` days plus ``n_scoring`` scoring rows.

    Features: pricing_page_views_30d, email_opens_30d, days_since_last_visit (10 % NA),
    webinar_attended (bool, weak), seniority_level, company_size_band (categorical, fit),
    lead_source (categorical, engagement, no effect), plus optional noise columns
    ``extra_num_i`` (float32) and ``extra_cat_i`` (string).
    """
    rng = np.random.default_rng(seed)
    n = n_rows + n_scoring
    t0 = pd.Timestamp(start)
    end = t0 + pd.Timedelta(days=days)
    offset = rng.integers(0, days, size=n)
    snapshot = t0 + pd.to_timedelta(offset, unit="D")
    is_scoring = np.zeros(n, dtype=bool)
    is_scoring[n_rows:] = True
    snapshot = np.where(is_scoring, end.to_datetime64(), snapshot.to_numpy())
    days_since = rng.exponential(15.0, size=n).round(1)
    days_since[rng.random(n) < 0.1] = np.nan
    seniority = rng.choice(
        np.array(SENIORITY_LEVELS, dtype=object), size=n, p=[0.08, 0.12, 0.2, 0.3, 0.3]
    )
    seniority[rng.random(n) < 0.05] = None
    frame: dict[str, object] = {
        "lead_id": np.char.add("L", np.arange(n).astype(str)).astype(object),
        "account_id": np.char.add("A", (np.arange(n) % 997).astype(str)).astype(object),
        "snapshot_at": pd.to_datetime(snapshot),
        "created_at": pd.to_datetime(snapshot) - pd.to_timedelta(rng.integers(0, 90, n), unit="D"),
        "is_scoring_snapshot": is_scoring,
        "pricing_page_views_30d": rng.poisson(1.6, size=n).astype(np.int64),
        "email_opens_30d": rng.poisson(2.5, size=n).astype(np.int64),
        "days_since_last_visit": days_since,
        "webinar_attended": rng.random(n) < 0.15,
        "seniority_level": pd.array(seniority, dtype="str"),
        "company_size_band": pd.array(
            rng.choice(np.array(SIZE_BANDS, dtype=object), size=n), dtype="str"
        ),
        "lead_source": pd.array(rng.choice(np.array(SOURCES, dtype=object), size=n), dtype="str"),
    }
    for i in range(n_extra_numeric):
        frame[f"extra_num_{i}"] = rng.normal(size=n).astype(np.float32)
    for i in range(n_extra_categorical):
        levels = np.array([f"v{j}" for j in range(8 + 4 * i)], dtype=object)
        frame[f"extra_cat_{i}"] = pd.array(rng.choice(levels, size=n), dtype="str")
    df = pd.DataFrame(frame)
    logit = true_logit(df, base_logit) + 0.3 * df["webinar_attended"].to_numpy()
    # time to the first conversion: within 30 days with P = sigmoid(logit) (sooner after a recent
    # visit), within 30-90 days with 0.6 x that, else never
    p30 = 1.0 / (1.0 + np.exp(-logit))
    u = rng.random(n)
    recent = np.where(np.isnan(days_since), 1.0, np.clip(days_since / 30.0, 0.05, 1.0))
    days_to = np.where(
        u < p30,
        0.5 + 29.5 * rng.random(n) * recent,
        np.where(u < 1.6 * p30, 30.0 + 60.0 * rng.random(n), np.inf),
    )
    converted_at = df["snapshot_at"] + pd.to_timedelta(np.where(np.isinf(days_to), 0, days_to), "D")
    converted_at = converted_at.where(~np.isinf(days_to) & (converted_at <= end))
    y = (days_to <= horizon_days).astype(np.int64)
    matured = (df["snapshot_at"] + pd.Timedelta(days=horizon_days) <= end).to_numpy()
    known = matured & ~is_scoring
    df["label_converted_in_horizon"] = pd.array(np.where(known, y, 0), dtype="Int64")
    df.loc[~known, "label_converted_in_horizon"] = pd.NA
    df["label_converted_at"] = converted_at.where(~is_scoring)
    df["label_days_to_conversion"] = np.where(df["label_converted_at"].notna(), days_to, np.nan)
    return df
