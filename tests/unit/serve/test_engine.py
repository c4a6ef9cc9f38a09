"""The engine runs a compiled program over a few leads' rows: their rows only, the clock, the
received events, micro-batches by scoring time, and a clean stop."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import duckdb
import pandas as pd
import pytest

from lead_scoring.serve.engine import Engine, EngineClosedError, Worker, program_statement
from lead_scoring.serve.program import CLOCK_SQL, FeatureProgram, ProgramError, Step

COUNTS_SQL = f"""
select
    touches.lead_id,
    {CLOCK_SQL} as snapshot_at,
    true as is_scoring_snapshot,
    count(*) filter (where touches.occurred_at <= {CLOCK_SQL}) as events_to_date,
    max(weights.weight) as weight
from raw.touchpoints as touches
inner join main.weights on touches.event_type = weights.event_type
group by touches.lead_id
"""
PROGRAM = FeatureProgram(
    steps=(
        Step("staged", "select lead_id, occurred_at, event_type from raw.touchpoints"),
        Step("fct_lead_features", COUNTS_SQL),
    ),
    seeds=("weights",),
    vars={},
)


@pytest.fixture
def state(tmp_path):
    path = tmp_path / "state.duckdb"
    con = duckdb.connect(str(path))
    for schema in ("raw", "seeds"):
        con.execute(f"create schema {schema}")
    con.execute("""
        create table raw.touchpoints as
        select *, lower(trim(lead_id)) as lead_key from (values
            ('e1', 'L1', timestamp '2025-01-01 10:00', 'page_view'),
            ('e2', 'L1', timestamp '2025-01-03 10:00', 'demo_request'),
            ('e3', 'l2', timestamp '2025-01-02 10:00', 'page_view'),
            ('e4', 'L3', timestamp '2025-01-02 10:00', 'page_view')
        ) as t(event_id, lead_id, occurred_at, event_type) order by lead_key
    """)
    for table in ("leads", "conversions"):
        con.execute(f"create table raw.{table} as select 'L1' as lead_id, 'L1' as lead_key")
    con.execute("""create table seeds.weights as select * from (values
        ('page_view', 1), ('demo_request', 5)) as t(event_type, weight)""")
    con.close()
    return path


def test_a_worker_runs_the_program_for_its_leads_at_the_clock(state):
    worker = Worker(state, PROGRAM)
    at = pd.Timestamp("2025-01-02 12:00")
    rows = worker.features(["l1", "l2"], at).set_index("lead_id")
    assert sorted(rows.index) == ["L1", "l2"]  # L3 is not asked for; 'l2' found by its key
    assert rows.loc["L1", "events_to_date"] == 1 and rows.loc["L1", "weight"] == 5
    assert rows.loc["L1", "snapshot_at"] == at
    received = pd.DataFrame(
        {
            "event_id": ["r1", "r2"],
            "lead_id": ["L1", "L3"],
            "occurred_at": pd.to_datetime(["2025-01-02 11:00", "2025-01-02 11:00"]),
            "event_type": ["page_view", "page_view"],
        }
    )
    again = worker.features(["l1"], at, received).set_index("lead_id")
    assert list(again.index) == ["L1"] and again.loc["L1", "events_to_date"] == 2
    worker.close()


def test_the_engine_batches_by_time_and_stops_cleanly(state):
    seen = []
    gate = threading.Event()

    def received(keys):
        seen.append(sorted(keys))
        gate.wait(10)  # the first run holds the worker until every request is queued
        return None

    engine = Engine(state, PROGRAM, received, workers=1)
    times = [pd.Timestamp("2025-01-02 12:00"), pd.Timestamp("2025-01-05")]
    jobs = [(key, times[i % 2]) for i, key in enumerate(["l1", "l2", "l3"] * 4)]
    with ThreadPoolExecutor(len(jobs)) as pool:
        # the first request alone in a run that waits, then the others queue up behind it
        futures = [pool.submit(engine.features, [jobs[0][0]], jobs[0][1])]
        while not seen:
            time.sleep(0.01)
        futures += [pool.submit(engine.features, [key], at) for key, at in jobs[1:]]
        while engine.requests.qsize() < len(jobs) - 1:
            time.sleep(0.01)
        gate.set()
        results = [f.result() for f in futures]
    for (key, at), frame in zip(jobs, results, strict=True):
        assert list(frame["lead_id"].str.lower()) == [key]
        assert frame["snapshot_at"].iloc[0] == at
        expected = {"l1": 1 if at.day == 2 else 2, "l2": 1, "l3": 1}[key]
        assert frame["events_to_date"].iloc[0] == expected
    # the first request ran alone; the 11 waiting ones shared one run per scoring time
    assert len(seen) == 3 and sorted(len(keys) for keys in seen[1:]) == [5, 6]
    engine.close()
    with pytest.raises(EngineClosedError):
        engine.features(["l1"], times[0])


def test_a_failing_run_fails_its_requests_not_the_engine(state):
    calls = threading.Event()

    def received(keys):
        if not calls.is_set():
            calls.set()
            raise RuntimeError("boom")
        return None

    engine = Engine(state, PROGRAM, received, workers=1)
    with pytest.raises(RuntimeError, match="boom"):
        engine.features(["l1"], pd.Timestamp("2025-01-02"))
    assert len(engine.features(["l1"], pd.Timestamp("2025-01-02"))) == 1
    engine.close()


def test_requests_for_now_share_one_run_at_the_clock(state):
    gate = threading.Event()
    runs = []
    now = pd.Timestamp("2025-01-02 12:00")

    def received(keys):
        runs.append(sorted(keys))
        gate.wait(10)
        return None

    engine = Engine(state, PROGRAM, received, workers=1, clock=lambda: now)
    keys = ["l1", "l2", "l3", "l1", "l2"]
    with ThreadPoolExecutor(len(keys)) as pool:
        futures = [pool.submit(engine.features, [keys[0]])]
        while not runs:
            time.sleep(0.01)
        futures += [pool.submit(engine.features, [key]) for key in keys[1:]]
        while engine.requests.qsize() < len(keys) - 1:
            time.sleep(0.01)
        gate.set()
        results = [f.result() for f in futures]
    assert len(runs) == 2  # the first alone, the four waiting ones together
    assert all(frame["snapshot_at"].iloc[0] == now for frame in results)
    engine.close()


def test_the_program_is_one_statement_over_its_parameters():
    """Every relation of the compiled SQL points at a CTE (qualified, quoted or not; a table's
    name stays its qualifier unless it has an alias); an unknown one or an ASOF join is named."""
    program = FeatureProgram(
        steps=(
            Step("staged", 'select t.lead_id from "memory"."raw"."touchpoints" as t'),
            Step(
                "fct_lead_features",
                "select staged.lead_id, weights.weight, true as is_scoring_snapshot "
                'from main.staged join "memory"."main"."weights" on true',
            ),
        ),
        seeds=("weights",),
        vars={},
    )
    raw = {t: [("lead_id", "VARCHAR")] for t in ("leads", "touchpoints", "conversions")}
    seeds = {"weights": ([("weight", "INTEGER")], '[["5"]]')}
    sql = program_statement(program, raw, seeds)
    assert "from __raw__touchpoints as t" in sql
    assert 'from __model__staged as "staged"' in sql
    assert 'join __main__weights as "weights" on true' in sql
    assert "memory" not in sql and "raw." not in sql and "main." not in sql
    con = duckdb.connect()
    rows = con.execute(sql, ['[["L1"]]', '[["L1"], ["L2"]]', "[]", "2025-01-01"]).fetchall()
    assert sorted(rows) == [("L1", 5, True), ("L2", 5, True)]

    unknown = FeatureProgram((Step("fct_lead_features", "select * from main.elsewhere"),), (), {})
    with pytest.raises(ProgramError, match="reads main.elsewhere, which is neither"):
        program_statement(unknown, raw, {})
    asof = FeatureProgram(
        (Step("fct_lead_features", "select * from raw.leads asof left join raw.touchpoints"),),
        (),
        {},
    )
    with pytest.raises(ProgramError, match="fct_lead_features compiled with an ASOF join"):
        program_statement(asof, raw, {})


def test_raw_values_reach_the_program_unchanged(tmp_path):
    """The rows go to the statement as text and come back with their types: every value equal,
    the odd ones too (quotes, new lines, accents, the smallest double, microseconds, nulls)."""
    path = tmp_path / "state.duckdb"
    con = duckdb.connect(str(path))
    for schema in ("raw", "seeds"):
        con.execute(f"create schema {schema}")
    con.execute("""
        create table raw.touchpoints as select *, lower(trim(lead_id)) as lead_key from (values
            ('L1', 'it''s "quoted"' || chr(10) || 'Zoë ✓', 0.1::double, 5e-324::double,
             -0.0::double, timestamp '2025-01-02 03:04:05.123456',
             timestamptz '2025-01-02 03:04:05.5+05:30', date '2025-02-28', true,
             12.345::decimal(10, 3), 9007199254740993::bigint),
            ('L1', null, null, null, null, null, null, null, null, null, null)
        ) as t(lead_id, text_value, a_double, tiny_double, negative_zero, a_timestamp,
               a_timestamptz, a_date, "a ""quoted"" flag", a_decimal, a_bigint)
    """)
    for table in ("leads", "conversions"):
        con.execute(f"create table raw.{table} as select 'L1' as lead_id, 'L1' as lead_key")
    expected = con.execute(
        "select * exclude (lead_key) from raw.touchpoints order by text_value nulls last"
    ).fetchall()
    con.close()
    echo = FeatureProgram(
        (
            Step(
                "fct_lead_features",
                f"select *, true as is_scoring_snapshot, {CLOCK_SQL} as clock from raw.touchpoints",
            ),
        ),
        (),
        {},
    )
    worker = Worker(path, echo)
    frame = worker.features(["l1"], pd.Timestamp("2025-03-01 10:00:00.000001"))
    assert (frame["clock"] == pd.Timestamp("2025-03-01 10:00:00.000001")).all()
    got = worker.con.execute(
        "select * exclude (is_scoring_snapshot, clock) from frame order by text_value nulls last"
    ).fetchall()
    assert got == expected
    assert str(got[0][3]) == "5e-324" and str(got[0][4]) == "-0.0"
    worker.close()


def test_a_duckdb_fault_opens_the_database_again_and_runs_once_more(state, monkeypatch):
    worker = Worker(state, PROGRAM)
    first = worker.con
    real = Worker._features
    calls = []

    def faulty(self, *args):
        calls.append(self.con)
        if len(calls) == 1:
            raise duckdb.FatalException("database has been invalidated")
        return real(self, *args)

    monkeypatch.setattr(Worker, "_features", faulty)
    rows = worker.features(["l1"], pd.Timestamp("2025-01-02 12:00"))
    assert list(rows["lead_id"]) == ["L1"] and worker.con is not first and len(calls) == 2
    worker.close()


def test_a_program_that_cannot_be_one_statement_is_named(state):
    elsewhere = FeatureProgram(
        (Step("fct_lead_features", 'select * from "memory"."other"."leads"'),), (), {}
    )
    with pytest.raises(ProgramError, match="cannot be prepared as one statement: Catalog Error"):
        Worker(state, elsewhere)
