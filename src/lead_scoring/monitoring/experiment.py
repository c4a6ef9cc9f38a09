"""The statistics of the A/B test of the model against the rule points (``ml_experiment_results``).

The SQL model computes them; these plain functions are the reference the tests check it
against, and the planning aid of docs/operating.md "Running an A/B test against the rules".

* :func:`wilson_interval` -- the Wilson score interval of one proportion (Wilson 1927): unlike
  the Wald interval p +/- z sqrt(p(1-p)/n), it stays inside [0, 1] and keeps its coverage at the
  1-5 % conversion rates of B2B funnels and at 0 conversions.
* :func:`newcombe_interval` -- Newcombe's hybrid score interval for the difference of two
  independent proportions p1 - p2 (Newcombe 1998, method 10): the two Wilson intervals (l1, u1),
  (l2, u2) combined as ``d - sqrt((p1 - l1)^2 + (u2 - p2)^2)``, ``d + sqrt((u1 - p1)^2 + (p2 -
  l2)^2)``. Its coverage is close to nominal for small counts and rare events, where the Wald
  interval of a difference is too narrow; it needs no iteration, so SQL computes it in one
  expression. Checked against Table II of the paper.
* :func:`leads_per_arm` -- leads needed in each arm to detect a difference between two
  conversion rates (two-sided test of two proportions, normal approximation, no continuity
  correction), to say how long to run a test.
"""

from __future__ import annotations

import math

from scipy import stats

__all__ = ["Z_95", "leads_per_arm", "newcombe_interval", "wilson_interval"]

Z_95 = float(stats.norm.ppf(0.975))  # 1.959963984540054


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval (lower, upper) of ``successes / trials``; NaNs when ``trials`` is 0."""
    if trials <= 0:
        return math.nan, math.nan
    if not 0 <= successes <= trials:
        raise ValueError(f"successes must be in [0, trials], got {successes} of {trials}")
    x, n, z2 = float(successes), float(trials), z * z
    centre = (x + z2 / 2.0) / (n + z2)
    half = z * math.sqrt(x * (n - x) / n + z2 / 4.0) / (n + z2)
    return centre - half, centre + half


def newcombe_interval(
    successes_1: int, trials_1: int, successes_2: int, trials_2: int, z: float = Z_95
) -> tuple[float, float]:
    """Newcombe's hybrid score interval (lower, upper) of p1 - p2 (see the module docstring);
    NaNs when either arm has no trials."""
    if trials_1 <= 0 or trials_2 <= 0:
        return math.nan, math.nan
    p1, p2 = successes_1 / trials_1, successes_2 / trials_2
    l1, u1 = wilson_interval(successes_1, trials_1, z)
    l2, u2 = wilson_interval(successes_2, trials_2, z)
    difference = p1 - p2
    return (
        difference - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
        difference + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2),
    )


def leads_per_arm(rate_1: float, rate_2: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """Leads needed in each of two equal arms for a two-sided test at level ``alpha`` to detect
    conversion rates ``rate_1`` vs ``rate_2`` with probability ``power`` (Fleiss' formula without
    continuity correction: 435 per arm for 5 % vs 10 %)."""
    if not (0 < rate_1 < 1 and 0 < rate_2 < 1) or rate_1 == rate_2:
        raise ValueError(f"need two different rates in (0, 1), got {rate_1} and {rate_2}")
    z_alpha = stats.norm.ppf(1 - alpha / 2)
    z_beta = stats.norm.ppf(power)
    pooled = (rate_1 + rate_2) / 2
    numerator = z_alpha * math.sqrt(2 * pooled * (1 - pooled)) + z_beta * math.sqrt(
        rate_1 * (1 - rate_1) + rate_2 * (1 - rate_2)
    )
    return math.ceil((numerator / (rate_1 - rate_2)) ** 2)
