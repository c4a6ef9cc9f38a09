"""Which features are kept out of the retrain verdict, and how the setting is read."""

from __future__ import annotations

import pandas as pd
import pytest

from lead_scoring.monitoring.verdict import (
    TIME_GROWING_PATTERNS,
    parse_patterns,
    resolve_patterns,
    time_growing_pattern,
    verdict_columns,
)


@pytest.mark.parametrize(
    ("feature", "pattern"),
    [
        ("lead_age_days", "lead_age_days"),
        ("days_since_first_activity", "days_since_first_activity"),
        ("events_total", "*_total"),
        ("distinct_channels_total", "*_total"),
        ("touch_span_days", "touch_span_days"),
        ("events_per_week", "events_per_week"),
        ("sessions_per_week_90d", "sessions_per_week_90d"),
        ("max_burst_engaged_events_3d", "*max_burst*"),
        ("days_since_max_burst", "*max_burst*"),
        ("engaged_events_3d_vs_max_burst", "*max_burst*"),
        ("events_30d", None),
        ("days_since_last_activity", None),
        ("company_size", None),
        ("total_budget", None),
    ],
)
def test_time_growing_features(feature: str, pattern: str | None) -> None:
    assert time_growing_pattern(feature) == pattern


def test_patterns_from_a_dbt_var() -> None:
    assert parse_patterns(None) == ()
    assert parse_patterns("") == ()
    assert parse_patterns("[]") == ()
    assert parse_patterns("['a_*', 'b']") == ("a_*", "b")
    assert parse_patterns("a_*, b") == ("a_*", "b")
    assert parse_patterns(["x"]) == ("x",)
    assert "lead_age_days" in TIME_GROWING_PATTERNS
    # the dbt var: unset keeps the default list, a list replaces it, [] empties it
    assert resolve_patterns(None) == TIME_GROWING_PATTERNS
    assert resolve_patterns("None") == TIME_GROWING_PATTERNS
    assert resolve_patterns("['x_*']") == ("x_*",)
    assert resolve_patterns("[]") == ()


def test_the_verdict_rule() -> None:
    table = pd.DataFrame(
        {
            "drift_scope": ["score", "feature", "feature", "feature", "feature", "feature"],
            "feature": ["conversion_probability", "a", "b", "lead_age_days", "c", "d"],
            "drift_level": ["major", "major", "major", "major", "moderate", None],
            "p_value_adjusted": [0.001, 0.2, 0.01, 0.0, 0.0, float("nan")],
        }
    )
    out = verdict_columns(table, fdr=0.05).set_index("feature")
    assert out["counts_for_verdict"].to_dict() == {
        "conversion_probability": True,  # the score is always in the verdict
        "a": False,  # major but not significant
        "b": True,
        "lead_age_days": False,  # major and significant, but grows with age
        "c": False,  # significant but moderate
        "d": False,  # not measured
    }
    assert out.loc["a", "verdict_note"].startswith("PSI above drift_psi_major but not significant")
    assert "grows with lead age" in out.loc["lead_age_days", "verdict_note"]
    assert out.loc["d", "verdict_note"].startswith("not measured")
    assert not out.loc["d", "is_significant"]
