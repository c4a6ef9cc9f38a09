"""Where a run's splits lie in time: the registry's boundary columns and ``ml_split_boundaries``.

:func:`registry_boundaries` gives the ``train_*`` / ``valid_*`` / ``calib_*`` / ``test_*`` columns
of the registry row; :func:`split_frame` the table of every planned fold (used or dropped, the
newest used one being the test fold) and of the production fit (:data:`SPLIT_COLUMNS`).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from lead_scoring.ml.cv import FoldPlan
from lead_scoring.ml.tables import EVALUATION_TABLES
from lead_scoring.ml.validation import LabeledHistory

__all__ = ["SPLIT_COLUMNS", "registry_boundaries", "split_frame"]

SPLIT_COLUMNS = EVALUATION_TABLES["ml_split_boundaries"].columns[1:]
"""The columns of :func:`split_frame`: ``ml_split_boundaries`` without ``model_version``."""


def _iso(value: Any) -> str | None:
    return None if value is None else pd.Timestamp(value).isoformat()


def registry_boundaries(plan: FoldPlan, history: LabeledHistory) -> dict[str, str | None]:
    """The registry's time columns: train = every matured label (the production fit), valid =
    the validation windows before the test fold, calib = the out-of-fold windows the production
    calibrator saw (or the in-sample window), test = the test fold."""
    start = pd.Timestamp(history.times[history.known].min())
    end = pd.Timestamp(history.labeled_end)
    out: dict[str, str | None] = {"train_start": _iso(start), "train_end": _iso(end)}
    if plan.is_validated:
        first, test = plan.folds[0], plan.test
        out.update(
            valid_start=_iso(first.valid_start),
            valid_end=_iso(test.valid_start),
            calib_start=_iso(first.valid_start),
            calib_end=_iso(end),
            test_start=_iso(test.valid_start),
            test_end=_iso(test.valid_end),
        )
    else:
        out.update(valid_start=None, valid_end=None, test_start=None, test_end=None)
    return out


def split_frame(plan: FoldPlan, history: LabeledHistory, n_rows_trained: int) -> pd.DataFrame:
    """:data:`SPLIT_COLUMNS`: one row per planned fold (the last used one is 'test') and one for
    the production fit ('train', which fitted ``n_rows_trained`` rows)."""
    folds = plan.to_frame()
    known, y = history.known, history.y
    rows = folds["n_rows"].where(folds["n_rows"] > 0)
    folds["positive_rate"] = folds["n_positives"] / rows
    folds["n_rows_trained"] = folds["n_train_rows"]
    t = history.times
    train = pd.DataFrame(
        [
            {
                "split": "train",
                "start": pd.Timestamp(t[known].min()),
                "end": pd.Timestamp(history.labeled_end),
                "end_inclusive": True,
                "purge_cutoff": pd.Timestamp(history.labeled_end),
                "horizon_days": history.cfg.horizon_days,
                "n_rows": int(known.sum()),
                "n_positives": int(y[known].sum()),
                "n_positive_leads": history.n_positive_leads(),
                "positive_rate": float(y[known].mean()),
                "n_train_rows": int(known.sum()),
                "n_train_positive_leads": history.n_positive_leads(),
                "n_rows_trained": n_rows_trained,
                "is_used": True,
                "dropped_reason": "",
            }
        ]
    )
    return pd.concat(
        [folds.reindex(columns=SPLIT_COLUMNS), train[SPLIT_COLUMNS]], ignore_index=True
    )
