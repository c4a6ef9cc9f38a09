"""Regularised logistic regression: the baseline, and the linear half of a blend.

The design is built here with numpy, not a scikit-learn pipeline, so that it is fast (the
pipeline's imputer spent more time than the solver), scores without materialising one-hot columns
(a categorical's contribution is a lookup of its level's coefficient), serialises to JSON (no
pickle) and explains itself exactly:

* numerics: missing values imputed by the training median, then standardised; a numeric column
  with missing values in training also gets a centred missing indicator;
* categoricals: one centred indicator per training level and one for "missing / unseen";
* the L2-penalised (``C``) log loss is minimised by scikit-learn's lbfgs with row weights, from
  the coefficients of an earlier fit when one is given (the folds of a cross-validation differ by
  a few weeks of rows: warm starts save most of the iterations).

Every design column is centred on its training mean, so the margin is ``intercept + sum of the
per-feature contributions`` with contribution = coefficients x centred design columns of that
feature: the exact SHAP values of a linear model (features independent), in the same log-odds as
XGBoost's TreeSHAP, so a blend of the two explains itself as the blend of the explanations.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from lead_scoring.ml.dataset import FeatureSpec
from lead_scoring.ml.models import sample_rows

__all__ = ["LinearModel", "fit_linear"]


@dataclass
class LinearModel:
    """A fitted logistic regression on the shared feature matrix (see the module docstring)."""

    numeric: list[str]
    medians: list[float]
    means: list[float]
    scales: list[float]
    indicators: list[str]
    indicator_means: list[float]
    categorical: dict[str, list[float]]  # column -> mean of each code's indicator, code -1 first
    coef_numeric: list[float]
    coef_indicator: list[float]
    coef_categorical: dict[str, list[float]]
    intercept: float
    columns: list[str]

    # ---- design

    def _filled(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Raw numerics with missing values replaced by the training medians (n x numeric, a
        fresh float64 array) and the missing mask."""
        v = X[self.numeric].to_numpy(dtype=np.float64, na_value=np.nan)
        if not v.flags.writeable:  # pandas copy-on-write hands out read-only views
            v = v.copy()
        missing = np.isnan(v)
        np.copyto(v, np.broadcast_to(np.asarray(self.medians), v.shape), where=missing)
        return v, missing

    def _numeric(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Standardised numerics (n x numeric) and centred missing indicators (n x indicators)."""
        if not self.numeric:
            return np.zeros((len(X), 0)), np.zeros((len(X), 0))
        z, missing = self._filled(X)
        z -= np.asarray(self.means)
        z /= np.asarray(self.scales)
        columns = [self.numeric.index(c) for c in self.indicators]
        ind = missing[:, columns].astype(np.float64) - np.asarray(self.indicator_means)
        return z, ind

    def _codes(self, X: pd.DataFrame, column: str) -> np.ndarray:
        """Level position per row: 0 = missing / unseen, 1.. = the training levels."""
        codes = X[column].cat.codes.to_numpy().astype(np.int64) + 1
        return np.where(codes < len(self.categorical[column]), codes, 0)

    def design(self, X: pd.DataFrame) -> np.ndarray:
        """The centred design matrix (numerics, indicators, then each categorical's levels)."""
        z, ind = self._numeric(X)
        blocks = [z, ind]
        for c, means in self.categorical.items():
            onehot = np.zeros((len(X), len(means)))
            onehot[np.arange(len(X)), self._codes(X, c)] = 1.0
            blocks.append(onehot - np.asarray(means))
        return np.hstack(blocks)

    def contributions(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Per-feature contributions (n x len(columns), in ``columns`` order) and the bias;
        ``contributions.sum(1) + bias`` is the margin."""
        out = np.zeros((len(X), len(self.columns)), dtype=np.float64)
        position = {c: i for i, c in enumerate(self.columns)}
        z, ind = self._numeric(X)
        if self.numeric:
            out[:, [position[c] for c in self.numeric]] = z * np.asarray(self.coef_numeric)
        for k, c in enumerate(self.indicators):
            out[:, position[c]] += ind[:, k] * self.coef_indicator[k]
        for c, means in self.categorical.items():
            coef = np.asarray(self.coef_categorical[c])
            out[:, position[c]] = coef[self._codes(X, c)] - float(coef @ np.asarray(means))
        return out, np.full(len(X), self.intercept)

    def margin(self, X: pd.DataFrame) -> np.ndarray:
        """``contributions(X).sum(1) + bias``, without materialising the contributions."""
        out = np.full(len(X), self.intercept)
        if self.numeric:
            v, missing = self._filled(X)
            coef = np.asarray(self.coef_numeric) / np.asarray(self.scales)
            out += v @ coef - float(coef @ np.asarray(self.means))
            if self.indicators:
                columns = [self.numeric.index(c) for c in self.indicators]
                coef_ind = np.asarray(self.coef_indicator)
                out += missing[:, columns] @ coef_ind - float(
                    coef_ind @ np.asarray(self.indicator_means)
                )
        for c, means in self.categorical.items():
            coef = np.asarray(self.coef_categorical[c])
            out += coef[self._codes(X, c)] - float(coef @ np.asarray(means))
        return out

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.margin(X)))

    def coefficients(self) -> np.ndarray:
        """The coefficients in :meth:`design` column order."""
        parts = [self.coef_numeric, self.coef_indicator]
        parts += [self.coef_categorical[c] for c in self.categorical]
        return np.concatenate([np.asarray(p, dtype=np.float64) for p in parts])

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> LinearModel:
        return cls(**dict(d))


def _statistics(X: pd.DataFrame, spec: FeatureSpec) -> LinearModel:
    numeric = [c for c in spec.columns if c not in spec.categorical_levels]
    v = X[numeric].to_numpy(dtype=np.float64, na_value=np.nan)
    missing = np.isnan(v)
    medians = [
        float(np.median(col[~m])) if (~m).any() else 0.0
        for col, m in zip(v.T, missing.T, strict=True)
    ]
    filled = np.where(missing, np.asarray(medians), v)
    means, stds = filled.mean(axis=0), filled.std(axis=0)
    has_missing = missing.any(axis=0)
    categorical = {}
    for c in spec.categorical:
        codes = X[c].cat.codes.to_numpy().astype(np.int64) + 1
        n_levels = len(spec.categorical_levels[c]) + 1
        categorical[c] = (np.bincount(codes, minlength=n_levels) / len(codes)).tolist()
    return LinearModel(
        numeric=numeric,
        medians=medians,
        means=means.tolist(),
        scales=np.where(stds > 0, stds, 1.0).tolist(),
        indicators=[c for c, m in zip(numeric, has_missing, strict=True) if m],
        indicator_means=missing.mean(axis=0)[has_missing].tolist(),
        categorical=categorical,
        coef_numeric=[0.0] * len(numeric),
        coef_indicator=[0.0] * int(has_missing.sum()),
        coef_categorical={c: [0.0] * len(m) for c, m in categorical.items()},
        intercept=0.0,
        columns=list(spec.columns),
    )


def fit_linear(
    X: pd.DataFrame,
    y: np.ndarray,
    spec: FeatureSpec,
    C: float = 1.0,
    weight: np.ndarray | None = None,
    max_rows: int | None = 100_000,
    seed: int = 42,
    init: LinearModel | None = None,
) -> LinearModel:
    """Fit on (at most ``max_rows`` seeded-sampled rows of) the prepared matrix ``X`` (the one
    of :func:`~.dataset.prepare_features`, not the boosters' input), starting from ``init``'s
    coefficients when given (same spec)."""
    rows = sample_rows(len(X), max_rows, seed)
    X = X.iloc[rows]
    y = np.asarray(y)[rows].astype(int)
    w = np.ones(len(rows)) if weight is None else np.asarray(weight, dtype=np.float64)[rows]
    model = _statistics(X, spec)
    design = model.design(X)
    lr = LogisticRegression(C=C, max_iter=2000, random_state=seed, warm_start=init is not None)
    if init is not None and init.coefficients().shape[0] == design.shape[1]:
        lr.coef_ = init.coefficients()[None, :].copy()
        lr.intercept_ = np.array([init.intercept])
    # one BLAS thread: lbfgs does a few hundred skinny matrix-vector products, and two OpenBLAS
    # threads made each 3x slower than one (measured: 8.4 s vs 2.9 s on 20k x 420)
    with threadpool_limits(limits=1, user_api="blas"):
        lr.fit(design, y, sample_weight=w)
    coef = lr.coef_[0]
    n_num, n_ind = len(model.numeric), len(model.indicators)
    model.coef_numeric = coef[:n_num].tolist()
    model.coef_indicator = coef[n_num : n_num + n_ind].tolist()
    offset = n_num + n_ind
    for c, means in model.categorical.items():
        model.coef_categorical[c] = coef[offset : offset + len(means)].tolist()
        offset += len(means)
    model.intercept = float(lr.intercept_[0])
    return model
