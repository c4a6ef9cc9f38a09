"""The rule-based points model (the classic marketing-automation score) from a seed table.

Seed columns: ``rule_name, feature, operator, threshold, points, description``. A row like
``c_level_title, seniority_level, =, c_level, 10, C-level title`` gives 10 points to every lead
whose ``seniority_level`` is ``c_level``. The score is the sum of the points of the rules that fire.

Operators (``threshold`` is a string in the seed):

* ``=`` / ``!=`` -- equality; compared as numbers when the column is numeric (booleans accept
  ``true/false/1/0``), otherwise as exact strings (surrounding whitespace ignored).
* ``>``, ``>=``, ``<``, ``<=`` -- numeric comparison (the threshold must be a number).
* ``in`` -- membership in the ``;``-separated list, e.g. ``paid_search;webinar``.

A missing value never fires a rule (also not ``!=``).

Points -> probability (:class:`PointsMapping`): either a 1-D logistic fitted on labeled rows
(``p = sigmoid(intercept + slope * points)``, used for the baseline on the train split), or the
fixed ``'linear'`` convention ``p = clip(points, 0, 100) / 100`` when there is no usable history
(the rule table is then read as the usual 0-100 marketing score).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from pandas.api import types as ptypes
from sklearn.linear_model import LogisticRegression

__all__ = [
    "OPERATORS",
    "RULE_COLUMNS",
    "PointsMapping",
    "evaluate_rules",
    "fit_points_mapping",
    "rule_points",
    "rules_version",
    "validate_rules",
]

RULE_COLUMNS = ["rule_name", "feature", "operator", "threshold", "points", "description"]
OPERATORS = ("=", "!=", ">", ">=", "<", "<=", "in")
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


def validate_rules(rules: pd.DataFrame | list[Mapping]) -> pd.DataFrame:
    """Normalise the seed table (types, whitespace) and check operators and thresholds."""
    frame = pd.DataFrame(rules).copy()
    if "description" not in frame.columns:
        frame["description"] = ""
    missing = [c for c in RULE_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"rules table lacks column(s) {missing}; expected {RULE_COLUMNS}")
    frame = frame[RULE_COLUMNS].reset_index(drop=True)
    for c in ("rule_name", "feature", "operator", "threshold"):
        frame[c] = frame[c].astype(object).where(frame[c].notna(), "").astype(str).str.strip()
    frame["description"] = (
        frame["description"]
        .astype(object)
        .where(frame["description"].notna(), "")
        .astype(str)
        .str.strip()
    )
    frame["operator"] = frame["operator"].str.lower()
    bad = frame.loc[~frame["operator"].isin(OPERATORS), "rule_name"].tolist()
    if bad:
        raise ValueError(f"rules {bad}: operator must be one of {list(OPERATORS)}")
    if frame["rule_name"].duplicated().any():
        dup = frame.loc[frame["rule_name"].duplicated(), "rule_name"].tolist()
        raise ValueError(f"duplicate rule_name(s): {dup}")
    try:
        frame["points"] = frame["points"].astype("int64")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"rules: points must be integers ({exc})") from exc
    for r in frame.itertuples():
        if r.operator in (">", ">=", "<", "<="):
            try:
                float(r.threshold)
            except ValueError:
                raise ValueError(
                    f"rule {r.rule_name!r}: operator {r.operator} needs a numeric threshold, "
                    f"got {r.threshold!r}"
                ) from None
    return frame


def _as_number(text: str, rule: str) -> float:
    t = text.strip().lower()
    if t in _TRUE:
        return 1.0
    if t in _FALSE:
        return 0.0
    try:
        return float(t)
    except ValueError:
        raise ValueError(f"rule {rule!r}: {text!r} is not a number for a numeric column") from None


def _fires(s: pd.Series, operator: str, threshold: str, rule: str) -> np.ndarray:
    present = s.notna().to_numpy()
    numeric = (ptypes.is_numeric_dtype(s.dtype) or ptypes.is_bool_dtype(s.dtype)) and not (
        isinstance(s.dtype, pd.CategoricalDtype)
    )
    if operator in (">", ">=", "<", "<="):
        if not numeric:
            v = pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            v = s.to_numpy(dtype=np.float64, na_value=np.nan)
        t = float(threshold)
        with np.errstate(invalid="ignore"):
            hit = {">": v > t, ">=": v >= t, "<": v < t, "<=": v <= t}[operator]
        return hit & ~np.isnan(v)
    values = [x.strip() for x in threshold.split(";")] if operator == "in" else [threshold]
    if numeric:
        v = s.to_numpy(dtype=np.float64, na_value=np.nan)
        hit = np.isin(v, [_as_number(x, rule) for x in values])
    else:
        text = s.astype(object).astype(str).str.strip()  # NaN -> 'nan', masked by `present`
        hit = text.isin(values).to_numpy(dtype=bool)
    if operator == "!=":
        hit = ~hit
    return hit & present


def evaluate_rules(df: pd.DataFrame, rules: pd.DataFrame | list[Mapping]) -> pd.DataFrame:
    """Points per rule per row: a frame (rows of ``df`` x ``rule_name``), 0 where not fired."""
    table = validate_rules(rules)
    out = {}
    for r in table.itertuples():
        if r.feature not in df.columns:
            raise ValueError(f"rule {r.rule_name!r}: column {r.feature!r} not in the frame")
        fired = _fires(df[r.feature], r.operator, r.threshold, r.rule_name)
        out[r.rule_name] = np.where(fired, np.int64(r.points), np.int64(0))
    return pd.DataFrame(out, index=df.index, columns=table["rule_name"].tolist())


def rule_points(df: pd.DataFrame, rules: pd.DataFrame | list[Mapping]) -> np.ndarray:
    """Total points per row."""
    return evaluate_rules(df, rules).to_numpy().sum(axis=1).astype(np.int64)


@dataclass(frozen=True)
class PointsMapping:
    """Points -> probability: 'logistic' (fitted) or 'linear' (clip(points, 0, 100) / 100)."""

    method: str = "linear"
    intercept: float = 0.0
    slope: float = 0.0

    def predict(self, points: np.ndarray) -> np.ndarray:
        x = np.asarray(points, dtype=np.float64)
        if self.method == "linear":
            return np.clip(x, 0, 100) / 100.0
        if self.method == "logistic":
            return 1.0 / (1.0 + np.exp(-(self.intercept + self.slope * x)))
        raise ValueError(f"unknown points mapping {self.method!r}")

    def to_dict(self) -> dict:
        return asdict(self)


def fit_points_mapping(
    points: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None
) -> PointsMapping:
    """1-D logistic regression of the label on the points (C = 1e6, i.e. no real penalty),
    with optional row weights.

    Falls back to the linear convention when ``y`` has a single class.
    """
    x = np.asarray(points, dtype=np.float64).reshape(-1, 1)
    t = np.asarray(y, dtype=np.float64).ravel().astype(int)
    if t.size == 0 or t.min() == t.max():
        return PointsMapping()
    if np.ptp(x) == 0:
        rate = float(np.clip(t.mean(), 1e-6, 1 - 1e-6))
        return PointsMapping("logistic", math.log(rate / (1 - rate)), 0.0)
    lr = LogisticRegression(C=1e6, max_iter=1000).fit(x, t, sample_weight=weight)
    return PointsMapping("logistic", float(lr.intercept_[0]), float(lr.coef_[0, 0]))


def rules_version(rules: pd.DataFrame | list[Mapping], mapping: PointsMapping) -> str:
    """'rules-<12 hex>' from the normalised rule table and the points mapping."""
    table = validate_rules(rules)
    payload = json.dumps(
        {"rules": table.astype(str).to_dict(orient="records"), "mapping": mapping.to_dict()},
        sort_keys=True,
    )
    return "rules-" + hashlib.sha256(payload.encode()).hexdigest()[:12]
