"""Shapley-value attribution: each channel's credit, from fct_conversion_paths.

Thin: the math is ``lead_scoring.attribution.shapley_attribution`` (tested with pytest);
the setting ``max_channels`` comes from the model's YAML ``config:``.
"""

from lead_scoring.attribution import shapley_attribution
from lead_scoring.warehouse import relation_to_pandas


def model(dbt, session):
    paths = relation_to_pandas(dbt.ref("fct_conversion_paths"))
    max_channels = int(dbt.config.get("max_channels"))
    credit = shapley_attribution(paths, max_channels=max_channels)
    return credit.astype({"channel": "string"})
