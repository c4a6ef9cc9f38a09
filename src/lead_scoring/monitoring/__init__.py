"""Model monitoring: drift of the scored population against the model's recent labeled history,
re-weighted to the current lead-age mix, with a false-discovery-controlled verdict.

* :mod:`.drift` -- PSI, KS and the drift table (what is compared, and how);
* :mod:`.reweight` -- the lead-age importance weights and effective sample sizes;
* :mod:`.significance` -- the chi-square test of homogeneity and Benjamini-Hochberg;
* :mod:`.verdict` -- which rows may ask for retraining (features that grow with time do not).
"""

from lead_scoring.monitoring.drift import (
    DRIFT_COLUMNS,
    age_weighted_drift_table,
    binned_counts,
    drift_level,
    drift_table,
    ks_statistic,
    population_stability_index,
)
from lead_scoring.monitoring.reweight import (
    age_weights,
    effective_sample_size,
    weighted_quantiles,
)
from lead_scoring.monitoring.significance import benjamini_hochberg, homogeneity_test
from lead_scoring.monitoring.verdict import (
    TIME_GROWING_PATTERNS,
    parse_patterns,
    resolve_patterns,
    time_growing_pattern,
    verdict_columns,
)

__all__ = [
    "DRIFT_COLUMNS",
    "TIME_GROWING_PATTERNS",
    "age_weighted_drift_table",
    "age_weights",
    "benjamini_hochberg",
    "binned_counts",
    "drift_level",
    "drift_table",
    "effective_sample_size",
    "homogeneity_test",
    "ks_statistic",
    "parse_patterns",
    "population_stability_index",
    "resolve_patterns",
    "time_growing_pattern",
    "verdict_columns",
    "weighted_quantiles",
]
