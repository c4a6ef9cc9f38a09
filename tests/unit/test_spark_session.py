"""The Python models' two engine seams: ``lead_scoring.warehouse.relation_to_pandas`` (a DuckDB
relation, a Spark DataFrame or Arrow as pandas) and ``lead_scoring.spark_session`` (dbt Python
models run in the dbt process's SparkSession). dbt-spark and PySpark live in .venv-spark only,
so the Spark side is a stand-in here; ``make spark-test`` runs the real one."""

from __future__ import annotations

import os
import sys
import threading
import time
from types import ModuleType, SimpleNamespace

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

from lead_scoring import spark_session
from lead_scoring.warehouse import relation_to_pandas

EXPECTED = pd.DataFrame({"lead_id": ["L1", "L2"], "n": [1, 2]})


class FakeSparkFrame:
    """What the models use of a pyspark.sql.DataFrame: toPandas()."""

    def toPandas(self) -> pd.DataFrame:  # noqa: N802 - PySpark's name
        return EXPECTED.copy()


@pytest.mark.parametrize(
    "make",
    [
        lambda con: con.sql("select * from (values ('L1', 1), ('L2', 2)) t(lead_id, n)"),
        lambda con: FakeSparkFrame(),
        lambda con: pa.table({"lead_id": ["L1", "L2"], "n": [1, 2]}),
        lambda con: EXPECTED.copy(),
    ],
    ids=["duckdb", "spark", "arrow", "pandas"],
)
def test_every_engines_frame_reads_as_the_same_pandas(make) -> None:
    con = duckdb.connect()
    frame = relation_to_pandas(make(con))
    pd.testing.assert_frame_equal(
        frame.astype({"lead_id": str, "n": "int64"}), EXPECTED, check_dtype=True
    )


def test_an_unknown_frame_is_named() -> None:
    with pytest.raises(TypeError, match="cannot read a dict as a pandas DataFrame"):
        relation_to_pandas({"lead_id": ["L1"]})


def test_python_models_use_the_one_conversion() -> None:
    """No engine-specific reader in a Python model: .df() is DuckDB's, .toPandas() Spark's."""
    from project import PROJECT_DIR

    offenders = [
        f"{path.relative_to(PROJECT_DIR)}: {method}"
        for path in (PROJECT_DIR / "python_models").rglob("*.py")
        for method in (".df()", ".toPandas()", ".arrow()", ".fetchdf()")
        if method in path.read_text()
    ]
    assert not offenders, offenders


def _helper(monkeypatch, spark) -> spark_session.SessionPythonJobHelper:
    helper = spark_session.SessionPythonJobHelper(
        {"alias": "int_x", "original_file_path": "python_models/int_x.py"},
        SimpleNamespace(server_side_parameters={}),
    )
    monkeypatch.setattr(helper, "spark", lambda: spark)
    return helper


def test_a_submitted_model_runs_with_spark_bound_and_pandas_on_spark_hidden(monkeypatch) -> None:
    """The compiled code runs in this process with ``spark`` bound to the session; `import
    pyspark.pandas` fails with ImportError while it runs (so dbt-spark's writer takes
    spark.createDataFrame), and sys.modules is as before afterwards."""
    session, pandas_on_spark = object(), ModuleType("pyspark.pandas")
    # an importable pyspark.pandas: without the hiding, the model's import would succeed
    monkeypatch.setitem(sys.modules, "pyspark", ModuleType("pyspark"))
    monkeypatch.setitem(sys.modules, spark_session.PANDAS_ON_SPARK, pandas_on_spark)
    code = (
        "seen = {'spark': spark}\n"
        "try:\n"
        "    import pyspark.pandas\n"
        "    seen['pandas_on_spark'] = True\n"
        "except ImportError:\n"
        "    seen['pandas_on_spark'] = False\n"
    )
    namespace = _helper(monkeypatch, session).submit(code)
    assert namespace["seen"] == {"spark": session, "pandas_on_spark": False}
    assert sys.modules[spark_session.PANDAS_ON_SPARK] is pandas_on_spark


def test_python_models_on_two_dbt_threads_both_run_with_pandas_on_spark_hidden(monkeypatch) -> None:
    """The Spark target runs dbt on two threads: a model submitted while another runs still
    finds pyspark.pandas hidden for the whole of its run (not restored by the other's end), and
    sys.modules is as before once both are done."""
    pandas_on_spark = ModuleType("pyspark.pandas")
    monkeypatch.setitem(sys.modules, "pyspark", ModuleType("pyspark"))
    monkeypatch.setitem(sys.modules, spark_session.PANDAS_ON_SPARK, pandas_on_spark)
    code = (
        "import time\n"
        "time.sleep(0.3)\n"
        "try:\n"
        "    import pyspark.pandas\n"
        "    hidden = False\n"
        "except ImportError:\n"
        "    hidden = True\n"
    )
    results = {}

    def submit(name: str) -> None:
        results[name] = _helper(monkeypatch, object()).submit(code)["hidden"]

    threads = [threading.Thread(target=submit, args=(name,)) for name in ("first", "second")]
    for thread in threads:
        thread.start()
        time.sleep(0.1)
    for thread in threads:
        thread.join()
    assert results == {"first": True, "second": True}
    assert sys.modules[spark_session.PANDAS_ON_SPARK] is pandas_on_spark


def test_an_error_in_a_model_names_its_file_and_restores_the_modules(monkeypatch) -> None:
    before = sys.modules.get(spark_session.PANDAS_ON_SPARK, "absent")
    helper = _helper(monkeypatch, object())
    with pytest.raises(ZeroDivisionError) as failure:
        helper.submit("x = 1\ny = 1 / 0\n")
    frames = [str(entry.path) for entry in failure.traceback]
    assert "python_models/int_x.py" in frames
    assert sys.modules.get(spark_session.PANDAS_ON_SPARK, "absent") is before


def test_install_registers_the_session_method_as_default_of_a_session_target(
    monkeypatch,
) -> None:
    """install() on a stand-in of dbt-spark's SparkAdapter: `session` joins its submission
    helpers and is the default when the target's method is session, and only then."""

    class SparkAdapter:
        config = SimpleNamespace(credentials=SimpleNamespace(method="session"))

        @property
        def python_submission_helpers(self):
            return {"all_purpose_cluster": "databricks"}

        @property
        def default_python_submission_method(self):
            return "all_purpose_cluster"

    impl = SimpleNamespace(SparkAdapter=SparkAdapter)
    monkeypatch.setitem(sys.modules, "dbt.adapters.spark", SimpleNamespace(impl=impl))
    monkeypatch.setitem(sys.modules, "dbt.adapters.spark.impl", impl)
    monkeypatch.delenv("PYSPARK_PYTHON", raising=False)
    spark_session.install()
    spark_session.install()  # idempotent
    # Spark's Python workers (the distributed training's tasks) run this interpreter
    assert os.environ["PYSPARK_PYTHON"] == sys.executable
    adapter = SparkAdapter()
    assert adapter.python_submission_helpers == {
        "all_purpose_cluster": "databricks",
        "session": spark_session.SessionPythonJobHelper,
    }
    assert adapter.default_python_submission_method == "session"
    adapter.config = SimpleNamespace(credentials=SimpleNamespace(method="http"))
    assert adapter.default_python_submission_method == "all_purpose_cluster"


def test_install_keeps_a_python_for_the_workers_named_in_the_environment(monkeypatch) -> None:
    impl = SimpleNamespace(SparkAdapter=SimpleNamespace(_lead_scoring_session_submission=True))
    monkeypatch.setitem(sys.modules, "dbt.adapters.spark", SimpleNamespace(impl=impl))
    monkeypatch.setitem(sys.modules, "dbt.adapters.spark.impl", impl)
    monkeypatch.setenv("PYSPARK_PYTHON", "/opt/cluster/python3")
    spark_session.install()
    assert os.environ["PYSPARK_PYTHON"] == "/opt/cluster/python3"


def test_a_session_from_a_builder_has_the_noisy_loggers_quieted_once(monkeypatch) -> None:
    """_quiet_sessions (run by install) on a stand-in of PySpark: a session a builder returns
    has every QUIET_LOGGERS logger set to ERROR in its JVM, once per session; the builder still
    returns that session."""
    levels = []
    log4j = SimpleNamespace(
        core=SimpleNamespace(
            config=SimpleNamespace(
                Configurator=SimpleNamespace(
                    setLevel=lambda name, level: levels.append((name, level))
                )
            )
        ),
        Level=SimpleNamespace(ERROR="ERROR"),
    )
    session = SimpleNamespace(
        _jvm=SimpleNamespace(
            org=SimpleNamespace(apache=SimpleNamespace(logging=SimpleNamespace(log4j=log4j)))
        )
    )

    class Builder:
        def getOrCreate(self):  # noqa: N802 - PySpark's name
            return session

    sql = SimpleNamespace(SparkSession=SimpleNamespace(Builder=Builder))
    monkeypatch.setitem(sys.modules, "pyspark", SimpleNamespace(sql=sql))
    monkeypatch.setitem(sys.modules, "pyspark.sql", sql)
    spark_session._quiet_sessions()
    spark_session._quiet_sessions()  # idempotent: the builder is wrapped once
    assert Builder().getOrCreate() is session
    assert levels == [(name, "ERROR") for name in spark_session.QUIET_LOGGERS]
    assert Builder().getOrCreate() is session
    assert len(levels) == len(spark_session.QUIET_LOGGERS)
