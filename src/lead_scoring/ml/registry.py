"""The model bundle, its version hash and its (de)serialisation to an ``ml_models`` row.

``model_version`` is the first 12 hex digits of a sha256 over

* the training-data fingerprint (:func:`data_fingerprint`): row count, label sum and a hash of
  the feature matrix and labels via ``pandas.util.hash_pandas_object``,
* the resolved config (incl. the xgboost parameters) and the feature list with its categorical
  levels,
* the versions of ``lead_scoring`` and ``xgboost``,

so the same inputs give the same version, and any change of data, parameters, features or code
release gives a new one. ``trained_at`` is not part of it.

A row of ``ml_models`` (:data:`REGISTRY_COLUMNS`) holds JSON metadata and three blobs: the booster
as raw UBJSON (``booster.save_raw('ubj')``), the calibrator as UTF-8 JSON (Platt: slope and
intercept; isotonic: its knots) and the extra horizons' boosters and calibrators (one JSON, the
boosters base64 UBJSON). The calibrator is deliberately *not* pickled: loading a pickle
from a warehouse table executes code, and pickles break across sklearn releases; the JSON form has
neither problem. :func:`deserialize_bundle` accepts the blobs as bytes (DuckDB BLOB), or as base64
strings (JSON transport).

The registry is append-only: the **active model** is its latest row by ``trained_at`` (ties: the
smallest ``model_version``), the one rule of :func:`active_model` / :func:`latest_first` in
Python and of the dbt model ``ml_active_model`` in SQL; ml_models re-appends an older version
when it becomes active again.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb
from pandas.util import hash_pandas_object

import lead_scoring
from lead_scoring.ml.calibration import IsotonicCalibrator, PlattCalibrator, calibrator_from_json
from lead_scoring.ml.config import DEFAULT_BAND_THRESHOLDS, MLConfig, resolve_config
from lead_scoring.ml.dataset import FeatureSpec
from lead_scoring.ml.linear import LinearModel
from lead_scoring.ml.timing import TimingModel

__all__ = [
    "REGISTRY_COLUMNS",
    "ModelBundle",
    "active_model",
    "compute_model_version",
    "data_fingerprint",
    "deserialize_bundle",
    "latest_first",
    "serialize_bundle",
]

REGISTRY_COLUMNS = [
    "model_version",
    "model_name",
    "trained_at",
    "train_start",
    "train_end",
    "valid_start",
    "valid_end",
    "calib_start",
    "calib_end",
    "test_start",
    "test_end",
    "horizon_days",
    "n_train_rows",
    "n_train_positives",
    "best_iteration",
    "chosen_calibrator",
    "params_json",
    "features_json",
    "categorical_levels_json",
    "calibration_json",
    "metrics_json",
    "metadata_json",
    "data_fingerprint",
    "package_version",
    "xgboost_version",
    "booster_blob",
    "calibrator_blob",
    "validation_method",
    "calibration_source",
    "scoring_at",
    "timing_models_blob",
]


# a dbt var or config left empty: no version pinned
_UNPINNED = (None, "", "None", "null")


def latest_first(registry: pd.DataFrame) -> pd.DataFrame:
    """The ml_models rows, the active one first: ``trained_at`` descending (missing last), ties
    by ``model_version`` ascending -- the order of ``ml_active_model.sql``."""
    return registry.sort_values(
        ["trained_at", "model_version"], ascending=[False, True], kind="stable"
    )


def active_model(registry: pd.DataFrame, pinned_version: Any = None) -> dict[str, Any]:
    """The ml_models row that scores: the latest (:func:`latest_first`), or the latest row of
    version ``pinned_version`` (var ``ml_model_version``) when one is named. An unknown version
    raises ``ValueError`` listing the registered ones; an empty registry raises ``LookupError``."""
    if registry.empty:
        raise LookupError("ml_models is empty: no model is registered")
    rows = latest_first(registry)
    if pinned_version in _UNPINNED:
        return rows.iloc[0].to_dict()
    match = rows[rows["model_version"] == str(pinned_version)]
    if match.empty:
        known = ", ".join(dict.fromkeys(rows["model_version"].astype(str)))
        raise ValueError(
            f"var ml_model_version={pinned_version!r} is not in ml_models; "
            f"registered versions: {known}"
        )
    return match.iloc[0].to_dict()


def data_fingerprint(
    X: pd.DataFrame,
    y: np.ndarray | pd.Series,
    extra: pd.Series | pd.DataFrame | None = None,
) -> str:
    """sha256 (hex) of the row count, the label sum and ``hash_pandas_object`` of X, y and
    ``extra`` (e.g. the snapshot times) -- row by row, so the row order counts."""
    y_series = pd.Series(np.asarray(pd.Series(y).astype("float64")), name="__label__")
    h = hashlib.sha256()
    h.update(f"rows={len(X)};label_sum={float(y_series.sum())!r};".encode())
    h.update(",".join(map(str, X.columns)).encode())
    h.update(hash_pandas_object(X, index=False).to_numpy().tobytes())
    h.update(hash_pandas_object(y_series, index=False).to_numpy().tobytes())
    if extra is not None:
        h.update(hash_pandas_object(extra, index=False).to_numpy().tobytes())
    return h.hexdigest()


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, default=str, separators=(",", ":"))


def compute_model_version(
    fingerprint: str,
    params: Mapping[str, Any],
    spec: FeatureSpec,
    package_version: str | None = None,
    xgboost_version: str | None = None,
) -> str:
    """12 hex digits of sha256(fingerprint, params, features and levels, package versions)."""
    payload = _canonical(
        {
            "data": fingerprint,
            "params": dict(params),
            "features": spec.to_dict(),
            "lead_scoring": package_version or lead_scoring.__version__,
            "xgboost": xgboost_version or xgb.__version__,
        }
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:12]


@dataclass
class ModelBundle:
    """Everything scoring needs, without retraining: booster, calibrator, features, config and
    the reference data of the sub-scores and the confidence."""

    model_version: str
    booster: xgb.Booster
    calibrator: PlattCalibrator | IsotonicCalibrator
    spec: FeatureSpec
    config: MLConfig
    xgb_params: dict[str, Any]
    best_iteration: int
    trained_at: pd.Timestamp
    boundaries: dict[str, str] = field(default_factory=dict)
    """ISO timestamps: train_start, train_end, valid_start, ..., test_end."""
    n_train_rows: int = 0
    n_train_positives: int = 0
    data_fingerprint: str = ""
    fit_features: tuple[str, ...] = ()
    reference: dict[str, list[float]] = field(default_factory=dict)
    """Sorted reference quantiles of the summed fit / engagement SHAP contributions."""
    segment_support: dict[str, dict[str, int]] = field(default_factory=dict)
    """Labeled train rows per value of each confidence segment column ('(missing)' for NA)."""
    calibration: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    base_rate: float | None = None
    """Positive rate of the calibration split (the reference of the derived band thresholds)."""
    band_thresholds: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_BAND_THRESHOLDS))
    """The probability thresholds of bands A, B and C used when scoring."""
    validation: dict[str, Any] = field(default_factory=dict)
    """How the model was validated and chosen (method, folds, candidate, rounds, calibration)."""
    timing_models: dict[int, TimingModel] = field(default_factory=dict)
    """Boosters and calibrators of the extra horizons (:mod:`.timing`), by horizon in days."""
    scoring_at: pd.Timestamp | None = None
    """The "now" the training labels were judged at (the scoring date of the training build)."""
    linear: LinearModel | None = None
    """The logistic regression of a blend (None: XGBoost alone)."""
    blend_weight: float = 1.0
    """XGBoost's share of the blended margin (1 = no blend)."""
    package_version: str = lead_scoring.__version__
    xgboost_version: str = xgb.__version__

    @property
    def feature_names(self) -> list[str]:
        return list(self.spec.columns)


def _clean(obj: Any) -> Any:
    """JSON-safe: NaN -> None, numpy scalars -> Python."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, pd.Timestamp):
        return obj.isoformat()
    return obj


def _ts(value: str | None) -> pd.Timestamp | None:
    return pd.Timestamp(value) if value else None


def serialize_bundle(bundle: ModelBundle) -> dict[str, Any]:
    """One ``ml_models`` row (:data:`REGISTRY_COLUMNS`): JSON strings, timestamps, and the two
    blobs as ``bytes``."""
    b = bundle.boundaries
    metadata = {
        "config": bundle.config.to_dict(),
        "fit_features": list(bundle.fit_features),
        "reference": bundle.reference,
        "segment_support": bundle.segment_support,
        "boolean_features": list(bundle.spec.boolean),
        "zero_missing_features": list(bundle.spec.zero_missing),
        "base_rate": bundle.base_rate,
        "band_thresholds": bundle.band_thresholds,
        "validation": bundle.validation,
        "blend_weight": bundle.blend_weight,
        "linear_model": bundle.linear.to_dict() if bundle.linear is not None else None,
    }
    return {
        "model_version": bundle.model_version,
        "model_name": "xgboost",
        "trained_at": bundle.trained_at,
        "train_start": _ts(b.get("train_start")),
        "train_end": _ts(b.get("train_end")),
        "valid_start": _ts(b.get("valid_start")),
        "valid_end": _ts(b.get("valid_end")),
        "calib_start": _ts(b.get("calib_start")),
        "calib_end": _ts(b.get("calib_end")),
        "test_start": _ts(b.get("test_start")),
        "test_end": _ts(b.get("test_end")),
        "horizon_days": int(bundle.config.horizon_days),
        "n_train_rows": int(bundle.n_train_rows),
        "n_train_positives": int(bundle.n_train_positives),
        "best_iteration": int(bundle.best_iteration),
        "chosen_calibrator": bundle.calibrator.method,
        "params_json": json.dumps(_clean(bundle.xgb_params), sort_keys=True),
        "features_json": json.dumps(list(bundle.spec.columns)),
        "categorical_levels_json": json.dumps(
            {k: list(v) for k, v in bundle.spec.categorical_levels.items()}
        ),
        "calibration_json": json.dumps(_clean(bundle.calibration)),
        "metrics_json": json.dumps(_clean(bundle.metrics), sort_keys=True),
        "metadata_json": json.dumps(_clean(metadata), sort_keys=True),
        "data_fingerprint": bundle.data_fingerprint,
        "package_version": bundle.package_version,
        "xgboost_version": bundle.xgboost_version,
        "booster_blob": bytes(bundle.booster.save_raw(raw_format="ubj")),
        "calibrator_blob": bundle.calibrator.to_json().encode("utf-8"),
        "validation_method": str(bundle.validation.get("method", "")),
        "calibration_source": str(bundle.validation.get("calibration_source", "")),
        "scoring_at": bundle.scoring_at,
        "timing_models_blob": _timing_blob(bundle.timing_models),
    }


def _timing_blob(models: Mapping[int, TimingModel]) -> bytes:
    """The extra horizons' boosters (base64 UBJSON) and calibrators (JSON) as one UTF-8 JSON."""
    payload = {
        str(h): {
            "booster": base64.b64encode(bytes(m.booster.save_raw(raw_format="ubj"))).decode(),
            "calibrator": m.calibrator.to_json(),
            "rounds": int(m.rounds),
            "calibration_source": m.calibration_source,
            "window_start": m.window_start,
            "window_end": m.window_end,
            "metrics": _clean(m.metrics),
        }
        for h, m in sorted(models.items())
    }
    return json.dumps(payload, sort_keys=True).encode("utf-8")


def _timing_models(value: Any) -> dict[int, TimingModel]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return {}
    payload = json.loads(_blob(value).decode("utf-8"))
    out = {}
    for h, m in payload.items():
        booster = xgb.Booster()
        booster.load_model(bytearray(base64.b64decode(m["booster"])))
        out[int(h)] = TimingModel(
            horizon_days=int(h),
            booster=booster,
            calibrator=calibrator_from_json(m["calibrator"]),
            rounds=int(m["rounds"]),
            calibration_source=str(m.get("calibration_source", "")),
            window_start=m.get("window_start"),
            window_end=m.get("window_end"),
            metrics=dict(m.get("metrics") or {}),
        )
    return out


def _blob(value: Any) -> bytes:
    if isinstance(value, str):
        return base64.b64decode(value)
    if isinstance(value, memoryview | bytearray):
        return bytes(value)
    if isinstance(value, bytes):
        return value
    raise TypeError(f"blob must be bytes or a base64 string, got {type(value).__name__}")


def _iso(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    return pd.Timestamp(value).isoformat()


def deserialize_bundle(row: Mapping[str, Any]) -> ModelBundle:
    """Rebuild a :class:`ModelBundle` from an ``ml_models`` row (dict, or a pandas row)."""
    row = dict(row)
    booster = xgb.Booster()
    booster.load_model(bytearray(_blob(row["booster_blob"])))
    calibrator = calibrator_from_json(_blob(row["calibrator_blob"]).decode("utf-8"))
    metadata = json.loads(row["metadata_json"])
    spec = FeatureSpec(
        columns=tuple(json.loads(row["features_json"])),
        categorical_levels={
            k: tuple(v) for k, v in json.loads(row["categorical_levels_json"]).items()
        },
        boolean=tuple(metadata.get("boolean_features", ())),
        zero_missing=tuple(metadata.get("zero_missing_features", ())),
    )
    names = ("train", "valid", "calib", "test")
    boundaries = {
        f"{s}_{edge}": _iso(row.get(f"{s}_{edge}")) for s in names for edge in ("start", "end")
    }
    return ModelBundle(
        model_version=str(row["model_version"]),
        booster=booster,
        calibrator=calibrator,
        spec=spec,
        config=resolve_config(metadata["config"]),
        xgb_params=json.loads(row["params_json"]),
        best_iteration=int(row["best_iteration"]),
        trained_at=pd.Timestamp(row["trained_at"]),
        boundaries={k: v for k, v in boundaries.items() if v is not None},
        n_train_rows=int(row["n_train_rows"]),
        n_train_positives=int(row["n_train_positives"]),
        data_fingerprint=str(row.get("data_fingerprint", "")),
        fit_features=tuple(metadata.get("fit_features", ())),
        reference={k: list(v) for k, v in metadata.get("reference", {}).items()},
        segment_support={
            k: {kk: int(vv) for kk, vv in v.items()}
            for k, v in metadata.get("segment_support", {}).items()
        },
        calibration=json.loads(row.get("calibration_json") or "[]"),
        metrics=json.loads(row.get("metrics_json") or "{}"),
        base_rate=metadata.get("base_rate"),
        band_thresholds={
            k: float(v) for k, v in metadata.get("band_thresholds", DEFAULT_BAND_THRESHOLDS).items()
        },
        validation=dict(metadata.get("validation") or {}),
        timing_models=_timing_models(row.get("timing_models_blob")),
        scoring_at=pd.Timestamp(row["scoring_at"]) if _iso(row.get("scoring_at")) else None,
        linear=LinearModel.from_dict(metadata["linear_model"])
        if metadata.get("linear_model")
        else None,
        blend_weight=float(metadata.get("blend_weight", 1.0)),
        package_version=str(row.get("package_version", "")),
        xgboost_version=str(row.get("xgboost_version", "")),
    )
