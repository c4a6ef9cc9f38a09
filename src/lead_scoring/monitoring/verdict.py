"""Which drift rows may ask for retraining, and why (the ``in_verdict`` / ``verdict_note`` rule).

Some features grow with time *by construction*: a lead's age, the days since its first activity,
every lifetime (``*_total``) count, the span of its touches, rates over its whole life and its
largest burst so far. Their distribution over the open leads moves whenever the age mix of the
open population moves -- the re-weighting of :mod:`.reweight` removes most of that, but not what
lies beyond the reference's ages (leads older than any lead of the reference window). So they are
still measured and reported, but **kept out of the retrain verdict** (``in_verdict`` false, the
note names the pattern): a shift that matters reaches the verdict through the features that do not
grow on their own and through the score.

The list is :data:`TIME_GROWING_PATTERNS` (``fnmatch`` patterns on the feature name); the dbt var
``drift_time_growing_features`` replaces it when set (a list, or a comma-separated string; null
keeps this default, ``[]`` puts every feature in the verdict): :func:`resolve_patterns`.

The rule (:func:`verdict_columns`): a row **counts for the verdict** when it is in the verdict,
its PSI is above ``drift_psi_major`` (``drift_level = 'major'``) *and* it is significant (its
Benjamini-Hochberg adjusted p-value below ``drift_fdr``). The score row is always in the verdict.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Iterable, Sequence
from fnmatch import fnmatchcase

import pandas as pd

__all__ = [
    "TIME_GROWING_PATTERNS",
    "parse_patterns",
    "resolve_patterns",
    "time_growing_pattern",
    "verdict_columns",
]

TIME_GROWING_PATTERNS: tuple[str, ...] = (
    "lead_age_days",  # the age itself
    "days_since_first_activity",  # ~ age for every lead that was ever active
    "*_total",  # lifetime counts only ever grow
    "touch_span_days",  # first to last touch: grows while the lead stays active
    "events_per_week",  # lifetime events / lifetime weeks: decays with age when activity stops
    "sessions_per_week_90d",  # the 90-day window is truncated by age for young leads
    "*max_burst*",  # the largest burst so far, and what is measured against it
)


def parse_patterns(value: object) -> tuple[str, ...]:
    """Patterns from a dbt var / config value: None, a list, ``"['a', 'b']"`` or ``"a, b"``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ()
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in ("", "none", "null", "[]"):
            return ()
        value = ast.literal_eval(text) if text.startswith(("[", "(")) else text.split(",")
    return tuple(str(p).strip() for p in value if str(p).strip())  # type: ignore[union-attr]


def resolve_patterns(value: object) -> tuple[str, ...]:
    """The patterns in force: :data:`TIME_GROWING_PATTERNS` when ``value`` is unset (None,
    'none', 'null' or blank), else :func:`parse_patterns` of it (``[]``: none)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return TIME_GROWING_PATTERNS
    if isinstance(value, str) and value.strip().lower() in ("", "none", "null"):
        return TIME_GROWING_PATTERNS
    return parse_patterns(value)


def time_growing_pattern(
    feature: str, patterns: Sequence[str] = TIME_GROWING_PATTERNS
) -> str | None:
    """The first pattern the feature matches (case-sensitive ``fnmatch``), else None."""
    for pattern in patterns:
        if fnmatchcase(feature, pattern):
            return pattern
    return None


def _note(row, q: float) -> str:
    if not row["in_verdict"]:
        return (
            f"out of the verdict: grows with lead age by construction (pattern "
            f"'{row['_pattern']}'); reported only"
        )
    level = row["drift_level"]
    if level is None or pd.isna(level):
        return "not measured: no comparable rows in the reference or the current run"
    if row["counts_for_verdict"]:
        return "major and significant drift: counts for the retrain verdict"
    if level == "major":
        return (
            f"PSI above drift_psi_major but not significant (BH-adjusted p = "
            f"{row['p_value_adjusted']:.3g} >= q = {q:g}): within the noise of this sample"
        )
    if level == "moderate":
        return "moderate drift: reported, below the retrain threshold"
    return "stable"


def verdict_columns(
    table: pd.DataFrame,
    fdr: float = 0.05,
    patterns: Iterable[str] = TIME_GROWING_PATTERNS,
) -> pd.DataFrame:
    """Add ``is_significant``, ``in_verdict``, ``counts_for_verdict`` and ``verdict_note`` to a
    drift table that has ``drift_scope``, ``feature``, ``drift_level`` and
    ``p_value_adjusted``."""
    out = table.copy()
    patterns = tuple(patterns)
    adjusted = pd.to_numeric(out["p_value_adjusted"], errors="coerce")
    out["is_significant"] = (adjusted < fdr).fillna(False).astype(bool)
    pattern = [
        None if scope == "score" else time_growing_pattern(str(feature), patterns)
        for scope, feature in zip(out["drift_scope"], out["feature"], strict=True)
    ]
    out["_pattern"] = pattern
    out["in_verdict"] = [p is None for p in pattern]
    out["counts_for_verdict"] = (
        out["in_verdict"] & (out["drift_level"] == "major").fillna(False) & out["is_significant"]
    ).astype(bool)
    out["verdict_note"] = [_note(row, fdr) for _, row in out.iterrows()]
    return out.drop(columns="_pattern")
