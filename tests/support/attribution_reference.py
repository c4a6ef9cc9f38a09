"""A pandas re-implementation of the documented attribution definitions: the journeys with their
path (lookback window, open journeys) and the rule-based credits of their touches (first and
last touch, linear, position-based, time decay). The attribution tests compare the SQL models
with it (tests/e2e/test_attribution_sql_e2e.py) and check it on the docs' worked example
(tests/unit/test_attribution_sql.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd

LOOKBACK_DAYS = 30
HALF_LIFE_DAYS = 7.0


def reference_paths_and_credits(
    leads: pd.Series,
    touches: pd.DataFrame,
    conversions: pd.DataFrame,
    scoring_at: pd.Timestamp,
    lookback_days: int = LOOKBACK_DAYS,
    half_life_days: float = HALF_LIFE_DAYS,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Journeys with their path, and the rule-based credits of their touches.

    ``touches``: touch_id, lead_id, channel, occurred_at (int_marketing_touches);
    ``conversions``: lead_id, converted_at, amount. Returns (paths by lead_id, touch credits).
    """
    journeys = pd.DataFrame({"lead_id": leads.to_numpy()}).merge(
        conversions[["lead_id", "converted_at", "amount"]], on="lead_id", how="left"
    )
    journeys["is_conversion"] = journeys["converted_at"].notna()
    journeys["path_end_at"] = journeys["converted_at"].fillna(scoring_at)
    journeys["lookback_start_at"] = journeys["path_end_at"] - pd.Timedelta(days=lookback_days)
    t = touches.merge(journeys, on="lead_id", how="inner")
    t = t[(t["occurred_at"] >= t["lookback_start_at"]) & (t["occurred_at"] <= t["path_end_at"])]
    t = t.sort_values(["lead_id", "occurred_at", "touch_id"]).reset_index(drop=True)
    group = t.groupby("lead_id", sort=False)
    t["touch_position"] = group.cumcount() + 1
    t["touch_count"] = group["touch_id"].transform("size")
    paths = group.agg(path=("channel", " > ".join), touch_count=("touch_id", "size"))
    paths = journeys.set_index("lead_id").join(paths)
    paths["has_path"] = paths["path"].notna()

    n, i = t["touch_count"], t["touch_position"]
    t["first_touch_credit"] = (i == 1).astype(float)
    t["last_touch_credit"] = (i == n).astype(float)
    t["linear_credit"] = 1.0 / n
    middle = 0.2 / (n - 2).where(n > 2, 1)
    t["position_based_credit"] = np.select(
        [n == 1, n == 2, (i == 1) | (i == n)], [1.0, 0.5, 0.4], default=middle
    )
    days = (t["path_end_at"] - t["occurred_at"]).dt.total_seconds() / 86400
    weight = np.power(2.0, -days / half_life_days)
    t["time_decay_credit"] = weight / weight.groupby(t["lead_id"]).transform("sum")
    credit_columns = [c for c in t.columns if c.endswith("_credit")]
    t.loc[~t["is_conversion"], credit_columns] = np.nan
    return paths, t
