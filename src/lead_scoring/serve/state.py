"""The server's own copy of what online scoring reads, taken from the warehouse after a build.

:func:`build_state` opens the warehouse read-only for the few seconds of a copy and writes
``<serve_dir>/state.duckdb`` (a new file renamed into place, so a running server never reads a
half-written state):

- ``raw.leads`` / ``raw.touchpoints`` / ``raw.conversions``: the raw sources as the build read
  them (the views dbt's on-run-start registered, so with the same types), with ``lead_key``
  (``lower(trim(lead_id))``: the exact and the case-folded matches staging makes), sorted and
  indexed by it, so one lead's rows are an index lookup;
- ``seeds.*``: the seeds the feature models and the rule points read;
- ``batch.scored_leads``, ``batch.ranking`` (each open lead's arm, probability, rule points and
  model band: what ``lead_priority`` ranks), ``batch.ml_models`` (the registry) and, for the rule
  fallback only, ``batch.labeled_history`` (its points are mapped on the labeled snapshots);
- ``batch.meta``: the warehouse, its modification time, the batch's scoring time and the compiled
  feature program (:mod:`.program`).

The server never holds the warehouse's lock: it reads this file, and rebuilds it when the
warehouse changes (:class:`~.service.ScoringService`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from lead_scoring.ml.registry import active_model
from lead_scoring.serve.program import FeatureProgram
from lead_scoring.warehouse import open_warehouse, relation_to_pandas

__all__ = ["RAW_TABLES", "ServeError", "StateInfo", "build_state", "lead_key_sql"]

RAW_TABLES = ("leads", "touchpoints", "conversions")
RULES_SEED = "lead_scoring_rules"


class ServeError(RuntimeError):
    """The API cannot start or refresh (the message names the file and what to do)."""


def lead_key_sql(column: str) -> str:
    """The lookup key of a raw lead id: what staging matches exactly or case-insensitively."""
    return f"lower(trim(cast({column} as varchar)))"


@dataclass(frozen=True)
class StateInfo:
    """What a state file was built from."""

    path: Path
    warehouse: str
    warehouse_mtime: float
    batch_scored_at: str | None
    model_version: str
    model_name: str


def _quote(path: Path | str) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def build_state(
    warehouse: Path,
    serve_dir: Path,
    program: FeatureProgram,
    pinned_version: str | None = None,
) -> StateInfo:
    """Copy what online scoring needs from ``warehouse`` into ``serve_dir/state.duckdb``."""
    warehouse = Path(warehouse).resolve()
    serve_dir.mkdir(parents=True, exist_ok=True)
    mtime = warehouse.stat().st_mtime if warehouse.exists() else 0.0
    target = serve_dir / "state.duckdb"
    partial = serve_dir / "state.duckdb.partial"
    partial.unlink(missing_ok=True)
    hint = "run `make run` (dbt build) first, then start the API"
    open_warehouse(warehouse, error=ServeError, hint=hint).close()  # missing / locked: one line
    wh = duckdb.connect(":memory:")
    try:
        wh.execute(f"attach {_quote(warehouse)} as wh (read_only)")
        wh.execute("use wh")
        missing = [
            name
            for schema, name in [
                ("main", "scored_leads"),
                ("main", "ml_models"),
                ("main", "ml_scores"),
            ]
            + [("raw", t) for t in RAW_TABLES]
            + [("main", s) for s in (*program.seeds, RULES_SEED)]
            if not wh.execute(
                "select count(*) from information_schema.tables where table_catalog = 'wh' "
                "and table_schema = ? and table_name = ?",
                [schema, name],
            ).fetchall()[0][0]
        ]
        if missing:
            raise ServeError(f"the warehouse {warehouse} has no {', '.join(missing)}: {hint}")
        registry = relation_to_pandas(wh.sql("select * from main.ml_models"))
        try:
            chosen = active_model(registry, pinned_version)
        except (LookupError, ValueError) as exc:
            raise ServeError(f"{exc} (warehouse {warehouse})") from None
        wh.execute(f"attach {_quote(partial)} as state")
        for schema in ("raw", "seeds", "batch"):
            wh.execute(f"create schema state.{schema}")
        for table in RAW_TABLES:
            # the raw views read files relative to the build's working directory: a moved
            # folder is one clear line, not DuckDB's IO error
            try:
                wh.execute(
                    f"create table state.raw.{table} as select *, {lead_key_sql('lead_id')} "
                    f"as lead_key from raw.{table} order by lead_key"
                )
            except duckdb.Error as exc:
                first = str(exc).strip().splitlines()[0]
                raise ServeError(
                    f"cannot read raw.{table} of {warehouse} (its files are read from var "
                    f"raw_data_path, relative to where dbt ran): {first}"
                ) from None
            # an index for the few leads of a run: on the 100k-lead warehouse, loading ten
            # leads' rows took 77 ms through the zone maps of the sorted table, 20 ms with it
            wh.execute(f"create index {table}_lead_key on state.raw.{table} (lead_key)")
        for seed in dict.fromkeys((*program.seeds, RULES_SEED)):
            wh.execute(f"create table state.seeds.{seed} as select * from main.{seed}")
        wh.execute("create table state.batch.scored_leads as select * from main.scored_leads")
        wh.execute(
            """
            create table state.batch.ranking as
            select
                scored.lead_id,
                scored.experiment_arm,
                scores.conversion_probability,
                scores.rule_points,
                scores.score_band as model_score_band
            from main.scored_leads as scored
            inner join main.ml_scores as scores on scored.lead_id = scores.lead_id
            """
        )
        wh.execute("create table state.batch.ml_models as select * from main.ml_models")
        if chosen["model_name"] == "rule_points":
            wh.execute(
                "create table state.batch.labeled_history as select * from main.fct_lead_features "
                "where label_converted_in_horizon is not null"
            )
        scored_at = wh.execute("select max(scored_at) from main.scored_leads").fetchall()[0][0]
        meta = {
            "warehouse": str(warehouse),
            "warehouse_mtime": mtime,
            "batch_scored_at": None if scored_at is None else str(scored_at),
            "model_version": str(chosen["model_version"]),
            "model_name": str(chosen["model_name"]),
            "pinned_version": pinned_version,
            "program": program.to_json(),
        }
        wh.execute("create table state.batch.meta (meta_json varchar)")
        wh.execute("insert into state.batch.meta values (?)", [json.dumps(meta)])
        wh.execute("detach state")
    except duckdb.Error as exc:
        partial.unlink(missing_ok=True)
        first = str(exc).strip().splitlines()[0]
        raise ServeError(f"cannot copy the serving state from {warehouse}: {first}") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        wh.close()
    os.replace(partial, target)
    return StateInfo(
        target,
        str(warehouse),
        mtime,
        meta["batch_scored_at"],
        meta["model_version"],
        meta["model_name"],
    )


def read_meta(con: duckdb.DuckDBPyConnection) -> dict:
    """The ``batch.meta`` of a state file opened as ``con``'s database."""
    return json.loads(con.execute("select meta_json from batch.meta").fetchall()[0][0])
