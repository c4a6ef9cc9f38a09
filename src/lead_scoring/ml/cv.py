"""Rolling-origin (expanding window) folds over the labeled history, each purged by the horizon.

A label "converted within ``H`` days of ``snapshot_at``" is only known at ``snapshot_at + H``. Fold
``k`` validates on the labeled snapshots of one time window ``[valid_start, valid_end)`` and trains
on every labeled snapshot whose label was already known when that window opened::

    train_k = { t : t + H <= valid_start_k }          (the purge gap: at least H)
    valid_k = { t : valid_start_k <= t < valid_end_k }

which is exactly how the production model meets the scoring date: trained on the labels known at
``scoring_at`` (``t + H <= scoring_at``), scoring the leads open then. The windows are consecutive
and end with the newest labeled snapshot; they hold the most recent ``valid_share`` of the
converted snapshots, split into ``n_folds`` windows with equally many converted snapshots (so a
quiet period does not leave a fold without positives). The **last fold is the test fold**: the
only one every reported test metric comes from.

A fold whose (purged) training rows hold fewer than ``min_train_positives`` converted leads, or
whose window fewer than ``min_valid_positives``, cannot say anything and is dropped (the earliest
folds are the ones that starve first). With no fold left the history is too short to validate
anything honestly, e.g. a 90-day horizon on seven months of labels where the first deals closed
two months before the last label: the caller trains without a validation (and says so).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["FOLD_COLUMNS", "Fold", "FoldPlan", "as_ns", "plan_folds"]

FOLD_COLUMNS = [
    "split",
    "start",
    "end",
    "end_inclusive",
    "purge_cutoff",
    "n_rows",
    "n_positives",
    "n_positive_leads",
    "n_train_rows",
    "n_train_positive_leads",
    "horizon_days",
    "is_test",
    "is_used",
    "dropped_reason",
]


@dataclass(frozen=True)
class Fold:
    """One validation window and the purged training rows before it."""

    name: str
    valid_start: pd.Timestamp
    valid_end: pd.Timestamp
    end_inclusive: bool
    horizon_days: int
    n_valid_rows: int = 0
    n_valid_positives: int = 0
    n_valid_positive_leads: int = 0
    n_train_rows: int = 0
    n_train_positive_leads: int = 0
    dropped_reason: str = ""

    @property
    def train_cutoff(self) -> pd.Timestamp:
        """The last ``snapshot_at`` a training row may have: ``valid_start - horizon``."""
        return self.valid_start - pd.Timedelta(days=self.horizon_days)

    def train_mask(self, times: np.ndarray) -> np.ndarray:
        return times <= as_ns(self.train_cutoff)

    def valid_mask(self, times: np.ndarray) -> np.ndarray:
        after = times >= as_ns(self.valid_start)
        end = as_ns(self.valid_end)
        return after & ((times <= end) if self.end_inclusive else (times < end))


@dataclass(frozen=True)
class FoldPlan:
    """The usable folds (oldest first; the last is the test fold) and the dropped ones."""

    folds: tuple[Fold, ...]
    dropped: tuple[Fold, ...] = field(default_factory=tuple)
    labeled_start: pd.Timestamp | None = None
    labeled_end: pd.Timestamp | None = None

    @property
    def is_validated(self) -> bool:
        return len(self.folds) > 0

    @property
    def test(self) -> Fold | None:
        return self.folds[-1] if self.folds else None

    def to_frame(self) -> pd.DataFrame:
        """One row per planned fold (used and dropped): :data:`FOLD_COLUMNS`."""
        rows = []
        for fold in sorted(self.folds + self.dropped, key=lambda f: f.valid_start):
            used = fold in self.folds
            rows.append(
                {
                    "split": "test" if used and fold is self.test else fold.name,
                    "start": fold.valid_start,
                    "end": fold.valid_end,
                    "end_inclusive": fold.end_inclusive,
                    "purge_cutoff": fold.train_cutoff,
                    "n_rows": fold.n_valid_rows,
                    "n_positives": fold.n_valid_positives,
                    "n_positive_leads": fold.n_valid_positive_leads,
                    "n_train_rows": fold.n_train_rows,
                    "n_train_positive_leads": fold.n_train_positive_leads,
                    "horizon_days": fold.horizon_days,
                    "is_test": used and fold is self.test,
                    "is_used": used,
                    "dropped_reason": fold.dropped_reason,
                }
            )
        return pd.DataFrame(rows, columns=FOLD_COLUMNS)


def as_ns(ts: pd.Timestamp) -> np.datetime64:
    """``ts`` as a nanosecond ``numpy.datetime64`` (the unit of the history's times)."""
    return np.datetime64(pd.Timestamp(ts).as_unit("ns").to_datetime64())


def _distinct_positive_leads(lead_codes: np.ndarray, y: np.ndarray, mask: np.ndarray) -> int:
    return int(np.unique(lead_codes[mask & (y == 1)]).size)


def plan_folds(
    times: np.ndarray,
    y: np.ndarray,
    lead_codes: np.ndarray,
    horizon_days: int,
    n_folds: int = 3,
    valid_share: float = 0.35,
    min_train_positives: int = 20,
    min_valid_positives: int = 10,
) -> FoldPlan:
    """Plan the rolling-origin folds of labeled rows (see the module docstring).

    ``times``: ``snapshot_at`` as datetime64[ns]; ``y``: the 0/1 labels of the main horizon;
    ``lead_codes``: an integer code per lead (for counting converted *leads*, since the weekly
    snapshots of one lead are not independent evidence). Counts are of the rows given: when the
    caller sampled non-converting leads, row counts are of the sample, positive counts exact.
    """
    times = np.asarray(times, dtype="datetime64[ns]")
    y = np.asarray(y).astype(np.int64)
    lead_codes = np.asarray(lead_codes)
    if times.size == 0:
        return FoldPlan(folds=())
    start, end = pd.Timestamp(times.min()), pd.Timestamp(times.max())
    positive_times = np.sort(times[y == 1])
    if positive_times.size == 0:
        return FoldPlan(folds=(), labeled_start=start, labeled_end=end)
    as_seconds = positive_times.astype("datetime64[s]").astype(np.int64)
    qs = np.linspace(1.0 - valid_share, 1.0, n_folds + 1)[:-1]
    edges = [pd.Timestamp(int(np.quantile(as_seconds, q)), unit="s") for q in qs]
    edges = sorted(set(edges))  # a tiny history can collapse quantiles
    planned = []
    for i, valid_start in enumerate(edges):
        last = i == len(edges) - 1
        valid_end = end if last else edges[i + 1]
        fold = Fold(
            name=f"fold_{i + 1}",
            valid_start=valid_start,
            valid_end=valid_end,
            end_inclusive=last,
            horizon_days=int(horizon_days),
        )
        train, valid = fold.train_mask(times), fold.valid_mask(times)
        n_train_pos = _distinct_positive_leads(lead_codes, y, train)
        n_valid_pos = _distinct_positive_leads(lead_codes, y, valid)
        reasons = []
        if n_train_pos < min_train_positives:
            reasons.append(
                f"{n_train_pos} converted leads in the training rows (snapshot_at <= "
                f"{fold.train_cutoff:%Y-%m-%d}), fewer than {min_train_positives}"
            )
        if n_valid_pos < min_valid_positives:
            reasons.append(
                f"{n_valid_pos} converted leads in the window, fewer than {min_valid_positives}"
            )
        planned.append(
            Fold(
                name=fold.name,
                valid_start=valid_start,
                valid_end=valid_end,
                end_inclusive=last,
                horizon_days=int(horizon_days),
                n_valid_rows=int(valid.sum()),
                n_valid_positives=int(y[valid].sum()),
                n_valid_positive_leads=n_valid_pos,
                n_train_rows=int(train.sum()),
                n_train_positive_leads=n_train_pos,
                dropped_reason="; ".join(reasons),
            )
        )
    used = tuple(f for f in planned if not f.dropped_reason)
    dropped = tuple(f for f in planned if f.dropped_reason)
    return FoldPlan(folds=used, dropped=dropped, labeled_start=start, labeled_end=end)
