"""Reading what `lead-scoring publish` wrote: its manifest, and rows of a DuckDB file."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from lead_scoring.publish import MANIFEST


def read_manifest(folder: Path) -> dict:
    """The manifest of the publication in folder (its tables, files, rows and columns)."""
    return json.loads((folder / MANIFEST).read_text())


def fetch_rows(path: Path, sql: str) -> list[tuple]:
    """The rows of a query on a DuckDB file, opened read-only."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()
