"""No DuckDB-only SQL in the layers that build on Spark (issue: the same project on Spark).

The models of ``PORTED`` build on both engines (``make spark-test`` compares the two
builds table by table). Their SQL must say engine-specific things through ``adapter.dispatch``
macros (``default__`` for DuckDB, ``spark__`` for Spark), so a DuckDB-only function written
straight into one of them is a bug on Spark that a DuckDB build cannot show: this test finds
them by pattern. The dispatched macros those models call must have a Spark variant too.
The models (and data tests) not matched are not ported yet (docs/spark.md says which).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from project import PROJECT_DIR

PORTED = (
    "models/**/*.sql",
    # the data tests (singular and generic) run on Spark too
    "tests/dbt/**/*.sql",
    # every macro, less the bodies of its default__ (DuckDB) variants
    "macros/**/*.sql",
)
# dispatched macros whose default__ is portable SQL, so Spark falls back to it on purpose
PORTABLE_DEFAULTS = {
    "scoring_at": "a timestamp literal cast, read from raw.run_context with run_query",
    "feature_snapshot_strategy": "'append'; on Spark the snapshot tables rebuild in full anyway",
}

# DuckDB-only SQL: the pattern and what to write instead
DUCKDB_ONLY = {
    r",\s*'g'\s*\)": "regexp_replace's 'g' flag: end the call with {{ regexp_global() }}",
    r"\bas\s+varchar\b": "cast(... as varchar): {{ dbt.type_string() }}",
    r"::\s*[a-z]": "a :: cast: cast(... as ...)",
    r"\bregexp_matches\s*\(": "regexp_matches: {{ regex_matches(...) }}",
    r"\b(read_parquet|read_csv|read_csv_auto|read_json|glob)\s*\(": "a DuckDB file reader",
    # a call, not a method of a Jinja object (run_started_at.strftime) or a dbt macro
    r"(?<![.\w])(arg_max|arg_min|list_\w+|struct_pack|string_agg|unnest|epoch|epoch_ms|date_diff|"
    r"isfinite|timezone|typeof|strftime|strptime|generate_series|regexp_full_match|read_blob|try|"
    r"json_(?:extract\w*|type|valid|keys|array\w*|object|transform\w*|structure|contains|exists|"
    r"value))\s*\(": "a DuckDB function",
    r"\basof\s+(left\s+)?join\b": "an ASOF join: {{ asof_join(...) }}",
    r"\bqualify\b": "QUALIFY: filter a window in an outer select",
    r"\*\s*exclude\s*\(": "select * exclude (...): list the columns",
    r"\bnot\s+materialized\b": "a CTE hint: {{ inline_cte() }}",
    r"\)\s*filter\s*\(\s*where\b[^)]*\)\s*over\b": "an aggregate FILTER in a window",
}

JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.S)
# a macro's DuckDB variant: engine-specific by design
DUCKDB_VARIANT = re.compile(
    r"\{%-?\s*macro\s+(default|duckdb)__\w+\s*\(.*?\{%-?\s*endmacro\s*-?%\}", re.S
)
SQL_COMMENT = re.compile(r"--[^\n]*")


def _blank(match: re.Match) -> str:
    return "\n" * match.group(0).count("\n")  # the line numbers stay


def code_for_spark(text: str) -> str:
    """The SQL and Jinja of a file that Spark runs: comments and default__ (DuckDB) macro
    bodies left out."""
    code = DUCKDB_VARIANT.sub(_blank, JINJA_COMMENT.sub(_blank, text))
    return SQL_COMMENT.sub("", code)


def duckdb_only_sql(text: str) -> list[tuple[int, str, str]]:
    """(line, matched text, advice) of every DuckDB-only construct in the code of a model, a
    data test or a macro file that Spark runs (:func:`code_for_spark`)."""
    code = code_for_spark(text)
    found = []
    for pattern, advice in DUCKDB_ONLY.items():
        for match in re.finditer(pattern, code, re.I | re.S):
            found.append((code.count("\n", 0, match.start()) + 1, match.group(0), advice))
    return sorted(found)


def ported_models() -> list[Path]:
    return sorted(p for pattern in PORTED for p in PROJECT_DIR.glob(pattern))


def dispatched_macros() -> dict[str, set[str]]:
    """macro name -> the adapters it has a variant for (default, spark, ...)."""
    variants: dict[str, set[str]] = {}
    for path in (PROJECT_DIR / "macros").rglob("*.sql"):
        for adapter, name in re.findall(
            r"\{%-?\s*macro\s+(default|spark|duckdb)__(\w+)\s*\(", path.read_text()
        ):
            variants.setdefault(name, set()).add(adapter)
    return variants


def test_the_scanner_finds_each_kind_of_duckdb_only_sql() -> None:
    sample = """
        select
            regexp_replace(lower(x), '\\s+', ' ', 'g') as a,  -- the 'g' flag
            cast(y as varchar) as b,
            y::int as c,
            arg_max(z, t) as d,
            min(t) filter (where t > 0) over (partition by k) as e
        from t asof join u on true
        qualify row_number() over () = 1
    """
    advice = {a for _, _, a in duckdb_only_sql(sample)}
    assert len(advice) == 7, advice
    # DuckDB's JSON functions are DuckDB functions
    assert duckdb_only_sql("select json_extract_string(m, '$.auc')")
    # a DuckDB variant of a dispatched macro is DuckDB's own; the Spark one is scanned
    variants = """
        {% macro default__f(x) -%} json_extract_string({{ x }}, '$.a') {%- endmacro %}
        {% macro spark__f(x) -%} get_json_object({{ x }}, '$.a') {%- endmacro %}
        {% macro spark__g(x) -%} cast({{ x }} as varchar) {%- endmacro %}
    """
    assert [(line, text) for line, text, _ in duckdb_only_sql(variants)] == [(4, "as varchar")]
    # a Jinja method or a dbt macro of the same name is not the SQL function
    assert duckdb_only_sql("{{ run_started_at.strftime('%Y') }} {{ dbt.generate_series(9) }}") == []
    # comments do not count, portable SQL passes
    assert duckdb_only_sql("-- cast(y as varchar)\n{# arg_max(x) #}\nselect 1") == []
    assert (
        duckdb_only_sql(
            "select regexp_replace(x, 'a', 'b'{{ regexp_global() }}), "
            "cast(y as {{ dbt.type_string() }})"
        )
        == []
    )


@pytest.mark.parametrize("path", ported_models(), ids=lambda p: p.name)
def test_ported_models_hold_no_duckdb_only_sql(path: Path) -> None:
    found = duckdb_only_sql(path.read_text())
    assert not found, "\n".join(
        f"{path.relative_to(PROJECT_DIR)}:{line}: {text!r}: {advice}"
        for line, text, advice in found
    )


def test_dispatched_macros_of_ported_models_have_a_spark_variant() -> None:
    variants = dispatched_macros()
    called = {
        name
        for path in ported_models()
        # a call, not the definition of the dispatching macro itself
        for name in re.findall(r"(?<!macro )\b(\w+)\s*\(", code_for_spark(path.read_text()))
        if name in variants
    }
    assert called, "the ported models call no dispatched macro: the scan is broken"
    missing = sorted(
        name for name in called if "spark" not in variants[name] and name not in PORTABLE_DEFAULTS
    )
    assert not missing, f"dispatched macros called by ported models without spark__: {missing}"
