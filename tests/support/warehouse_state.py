"""The state a warehouse holds that no rebuild brings back, dumped for comparison."""

from __future__ import annotations

from pathlib import Path

import duckdb

from lead_scoring.state import STATE_TABLES


def dump_state(path: Path) -> dict:
    """Every state table of the warehouse (those present), its rows in a stable order."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        present = set(
            con.execute("select table_schema, table_name from information_schema.tables").fetchall()
        )
        return {
            f"{s}.{t}": sorted(con.execute(f"select * from {s}.{t}").fetchall(), key=str)
            for s, t in STATE_TABLES
            if (s, t) in present
        }
    finally:
        con.close()
