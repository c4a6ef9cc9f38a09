"""The engine runs a compiled program over a few leads' rows: their rows only, the clock, the
received events, micro-batches by scoring time, and a clean stop."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import duckdb
import pandas as pd
import pytest

from lead_scoring.serve.engine import Engine, EngineClosedError, Worker
from lead_scoring.serve.program import CLOCK_SQL, FeatureProgram, Step

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
        futures = [pool.submit(engine.features, [key], at) for key, at in jobs]
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
        futures = [pool.submit(engine.features, [key]) for key in keys]
        while engine.requests.qsize() < len(keys) - 1:
            time.sleep(0.01)
        gate.set()
        results = [f.result() for f in futures]
    assert len(runs) == 2  # the first alone, the four waiting ones together
    assert all(frame["snapshot_at"].iloc[0] == now for frame in results)
    engine.close()
