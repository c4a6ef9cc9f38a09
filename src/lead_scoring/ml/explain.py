"""Explanations: exact per-row SHAP contributions, global importance and the top factors per row.

SHAP values are XGBoost's exact TreeSHAP (``predict(DMatrix, pred_contribs=True)``): per row one
contribution per feature plus the bias (expected margin); they are in log-odds of the *raw*
booster and sum exactly to its output margin. ``'+'`` raises the probability, ``'-'`` lowers it
(ASCII minus, easy to filter in SQL). The same ranking and formatting serves the rule-based
fallback, with the fired rules' points as the contributions.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import xgboost as xgb
from numpy.dtypes import StringDType

from lead_scoring.ml.models import make_dmatrix

__all__ = [
    "IMPORTANCE_COLUMNS",
    "display_strings",
    "feature_label",
    "format_factors",
    "mean_abs_shap",
    "shap_contributions",
    "top_factors",
    "top_k_order",
]

IMPORTANCE_COLUMNS = ["feature", "feature_label", "mean_abs_shap", "share", "rank"]
_S = StringDType()


def feature_label(name: str, labels: Mapping[str, str] | None = None) -> str:
    """Human-readable label: from ``labels``, else the name with underscores -> spaces and the
    first letter capitalised (``pricing_page_views_30d`` -> ``Pricing page views 30d``)."""
    if labels and name in labels:
        return str(labels[name])
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def shap_contributions(
    booster: xgb.Booster, X: pd.DataFrame | xgb.DMatrix, nthread: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """Exact SHAP contributions ``(n x n_features, float32)`` and the bias ``(n,)``.

    ``contribs.sum(axis=1) + bias`` equals the booster's output margin. ``X`` is the boosters'
    input (:meth:`~.dataset.FeatureSpec.for_trees`) or a DMatrix of it.
    """
    booster.set_param({"nthread": nthread})
    data = X if isinstance(X, xgb.DMatrix) else make_dmatrix(X, nthread=nthread)
    out = booster.predict(data, pred_contribs=True)
    return np.ascontiguousarray(out[:, :-1]), np.asarray(out[:, -1], dtype=np.float64)


def mean_abs_shap(
    contribs: np.ndarray,
    feature_names: Sequence[str],
    feature_labels: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Global importance: mean |SHAP| per feature, its share of the total, rank 1 = strongest
    (:data:`IMPORTANCE_COLUMNS`)."""
    values = (
        np.abs(np.asarray(contribs, dtype=np.float64)).mean(axis=0)
        if len(contribs)
        else (np.zeros(len(feature_names)))
    )
    total = values.sum()
    frame = pd.DataFrame(
        {
            "feature": list(feature_names),
            "feature_label": [feature_label(f, feature_labels) for f in feature_names],
            "mean_abs_shap": values,
            "share": values / total if total > 0 else np.zeros_like(values),
        }
    )
    frame = frame.sort_values(["mean_abs_shap", "feature"], ascending=[False, True], kind="stable")
    frame["rank"] = np.arange(1, len(frame) + 1)
    return frame.reset_index(drop=True)


def _json_str(values: Sequence[str]) -> np.ndarray:
    return np.array([json.dumps(str(v), ensure_ascii=False) for v in values], dtype=_S)


def display_strings(s: pd.Series, rows: np.ndarray, is_bool: bool) -> tuple[np.ndarray, np.ndarray]:
    """Display and JSON-quoted strings of ``s`` at positions ``rows`` (vectorised): categorical
    levels, integers without decimals, other numbers with 2 decimals, booleans as true / false
    (``is_bool``), missing as 'missing'."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = [str(c) for c in s.cat.categories] + ["missing"]
        codes = s.cat.codes.to_numpy()[rows]
        display = np.array(cats, dtype=_S)[codes]  # code -1 -> last entry 'missing'
        return display, _json_str(cats)[codes]
    if _is_numeric_series(s):
        v = s.iloc[rows].to_numpy(dtype=np.float64, na_value=np.nan)
        nan = np.isnan(v)
        safe = np.where(nan, 0.0, v)
        integral = (safe == np.round(safe)) & (np.abs(safe) < 1e15)
        as_int = np.where(integral, safe, 0.0).astype(np.int64).astype(_S)
        text = np.where(integral, as_int, np.round(safe, 2).astype(_S)).astype(_S)
        if is_bool:
            text = np.where(safe != 0, "true", "false").astype(_S)
        text = np.where(nan, "missing", text).astype(_S)
        return text, np.strings.add(np.strings.add('"', text), '"')
    codes, uniques = pd.factorize(s.iloc[rows], use_na_sentinel=True)
    labels = [str(u) for u in uniques] + ["missing"]
    return np.array(labels, dtype=_S)[codes], _json_str(labels)[codes]


def _is_numeric_series(s: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype))


def _number_strings(x: np.ndarray, decimals: int) -> np.ndarray:
    r = np.round(x.astype(np.float64), decimals) + 0.0  # + 0.0 turns -0.0 into 0.0
    if decimals == 0:
        return r.astype(np.int64).astype(_S)
    return r.astype(_S)


def top_k_order(c: np.ndarray, k: int) -> np.ndarray:
    """The column positions of the ``k`` largest ``|c|`` of each row of ``c`` (``n x m``),
    largest first, ties by position, missing values last: the first ``k`` columns of
    ``np.argsort(-np.abs(c), axis=1, kind="stable")``.

    Found by ``k`` passes of ``argmax`` (which returns the first of equal maxima) instead of
    sorting all ``m`` columns of every row: three rankings of 86,960 x 166 (``k`` = 5) take
    0.2 s this way, 2.0 s sorted."""
    a = np.abs(np.asarray(c, dtype=np.float64))
    a[np.isnan(a)] = -1.0  # below every |value|: missing values come last, by position
    n, m = a.shape
    k = min(int(k), m)
    order = np.empty((n, k), dtype=np.intp)
    rows = np.arange(n)
    for j in range(k):
        pick = np.argmax(a, axis=1)
        order[:, j] = pick
        a[rows, pick] = -2.0  # below the missing values: never picked again
    return order


def format_factors(
    contribs: np.ndarray,
    values: pd.DataFrame,
    value_columns: Sequence[str],
    keys: Sequence[str],
    labels: Sequence[str],
    k: int = 5,
    style: str = "value",
    boolean: Sequence[str] = (),
    decimals: int = 4,
    min_abs: float = 1e-9,
    suffixes: Sequence[str] | None = None,
    missing_texts: Sequence[str] | None = None,
    value_strings: Callable[[int, np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None,
    with_json: bool = True,
) -> pd.DataFrame:
    """Rank the contributions of each row by |contribution| and format the k strongest.

    ``contribs`` is ``n x m``; column j belongs to ``keys[j]`` (JSON ``feature``), shown as
    ``labels[j]`` with the row's value of ``values[value_columns[j]]``. Contributions with
    ``|c| <= min_abs`` are never listed (a row can have fewer than k factors, or none).
    ``style='value'``: ``'Label=value (+)'``; ``style='points'``: ``'Label (+10)'``;
    ``style='plain'`` (for reps): ``'Label: value'`` + ``suffixes[j]``, booleans as yes / no,
    missing as ``missing_texts[j]`` (default 'unknown'), underscores of categorical levels as
    spaces.
    Returns a frame (index of ``values``) with ``top_factors`` ('; '-joined) and
    ``top_factors_json`` (a JSON array of ``{"feature", "label", "value", "direction",
    "contribution"}``; null when ``with_json`` is false). The ranking is :func:`top_k_order`;
    strings are built column-wise with numpy string ufuncs, no loop over rows.
    ``value_strings(j, rows)``: the display and JSON strings of column j at the positions
    ``rows`` (default: the values as they are); only the values listed are ever formatted.
    """
    c = np.asarray(contribs)
    n, m = c.shape
    if len(values) != n or len(value_columns) != m or len(keys) != m or len(labels) != m:
        raise ValueError("contribs, values, value_columns, keys and labels do not line up")
    k = min(k, m)
    if n == 0 or k == 0:
        return pd.DataFrame(
            {"top_factors": pd.Series(dtype=object), "top_factors_json": pd.Series(dtype=object)},
            index=values.index,
        )
    order = top_k_order(c, k)
    top = np.take_along_axis(c, order, axis=1).astype(np.float64)
    label_arr = np.array([str(x) for x in labels], dtype=_S)
    label_json = _json_str(labels)
    key_json = _json_str(keys)
    boolean_set = set(boolean)
    suffix_arr = np.array([str(x) for x in (suffixes or [""] * m)], dtype=_S)
    missing_arr = np.array([str(x) for x in (missing_texts or ["unknown"] * m)], dtype=_S)
    if value_strings is None:

        def value_strings(j: int, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            col = value_columns[j]
            return display_strings(values[col], rows, col in boolean_set)

    text = np.full(n, "", dtype=_S)
    js = np.full(n, "[", dtype=_S)
    add = np.strings.add
    for j in range(k):
        idx = order[:, j]
        cj = top[:, j]
        show = np.abs(cj) > min_abs
        value_disp = np.full(n, "", dtype=_S)
        value_json = np.full(n, '""', dtype=_S) if with_json else None
        for f in np.unique(idx[show]):
            rows = np.nonzero(show & (idx == f))[0]
            d, q = value_strings(int(f), rows)
            value_disp[rows] = d
            if with_json:
                value_json[rows] = q
        # the sign and the number only where a piece or the JSON shows them
        sign = np.where(cj > 0, "+", "-").astype(_S) if with_json or style == "value" else None
        number = _number_strings(cj, decimals) if with_json or style == "points" else None
        if style == "points":
            points = np.where(cj > 0, add("+", number), number).astype(_S)
            piece = add(add(add(label_arr[idx], " ("), points), ")")
        elif style == "plain":
            shown = np.strings.replace(value_disp, "_", " ")
            shown = np.where(value_disp == "true", "yes", shown).astype(_S)
            shown = np.where(value_disp == "false", "no", shown).astype(_S)
            shown = np.where(value_disp == "missing", missing_arr[idx], shown).astype(_S)
            piece = add(add(add(label_arr[idx], ": "), shown), suffix_arr[idx])
        elif style == "value":
            piece = add(add(add(add(add(label_arr[idx], "="), value_disp), " ("), sign), ")")
        else:
            raise ValueError("style must be 'value', 'points' or 'plain'")
        sep = "" if j == 0 else "; "
        text = np.where(show, add(add(text, sep), piece), text).astype(_S)
        if not with_json:
            continue
        obj = add('{"feature":', key_json[idx])
        obj = add(add(obj, ',"label":'), label_json[idx])
        obj = add(add(obj, ',"value":'), value_json)
        obj = add(add(add(obj, ',"direction":"'), sign), '"')
        obj = add(add(add(obj, ',"contribution":'), number), "}")
        sep_js = "" if j == 0 else ","
        js = np.where(show, add(add(js, sep_js), obj), js).astype(_S)
    js = add(js, "]").astype(object) if with_json else None
    return pd.DataFrame(
        {"top_factors": text.astype(object), "top_factors_json": js}, index=values.index
    )


def top_factors(
    contribs: np.ndarray,
    X: pd.DataFrame,
    feature_labels: Mapping[str, str] | None = None,
    k: int = 5,
    boolean: Sequence[str] = (),
) -> pd.DataFrame:
    """The k strongest SHAP contributions per row of ``X`` (columns = the contribution columns).

    Per factor: the feature label (``feature_labels`` or :func:`feature_label`), the row's value
    (categoricals as the level, integers without decimals, other numbers with 2 decimals, booleans
    as true/false, missing as 'missing'), the direction and the contribution (log-odds, 4
    decimals, JSON only). Returns ``top_factors`` (e.g. ``'Pricing page views (30d)=4 (+);
    Seniority=c_level (+)'``) and ``top_factors_json``; see :func:`format_factors`.
    """
    names = list(X.columns)
    return format_factors(
        contribs,
        X,
        value_columns=names,
        keys=names,
        labels=[feature_label(f, feature_labels) for f in names],
        k=k,
        style="value",
        boolean=boolean,
    )
