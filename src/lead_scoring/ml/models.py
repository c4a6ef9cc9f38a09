"""Models: XGBoost (the production model) and the sklearn baselines.

All models consume the matrix of :func:`~lead_scoring.ml.dataset.prepare_features` (float32
numerics, pandas ``category`` columns with the training levels).

XGBoost uses its native categorical support (``enable_categorical=True``), the ``hist`` tree method,
early stopping on the validation split, and is deterministic: same inputs and parameters (incl.
``seed`` and ``nthread``) give identical booster bytes. The returned booster is cut to the best
iteration, so every later use (prediction, SHAP, serialisation) sees exactly the selected trees.

Baselines (same splits): a regularised logistic regression (median-imputed and standardised
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

from lead_scoring.ml.config import DEFAULT_XGB_PARAMS, MLConfig
from lead_scoring.ml.dataset import FeatureSpec

logger = logging.getLogger(__name__)

__all__ = [
    "TRAINING_KEYS",
    "SklearnModel",
    "XGBModel",
    "make_dmatrix",
    "predict_margin",
    "resolve_scale_pos_weight",
    "sample_rows",
    "train_extra_model",
    "train_logistic_regression",
    "train_xgboost",
    "xgb_params_from_config",
]

TRAINING_KEYS = ("num_boost_round", "early_stopping_rounds")
"""Keys of the ``params`` dict of :func:`train_xgboost` that are not native xgboost parameters."""

XY = tuple[pd.DataFrame, np.ndarray | pd.Series | Sequence[int]]


def xgb_params_from_config(config: MLConfig) -> dict[str, Any]:
    """The ``params`` dict for :func:`train_xgboost` from a resolved config."""
    params = dict(config.xgb_params)
    params.update(
        num_boost_round=config.num_boost_round,
        early_stopping_rounds=config.early_stopping_rounds,
        eval_metric=config.eval_metric,
        scale_pos_weight=config.scale_pos_weight,
        seed=config.seed,
        nthread=config.nthread,
    )
    return params


def resolve_scale_pos_weight(
    value: float | str, y: np.ndarray, weight: np.ndarray | None = None
) -> float:
    """'auto' = (weighted) negatives / positives of ``y``; a number is used as is."""
    if value == "auto":
        w = np.ones(len(y)) if weight is None else np.asarray(weight, dtype=np.float64)
        pos = float(np.sum(w[np.asarray(y) == 1]))
        return float((np.sum(w) - pos) / pos) if pos else 1.0
    return float(value)


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
    if quantile:
        return xgb.QuantileDMatrix(
            X,
            label=y,
            weight=weight,
            enable_categorical=True,
            nthread=nthread,
            ref=ref,
            max_bin=max_bin,
        )
    return xgb.DMatrix(X, label=y, weight=weight, enable_categorical=True, nthread=nthread)


@dataclass
class XGBModel:
    """A trained booster (cut to its best iteration) and how it was trained."""

    booster: xgb.Booster
    params: dict[str, Any]
    best_iteration: int
    best_score: float
    n_rounds_trained: int
    feature_names: list[str]
    evals_result: dict[str, dict[str, list[float]]] = field(default_factory=dict)


def _labels(y: np.ndarray | pd.Series | Sequence[int]) -> np.ndarray:
    return np.asarray(pd.Series(y).astype("float64"), dtype=np.float32)


def train_xgboost(
    train: XY,
    valid: XY,
    params: Mapping[str, Any] | None = None,
    matrices: dict | None = None,
) -> XGBModel:
    """Train a binary XGBoost classifier with early stopping on ``valid``.

    ``train`` and ``valid`` are ``(X, y)`` pairs or ``(X, y, weight)`` triples (row weights,
    e.g. from :func:`~lead_scoring.ml.dataset.downsample_negatives`). ``params`` are
    native xgboost parameters merged over :data:`~lead_scoring.ml.config.DEFAULT_XGB_PARAMS`,
    plus ``num_boost_round`` (1000) and ``early_stopping_rounds`` (30). ``scale_pos_weight`` may
    be a number or 'auto' (weighted negatives / positives in ``train``); ``nthread`` defaults to
    2, ``seed`` to 42, ``eval_metric`` to 'logloss' (early stopping watches the last metric on
    the validation split). ``matrices`` (a dict, empty at first) caches the DMatrices between
    calls on the same data, e.g. for several candidates with the same ``max_bin``.
    """
    raw = dict(params or {})
    num_boost_round = int(raw.pop("num_boost_round", 1000))
    early_stopping_rounds = int(raw.pop("early_stopping_rounds", 30))
    native: dict[str, Any] = dict(DEFAULT_XGB_PARAMS)
    native.update({"nthread": 2, "seed": 42, "eval_metric": "logloss", "scale_pos_weight": 1.0})
    native.update(raw)
    native["tree_method"] = "hist"
    native["verbosity"] = 0
    X_tr, y_tr = train[0], _labels(train[1])
    w_tr = None if len(train) < 3 or train[2] is None else np.asarray(train[2], dtype=np.float32)
    X_va, y_va = valid[0], _labels(valid[1])
    w_va = None if len(valid) < 3 or valid[2] is None else np.asarray(valid[2], dtype=np.float32)
    native["scale_pos_weight"] = resolve_scale_pos_weight(native["scale_pos_weight"], y_tr, w_tr)
    nthread = int(native["nthread"])
    cache = matrices if matrices is not None else {}
    key = ("train", int(native["max_bin"]))
    if key not in cache:
        cache[key] = make_dmatrix(
            X_tr, y_tr, nthread, quantile=True, max_bin=int(native["max_bin"]), weight=w_tr
        )
    dtrain = cache[key]
    # a plain DMatrix for the validation split: evaluating on a QuantileDMatrix every round was
    # ~3x slower (measured, xgboost 3.2), and the split finding only needs the train histograms
    if "valid" not in cache:
        cache["valid"] = make_dmatrix(X_va, y_va, nthread, weight=w_va)
    dvalid = cache["valid"]
    evals_result: dict[str, dict[str, list[float]]] = {}
    booster = xgb.train(
        native,
        dtrain,
        num_boost_round=num_boost_round,
        evals=[(dvalid, "valid")],
        early_stopping_rounds=early_stopping_rounds,
        evals_result=evals_result,
        verbose_eval=False,
    )
    n_trained = booster.num_boosted_rounds()
    best = int(getattr(booster, "best_iteration", n_trained - 1))
    best_score = float(getattr(booster, "best_score", np.nan))
    booster = booster[: best + 1]
    logger.info(
        "xgboost: %d rounds trained, best iteration %d (%s=%.5f)",
        n_trained,
        best,
        native["eval_metric"],
        best_score,
    )
    resolved = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in native.items()}
    resolved.update(num_boost_round=num_boost_round, early_stopping_rounds=early_stopping_rounds)
    return XGBModel(
        booster=booster,
        params=resolved,
        best_iteration=best,
        best_score=best_score,
        n_rounds_trained=n_trained,
        feature_names=list(X_tr.columns),
        evals_result=evals_result,
    )


def predict_margin(booster: xgb.Booster, X: pd.DataFrame, nthread: int = 2) -> np.ndarray:
    """Raw log-odds of the booster (float64)."""
    booster.set_param({"nthread": nthread})
    margin = booster.predict(make_dmatrix(X, nthread=nthread), output_margin=True)
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
    class_weight: str | None = None,
    max_rows: int | None = 300_000,
    seed: int = 42,
    weight: np.ndarray | None = None,
) -> SklearnModel:
    """L2-regularised logistic regression (lbfgs) on the shared design (``weight``: row
    weights, e.g. of negatives downsampled for training)."""
    lr = LogisticRegression(C=C, class_weight=class_weight, max_iter=2000, random_state=seed)
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
