"""Rolling-origin folds: purged, expanding, balanced on conversions, dropped when they starve."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lead_scoring.ml.cv import plan_folds


def _history(days: int = 360, n: int = 20_000, seed: int = 0, start_converting: int = 0):
    rng = np.random.default_rng(seed)
    day = rng.integers(0, days, n)
    t = (pd.Timestamp("2024-01-01") + pd.to_timedelta(day, "D")).to_numpy("datetime64[ns]")
    y = ((rng.random(n) < 0.03) & (day >= start_converting)).astype(int)
    leads = np.arange(n)  # one snapshot per lead: converted rows = converted leads
    return t, y, leads


def test_folds_are_consecutive_purged_and_balanced():
    t, y, leads = _history()
    plan = plan_folds(t, y, leads, horizon_days=30, n_folds=3, valid_share=0.3)
    assert plan.is_validated and len(plan.folds) == 3 and not plan.dropped
    folds = plan.folds
    for a, b in zip(folds, folds[1:], strict=False):
        assert a.valid_end == b.valid_start  # consecutive windows
    assert folds[-1].valid_end == pd.Timestamp(t.max()) and folds[-1].end_inclusive
    for f in folds:
        train, valid = f.train_mask(t), f.valid_mask(t)
        assert not (train & valid).any()
        # the purge: every training label matured before the window opened
        assert (t[train] + np.timedelta64(30, "D")).max() <= np.datetime64(f.valid_start)
        assert f.train_cutoff == f.valid_start - pd.Timedelta(days=30)
    # expanding windows; each window holds about the same number of conversions
    assert folds[0].n_train_rows < folds[1].n_train_rows < folds[2].n_train_rows
    counts = [f.n_valid_positives for f in folds]
    assert max(counts) - min(counts) <= 0.2 * np.mean(counts)
    assert sum(counts) == np.round(0.3 * y.sum(), -1) or abs(sum(counts) - 0.3 * y.sum()) < 20
    assert plan.test is folds[-1]
    frame = plan.to_frame()
    assert frame["split"].tolist() == ["fold_1", "fold_2", "test"]
    assert frame["is_used"].all()


def test_folds_without_conversions_before_the_purge_are_dropped():
    """Conversions begin 300 days into a 360-day history; with a 90-day horizon no fold's
    training rows (<= window start - 90 days) hold any: nothing can be validated."""
    t, y, leads = _history(start_converting=300)
    plan = plan_folds(t, y, leads, horizon_days=90, n_folds=3, valid_share=0.35)
    assert not plan.is_validated and plan.test is None
    assert len(plan.dropped) == 3
    assert all("converted leads in the training rows" in f.dropped_reason for f in plan.dropped)
    assert not plan.to_frame()["is_used"].any()


def test_minimum_counts_are_of_distinct_leads():
    """Weekly snapshots of one lead are not independent: 30 converted snapshots of 3 leads
    are 3 converted leads."""
    t, y, _ = _history(n=6000)
    leads = np.where(y == 1, np.arange(len(t)) % 3, -1 - np.arange(len(t)))
    plan = plan_folds(t, y, leads, 30, 3, 0.3, min_train_positives=5, min_valid_positives=5)
    assert not plan.is_validated
    assert all(f.n_valid_positive_leads <= 3 for f in plan.dropped)


def test_empty_history():
    plan = plan_folds(np.array([], dtype="datetime64[ns]"), np.array([]), np.array([]), 30)
    assert not plan.is_validated and plan.to_frame().empty
