"""Compare the models two builds trained: the same scored leads, and test AUCs within a margin.

    python scripts/compare_test_auc.py DUCKDB.duckdb SPARK_EXPORT.duckdb --max-difference 0.005

What ``make spark-test`` checks of the training and scoring layers, whose tables the exact
comparison (``compare_warehouses.py``) cannot pair: a model trained on the other engine's
frames may differ in the last bits, and its ``model_version`` hashes the time it was trained.
Both warehouses must score the same leads (``scored_leads``: the same ``lead_id`` set, the same
count), and every model evaluated on the test fold (``ml_model_metrics``, split ``test``, metric
``auc``: XGBoost, logistic regression, the rule points) must have an AUC on both sides, within
``--max-difference`` of each other. Prints one line per model; exits 1 naming what differs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

MAX_DIFFERENCE = 0.005


def _relation(catalog: str, name: str) -> str:
    """A relation of the main schema, where the build and spark_export.py write every model
    (the schema compare_warehouses.py reads too)."""
    return f'"{catalog}".main."{name}"'


def compare(before: Path, after: Path, max_difference: float = MAX_DIFFERENCE) -> list[str]:
    """The differences (empty when the builds agree), after printing what was compared."""
    con = duckdb.connect()
    for alias, path in (("before", before), ("after", after)):
        con.execute(f"attach '{str(path).replace(chr(39), chr(39) * 2)}' as {alias} (read_only)")
    problems = []
    leads = {}
    for side in ("before", "after"):
        rows = con.execute(f"select lead_id from {_relation(side, 'scored_leads')}").fetchall()
        leads[side] = [r[0] for r in rows]
    same = set(leads["before"]) == set(leads["after"]) and len(leads["before"]) == len(
        leads["after"]
    )
    print(f"scored_leads: {len(leads['before'])} and {len(leads['after'])} leads, same: {same}")
    if not same:
        problems.append("scored_leads: the scored leads differ")
    auc = {}
    for side in ("before", "after"):
        metrics = _relation(side, "ml_model_metrics")
        auc[side] = dict(
            con.execute(
                f"select model_name, value from {metrics} where split = 'test' and metric = 'auc'"
            ).fetchall()
        )
    for model in sorted(set(auc["before"]) | set(auc["after"])):
        a, b = auc["before"].get(model), auc["after"].get(model)
        if a is None or b is None:
            problems.append(f"{model}: a test AUC on one side only")
            print(f"test AUC {model}: {a} and {b}")
            continue
        print(f"test AUC {model}: {a:.4f} and {b:.4f} (difference {abs(a - b):.4f})")
        if abs(a - b) > max_difference:
            problems.append(f"{model}: test AUC {a:.4f} against {b:.4f}, over {max_difference}")
    if not auc["before"]:
        problems.append("ml_model_metrics: no test AUC (no model trained)")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--max-difference", type=float, default=MAX_DIFFERENCE)
    args = parser.parse_args(argv)
    try:
        problems = compare(args.before, args.after, args.max_difference)
    except duckdb.Error as error:  # no such file, or no scored_leads or ml_model_metrics
        print(f"compare_test_auc: {str(error).splitlines()[0]}")
        return 1
    for problem in problems:
        print(f"DIFFERENT {problem}")
    print("same leads, test AUCs within the margin" if not problems else "models differ")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
