"""One place where a dbt Python model's input becomes pandas, on either engine.

``dbt.ref()`` and ``session.sql()`` return a DuckDB relation on the DuckDB target and a Spark
DataFrame on the Spark target (docs/spark.md); the package's functions take pandas. The models
call ``to_pandas`` instead of an engine's own method (``.df()``, ``.toPandas()``)."""

from __future__ import annotations

import pandas as pd


def to_pandas(frame) -> pd.DataFrame:
    """A DuckDB relation, a Spark DataFrame, an Arrow table or a pandas DataFrame as pandas."""
    if isinstance(frame, pd.DataFrame):
        return frame
    if hasattr(frame, "toPandas"):  # pyspark.sql.DataFrame (through Arrow when enabled)
        return frame.toPandas()
    if hasattr(frame, "df"):  # duckdb.DuckDBPyRelation
        return frame.df()
    if hasattr(frame, "to_pandas"):  # pyarrow.Table
        return frame.to_pandas()
    raise TypeError(f"cannot read a {type(frame).__name__} as a pandas DataFrame")
