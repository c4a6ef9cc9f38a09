"""The warehouse's state that no rebuild can bring back, and its backup.

Most of the warehouse is rebuilt from the raw files by ``dbt build``. Five tables are not: they
accumulate over runs and ``dbt build --full-refresh`` leaves them as they are (``full_refresh:
false``):

* ``main.ml_models`` -- the model registry (every trained model, its booster and calibrator);
* ``main.scored_leads_history`` -- every scoring run's scores (trend, backtest, health);
* ``main.ml_model_health`` -- one verdict per scoring run and model;
* ``crm_sync.outbox`` and ``crm_sync.delivered_state`` -- what was queued for and delivered to
  the CRM (without them the next sync resends every lead).

``lead-scoring backup-state`` (:func:`backup_state`) copies them to Parquet, one folder per
backup, written under a temporary name and renamed when complete; ``lead-scoring restore-state``
(:func:`restore_state`) puts them back into a new, empty warehouse before its first build.
``make clean`` keeps the warehouse; ``make clean-warehouse`` backs the state up first.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from lead_scoring.crm import OUTBOX_DDL
from lead_scoring.warehouse import open_warehouse

__all__ = ["STATE_TABLES", "StateError", "backup_state", "restore_state"]

STATE_TABLES: tuple[tuple[str, str], ...] = (
    ("main", "ml_models"),
    ("main", "scored_leads_history"),
    ("main", "ml_model_health"),
    ("crm_sync", "outbox"),
    ("crm_sync", "delivered_state"),
)
MANIFEST = "_state_manifest.json"


class StateError(Exception):
    """A problem the user can fix (missing warehouse or backup, a table already holding rows)."""


@dataclass
class StateSummary:
    folder: Path
    rows: dict[str, int]

    def lines(self) -> list[str]:
        tables = ", ".join(f"{name} {n:,}" for name, n in self.rows.items()) or "no state table"
        return [f"{self.folder}: {tables}"]


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _existing(con) -> set[tuple[str, str]]:
    return set(
        con.execute("select table_schema, table_name from information_schema.tables").fetchall()
    )


def backup_state(duckdb_path: Path | str, out_dir: Path | str) -> StateSummary:
    """Copy the state tables present in the warehouse to ``<out_dir>/<UTC time>/`` (Parquet and
    a manifest); the folder appears only when complete."""
    path = Path(duckdb_path)
    # opened before the folder is made: a missing or locked warehouse leaves no partial folder
    con = open_warehouse(path, error=StateError, hint="nothing to back up")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    final = Path(out_dir) / stamp
    partial = Path(out_dir) / f".{stamp}.partial"
    rows: dict[str, int] = {}
    try:
        partial.mkdir(parents=True)
        present = _existing(con)
        for schema, table in STATE_TABLES:
            if (schema, table) not in present:
                continue
            name = f"{schema}.{table}"
            target = partial / f"{name}.parquet"
            query = f"select * from {schema}.{table}"
            con.execute(f"copy ({query}) to {_quote(target)} (format parquet)")
            rows[name] = int(con.execute(f"select count(*) from {schema}.{table}").fetchall()[0][0])
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    finally:
        con.close()
    manifest = {"warehouse": str(path.resolve()), "backed_up_at": stamp, "tables": rows}
    (partial / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(partial, final)
    return StateSummary(final, rows)


def restore_state(duckdb_path: Path | str, backup_dir: Path | str) -> StateSummary:
    """Create the state tables of a backup in a warehouse that does not hold them (with rows)
    yet: a new warehouse, before its first ``dbt build``, which then appends to them."""
    folder = Path(backup_dir)
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise StateError(f"{folder} is not a state backup (no {MANIFEST})")
    tables = json.loads(manifest_path.read_text())["tables"]
    con = open_warehouse(Path(duckdb_path), read_only=False, create=True, error=StateError)
    try:
        present = _existing(con)
        for name in tables:
            schema, table = name.split(".", 1)
            if (schema, table) in present:
                n = con.execute(f"select count(*) from {schema}.{table}").fetchall()[0][0]
                if n:
                    raise StateError(
                        f"{duckdb_path} already holds {name} ({n:,} rows): restore into a new "
                        "warehouse, before its first build"
                    )
        con.execute("begin transaction")
        for name in tables:
            schema, table = name.split(".", 1)
            con.execute(f"create schema if not exists {schema}")
            con.execute(f"drop table if exists {schema}.{table}")
            source = f"read_parquet({_quote(folder / f'{name}.parquet')})"
            if schema == "crm_sync":  # the sync's own DDL: delivered_state keeps its primary key
                con.execute(OUTBOX_DDL)
                con.execute(f"insert into {schema}.{table} by name select * from {source}")
            else:
                con.execute(f"create table {schema}.{table} as select * from {source}")
        con.execute("commit")
        rows = {
            name: int(con.execute(f"select count(*) from {name}").fetchall()[0][0])
            for name in tables
        }
    finally:
        con.close()
    return StateSummary(folder, rows)
