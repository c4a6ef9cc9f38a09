"""A small simulated funnel for the drift tests: leads created uniformly over time, which convert
(and leave the open population) early in life, more often when they fit well; the others stay open
for ever. Every age effect plays out in the first weeks of a lead's life: activity comes in the
first weeks, recency grows then, conversions happen then (so the firmographic mix of the survivors
settles). Nothing about the market changes over time: whatever differs between two snapshots of
the open population is a matter of its age mix.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SIZES = np.array(["1-10", "11-50", "51-200", "201-500", "501+"])
SENIORITY = np.array(["entry", "individual_contributor", "manager", "director", "vp"])
SOURCES = np.array(["organic_search", "paid_search", "webinar", "referral"])
FEATURES = [
    "lead_age_days",
    "company_size",
    "seniority_level",
    "lead_source",
    "events_30d",
    "days_since_last_activity",
    "events_total",
]
CATEGORICAL = ["company_size", "seniority_level", "lead_source"]


class Funnel:
    def __init__(self, seed: int, days: int = 200, per_day: int = 25, scale: float = 15.0):
        rng = np.random.default_rng(seed)
        n = days * per_day
        self.rng, self.scale = rng, scale
        self.created = rng.uniform(0, days, n)
        self.size = rng.choice(5, n, p=[0.3, 0.25, 0.2, 0.15, 0.1])
        self.seniority = rng.choice(5, n, p=[0.2, 0.35, 0.25, 0.12, 0.08])
        self.source = rng.choice(4, n, p=[0.4, 0.25, 0.2, 0.15])
        self.fit = 0.4 * self.size / 4 + 0.6 * self.seniority / 4
        converts = rng.random(n) < 0.05 + 0.45 * self.fit
        self.conversion_age = np.where(converts, rng.exponential(0.7 * scale, n), np.inf)
        self.activity = rng.gamma(2.0, 1.0, n)
        self.lead_id = np.array([f"L{i:06d}" for i in range(n)])

    def open_at(self, t: float) -> pd.DataFrame:
        """The leads open at day t (created, not converted), with features at t."""
        age = t - self.created
        i = np.flatnonzero((age >= 0) & (self.conversion_age > age))
        a, rng, s = age[i], self.rng, self.scale
        frame = pd.DataFrame(
            {
                "lead_id": self.lead_id[i],
                "lead_age_days": np.floor(a),
                "company_size": SIZES[self.size[i]],
                "seniority_level": SENIORITY[self.seniority[i]],
                "lead_source": SOURCES[self.source[i]],
                "events_30d": rng.poisson(self.activity[i] * (0.5 + 6 * np.exp(-a / s))),
                "days_since_last_activity": rng.exponential(3 + 25 * (1 - np.exp(-a / s))),
                "events_total": rng.poisson(self.activity[i] * (2 + 0.5 * a)),
            }
        )
        margin = -3 + 3 * self.fit[i] + 0.1 * frame["events_30d"].to_numpy()
        frame["conversion_probability"] = 1 / (1 + np.exp(-margin))
        return frame

    def grid(self, window_end: float, weeks: int = 5) -> pd.DataFrame:
        """Weekly snapshots of the open leads over the `weeks` weeks ending at window_end."""
        snapshots = [self.open_at(window_end - 7 * k) for k in range(weeks)]
        return pd.concat(snapshots, ignore_index=True)


def flood(n: int, seed: int) -> pd.DataFrame:
    """n brand-new leads (0-3 weeks old) from a new source: tiny companies, junior titles."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "lead_id": [f"F{i:06d}" for i in range(n)],
            "lead_age_days": rng.integers(0, 21, n).astype(float),
            "company_size": "1-10",
            "seniority_level": rng.choice(["entry", "unknown"], n, p=[0.8, 0.2]),
            "lead_source": "student_giveaway",
            "events_30d": rng.poisson(3.0, n),
            "days_since_last_activity": rng.exponential(4.0, n),
            "events_total": rng.poisson(3.0, n),
        }
    )
    frame["conversion_probability"] = 1 / (1 + np.exp(-(-3 + 0.1 * frame["events_30d"])))
    return frame
