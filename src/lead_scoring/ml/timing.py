"""When will a lead convert: calibrated probabilities over several horizons, monotone in them.

``conversion_probability`` answers "within ``horizon_days``?"; reps also need "this week?" and
"this quarter?" (``conversion_probability_7d`` / ``_30d`` / ``_90d``). A lead that asked for a demo
yesterday and a steady good fit can share a 30-day probability and differ completely over 7 days,
so each extra horizon gets a booster of its own (the same tuned parameters as the main model), not
a re-scaling of the main score:

* its labels are "first conversion within ``h`` days" (:func:`~.dataset.horizon_labels`);
* it trains on every snapshot whose ``h``-day label was known before the most recent labeled
  window for ``h`` (purged by ``h``), stops early on that window and is calibrated on it (the
  "most recent fold"; the window is the newest share of that horizon's converted snapshots, like
  one fold of :mod:`.cv`);
* with too few converted leads for such a window it trains on every known label for the default
  number of rounds and gets a Platt calibration on its most recent window, in sample (said in
  ``calibration_source``).

:func:`monotone_in_horizon` then makes the probabilities of one lead non-decreasing in the horizon
without touching the main horizon's calibrated probability: shorter horizons are capped by the next
longer one, longer horizons floored by the next shorter one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xgboost as xgb

from lead_scoring.ml.calibration import IsotonicCalibrator, PlattCalibrator

__all__ = [
    "TIMING_HORIZONS",
    "TimingModel",
    "monotone_in_horizon",
    "probability_columns",
    "timing_probabilities",
]

TIMING_HORIZONS: tuple[int, ...] = (7, 30, 90)
"""The horizons of ``conversion_probability_<N>d`` in ``scored_leads`` (its contract)."""


@dataclass
class TimingModel:
    """The booster and calibrator of one extra horizon."""

    horizon_days: int
    booster: xgb.Booster
    calibrator: PlattCalibrator | IsotonicCalibrator
    rounds: int
    calibration_source: str
    window_start: str | None = None
    window_end: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)


def probability_columns(horizons: Sequence[int]) -> list[str]:
    """``conversion_probability_<h>d`` for each horizon, shortest first."""
    return [f"conversion_probability_{int(h)}d" for h in sorted(set(int(h) for h in horizons))]


def monotone_in_horizon(
    probabilities: Mapping[int, np.ndarray], main_horizon: int
) -> dict[int, np.ndarray]:
    """Per row, make ``p_h`` non-decreasing in ``h`` around the main horizon, which is kept as is:
    ``p_h = min(p_h, p_next_longer)`` below it, ``p_h = max(p_h, p_next_shorter)`` above it.
    Missing horizons (None) are skipped."""
    horizons = sorted(h for h, p in probabilities.items() if p is not None)
    if main_horizon not in horizons:
        raise ValueError(f"the main horizon {main_horizon} has no probabilities")
    out = {h: np.asarray(probabilities[h], dtype=np.float64).copy() for h in horizons}
    m = horizons.index(main_horizon)
    for i in range(m - 1, -1, -1):
        out[horizons[i]] = np.minimum(out[horizons[i]], out[horizons[i + 1]])
    for i in range(m + 1, len(horizons)):
        out[horizons[i]] = np.maximum(out[horizons[i]], out[horizons[i - 1]])
    return out


def timing_probabilities(
    main: np.ndarray,
    main_horizon: int,
    models: Mapping[int, TimingModel],
    dmatrix: xgb.DMatrix | None,
    nthread: int = 2,
) -> pd.DataFrame:
    """:data:`TIMING_HORIZONS` probability columns for the rows of ``dmatrix``: the main
    probability at the main horizon, each extra horizon's calibrated booster elsewhere, NaN where
    a horizon has no model; then :func:`monotone_in_horizon` (the main horizon takes part even
    when it is not one of the columns, e.g. 60 days)."""
    n = len(main)
    probabilities: dict[int, np.ndarray | None] = {int(main_horizon): np.asarray(main)}
    for h in TIMING_HORIZONS:
        if h == main_horizon:
            continue
        model = models.get(h)
        if model is None or dmatrix is None:
            probabilities[h] = None
            continue
        model.booster.set_param({"nthread": nthread})
        margin = model.booster.predict(dmatrix, output_margin=True)
        probabilities[h] = model.calibrator.predict(np.asarray(margin, dtype=np.float64))
    fixed = monotone_in_horizon(probabilities, int(main_horizon))
    return pd.DataFrame(
        {
            column: fixed.get(h, np.full(n, np.nan))
            for h, column in zip(TIMING_HORIZONS, probability_columns(TIMING_HORIZONS), strict=True)
        }
    )
