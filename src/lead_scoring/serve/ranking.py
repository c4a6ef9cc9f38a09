"""``lead_priority`` and the rules arm's band of a rescored lead among the batch's open leads.

The batch ranks every open lead of a run (``int_lead_scores_ranked``: macro ``lead_priority``,
``ceil(100 x rank / leads)`` within the experiment arm, rank 1 the lowest ranker, ties by lead_id,
the smaller id higher; the rules arm's bands cut down its order at the model arm's band shares).
Online, one lead's ranker changes and the others keep their batch values: the lead's rank is
counted among them with the same order, so a lead scored at the batch's time and with the
batch's events gets the batch's priority and band.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["ArmRanking"]


class ArmRanking:
    """The batch's rankers by arm (``batch.ranking`` of the state)."""

    def __init__(self, ranking: pd.DataFrame) -> None:
        self.arm_of = dict(zip(ranking["lead_id"], ranking["experiment_arm"], strict=True))
        self.arms: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for arm, rows in ranking.groupby("experiment_arm", sort=False):
            value = np.where(
                arm == "rules",
                rows["rule_points"].astype("float64").to_numpy(),
                rows["conversion_probability"].astype("float64").to_numpy(),
            )
            self.arms[arm] = (value, rows["lead_id"].astype(str).to_numpy())
        reference = ranking[ranking["experiment_arm"] == "model"]
        if reference.empty:
            reference = ranking
        bands = reference["model_score_band"].astype(str)
        n = max(len(reference), 1)
        self.shares = {
            "A": float((bands == "A").sum()) / n,
            "B": float((bands <= "B").sum()) / n,
            "C": float((bands <= "C").sum()) / n,
        }

    def rank(
        self, lead_id: str, probability: float, rule_points: float, model_band: str
    ) -> tuple[str | None, int | None, str]:
        """``(experiment_arm, lead_priority, score_band)`` of the lead with a new ranker."""
        arm = self.arm_of.get(lead_id)
        if arm is None:
            return None, None, model_band
        values, ids = self.arms[arm]
        v = float(rule_points) if arm == "rules" else float(probability)
        others = ids != lead_id
        ov, oid = values[others], ids[others]
        n = int(others.sum()) + 1
        # ascending by (ranker, lead_id descending): rank 1 = lowest
        rank = 1 + int(np.sum(ov < v)) + int(np.sum((ov == v) & (oid > lead_id)))
        priority = -(-100 * rank // n)
        if arm != "rules":
            return arm, priority, model_band
        position = n - rank + 1  # descending by ranker, ties by lead_id ascending
        band = "D"
        for name in ("A", "B", "C"):
            if position <= math.floor(n * self.shares[name] + 0.5):
                band = name
                break
        return arm, priority, band
