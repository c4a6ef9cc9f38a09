"""The test runner's shared parse (tests/support/dbt_shared_parse.py): a run that differs from an
earlier one only in what no parse reads (a var read at run time, the warehouse's folder, the
received-events folder) starts from its parse, and gets the manifest plain dbt parses; a run that
differs in a var read while parsing parses in full, even in a folder holding another parse."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dbt_runner import run_dbt
from dbt_shared_parse import CACHE_ENV

pytestmark = pytest.mark.e2e

FULL_PARSE = "saved manifest not found. Starting full parse."
SAVED_PARSE = "Nothing changed, skipping partial parsing."
# what a parse decides of a node: a parse reused with other vars must decide it the same way
PARSED = ("config", "depends_on", "refs", "sources", "checksum", "database", "schema", "tags")


def parse(workdir: Path, cache: str, dbt_vars: dict, warehouse_folder: str = "w") -> str:
    folder = workdir.parent / warehouse_folder
    run = run_dbt(
        ["parse"],
        workdir,
        dbt_vars,
        duckdb_path=folder / "warehouse.duckdb",
        env={CACHE_ENV: cache, "LEAD_SCORING_RECEIVED_EVENTS": str(folder / "received")},
    )
    assert run.returncode == 0, run.output[-4000:]
    log = (workdir / "logs" / "dbt.log").read_text()
    # the log of this run only: dbt appends to the folder's log
    return log[log.rfind("Running with dbt=") :]


def parsed_nodes(workdir: Path) -> dict:
    manifest = json.loads((workdir / "target" / "manifest.json").read_text())
    return {
        unique_id: {key: node.get(key) for key in PARSED}
        for unique_id, node in {**manifest["nodes"], **manifest["unit_tests"]}.items()
    }


def test_a_saved_parse_is_used_only_where_plain_dbt_parses_the_same(tmp_path: Path) -> None:
    cache = str(tmp_path / "cache")
    first = {"raw_data_path": str(tmp_path / "raw_1"), "scoring_date": "2025-06-01"}
    assert FULL_PARSE in parse(tmp_path / "first", cache, first, "w1")
    # another raw folder (read at run time only), warehouse folder and received-events folder
    second = {"raw_data_path": str(tmp_path / "raw_2"), "scoring_date": "2025-06-01"}
    assert SAVED_PARSE in parse(tmp_path / "second", cache, second, "w2")
    # ... is what plain dbt (no cache) parses with the second run's vars
    assert FULL_PARSE in parse(tmp_path / "plain", "", second, "w3")
    reused, plain = parsed_nodes(tmp_path / "second"), parsed_nodes(tmp_path / "plain")
    assert len(plain) > 500 and reused == plain
    # scoring_date is read while parsing (macros/scoring_at.sql): another value parses in full,
    # in the first run's folder, whose own saved parse was made with the first value
    third = {**first, "scoring_date": "2025-06-02"}
    assert FULL_PARSE in parse(tmp_path / "first", cache, third, "w1")
    assert len(list(Path(cache).glob("*.json"))) == 2
