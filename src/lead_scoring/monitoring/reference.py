"""The reference population of a drift check: which labeled snapshots the current run is
compared with.

The reference is the model's *recent labeled history*, the population the model was last judged
on: the labeled grid snapshots of ``fct_lead_features`` (``not is_scoring_snapshot and
label_converted_in_horizon is not null``) whose ``snapshot_at`` lies in the test window of the
``ml_models`` row that scored the run (``test_start .. test_end``, both included). A model
registered without a validation (``validation_method = 'none'``: ``test_start`` is null) has no
test window; then the reference is the most recent ``reference_days`` (28) days of labeled
snapshots: ``snapshot_at > last labeled snapshot - 28 days``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

__all__ = ["DEFAULT_REFERENCE_DAYS", "LABELED_SNAPSHOTS", "ReferenceWindow", "reference_window"]

DEFAULT_REFERENCE_DAYS = 28
LABELED_SNAPSHOTS = "not is_scoring_snapshot and label_converted_in_horizon is not null"


def _missing(value: Any) -> bool:
    if value is None or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


@dataclass(frozen=True)
class ReferenceWindow:
    """``source``: 'test_window' or 'recent_labeled'; ``predicate``: the DuckDB filter on
    fct_lead_features; ``start`` / ``end``: the window (start exclusive for 'recent_labeled')."""

    source: str
    predicate: str
    start: pd.Timestamp | None
    end: pd.Timestamp | None


def reference_window(
    registry_row: dict,
    last_labeled_snapshot: Any,
    reference_days: int = DEFAULT_REFERENCE_DAYS,
) -> ReferenceWindow:
    """The reference of the model in ``registry_row`` (an ``ml_models`` row as a dict);
    ``last_labeled_snapshot``: the latest ``snapshot_at`` of a labeled snapshot (None: none)."""
    start, end = registry_row.get("test_start"), registry_row.get("test_end")
    if not _missing(start) and not _missing(end):
        start, end = pd.Timestamp(start), pd.Timestamp(end)
        return ReferenceWindow(
            "test_window",
            f"{LABELED_SNAPSHOTS} and snapshot_at >= timestamp '{start}' "
            f"and snapshot_at <= timestamp '{end}'",
            start,
            end,
        )
    if _missing(last_labeled_snapshot):
        return ReferenceWindow("recent_labeled", "false", None, None)
    end = pd.Timestamp(last_labeled_snapshot)
    start = end - pd.Timedelta(days=int(reference_days))
    return ReferenceWindow(
        "recent_labeled",
        f"{LABELED_SNAPSHOTS} and snapshot_at > timestamp '{start}' "
        f"and snapshot_at <= timestamp '{end}'",
        start,
        end,
    )
