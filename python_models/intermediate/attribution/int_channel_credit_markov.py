"""Markov-chain attribution: each channel's removal effect and credit, from fct_conversion_paths.

Thin: the math is ``lead_scoring.attribution.markov_attribution`` (tested with pytest);
the settings ``order`` and ``collapse_repeats`` come from the model's YAML ``config:``.
"""

from lead_scoring.attribution import markov_attribution
from lead_scoring.warehouse import relation_to_pandas


def model(dbt, session):
    paths = relation_to_pandas(dbt.ref("fct_conversion_paths"))
    order = int(dbt.config.get("order"))
    collapse_repeats = bool(dbt.config.get("collapse_repeats"))
    credit = markov_attribution(paths, order=order, collapse_repeats=collapse_repeats)
    return credit.astype({"channel": "string"})
