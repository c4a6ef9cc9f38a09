"""Run the feature program for a few leads at a scoring time, in an in-memory DuckDB.

A :class:`Worker` owns one in-memory DuckDB (one thread): the raw tables of the contract, the
seeds, the one-row ``raw.scoring_clock`` and one table per model of the program, each filled by a
prepared ``insert ... select`` of the model's compiled SQL (planned once). :meth:`Worker.features`
loads the leads' raw rows from the state file (plus the events received since the build), sets
the clock, runs the models in order and returns the leads' scoring snapshots of
``fct_lead_features``: the rows the batch would compute for the same leads, events and time.

Most of a run's cost is fixed (on the sample, idle machine: about 105 ms over empty inputs and
195 ms for one lead, for the ~20 models and their few thousand expressions), and it is shared by
every lead of the run:
:class:`Engine` keeps one worker per core and hands each the requests waiting when it frees up
(micro-batching), one run per distinct scoring time.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from lead_scoring.serve.program import FeatureProgram
from lead_scoring.serve.state import RAW_TABLES, lead_key_sql
from lead_scoring.warehouse import relation_to_pandas

__all__ = ["Engine", "EngineClosedError", "Worker"]


class EngineClosedError(RuntimeError):
    """The engine was closed (a refresh replaced it): ask the new one."""


def _literal(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _select(sql: str) -> str:
    return "select * from (\n" + sql.strip().rstrip(";") + "\n)"


class Worker:
    """One in-memory DuckDB set up to run ``program`` (see the module docstring)."""

    def __init__(self, state_path: Path, program: FeatureProgram) -> None:
        self.program = program
        # the compiled SQL names the in-memory catalog "memory" (dbt's lint target)
        self.con = duckdb.connect(":memory:", config={"threads": 1})
        con = self.con
        con.execute(
            f"attach '{str(state_path).replace(chr(39), chr(39) * 2)}' as state (read_only)"
        )
        con.execute("create schema raw")
        for table in RAW_TABLES:
            con.execute(
                f"create table raw.{table} as select * exclude (lead_key) "
                f"from state.raw.{table} limit 0"
            )
        con.execute("create table raw.scoring_clock (scoring_at timestamp)")
        for seed in program.seeds:
            con.execute(f"create table main.{seed} as select * from state.seeds.{seed}")
        self.touchpoint_columns = [
            row[0] for row in con.execute("describe raw.touchpoints").fetchall()
        ]
        self.tables = []
        for i, step in enumerate(program.steps):
            con.execute(f"create table main.{step.name} as {_select(step.sql)} limit 0")
            con.execute(f"prepare step_{i} as insert into main.{step.name} {_select(step.sql)}")
            self.tables.append(step.name)

    def features(
        self,
        lead_keys: Sequence[str],
        scoring_at: pd.Timestamp,
        received: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """The scoring snapshots (``is_scoring_snapshot``) of ``fct_lead_features`` for the
        leads whose :func:`~.state.lead_key_sql` is in ``lead_keys``, at ``scoring_at``, from
        their raw rows plus ``received`` (touchpoint contract columns)."""
        con = self.con
        for table in (*RAW_TABLES, "scoring_clock"):
            con.execute(f"delete from raw.{table}")
        for table in self.tables:
            con.execute(f"delete from main.{table}")
        keys = list(dict.fromkeys(lead_keys))
        # a literal IN list: pushed into the scan of the sorted state table (zone maps), where a
        # parameter list would be a join over every raw row
        in_list = ", ".join(_literal(k) for k in keys)
        for table in RAW_TABLES:
            con.execute(
                f"insert into raw.{table} select * exclude (lead_key) from state.raw.{table} "
                f"where lead_key in ({in_list})"
            )
        if received is not None and len(received):
            frame = received.reindex(columns=self.touchpoint_columns)
            con.register("received_events", frame)
            try:
                con.execute(
                    "insert into raw.touchpoints by name select * from received_events "
                    f"where {lead_key_sql('lead_id')} in (select unnest(?::varchar[]))",
                    [keys],
                )
            finally:
                con.unregister("received_events")
        con.execute("insert into raw.scoring_clock values (?)", [scoring_at.to_pydatetime()])
        for i in range(len(self.tables)):
            con.execute(f"execute step_{i}")
        return relation_to_pandas(
            con.sql("select * from main.fct_lead_features where is_scoring_snapshot")
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
