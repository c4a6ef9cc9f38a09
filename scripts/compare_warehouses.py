"""Compare two builds of the project table by table: the proof that a refactor changed no output.

    python scripts/compare_warehouses.py BEFORE.duckdb AFTER.duckdb

Build both warehouses from the same raw files and vars (for example the generator's
``--leads 5000 --seed 11`` with ``--vars '{raw_data_path: ..., experiment_rules_share: 0.3}'``),
one at the commit before the refactor and one after. Every table and view of the main schema
that exists in BEFORE must exist in AFTER with the same columns (names and types) and the same
rows: both sides are sorted by every column and paired row by row; exact columns must be
equal and floating-point columns equal within 1e-9 (relative), since an equivalent plan may add
numbers in another order (two builds of the same commit differ there).

The same comparison proves that incremental daily runs equal a full refresh
(tests/e2e/test_incremental.py imports ``compare``; ``names`` limits it to the relations of the
models a test built).

Columns that hold the wall-clock time of the run (when the model was trained, when the scores
were written, when an incremental partition was last recomputed) differ between any two builds;
they are listed in ``RUN_TIME_COLUMN_NAMES`` and left
out. Relations only in AFTER (new intermediate steps) are
listed, not compared. Exits 1 on any difference, naming the relation and the count of rows that
differ each way.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import duckdb

# columns holding the wall clock of the build (they differ between any two builds)
RUN_TIME_COLUMN_NAMES = {"trained_at", "recorded_at", "checked_at"}
# when an incremental partition was last recomputed (the start of that dbt run): the only columns
# an incremental build and a full refresh of the same data may not share
RUN_TIME_COLUMN_NAMES |= {"ledger_loaded_at", "source_loaded_at"}
FLOAT_TYPES = {"DOUBLE", "FLOAT", "REAL"}
TOLERANCE = 1e-9  # relative, for floating-point columns


def relations(con, catalog: str) -> dict[str, dict[str, str]]:
    rows = con.execute(
        "select table_name, column_name, data_type from information_schema.columns "
        f"where table_catalog = '{catalog}' and table_schema = 'main' "
        "order by table_name, ordinal_position"
    ).fetchall()
    out: dict[str, dict[str, str]] = {}
    for table, column, dtype in rows:
        if "__dbt_tmp" not in table:  # the staging table of an incremental Python model
            out.setdefault(table, {})[column] = dtype
    return out


def _is_float(dtype: str) -> bool:
    return dtype in FLOAT_TYPES or dtype.startswith("DECIMAL")


def _count(con, rows: str) -> int:
    return con.execute(f"select count(*) from {rows}").fetchall()[0][0]


def _rows(side: str, name: str, keep: str | None = None) -> str:
    """The rows of relation ``name`` on ``side`` (b or a) compared: all, or those ``keep`` holds
    for (a SQL predicate)."""
    relation = f'{side}.main."{name}"'
    return relation if keep is None else f"(select * from {relation} where {keep})"


def differing_rows(
    con, name: str, columns: dict[str, str], tolerance: float = TOLERANCE, keep: str | None = None
) -> int:
    """Rows that differ once both sides are sorted the same way: exact columns first, then the
    floats rounded; exact columns must be equal, floats within ``tolerance`` (relative).
    ``keep``: a predicate on the rows compared (all by default)."""
    exact = [f'"{c}"' for c, t in columns.items() if not _is_float(t)]
    floats = [f'"{c}"' for c, t in columns.items() if _is_float(t)]
    order = ", ".join([*exact, *(f"round({c}::double, 6)" for c in floats)]) or "1"
    ranked = "select *, row_number() over (order by {order}) as _rn from {rows}"
    checks = [f"b.{c} is distinct from a.{c}" for c in exact] + [
        f"(b.{c} is null) <> (a.{c} is null) or abs(b.{c}::double - a.{c}::double) "
        f"> {tolerance} * greatest(1, abs(b.{c}::double))"
        for c in floats
    ]
    return con.execute(
        f"with b as ({ranked.format(order=order, rows=_rows('b', name, keep))}), "
        f"a as ({ranked.format(order=order, rows=_rows('a', name, keep))}) "
        "select count(*) from b full join a using (_rn) "
        f"where b._rn is null or a._rn is null or {' or '.join(checks) or 'false'}"
    ).fetchall()[0][0]


def rows_only_on_each_side(
    con, name: str, columns: dict[str, str], keep: str | None = None
) -> tuple[int, int]:
    """Rows of BEFORE not in AFTER and of AFTER not in BEFORE (as multisets, floats rounded to 6
    decimals): what a difference is made of, where the paired count of differing_rows also
    counts the rows shifted by one missing or extra row."""
    values = (
        ", ".join(
            f"round({c}::double, 6)" if _is_float(t) else c
            for c, t in ((f'"{c}"', t) for c, t in columns.items())
        )
        or "1"
    )
    counts = []
    for first, second in (("b", "a"), ("a", "b")):
        counts.append(
            con.execute(
                f"select count(*) from (select {values} from {_rows(first, name, keep)} "
                f"except all select {values} from {_rows(second, name, keep)})"
            ).fetchall()[0][0]
        )
    return counts[0], counts[1]


def _sql_string(value: str | Path) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def compare(
    before: Path,
    after: Path,
    *,
    names: Iterable[str] | None = None,
    log: Callable[[str], None] = print,
    ignore_columns: Iterable[str] = (),
    tolerance: float = TOLERANCE,
    skip_rows: Mapping[str, str] | None = None,
) -> list[str]:
    """The differences between the main schemas of two DuckDB files, one line per relation that
    differs (missing, other columns, or the count of rows that differ); empty when identical.
    ``names``: compare these relations only (each must exist in BEFORE); ``log`` receives a line
    per relation found equal or new in AFTER; ``ignore_columns`` are left out of the values
    compared (as RUN_TIME_COLUMN_NAMES are), ``tolerance`` bounds floats (relative);
    ``skip_rows`` maps a column to a value: in a relation with that column, the rows holding the
    value are left out (each side's count of them is logged)."""
    skipped = RUN_TIME_COLUMN_NAMES | set(ignore_columns)
    con = duckdb.connect()
    try:
        con.execute(f"attach {_sql_string(before)} as b (read_only)")
        con.execute(f"attach {_sql_string(after)} as a (read_only)")
        left, right = relations(con, "b"), relations(con, "a")
        problems: list[str] = []
        if names is not None:
            wanted = set(names)
            problems += [f"{name}: missing in BEFORE" for name in sorted(wanted - set(left))]
            left = {name: columns for name, columns in left.items() if name in wanted}
            right = {name: columns for name, columns in right.items() if name in wanted}
        for name in sorted(set(right) - set(left)):
            log(f"  new in AFTER (not compared): {name}")
        for name in sorted(left):
            problem = _compare_relation(
                con, name, left[name], right.get(name), log, skipped, tolerance, skip_rows or {}
            )
            if problem:
                problems.append(problem)
        return problems
    finally:
        con.close()


def _compare_relation(
    con,
    name: str,
    left: dict[str, str],
    right: dict[str, str] | None,
    log,
    skipped: set[str],
    tolerance: float,
    skip_rows: Mapping[str, str],
) -> str | None:
    if right is None:
        return f"{name}: missing in AFTER"
    if left != right:
        gone = {c: t for c, t in left.items() if right.get(c) != t}
        new = {c: t for c, t in right.items() if left.get(c) != t}
        return f"{name}: columns differ: BEFORE has {gone}, AFTER has {new}"
    compared = {c: t for c, t in left.items() if c not in skipped}
    skips = [(column, value) for column, value in skip_rows.items() if column in left]
    keep = (
        " and ".join(f'"{column}" is distinct from {_sql_string(value)}' for column, value in skips)
        if skips
        else None
    )
    rows = _count(con, _rows("b", name, keep))
    after_rows = _count(con, _rows("a", name, keep))
    differing = differing_rows(con, name, compared, tolerance, keep)
    if differing or rows != after_rows:
        only_before, only_after = rows_only_on_each_side(con, name, compared, keep)
        return (
            f"{name}: {differing} rows differ ({rows} rows in BEFORE, {after_rows} in AFTER; "
            f"{only_before} only in BEFORE, {only_after} only in AFTER)"
        )
    left_out = ""
    if keep is not None:
        out_before, out_after = (
            _count(con, f'{side}.main."{name}"') - kept
            for side, kept in (("b", rows), ("a", after_rows))
        )
        condition = ", ".join(f"{column} = {value}" for column, value in skips)
        left_out = f"; left out: {condition}, {out_before} and {out_after} rows"
    log(f"  equal: {name} ({rows} rows, {len(compared)} of {len(left)} columns{left_out})")
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--names", nargs="+", help="compare these relations only")
    parser.add_argument(
        "--ignore-columns", nargs="+", default=[], help="columns left out of the values compared"
    )
    parser.add_argument(
        "--tolerance", type=float, default=TOLERANCE, help="relative, for floating-point columns"
    )
    parser.add_argument(
        "--skip-rows",
        nargs="+",
        default=[],
        metavar="COLUMN=VALUE",
        help="rows left out of a relation with that column (model_name=logistic_regression)",
    )
    args = parser.parse_args(argv)
    skip_rows = {}
    for item in args.skip_rows:
        column, sep, value = item.partition("=")
        if not sep or not column:
            parser.error(f"--skip-rows {item!r}: expected COLUMN=VALUE")
        skip_rows[column] = value
    problems = compare(
        args.before,
        args.after,
        names=args.names,
        ignore_columns=args.ignore_columns,
        tolerance=args.tolerance,
        skip_rows=skip_rows,
    )
    for problem in problems:
        print(f"DIFFERENT {problem}")
    print("identical" if not problems else f"{len(problems)} relations differ")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
