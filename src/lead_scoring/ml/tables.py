"""The evaluation tables of a training run: one schema each, packed into ml_models, unpacked.

A dbt Python model returns a single frame, so ``ml_models`` (:mod:`.build`) carries the evaluation
tables of the run that trained its row as JSON columns (``*_table_json``, pandas
``orient='table'``, whose embedded schema keeps the dtypes), and seven tiny dbt models --
ml_model_metrics, ml_calibration_bins, ml_lift_by_decile, ml_feature_importance,
ml_segment_metrics, ml_confusion_matrix and ml_split_boundaries -- unpack the active row's tables
with :func:`evaluation_table`: the model is trained once.

:data:`EVALUATION_TABLES` is the one declaration of each table: its dbt model, the ``ml_models``
column that carries it, the :class:`~.pipeline.TrainingResult` attribute it comes from and its
columns with their dtypes (the dtypes of an empty table: the rule-based fallback's, or a run
without that table). The dbt YAML documents the same columns in the same order; a pytest checks it.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from lead_scoring.ml.registry import active_model

__all__ = [
    "EVALUATION_TABLES",
    "EvaluationTable",
    "empty_table",
    "evaluation_table",
    "pack_table",
    "table_json",
]


@dataclass(frozen=True)
class EvaluationTable:
    """One evaluation table: dbt ``model``, ``ml_models`` ``json_column``, ``TrainingResult``
    ``attribute``, and ``dtypes`` (column -> pandas dtype, in the table's column order)."""

    model: str
    json_column: str
    attribute: str
    dtypes: Mapping[str, str]

    @property
    def columns(self) -> list[str]:
        return list(self.dtypes)


_S, _F, _I, _B, _T = "string", "float64", "int64", "bool", "datetime64[ns]"
# the columns that say which model and split a row is about
_RUN = {"model_version": _S, "model_name": _S, "split": _S}

EVALUATION_TABLES: dict[str, EvaluationTable] = {
    table.model: table
    for table in (
        EvaluationTable(
            "ml_model_metrics",
            "metrics_table_json",
            "metrics",
            {**_RUN, "metric": _S, "value": _F},
        ),
        EvaluationTable(
            "ml_calibration_bins",
            "calibration_bins_table_json",
            "calibration_bins",
            {
                **_RUN,
                "bin": _I,
                "bin_lower": _F,
                "bin_upper": _F,
                "mean_predicted": _F,
                "observed_rate": _F,
                "count": _I,
                "n_positives": _I,
            },
        ),
        EvaluationTable(
            "ml_lift_by_decile",
            "lift_table_json",
            "lift",
            {
                **_RUN,
                "decile": _I,
                "n_rows": _I,
                "n_positives": _I,
                "conversion_rate": _F,
                "lift": _F,
                "min_probability": _F,
                "max_probability": _F,
                "mean_probability": _F,
                "cumulative_rows": _I,
                "cumulative_positives": _I,
                "cumulative_conversion_rate": _F,
                "cumulative_lift": _F,
                "cumulative_recall": _F,
            },
        ),
        EvaluationTable(
            "ml_feature_importance",
            "feature_importance_table_json",
            "feature_importance",
            {
                "model_version": _S,
                "feature": _S,
                "feature_label": _S,
                "mean_abs_shap": _F,
                "share": _F,
                "rank": _I,
                "gain": _F,
            },
        ),
        EvaluationTable(
            "ml_segment_metrics",
            "segment_metrics_table_json",
            "segment_metrics",
            {
                **_RUN,
                "segment_column": _S,
                "segment_value": _S,
                "n_rows": _I,
                "n_positives": _I,
                "positive_rate": _F,
                "mean_predicted": _F,
                "calibration_gap": _F,
                "auc": _F,
                "overall_auc": _F,
                "auc_gap": _F,
                "is_flagged": _B,
                "flag_reason": _S,
            },
        ),
        EvaluationTable(
            "ml_split_boundaries",
            "split_boundaries_table_json",
            "split_boundaries",
            {
                "model_version": _S,
                "split": _S,
                "start": _T,
                "end": _T,
                "end_inclusive": _B,
                "purge_cutoff": _T,
                "horizon_days": _I,
                "n_rows": _I,
                "n_positives": _I,
                "n_positive_leads": _I,
                "positive_rate": _F,
                "n_train_rows": _I,
                "n_train_positive_leads": _I,
                "n_rows_trained": _I,
                "is_used": _B,
                "dropped_reason": _S,
            },
        ),
        EvaluationTable(
            "ml_confusion_matrix",
            "confusion_table_json",
            "confusion",
            {
                **_RUN,
                "threshold": _F,
                "tp": _I,
                "fp": _I,
                "tn": _I,
                "fn": _I,
                "precision": _F,
                "recall": _F,
                "f1": _F,
            },
        ),
    )
}


def table_json(frame: pd.DataFrame) -> str:
    """``frame`` as pandas ``orient='table'`` JSON (the schema rides along), without its index."""
    return frame.reset_index(drop=True).to_json(orient="table", index=False, date_format="iso")


def empty_table(table: EvaluationTable) -> pd.DataFrame:
    """No rows, the declared columns and dtypes."""
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in table.dtypes.items()})


def pack_table(table: EvaluationTable, frame: pd.DataFrame | None = None) -> str:
    """The ``ml_models`` cell of ``table``: ``frame`` as JSON, or the declared empty table when
    ``frame`` is None or has no rows (the rule fallback, a run without the table)."""
    return table_json(frame if frame is not None and len(frame) else empty_table(table))


def evaluation_table(registry: pd.DataFrame, model: str) -> pd.DataFrame:
    """The body of the dbt model ``model`` (a key of :data:`EVALUATION_TABLES`): the table the
    active ml_models row (:func:`~.registry.active_model`) carries, with the dtypes its JSON
    declares and the declared columns, in order (one a row of an older release lacks: missing)."""
    table = EVALUATION_TABLES[model]
    row = active_model(registry)
    frame = pd.read_json(io.StringIO(row[table.json_column]), orient="table")
    return frame.reindex(columns=table.columns)
