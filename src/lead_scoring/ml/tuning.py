"""Hyper-parameters chosen by the rolling-origin cross-validation, from a grid sized to the data.

A few hundred converted leads cannot support the trees that thousands can: the grid
(:func:`candidate_grid`) offers shallow, strongly regularised, slowly learning trees on small
histories and deeper, faster ones on large histories, each with and without a time decay of the
row weights on small histories (a funnel whose conversion rate moved, e.g. a sales team that
started closing deals mid-history, is better learned from its recent months). Nothing here is
picked by hand for a data set: every candidate is trained on every fold (:mod:`.cv`), each fold
stops after ``early_stopping_rounds`` rounds without improvement, and the candidate and round
count with the lowest **pooled** validation log loss (the folds' curves weighted by their rows)
win (:func:`choose`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lead_scoring.ml.config import MLConfig

__all__ = [
    "Candidate",
    "FoldCurve",
    "candidate_grid",
    "choose",
    "default_rounds",
    "pooled_curve",
    "recency_weights",
]

SMALL_HISTORY_LEADS = 500
"""Fewer converted leads than this: the small grid (depth 2-3, eta 0.05, strong L2)."""
LARGE_HISTORY_LEADS = 5_000
"""At least this many converted leads: the large grid (depth 4 / 6, eta 0.15); between: medium."""

_GRIDS: dict[str, tuple[dict[str, Any], ...]] = {
    "small": (
        {"max_depth": 2, "eta": 0.05, "min_child_weight": 10.0, "lambda": 10.0},
        {"max_depth": 3, "eta": 0.05, "min_child_weight": 5.0, "lambda": 5.0},
    ),
    "medium": (
        {"max_depth": 3, "eta": 0.08, "min_child_weight": 5.0, "lambda": 2.0},
        {"max_depth": 5, "eta": 0.08, "min_child_weight": 5.0, "lambda": 2.0},
    ),
    "large": (
        {"max_depth": 4, "eta": 0.15, "min_child_weight": 5.0, "lambda": 1.0},
        {"max_depth": 6, "eta": 0.15, "min_child_weight": 10.0, "lambda": 1.0},
    ),
}


@dataclass(frozen=True)
class Candidate:
    """One point of the grid: xgboost parameter overrides and a row-weight half-life."""

    params: dict[str, Any] = field(default_factory=dict)
    half_life_days: float | None = None

    @property
    def name(self) -> str:
        inside = [
            f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
            for k, v in sorted(self.params.items())
        ]
        if self.half_life_days is not None:
            inside.append(f"half_life_days={self.half_life_days:g}")
        return f"xgboost[{','.join(inside)}]"


def size_class(n_positive_leads: int) -> str:
    """'small', 'medium' or 'large' by the number of converted leads in the labeled history."""
    if n_positive_leads < SMALL_HISTORY_LEADS:
        return "small"
    if n_positive_leads < LARGE_HISTORY_LEADS:
        return "medium"
    return "large"


def candidate_grid(n_positive_leads: int, cfg: MLConfig) -> list[Candidate]:
    """The candidates for a history with ``n_positive_leads`` converted leads.

    ``cfg.xgb_candidates`` (explicit overrides) replaces the tree shapes;
    ``cfg.recency_half_life_days`` replaces the half-lives (default: no decay; also four horizons
    below :data:`LARGE_HISTORY_LEADS` converted leads, and one horizon below
    :data:`SMALL_HISTORY_LEADS`). The first shape is the most conservative one.
    """
    size = size_class(n_positive_leads)
    shapes = list(cfg.xgb_candidates) if cfg.xgb_candidates is not None else list(_GRIDS[size])
    if cfg.recency_half_life_days is not None:
        half_lives: list[float | None] = list(cfg.recency_half_life_days) or [None]
    elif size == "large":
        half_lives = [None]
    elif size == "medium":
        half_lives = [None, float(4 * cfg.horizon_days)]
    else:
        half_lives = [None, float(4 * cfg.horizon_days), float(cfg.horizon_days)]
    return [
        Candidate(params=dict(shape), half_life_days=None if h is None else float(h))
        for shape in shapes
        for h in half_lives
    ]


def default_rounds(n_positive_leads: int, eta: float, max_rounds: int) -> int:
    """Rounds for an *unvalidated* model (no fold could be formed): grows with the square root of
    the converted leads, scaled to the learning rate (143 leads at eta 0.05 -> 143 rounds)."""
    rounds = 12.0 * np.sqrt(max(n_positive_leads, 1)) * (0.05 / max(eta, 1e-3))
    return int(np.clip(round(rounds), 20, max_rounds))


def recency_weights(
    times: np.ndarray, reference: np.datetime64, half_life_days: float | None
) -> np.ndarray:
    """``0.5 ** (age / half_life)`` with age = days from ``times`` to ``reference`` (>= 0);
    all ones without a half-life."""
    if half_life_days is None:
        return np.ones(len(times), dtype=np.float64)
    age = (np.datetime64(reference, "ns") - np.asarray(times, dtype="datetime64[ns]")).astype(
        np.float64
    ) / (86400.0 * 1e9)
    return np.power(0.5, np.clip(age, 0.0, None) / float(half_life_days))


@dataclass(frozen=True)
class FoldCurve:
    """A candidate's validation log loss per boosting round on one fold (weighted mean), the
    weight of the fold's validation rows, and whether the fold stopped early."""

    losses: np.ndarray
    valid_weight: float


def pooled_curve(curves: Sequence[FoldCurve]) -> np.ndarray:
    """The folds' curves pooled by validation weight. A fold that stopped early keeps its last
    value for the later rounds (it had stopped improving)."""
    if not curves:
        raise ValueError("no fold curves to pool")
    length = max(len(c.losses) for c in curves)
    total = np.zeros(length)
    weight = 0.0
    for c in curves:
        padded = np.concatenate([c.losses, np.full(length - len(c.losses), c.losses[-1])])
        total += c.valid_weight * padded
        weight += c.valid_weight
    return total / weight


def choose(curves: Mapping[int, Sequence[FoldCurve]]) -> tuple[int, int, float]:
    """``(candidate index, rounds, pooled log loss)`` of the best candidate (its curves on the
    folds to pool); rounds = the argmin of its pooled curve, counted from 1. Ties go to the
    earlier (more conservative) candidate and the fewer rounds."""
    best: tuple[float, int, int] | None = None
    for index, per_fold in curves.items():
        pooled = pooled_curve(list(per_fold))
        rounds = int(np.argmin(pooled)) + 1
        score = float(pooled[rounds - 1])
        if best is None or score < best[0] - 1e-12:
            best = (score, index, rounds)
    if best is None:
        raise ValueError("no candidates")
    return best[1], best[2], best[0]
