"""Model monitoring: drift of the scored population against the model's test split."""

from lead_scoring.monitoring.drift import (
    DRIFT_COLUMNS,
    drift_level,
    drift_table,
    ks_statistic,
    population_stability_index,
)

__all__ = [
    "DRIFT_COLUMNS",
    "drift_level",
    "drift_table",
    "ks_statistic",
    "population_stability_index",
]
