"""Shared fixtures: a small synthetic feature mart, a rule seed and one trained pipeline."""

from __future__ import annotations

import pandas as pd
import pytest

from lead_scoring.ml import TrainingResult, train_and_evaluate

from .synthetic import LARGE_BANDS, make_synthetic_snapshots

FAST_CONFIG = {"nthread": 1, "num_boost_round": 400, "early_stopping_rounds": 30}
TRAINED_AT = "2025-07-01 06:00:00"


@pytest.fixture(scope="session")
def snapshots() -> pd.DataFrame:
    """5,000 labeled-or-maturing snapshots over a year + 200 scoring snapshots (seed fixed)."""
    return make_synthetic_snapshots(5000, seed=0)


@pytest.fixture(scope="session")
def rules() -> pd.DataFrame:
    return pd.DataFrame(
        [
            ("c_level_title", "seniority_level", "=", "c_level", 10, "C-level title"),
            ("vp_title", "seniority_level", "=", "vp", 8, "VP title"),
            ("pricing_views", "pricing_page_views_30d", ">=", "3", 15, "Viewed pricing 3+ times"),
            ("email_engaged", "email_opens_30d", ">=", "4", 5, "Engaged with email"),
            ("recent_visit", "days_since_last_visit", "<=", "14", 5, "Visited in the last 2 weeks"),
            ("large_company", "company_size_band", "in", ";".join(LARGE_BANDS), 5, "Large company"),
        ],
        columns=["rule_name", "feature", "operator", "threshold", "points", "description"],
    )


@pytest.fixture(scope="session")
def trained(snapshots: pd.DataFrame, rules: pd.DataFrame) -> TrainingResult:
    return train_and_evaluate(snapshots, FAST_CONFIG, rules=rules, trained_at=TRAINED_AT)
