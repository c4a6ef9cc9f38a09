"""Models: XGBoost (the production model) and the sklearn baselines.

All models consume the matrix of :func:`~lead_scoring.ml.dataset.prepare_features` (float32
numerics, pandas ``category`` columns with the training levels).

XGBoost uses its native categorical support (``enable_categorical=True``), the ``hist`` tree method
and log loss, and is deterministic: same inputs and parameters (incl. ``seed`` and ``nthread``)
give identical booster bytes. :func:`fit_booster` records the validation log loss of every round
when it is given validation rows (the rolling-origin folds of :mod:`.cv` pool these curves to
choose the round count, :mod:`.tuning`); the production booster is then trained for exactly that
many rounds on every matured label.

Baselines (same folds): a regularised logistic regression (median-imputed and standardised
numerics with missing-indicators, one-hot categoricals incl. a 'missing' level, L2 with ``C``) and,
behind ``extra_models``, a decision tree, a random forest and an MLP on the same design matrix.
The sklearn baselines train on at most ``baseline_max_train_rows`` train rows (seeded sample).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier

from lead_scoring.ml.config import DEFAULT_XGB_PARAMS
from lead_scoring.ml.dataset import FeatureSpec

logger = logging.getLogger(__name__)

__all__ = [
    "FittedBooster",
    "SklearnModel",
    "fit_booster",
    "make_dmatrix",
    "native_params",
    "predict_margin",
    "sample_rows",
    "train_extra_model",
    "train_logistic_regression",
]


def native_params(
    base: Mapping[str, Any], overrides: Mapping[str, Any] | None, seed: int, nthread: int
) -> dict[str, Any]:
    """Native xgboost parameters: :data:`~lead_scoring.ml.config.DEFAULT_XGB_PARAMS`, then
    ``base`` (config ``xgb_params``), then ``overrides`` (a tuning candidate); always the ``hist``
    method, log loss, silent, seeded."""
    params: dict[str, Any] = dict(DEFAULT_XGB_PARAMS)
    params.update(dict(base))
    params.update(dict(overrides or {}))
    params.update(
        tree_method="hist",
        objective="binary:logistic",
        eval_metric="logloss",
        verbosity=0,
        seed=int(seed),
        nthread=int(nthread),
    )
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in params.items()}


def make_dmatrix(
    X: pd.DataFrame,
    y: np.ndarray | None = None,
    nthread: int = 2,
    ref: xgb.DMatrix | None = None,
    quantile: bool = False,
    max_bin: int = 256,
    weight: np.ndarray | None = None,
) -> xgb.DMatrix:
    """DMatrix (or QuantileDMatrix for training: less memory, faster) with native categoricals."""
    label = None if y is None else _labels(y)
    if quantile:
        return xgb.QuantileDMatrix(
            X,
            label=label,
            weight=weight,
            enable_categorical=True,
            nthread=nthread,
            ref=ref,
            max_bin=max_bin,
        )
    return xgb.DMatrix(X, label=label, weight=weight, enable_categorical=True, nthread=nthread)


@dataclass
class FittedBooster:
    """A booster and, when it was watched on validation rows, their log loss after each round.

    The booster keeps every round it trained; :func:`predict_margin` takes ``rounds`` to use
    only the first ones (the count chosen on the pooled validation curves)."""

    booster: xgb.Booster
    params: dict[str, Any]
    curve: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def n_rounds(self) -> int:
        return int(self.booster.num_boosted_rounds())


def _labels(y: np.ndarray | pd.Series | Sequence[int]) -> np.ndarray:
    return np.asarray(pd.Series(y).astype("float64"), dtype=np.float32)


def fit_booster(
    dtrain: xgb.DMatrix,
    params: Mapping[str, Any],
    num_boost_round: int,
    dvalid: xgb.DMatrix | None = None,
    early_stopping_rounds: int | None = None,
) -> FittedBooster:
    """Train on ``dtrain`` (labels and weights set on it). With ``dvalid``: record its (weighted)
    log loss after every round and stop after ``early_stopping_rounds`` rounds without
    improvement. Deterministic: same matrices and parameters, same booster bytes."""
    evals_result: dict[str, dict[str, list[float]]] = {}
    booster = xgb.train(
        dict(params),
        dtrain,
        num_boost_round=int(num_boost_round),
        evals=[(dvalid, "valid")] if dvalid is not None else [],
        early_stopping_rounds=early_stopping_rounds if dvalid is not None else None,
        evals_result=evals_result,
        verbose_eval=False,
    )
    curve = np.asarray(evals_result.get("valid", {}).get("logloss", []), dtype=np.float64)
    if dvalid is not None:
        # xgb.train returns the booster with every round trained (the early stop only halts)
        curve = curve[: booster.num_boosted_rounds()]
    return FittedBooster(booster=booster, params=dict(params), curve=curve)


def predict_margin(
    booster: xgb.Booster, X: pd.DataFrame | xgb.DMatrix, nthread: int = 2, rounds: int | None = None
) -> np.ndarray:
    """Raw log-odds of the booster (float64), from its first ``rounds`` rounds (all by default)."""
    booster.set_param({"nthread": nthread})
    data = X if isinstance(X, xgb.DMatrix) else make_dmatrix(X, nthread=nthread)
    iteration_range = (0, int(rounds)) if rounds else (0, 0)
    margin = booster.predict(data, output_margin=True, iteration_range=iteration_range)
    return np.asarray(margin, dtype=np.float64)


# --------------------------------------------------------------------------- sklearn baselines


def sample_rows(n: int, max_rows: int | None, seed: int) -> np.ndarray:
    """Sorted row positions: all rows, or a seeded sample of ``max_rows``."""
    if max_rows is None or n <= max_rows:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, max_rows, replace=False))


def _design_frame(X: pd.DataFrame, spec: FeatureSpec) -> pd.DataFrame:
    """Categoricals as their integer codes (-1 = missing / unseen), numerics as float64."""
    out = {}
    for c in spec.columns:
        if c in spec.categorical_levels:
            out[c] = X[c].cat.codes.to_numpy(dtype=np.int32)
        else:
            out[c] = X[c].to_numpy(dtype=np.float64)
    return pd.DataFrame(out, index=X.index)


def _design(spec: FeatureSpec) -> ColumnTransformer:
    transformers = []
    if spec.numeric:
        numeric = Pipeline(
            [
                (
                    "impute",
                    SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                ),
                ("scale", StandardScaler()),
            ]
        )
        transformers.append(("num", numeric, list(spec.numeric)))
    if spec.categorical:
        cats = [list(range(-1, len(spec.categorical_levels[c]))) for c in spec.categorical]
        transformers.append(
            ("cat", OneHotEncoder(categories=cats, handle_unknown="ignore"), list(spec.categorical))
        )
    return ColumnTransformer(transformers, sparse_threshold=0.0)


@dataclass
class SklearnModel:
    """A fitted sklearn pipeline over the shared design (standardised numerics, one-hot cats)."""

    name: str
    pipeline: Pipeline
    spec: FeatureSpec

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Probability of conversion for the rows of a prepared matrix."""
        return self.pipeline.predict_proba(_design_frame(X, self.spec))[:, 1]


def _fit(
    name: str,
    estimator: Any,
    X: pd.DataFrame,
    y: np.ndarray,
    spec: FeatureSpec,
    max_rows: int | None,
    seed: int,
    weight: np.ndarray | None = None,
) -> SklearnModel:
    rows = sample_rows(len(X), max_rows, seed)
    pipe = Pipeline([("design", _design(spec)), ("model", estimator)])
    fit_params = {}
    if weight is not None:
        fit_params["model__sample_weight"] = np.asarray(weight, dtype=np.float64)[rows]
    pipe.fit(_design_frame(X.iloc[rows], spec), np.asarray(y)[rows].astype(int), **fit_params)
    return SklearnModel(name=name, pipeline=pipe, spec=spec)


def train_logistic_regression(
    X: pd.DataFrame,
    y: np.ndarray,
    spec: FeatureSpec,
    C: float = 1.0,
    max_rows: int | None = 300_000,
    seed: int = 42,
    weight: np.ndarray | None = None,
) -> SklearnModel:
    """L2-regularised logistic regression (lbfgs) on the shared design (``weight``: row
    weights, e.g. of negatives downsampled for training)."""
    lr = LogisticRegression(C=C, max_iter=2000, random_state=seed)
    return _fit("logistic_regression", lr, X, y, spec, max_rows, seed, weight)


def train_extra_model(
    name: str,
    X: pd.DataFrame,
    y: np.ndarray,
    spec: FeatureSpec,
    max_rows: int | None = 300_000,
    seed: int = 42,
    n_jobs: int = 2,
    weight: np.ndarray | None = None,
) -> SklearnModel:
    """One of the optional baselines: 'decision_tree', 'random_forest' or 'mlp' (the MLP takes
    no row weights: it trains on the rows as given)."""
    if name == "decision_tree":
        est: Any = DecisionTreeClassifier(max_depth=6, min_samples_leaf=50, random_state=seed)
    elif name == "random_forest":
        est = RandomForestClassifier(
            n_estimators=200, max_depth=12, min_samples_leaf=20, n_jobs=n_jobs, random_state=seed
        )
    elif name == "mlp":
        est = MLPClassifier(
            hidden_layer_sizes=(64, 32),
            alpha=1e-3,
            early_stopping=True,
            max_iter=200,
            random_state=seed,
        )
    else:
        raise ValueError(f"unknown model {name!r}")
    return _fit(name, est, X, y, spec, max_rows, seed, None if name == "mlp" else weight)
