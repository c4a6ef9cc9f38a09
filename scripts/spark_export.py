"""Copy the tables and views a Spark build of this project wrote into a DuckDB file, typed as a
DuckDB build of the same data types them, so that ``scripts/compare_warehouses.py`` can compare
the two builds (``make spark-test``).

    .venv-spark/bin/python scripts/spark_export.py --spark-dir DIR --reference DUCKDB \
        --out EXPORT.duckdb MODEL [MODEL ...]

Runs in ``.venv-spark`` (PySpark and DuckDB). ``--spark-dir`` is the folder of the Spark target
(env ``LEAD_SCORING_SPARK_DIR``: the Parquet tables and the Derby metastore, which only one
process may open, so run this after dbt has finished). Each relation of schema ``lead_scoring``
named on the command line is read through Arrow and written to ``--out`` with the column types it
has in ``--reference`` (the DuckDB build of the same sample): a Spark ``int`` and a DuckDB
``INTEGER`` are the same column; a value that does not fit the DuckDB type fails the export,
naming the relation and the column. Timestamps are read in UTC, as both builds write them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
from pyspark.sql import SparkSession


def spark_session(spark_dir: Path) -> SparkSession:
    """A local session on the Spark target's metastore and tables (profiles.yml, target spark)."""
    return (
        SparkSession.builder.master("local[2]")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.warehouse.dir", str(spark_dir / "tables"))
        .config(
            "spark.hadoop.javax.jdo.option.ConnectionURL",
            f"jdbc:derby:;databaseName={spark_dir / 'metastore_db'};create=true",
        )
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config(
            "spark.driver.extraJavaOptions", f"-Dderby.stream.error.file={spark_dir / 'derby.log'}"
        )
        .enableHiveSupport()
        .getOrCreate()
    )


def reference_types(reference: Path, name: str) -> list[tuple[str, str]]:
    con = duckdb.connect(str(reference), read_only=True)
    try:
        return con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'main' and table_name = ? order by ordinal_position",
            [name],
        ).fetchall()
    finally:
        con.close()


def export(
    spark: SparkSession,
    reference: Path,
    out: Path,
    names: list[str],
    engine_columns: frozenset[str] = frozenset(),
) -> list[str]:
    """Write each relation to ``out``; returns the problems (a relation or column missing).
    ``engine_columns`` (an engine's own hash, which the comparison leaves out) are written as
    nulls of the reference type."""
    problems: list[str] = []
    con = duckdb.connect(str(out))
    con.execute("set TimeZone = 'UTC'")
    try:
        for name in names:
            columns = reference_types(reference, name)
            if not columns:
                problems.append(f"{name}: not in the DuckDB build {reference}")
                continue
            if not spark.catalog.tableExists(f"lead_scoring.{name}"):
                problems.append(f"{name}: not built on Spark")
                continue
            frame = spark.table(f"lead_scoring.{name}")
            missing = [c for c, _ in columns if c not in frame.columns]
            extra = [c for c in frame.columns if c not in {c for c, _ in columns}]
            if missing or extra:
                problems.append(
                    f"{name}: columns differ: only DuckDB {missing}, only Spark {extra}"
                )
                continue
            batches = frame.select(*[c for c, _ in columns])._collect_as_arrow()
            table = (
                pa.Table.from_batches(batches)
                if batches
                else pa.Table.from_pandas(frame.limit(0).toPandas())
            )
            con.register("spark_rows", table)
            casts = ", ".join(
                f'cast({"null" if c in engine_columns else chr(34) + c + chr(34)} as {t}) as "{c}"'
                for c, t in columns
            )
            try:
                con.execute(
                    f'create or replace table main."{name}" as select {casts} from spark_rows'
                )
            except duckdb.Error as exc:
                problems.append(f"{name}: a value does not fit the DuckDB type: {exc}")
            finally:
                con.unregister("spark_rows")
            print(f"  exported {name}: {table.num_rows} rows", flush=True)
    finally:
        con.close()
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spark-dir", type=Path, required=True)
    parser.add_argument("--reference", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--engine-column",
        action="append",
        default=[],
        help="written as nulls: an engine's own hash (repeat the option for several)",
    )
    parser.add_argument("models", nargs="+")
    args = parser.parse_args(argv)
    args.out.unlink(missing_ok=True)
    spark = spark_session(args.spark_dir.resolve())
    spark.sparkContext.setLogLevel("ERROR")
    try:
        problems = export(
            spark, args.reference, args.out, args.models, frozenset(args.engine_column)
        )
    finally:
        spark.stop()
    for problem in problems:
        print(f"NOT EXPORTED {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
