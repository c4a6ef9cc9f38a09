"""Long-format evaluation metrics of every model and split (output interface).

Thin: ``lead_scoring.ml.tables.evaluation_table`` (tested with pytest) unpacks this table from the
active ml_models row, written by the run that trained it (see ml_models); the columns and dtypes are
declared once, in ``lead_scoring.ml.tables.EVALUATION_TABLES``. Empty for the rule-based fallback.
"""

from lead_scoring.ml.tables import evaluation_table
from lead_scoring.warehouse import relation_to_pandas


def model(dbt, session):
    return evaluation_table(relation_to_pandas(dbt.ref("ml_models")), "ml_model_metrics")
