"""Run the feature program for a few leads at a scoring time, in an in-memory DuckDB.

A :class:`Worker` owns one in-memory DuckDB (one thread) holding the whole program as **one
prepared statement** (:func:`program_statement`): every model of the program is a CTE of it (the
compiled SQL of the dbt model, its relation names pointed at the CTEs, as dbt inlines an ephemeral
model), the seeds are constant CTEs, and the three raw tables and the scoring time are the
statement's parameters (the raw rows as JSON text, every value in DuckDB's own text form, cast
back to the raw table's types). DuckDB 2.0 binds and optimizes again, on every ``EXECUTE``, a
statement that reads a table (its plan cache keeps no plan with a table scan); a statement that
reads only its parameters keeps its plan, so a run costs the execution of the plan, not the
planning of ~20 models and their few thousand expressions (on the 100k-lead warehouse, one lead:
397 ms as one statement per model, 194 ms as this one statement; docs/benchmark.md).

:meth:`Worker.features` loads the leads' raw rows from the state file (plus the events received
since the build) into the worker's loading tables, turns them into the parameters and executes
the statement: the leads' scoring snapshots of ``fct_lead_features``, the rows the batch computes
for the same leads, events and time. :class:`Engine` keeps one worker per core and hands each the
requests waiting when it frees up (micro-batching), one run per distinct scoring time.
"""

from __future__ import annotations

import contextlib
import queue
import re
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from lead_scoring.serve.program import FeatureProgram, ProgramError
from lead_scoring.serve.state import RAW_TABLES, lead_key_sql
from lead_scoring.warehouse import relation_to_pandas, sql_string

__all__ = ["Engine", "EngineClosedError", "Worker", "program_statement"]

Columns = Sequence[tuple[str, str]]  # (name, DuckDB type) of a table, in order

# a relation of the compiled SQL: [catalog.]schema.name, each part quoted or not
_RELATION = re.compile(
    r'(?<![\w."])(?:"?memory"?\s*\.\s*)?"?(raw|main)"?\s*\.\s*"?([A-Za-z_]\w*)"?(?![\w"])'
)
# what may follow a relation in a from clause when it has no alias of its own
_NOT_ALIAS = frozenset(
    (
        *("on", "using", "where", "group", "order", "having", "limit", "offset", "union"),
        *("except", "intersect", "join", "inner", "left", "right", "full", "cross", "natural"),
        *("asof", "positional", "anti", "semi", "lateral", "window", "qualify", "pivot"),
        *("unpivot", "tablesample", "returning"),
    )
)
_NEXT_TOKEN = re.compile(r'\s*("|[A-Za-z_]\w*)')
_ASOF = re.compile(r"\basof\s+(?:left\s+)?join\b", re.IGNORECASE)
CLOCK_TABLE = "scoring_clock"


class EngineClosedError(RuntimeError):
    """The engine was closed (a refresh replaced it): ask the new one."""


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _cte(schema: str, name: str) -> str:
    return f"__{schema}__{name}"


def encode_rows_sql(relation: str, columns: Columns) -> str:
    """A query of one JSON text: every row of ``relation`` as a list of its values' text."""
    values = ", ".join(f"cast({_identifier(name)} as varchar)" for name, _ in columns)
    return f"select coalesce(cast(to_json(list([{values}])) as varchar), '[]') from {relation}"


def _decode_rows(json_sql: str, columns: Columns) -> str:
    """The rows of a JSON text made by :func:`encode_rows_sql`, with their types back."""
    casts = ",\n    ".join(
        f"cast(row_values[{i}] as {kind}) as {_identifier(name)}"
        for i, (name, kind) in enumerate(columns, 1)
    )
    return (
        f"select\n    {casts}\n"
        f"from (select unnest(from_json({json_sql}, '[[\"VARCHAR\"]]')) as row_values)"
    )


def program_statement(
    program: FeatureProgram,
    raw_columns: Mapping[str, Columns],
    seeds: Mapping[str, tuple[Columns, str]],
) -> str:
    """The whole program as one select with parameters ``$1``..``$3`` (the rows of
    :data:`RAW_TABLES` as JSON texts, see :func:`encode_rows_sql`) and ``$4`` (the scoring time,
    text). ``seeds`` maps a seed to its columns and rows (a JSON text, a constant here).
    Selects the scoring snapshots of ``fct_lead_features``."""
    ctes = [
        (_cte("raw", table), _decode_rows(f"${i}::varchar", raw_columns[table]))
        for i, table in enumerate(RAW_TABLES, 1)
    ]
    clock = len(RAW_TABLES) + 1
    ctes.append(
        (_cte("raw", CLOCK_TABLE), f"select cast(${clock}::varchar as timestamp) as scoring_at")
    )
    for seed in program.seeds:
        columns, rows = seeds[seed]
        ctes.append((_cte("main", seed), _decode_rows(f"{sql_string(rows)}::varchar", columns)))
    known = {name for name, _ in ctes}
    steps = {step.name for step in program.steps}

    def point(match: re.Match) -> str:
        schema, name = match.group(1), match.group(2)
        if schema == "main" and name in steps:
            cte = _cte("model", name)
        elif _cte(schema, name) in known:
            cte = _cte(schema, name)
        else:
            raise ProgramError(
                f"the feature program reads {match.group(0)}, which is neither a raw table, a "
                "seed nor a model of the program"
            )
        # keep the name the SQL qualifies columns with (a table's own name) unless it has an alias
        following = _NEXT_TOKEN.match(match.string, match.end())
        token = following.group(1).lower() if following else None
        if token is not None and (token == '"' or token not in _NOT_ALIAS):
            return cte
        return f'{cte} as "{name}"'

    for step in program.steps:
        if _ASOF.search(step.sql):
            raise ProgramError(
                f"model {step.name} compiled with an ASOF join: the online program is compiled "
                "with var portable_asof_join (DuckDB 2.0 fails re-running a cached ASOF join)"
            )
        sql = _RELATION.sub(point, step.sql.strip().rstrip(";"))
        ctes.append((_cte("model", step.name), sql))
    body = ",\n".join(f"{name} as (\n{sql}\n)" for name, sql in ctes)
    return (
        f"with\n{body}\n"
        f"select * from {_cte('model', 'fct_lead_features')} where is_scoring_snapshot"
    )


class Worker:
    """One in-memory DuckDB set up to run ``program`` (see the module docstring)."""

    def __init__(self, state_path: Path, program: FeatureProgram) -> None:
        self.program = program
        self.state_path = Path(state_path)
        self._open()

    def _open(self) -> None:
        self.con = con = duckdb.connect(":memory:", config={"threads": 1})
        con.execute(f"attach {sql_string(self.state_path)} as state (read_only)")
        con.execute("create schema loading")  # the rows of a run, before they become parameters
        raw_columns = {}
        for table in RAW_TABLES:
            con.execute(
                f"create table loading.{table} as select * exclude (lead_key) "
                f"from state.raw.{table} limit 0"
            )
            raw_columns[table] = self._columns(f"loading.{table}")
        seeds = {}
        for seed in self.program.seeds:
            columns = self._columns(f"state.seeds.{seed}")
            rows = con.execute(encode_rows_sql(f"state.seeds.{seed}", columns)).fetchone()[0]
            seeds[seed] = (columns, rows)
        self.touchpoint_columns = [name for name, _ in raw_columns["touchpoints"]]
        statement = program_statement(self.program, raw_columns, seeds)
        try:
            con.execute(f"prepare feature_program as {statement}")
        except duckdb.Error as exc:
            con.close()
            first = str(exc).strip().splitlines()[0]
            raise ProgramError(
                f"the feature program cannot be prepared as one statement: {first}"
            ) from None
        self.encode = "select " + ", ".join(
            f"({encode_rows_sql(f'loading.{t}', raw_columns[t])})" for t in RAW_TABLES
        )

    def _columns(self, relation: str) -> list[tuple[str, str]]:
        return [(row[0], row[1]) for row in self.con.execute(f"describe {relation}").fetchall()]

    def features(
        self,
        lead_keys: Sequence[str],
        scoring_at: pd.Timestamp,
        received: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """The scoring snapshots (``is_scoring_snapshot``) of ``fct_lead_features`` for the
        leads whose :func:`~.state.lead_key_sql` is in ``lead_keys``, at ``scoring_at``, from
        their raw rows plus ``received`` (touchpoint contract columns).

        A DuckDB internal or fatal error (a DuckDB fault, which leaves the database unusable)
        opens the worker's database again and runs once more."""
        for attempt in (1, 2):
            try:
                return self._features(lead_keys, scoring_at, received)
            except (duckdb.FatalException, duckdb.InternalException):
                self._reopen()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _reopen(self) -> None:
        with contextlib.suppress(duckdb.Error):
            self.con.close()
        self._open()

    def _features(self, lead_keys, scoring_at, received) -> pd.DataFrame:
        con = self.con
        for table in RAW_TABLES:
            con.execute(f"delete from loading.{table}")
        keys = list(dict.fromkeys(lead_keys))
        # a literal IN list: an index lookup in the state table (its lead_key index), where a
        # parameter list would be a join over every raw row
        in_list = ", ".join(sql_string(k) for k in keys)
        for table in RAW_TABLES:
            con.execute(
                f"insert into loading.{table} select * exclude (lead_key) "
                f"from state.raw.{table} where lead_key in ({in_list})"
            )
        if received is not None and len(received):
            frame = received.reindex(columns=self.touchpoint_columns)
            con.register("received_events", frame)
            try:
                con.execute(
                    "insert into loading.touchpoints by name select * from received_events "
                    f"where {lead_key_sql('lead_id')} in (select unnest(?::varchar[]))",
                    [keys],
                )
            finally:
                con.unregister("received_events")
        rows = con.execute(self.encode).fetchone()
        clock = scoring_at.to_pydatetime().isoformat(sep=" ")
        # the parameters as literals: the Python client cannot pass parameters to an EXECUTE
        arguments = ", ".join(sql_string(value) for value in (*rows, clock))
        # (con.sql of an EXECUTE leaves its result open on the connection in DuckDB 2.0)
        return relation_to_pandas(
            con.execute(f"execute feature_program({arguments})").to_arrow_table()
        )

    def close(self) -> None:
        self.con.close()


@dataclass
class _Request:
    lead_keys: tuple[str, ...]
    scoring_at: pd.Timestamp | None
    future: Future = field(default_factory=Future)


class Engine:
    """``workers`` :class:`Worker` threads serving :meth:`features` requests in micro-batches.

    ``received`` is called at run time with the leads' keys and returns their received events
    (a frame of touchpoint contract columns, or None); ``score`` (optional) maps the batch's
    feature rows to one row per lead (the scoring step, vectorized over the micro-batch too);
    ``clock`` gives the scoring time of requests that ask for "now"."""

    def __init__(
        self,
        state_path: Path,
        program: FeatureProgram,
        received,
        workers: int = 2,
        max_batch: int = 64,
        score=None,
        clock=None,
    ) -> None:
        self.received = received
        self.score = score
        self.clock = clock or (lambda: pd.Timestamp.now(tz="UTC").tz_localize(None))
        self.lock = threading.Lock()
        self.closed = False
        self.max_batch = max_batch
        self.requests: queue.Queue[_Request | None] = queue.Queue()
        self.workers = [Worker(state_path, program) for _ in range(max(1, workers))]
        self.threads = [
            threading.Thread(target=self._serve, args=(w,), daemon=True, name=f"scoring-{i}")
            for i, w in enumerate(self.workers)
        ]
        for t in self.threads:
            t.start()

    def features(
        self, lead_keys: Sequence[str], scoring_at: pd.Timestamp | None = None
    ) -> pd.DataFrame:
        """The scoring snapshots of the leads at ``scoring_at`` (scored when the engine has a
        ``score`` step), one row per open lead; blocks until computed. ``scoring_at=None``:
        the engine's ``clock()`` when the run starts, so that the requests waiting together
        share one run (the clock never goes back, and their events are already received)."""
        request = _Request(tuple(lead_keys), scoring_at)
        with self.lock:
            if self.closed:
                raise EngineClosedError("the scoring engine was replaced")
            self.requests.put(request)
        return request.future.result()

    def _take(self) -> list[_Request] | None:
        first = self.requests.get()
        if first is None:
            return None
        batch = [first]
        while len(batch) < self.max_batch:
            try:
                more = self.requests.get_nowait()
            except queue.Empty:
                break
            if more is None:
                self.requests.put(None)  # let the other workers see the stop too
                break
            batch.append(more)
        return batch

    def _serve(self, worker: Worker) -> None:
        while True:
            batch = self._take()
            if batch is None:
                worker.close()
                return
            by_time: dict[pd.Timestamp, list[_Request]] = {}
            now = None
            for request in batch:
                at = request.scoring_at
                if at is None:
                    now = now if now is not None else self.clock()
                    at = now
                by_time.setdefault(at, []).append(request)
            for scoring_at, requests in by_time.items():
                keys = [k for r in requests for k in r.lead_keys]
                try:
                    frame = worker.features(keys, scoring_at, self.received(keys))
                    if self.score is not None and len(frame):
                        frame = self.score(frame)
                except BaseException as exc:  # handed to the waiting request, never lost
                    for r in requests:
                        r.future.set_exception(exc)
                    continue
                folded = frame["lead_id"].astype(str).str.strip().str.lower()
                for r in requests:
                    r.future.set_result(frame[folded.isin(r.lead_keys)].reset_index(drop=True))

    def close(self) -> None:
        """Serve what is queued, then stop the workers; later requests get EngineClosedError."""
        with self.lock:
            if self.closed:
                return
            self.closed = True
            for _ in self.workers:
                self.requests.put(None)
        for t in self.threads:
            t.join(timeout=30)
        while True:  # a worker that did not stop in time leaves requests: fail them, never hang
            try:
                request = self.requests.get_nowait()
            except queue.Empty:
                break
            if request is not None and not request.future.done():
                request.future.set_exception(EngineClosedError("the scoring engine was replaced"))
