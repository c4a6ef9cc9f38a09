"""dbt Python models on a local SparkSession: a submission method for dbt-spark's ``session``.

dbt-spark runs SQL in a SparkSession inside the dbt process (``method: session``), but submits
Python models only to Databricks (its ``all_purpose_cluster`` and ``job_cluster`` methods call
Databricks' REST API). This module adds the missing piece, a ``session`` submission method: the
model's compiled code (the model, dbt's ``dbtObj`` and dbt-spark's table writer) runs in the same
process with ``spark`` bound to that SparkSession. It is the default submission method of a
``session`` target; other targets keep dbt-spark's methods.

It is installed by running dbt through this module (``make spark-test`` does)::

    .venv-spark/bin/python -m lead_scoring.spark_session build --target spark ...

which registers the method and then hands the arguments to dbt's own command line. On
Databricks, use dbt-databricks and its submission methods instead (docs/spark.md).
"""

from __future__ import annotations

import sys
import threading
from typing import Any

SUBMISSION_METHOD = "session"
PANDAS_ON_SPARK = "pyspark.pandas"
_ABSENT = object()
# dbt's threads run SQL models side by side; Python models one at a time, since hiding
# pyspark.pandas (submit) changes sys.modules for the whole process
_PYTHON_MODEL = threading.Lock()
# Spark loggers whose warnings say nothing to a dbt user, set to ERROR once a session exists:
# dbt-spark builds a session with the profile's settings for every query, and Spark warns each time
# that only runtime settings apply to the running session (856 lines in one make spark-test); the
# metastore repeats "Failed to get database parquet"
QUIET_LOGGERS = (
    "org.apache.spark.sql.SparkSession",
    "org.apache.hadoop.hive.metastore.ObjectStore",
)


class SessionPythonJobHelper:
    """Run a Python model's compiled code in the dbt process's SparkSession (dbt-spark's
    ``PythonJobHelper`` interface: built with the parsed model and the credentials, then
    ``submit(compiled_code)``)."""

    def __init__(self, parsed_model: dict, credentials: Any) -> None:
        self.parsed_model = parsed_model
        self.credentials = credentials

    def spark(self):
        """The SparkSession dbt-spark's session connection uses (the same builder settings, so
        getOrCreate returns it, or creates it the same way if no SQL ran yet)."""
        from pyspark.sql import SparkSession

        builder = SparkSession.builder.enableHiveSupport()
        for parameter, value in (self.credentials.server_side_parameters or {}).items():
            builder = builder.config(parameter, value)
        return builder.getOrCreate()

    def submit(self, compiled_code: str) -> dict:
        """Run the compiled model; returns its namespace (dbt reads nothing from it)."""
        name = self.parsed_model.get("original_file_path") or self.parsed_model["alias"]
        namespace = {"__name__": f"dbt_python_model_{self.parsed_model['alias']}"}
        namespace["spark"] = self.spark()
        # dbt-spark's writer turns a returned pandas DataFrame into a Spark one through
        # pandas-on-Spark when `import pyspark.pandas` works; in PySpark 3.5 that import fails
        # on NumPy 2 (np.NaN), with an error the writer does not catch. Hidden for the run, the
        # writer takes spark.createDataFrame (through Arrow): the one pandas-to-Spark path.
        with _PYTHON_MODEL:
            hidden = sys.modules.get(PANDAS_ON_SPARK, _ABSENT)
            sys.modules[PANDAS_ON_SPARK] = None
            try:
                exec(compile(compiled_code, name, "exec"), namespace)  # noqa: S102 - dbt's model
            finally:
                if hidden is _ABSENT:
                    del sys.modules[PANDAS_ON_SPARK]
                else:
                    sys.modules[PANDAS_ON_SPARK] = hidden
        return namespace


def quiet_spark_logs(session: Any) -> None:
    """Set QUIET_LOGGERS to ERROR in the session's JVM (Spark's log4j 2)."""
    log4j = session._jvm.org.apache.logging.log4j
    for name in QUIET_LOGGERS:
        log4j.core.config.Configurator.setLevel(name, log4j.Level.ERROR)


def _quiet_sessions() -> None:
    """Every session a SparkSession builder returns has QUIET_LOGGERS quieted (once per session:
    the level holds in its JVM)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:  # dbt without PySpark: no session to quiet
        return
    builder = SparkSession.Builder
    if getattr(builder, "_lead_scoring_quiet", False):
        return
    get_or_create = builder.getOrCreate

    def getOrCreate(self):  # noqa: N802 - PySpark's name
        session = get_or_create(self)
        if not getattr(session, "_lead_scoring_quiet", False):
            quiet_spark_logs(session)
            session._lead_scoring_quiet = True
        return session

    builder.getOrCreate = getOrCreate
    builder._lead_scoring_quiet = True


def install() -> None:
    """Register the ``session`` submission method on dbt-spark's adapter, as the default of a
    target whose method is ``session``, and make this interpreter (the Spark virtualenv's, with
    pandas and XGBoost) the one Spark's Python workers start, unless ``PYSPARK_PYTHON`` names
    another: the distributed training's tasks run there. Idempotent."""
    import os

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    _quiet_sessions()
    from dbt.adapters.spark.impl import SparkAdapter

    if getattr(SparkAdapter, "_lead_scoring_session_submission", False):
        return
    helpers = SparkAdapter.python_submission_helpers.fget
    default = SparkAdapter.default_python_submission_method.fget

    def python_submission_helpers(self):
        return {**helpers(self), SUBMISSION_METHOD: SessionPythonJobHelper}

    def default_python_submission_method(self):
        method = getattr(self.config.credentials, "method", None)
        return SUBMISSION_METHOD if method == SUBMISSION_METHOD else default(self)

    SparkAdapter.python_submission_helpers = property(python_submission_helpers)
    SparkAdapter.default_python_submission_method = property(default_python_submission_method)
    SparkAdapter._lead_scoring_session_submission = True


def main() -> None:
    """``python -m lead_scoring.spark_session <dbt arguments>``: dbt's command line, with the
    session method installed (it exits with dbt's exit code)."""
    install()
    from dbt.cli.main import cli

    sys.argv[0] = "dbt"
    cli()


if __name__ == "__main__":
    main()
