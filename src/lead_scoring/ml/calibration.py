"""Probability calibration of the booster: Platt (sigmoid) and isotonic, fitted on the margin.

Both calibrators are fitted **directly on the raw booster margin** (log-odds) of the calibration
split, not through ``CalibratedClassifierCV(FrozenEstimator(...))``: the booster is frozen by
construction (it is never refitted), and a calibrator is then a plain 1-D monotone function with
a handful of numbers (Platt: slope and intercept; isotonic: the step knots), stored as JSON in the
registry (no pickle, no sklearn version coupling). Isotonic on the margin is the same fit as
isotonic on the probability (both are monotone in each other).

* Platt: ``p = sigmoid(a * margin + b)``, an (essentially) unpenalised 1-D logistic regression.
* Isotonic: the pool-adjacent-violators step function, linearly interpolated between knots and
  constant outside the fitted range (sklearn ``out_of_bounds='clip'``).

Both outputs are clipped to ``[EPS, 1 - EPS]`` (``EPS = 1e-6``): isotonic's flat ends are often
exactly 0 or 1 (e.g. the lowest-margin block has no converter), which would give an infinite log
loss on one unlucky row and claim certainty we do not have.

**Choice.** The chosen calibrator is the one with the lower log loss on the calibration split.
In-sample this comparison is rigged: PAV isotonic *is* the maximum-likelihood monotone map, so it
never loses in-sample (except through clipping). The default ``selection='cv'`` therefore compares
the K-fold cross-fitted (out-of-fold) log loss *within* the calibration split and then refits the
winner on the whole split; ``selection='in_sample'`` is the literal rule. Both losses are reported
for both methods.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression
from sklearn.model_selection import StratifiedKFold

from lead_scoring.ml.config import MLConfig
from lead_scoring.ml.metrics import EPS, brier_score, log_loss

__all__ = [
    "CALIBRATION_TABLE_COLUMNS",
    "CalibrationResult",
    "Calibrator",
    "IsotonicCalibrator",
    "PlattCalibrator",
    "calibrate",
    "calibrator_from_json",
    "clipped_sigmoid",
    "fit_calibrators",
    "fit_isotonic",
    "fit_platt",
    "sigmoid",
]

CALIBRATION_TABLE_COLUMNS = [
    "method",
    "log_loss_in_sample",
    "log_loss_cv",
    "brier_in_sample",
    "is_chosen",
]


class Calibrator(Protocol):
    method: str

    def predict(self, margin: np.ndarray) -> np.ndarray: ...

    def to_json(self) -> str: ...


@dataclass(frozen=True)
class PlattCalibrator:
    """``p = sigmoid(slope * margin + intercept)``, clipped to ``[EPS, 1 - EPS]``."""

    slope: float
    intercept: float
    method: str = "platt"

    def predict(self, margin: np.ndarray) -> np.ndarray:
        z = self.slope * np.asarray(margin, dtype=np.float64) + self.intercept
        return np.clip(1.0 / (1.0 + np.exp(-z)), EPS, 1 - EPS)

    def to_json(self) -> str:
        return json.dumps({"method": self.method, "slope": self.slope, "intercept": self.intercept})


@dataclass(frozen=True)
class IsotonicCalibrator:
    """Non-decreasing step map, interpolated between ``x`` knots, flat beyond; clipped."""

    x: tuple[float, ...]
    y: tuple[float, ...]
    method: str = "isotonic"

    def predict(self, margin: np.ndarray) -> np.ndarray:
        m = np.asarray(margin, dtype=np.float64)
        return np.clip(np.interp(m, np.asarray(self.x), np.asarray(self.y)), EPS, 1 - EPS)

    def to_json(self) -> str:
        return json.dumps({"method": self.method, "x": list(self.x), "y": list(self.y)})


def calibrator_from_json(text: str | bytes) -> PlattCalibrator | IsotonicCalibrator:
    """Inverse of ``Calibrator.to_json``."""
    d: dict[str, Any] = json.loads(text)
    if d["method"] == "platt":
        return PlattCalibrator(slope=float(d["slope"]), intercept=float(d["intercept"]))
    if d["method"] == "isotonic":
        return IsotonicCalibrator(x=tuple(map(float, d["x"])), y=tuple(map(float, d["y"])))
    raise ValueError(f"unknown calibrator method {d['method']!r}")


def _check(
    margin: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    m = np.asarray(margin, dtype=np.float64).ravel()
    t = np.asarray(y, dtype=np.float64).ravel()
    w = np.ones_like(t) if weight is None else np.asarray(weight, dtype=np.float64).ravel()
    if m.shape != t.shape or w.shape != t.shape:
        raise ValueError("margin, y and weight differ in length")
    if t.size == 0 or t.min() == t.max():
        raise ValueError("calibration needs both classes in the calibration rows")
    return m, t, w


def fit_platt(
    margin: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None
) -> PlattCalibrator:
    """1-D logistic regression of the label on the margin, with optional row weights: the
    weighted log loss minimised by Newton's method with step halving (a two-parameter problem,
    so each step is a 2 x 2 solve over the rows; a ridge of 1e-6 on the slope, i.e. no real
    penalty, keeps separable rows finite). Starts from the identity map (slope 1, intercept 0):
    the margins are already log-odds."""
    m, t, w = _check(margin, y, weight)
    w = w / w.sum()
    ridge = 1e-6 * float(w.max())

    def loss(a: float, b: float) -> float:
        z = a * m + b
        return float(np.sum(w * (np.logaddexp(0.0, z) - t * z))) + 0.5 * ridge * a * a

    a, b = 1.0, 0.0
    current = loss(a, b)
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(a * m + b)))
        g = w * (p - t)
        h = w * p * (1.0 - p)
        grad = np.array([float(g @ m) + ridge * a, float(g.sum())])
        hm = h * m
        cross = float(hm.sum())
        hess = np.array([[float(hm @ m) + ridge, cross], [cross, float(h.sum())]])
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            step = grad
        scale = 1.0
        while scale > 1e-8:
            na, nb = a - scale * step[0], b - scale * step[1]
            new = loss(na, nb)
            if new <= current:
                break
            scale /= 2.0
        else:
            break
        done = abs(current - new) <= 1e-15 * max(1.0, abs(current))
        a, b, current = na, nb, new
        if done or max(abs(scale * step[0]), abs(scale * step[1])) < 1e-10:
            break
    return PlattCalibrator(slope=float(a), intercept=float(b))


def fit_isotonic(
    margin: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None
) -> IsotonicCalibrator:
    """PAV isotonic regression of the label on the margin, with optional row weights."""
    m, t, w = _check(margin, y, weight)
    iso = IsotonicRegression(out_of_bounds="clip", increasing=True).fit(m, t, sample_weight=w)
    return IsotonicCalibrator(
        x=tuple(float(v) for v in iso.X_thresholds_), y=tuple(float(v) for v in iso.y_thresholds_)
    )


_FITTERS = {"platt": fit_platt, "isotonic": fit_isotonic}


@dataclass(frozen=True)
class CalibrationResult:
    """Both fitted calibrators, the chosen method and the comparison table
    (:data:`CALIBRATION_TABLE_COLUMNS`)."""

    chosen: str
    calibrators: dict[str, PlattCalibrator | IsotonicCalibrator]
    table: pd.DataFrame

    @property
    def calibrator(self) -> PlattCalibrator | IsotonicCalibrator:
        return self.calibrators[self.chosen]


def fit_calibrators(
    margin: np.ndarray,
    y: np.ndarray,
    selection: str = "cv",
    n_folds: int = 5,
    seed: int = 0,
    weight: np.ndarray | None = None,
    methods: tuple[str, ...] = ("platt", "isotonic"),
) -> CalibrationResult:
    """Fit the calibrators of ``methods`` on the margins of the calibration rows (out-of-fold
    predictions) and pick one (see module doc); ``weight``: row weights (sampling, recency)."""
    m, t, w = _check(margin, y, weight)
    fitters = {name: _FITTERS[name] for name in methods}
    calibrators = {name: fit(m, t, w) for name, fit in fitters.items()}
    in_sample = {name: log_loss(t, c.predict(m), weight=w) for name, c in calibrators.items()}
    brier = {name: brier_score(t, c.predict(m), w) for name, c in calibrators.items()}
    cv: dict[str, float] = {name: math.nan for name in fitters}
    n_folds_eff = int(min(n_folds, t.sum(), (1 - t).sum()))
    if n_folds_eff >= 2 and len(fitters) > 1:
        folds = StratifiedKFold(n_splits=n_folds_eff, shuffle=True, random_state=seed)
        for name, fit in fitters.items():
            oof = np.empty_like(m)
            for fit_idx, held_idx in folds.split(m.reshape(-1, 1), t.astype(int)):
                oof[held_idx] = fit(m[fit_idx], t[fit_idx], w[fit_idx]).predict(m[held_idx])
            cv[name] = log_loss(t, oof, weight=w)
    if selection == "cv" and not any(math.isnan(v) for v in cv.values()):
        score = cv
    elif selection in ("cv", "in_sample"):
        score = in_sample
    else:
        raise ValueError("selection must be 'cv' or 'in_sample'")
    chosen = min(fitters, key=lambda name: (score[name], name != "platt"))
    table = pd.DataFrame(
        {
            "method": list(fitters),
            "log_loss_in_sample": [in_sample[n] for n in fitters],
            "log_loss_cv": [cv[n] for n in fitters],
            "brier_in_sample": [brier[n] for n in fitters],
            "is_chosen": [n == chosen for n in fitters],
        }
    )
    return CalibrationResult(chosen=chosen, calibrators=calibrators, table=table)


def calibrate(
    margin: np.ndarray,
    y: np.ndarray,
    weight: np.ndarray | None,
    cfg: MLConfig,
    methods: tuple[str, ...] = ("platt", "isotonic"),
) -> CalibrationResult:
    """:func:`fit_calibrators` with the run's settings (``calibration_selection``,
    ``calibration_cv_folds``, ``seed``)."""
    return fit_calibrators(
        margin, y, cfg.calibration_selection, cfg.calibration_cv_folds, cfg.seed, weight, methods
    )


def sigmoid(margin: np.ndarray) -> np.ndarray:
    """The uncalibrated probability of a booster margin (log-odds)."""
    return 1.0 / (1.0 + np.exp(-np.asarray(margin, dtype=np.float64)))


def clipped_sigmoid(margin: np.ndarray) -> np.ndarray:
    """:func:`sigmoid` clipped to ``[EPS, 1 - EPS]``, like every calibrator's output."""
    return np.clip(sigmoid(margin), EPS, 1 - EPS)
