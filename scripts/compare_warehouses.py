"""Compare two builds of the project table by table: the proof that a refactor changed no output.

    python scripts/compare_warehouses.py BEFORE.duckdb AFTER.duckdb

Build both warehouses from the same raw files and vars (for example the generator's
``--leads 5000 --seed 11`` with ``--vars '{raw_data_path: ..., experiment_rules_share: 0.3}'``),
one at the commit before the refactor and one after. Every table and view of the main schema
that exists in BEFORE must exist in AFTER with the same columns (names and types) and the same
rows: both sides are sorted by every column and paired row by row; exact columns must be
equal and floating-point columns equal within 1e-9 (relative), since an equivalent plan may add
numbers in another order (two builds of the same commit differ there).

Columns that hold the wall-clock time of the run (when the model was trained, when the scores
were written) differ between any two builds; they are listed in ``RUN_TIME_COLUMNS`` and left
out. Relations only in AFTER (new intermediate steps) are
listed, not compared. Exits 1 on any difference, naming the relation and the count of rows that
differ each way.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

# columns holding the wall clock of the build (they differ between any two builds)
RUN_TIME_COLUMN_NAMES = {"trained_at", "recorded_at", "checked_at"}
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


def differing_rows(con, name: str, columns: dict[str, str]) -> int:
    """Rows that differ once both sides are sorted the same way: exact columns first, then the
    floats rounded; exact columns must be equal, floats within TOLERANCE (relative)."""
    exact = [f'"{c}"' for c, t in columns.items() if not _is_float(t)]
    floats = [f'"{c}"' for c, t in columns.items() if _is_float(t)]
    order = ", ".join([*exact, *(f"round({c}::double, 6)" for c in floats)]) or "1"
    ranked = (
        "select *, row_number() over (order by {order}) as _rn from {side}.main.\"{name}\""
    )
    checks = [f"b.{c} is distinct from a.{c}" for c in exact] + [
        f"(b.{c} is null) <> (a.{c} is null) or abs(b.{c}::double - a.{c}::double) "
        f"> {TOLERANCE} * greatest(1, abs(b.{c}::double))"
        for c in floats
    ]
    return con.execute(
        f"with b as ({ranked.format(order=order, side='b', name=name)}), "
        f"a as ({ranked.format(order=order, side='a', name=name)}) "
        "select count(*) from b full join a using (_rn) "
        f"where b._rn is null or a._rn is null or {' or '.join(checks) or 'false'}"
    ).fetchone()[0]


def compare(before: Path, after: Path) -> list[str]:
    con = duckdb.connect()
    con.execute(f"attach '{before}' as b (read_only)")
    con.execute(f"attach '{after}' as a (read_only)")
    left, right = relations(con, "b"), relations(con, "a")
    problems: list[str] = []
    for name in sorted(set(right) - set(left)):
        print(f"  new in AFTER (not compared): {name}")
    for name in sorted(left):
        if name not in right:
            problems.append(f"{name}: missing in AFTER")
            continue
        if left[name] != right[name]:
            gone = {c: t for c, t in left[name].items() if right[name].get(c) != t}
            new = {c: t for c, t in right[name].items() if left[name].get(c) != t}
            problems.append(f"{name}: columns differ: BEFORE has {gone}, AFTER has {new}")
            continue
        compared = {c: t for c, t in left[name].items() if c not in RUN_TIME_COLUMN_NAMES}
        rows = con.execute(f'select count(*) from b.main."{name}"').fetchone()[0]
        after_rows = con.execute(f'select count(*) from a.main."{name}"').fetchone()[0]
        differing = differing_rows(con, name, compared)
        if differing or rows != after_rows:
            problems.append(
                f"{name}: {differing} rows differ ({rows} rows in BEFORE, {after_rows} in AFTER)"
            )
        else:
            print(f"  equal: {name} ({rows} rows, {len(compared)} of {len(left[name])} columns)")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    problems = compare(args.before, args.after)
    for problem in problems:
        print(f"DIFFERENT {problem}")
    print("identical" if not problems else f"{len(problems)} relations differ")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
