"""Values as the report prints them, and tables as the templates draw them.

Every number, date and percentage of the page is formatted here (the templates only place the
strings); :func:`table` turns a frame into a :class:`Table` of display strings, with the
right-aligned ``num`` class on numeric cells, for the ``table`` macro of ``macros.html.j2``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

from lead_scoring.report.load import ReportError

MODEL_LABELS = {
    "xgboost": "XGBoost (calibrated, production)",
    "xgboost_raw": "XGBoost, uncalibrated",
    "logistic_regression": "Logistic regression",
    "rule_points": "Rule points",
}
BASELINES = ("logistic_regression", "rule_points")

Formatter = Callable[[object], str]


def is_missing(value: object) -> bool:
    """None, NA, NaT or NaN (and nothing else: a list or a string is not missing)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def is_number(value: object) -> bool:
    """True for Python and numpy numbers, not for booleans."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def fmt_num(value: object, digits: int = 3) -> str:
    """A number for a table cell: fixed decimals, thousands separators, '–' when missing."""
    if is_missing(value):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    if math.isinf(number):
        return "∞" if number > 0 else "−∞"
    if digits == 0:
        return f"{number:,.0f}"
    return f"{number:,.{digits}f}"


def fmt_int(value: object) -> str:
    """A count: thousands separators, no decimals."""
    return fmt_num(value, 0)


def fmt_pct(value: object, digits: int = 1) -> str:
    """A share as a percentage ('12.3%')."""
    if is_missing(value):
        return "–"
    return f"{100 * float(value):.{digits}f}%"  # type: ignore[arg-type]


def fmt_pct2(value: object) -> str:
    """A rate as a percentage with two decimals ('1.23%')."""
    return fmt_pct(value, 2)


def fmt_signed(value: object, digits: int = 3) -> str:
    """A difference with its sign ('+0.012', '−0.004')."""
    if is_missing(value):
        return "–"
    number = float(value)  # type: ignore[arg-type]
    return f"{'+' if number >= 0 else '−'}{abs(number):.{digits}f}"


def fmt_points(value: object) -> str:
    """A difference of two rates in percentage points ('+1.50 pt')."""
    return "–" if is_missing(value) else fmt_signed(100 * float(value), 2) + " pt"  # type: ignore[arg-type]


def fmt_times(digits: int) -> Formatter:
    """A multiple ('2.5×') with ``digits`` decimals."""
    return lambda value: "–" if is_missing(value) else f"{float(value):.{digits}f}×"  # type: ignore[arg-type]


def fmt_time(value: object) -> str:
    """A date, or a date and minute when the time is not midnight."""
    if is_missing(value):
        return "–"
    stamp = pd.Timestamp(value)
    return (
        stamp.strftime("%Y-%m-%d")
        if stamp == stamp.normalize()
        else stamp.strftime("%Y-%m-%d %H:%M")
    )


def cell_text(value: object) -> str:
    """A value for a table cell: yes/no, a date, an integer or 3 decimals, '–' when missing."""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, pd.Timestamp | datetime):
        return fmt_time(value)
    if is_number(value) and not is_missing(value):
        integer = float(value).is_integer() and abs(float(value)) >= 1  # type: ignore[arg-type]
        return fmt_num(value, 0 if integer else 3)
    return "–" if is_missing(value) else str(value)


def model_label(name: str) -> str:
    """The reader's name of a model of ml_model_metrics."""
    return MODEL_LABELS.get(name, name)


def model_order(names: Iterable[str]) -> list[str]:
    """XGBoost, then the baselines, then any other model alphabetically."""
    names = list(dict.fromkeys(names))
    first = [n for n in ("xgboost", *BASELINES) if n in names]
    return first + sorted(n for n in names if n not in first)


def pick(frame: pd.DataFrame, *names: str) -> str | None:
    """The first of ``names`` that is a column of ``frame`` (tolerates small naming changes)."""
    lower = {c.lower(): c for c in frame.columns}
    for name in names:
        if name.lower() in lower:
            return lower[name.lower()]
    return None


def need(frame: pd.DataFrame, table: str, *names: str) -> str:
    """Like :func:`pick`, but a column the section cannot do without: ReportError if absent."""
    column = pick(frame, *names)
    if column is None:
        raise ReportError(
            f"main.{table} has no column {' / '.join(names)} (found: {', '.join(frame.columns)})"
        )
    return column


def present(*columns: str | None) -> list[str]:
    """The columns that were found (drops the None of a :func:`pick` that found nothing)."""
    return [c for c in columns if c]


# ---------------------------------------------------------------- tables


@dataclass(frozen=True)
class Cell:
    """One <td>: its text, its classes and its data-* attributes (name, value)."""

    text: str
    css: str = ""
    data: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Row:
    cells: list[Cell]
    css: str = ""


@dataclass(frozen=True)
class Table:
    """A table as the ``table`` macro draws it: header texts and rows of cells."""

    headers: list[str]
    rows: list[Row] = field(default_factory=list)


def table(
    frame: pd.DataFrame,
    formats: Mapping[str, Formatter] | None = None,
    headers: Mapping[str, str] | None = None,
    row_class: Callable[[pd.Series], str] | None = None,
) -> Table:
    """``frame`` as a :class:`Table`: values formatted by column (``formats``, else
    :func:`cell_text`), numeric cells classed ``num``, headers renamed by ``headers``."""
    formats = formats or {}
    headers = headers or {}
    rows = []
    for _, row in frame.iterrows():
        cells = [
            Cell(
                formats[column](row[column]) if column in formats else cell_text(row[column]),
                "num" if is_number(row[column]) else "",
            )
            for column in frame.columns
        ]
        rows.append(Row(cells, row_class(row) if row_class else ""))
    return Table([str(headers.get(c, c)) for c in frame.columns], rows)
