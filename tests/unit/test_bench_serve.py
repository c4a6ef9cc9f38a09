"""The API load benchmark's own logic (scripts/bench_serve.py), without a server or locust:
the plan read from a hand-made warehouse, locust's CSV statistics, the soak's memory trend and
the loopback-only rule."""

from __future__ import annotations

import argparse
import importlib.util
from datetime import datetime

import duckdb
import pytest
from project import PROJECT_DIR

spec = importlib.util.spec_from_file_location(
    "bench_serve", PROJECT_DIR / "scripts" / "bench_serve.py"
)
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)

LOCUST_HEADER = (
    "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
    "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,"
    "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%"
)


def _warehouse(path, event_types=bench.EVENT_TYPES, scored=True):
    con = duckdb.connect(str(path))
    con.execute("create table event_types (event_type varchar, is_raw_contract boolean)")
    con.executemany("insert into event_types values (?, ?)", [(name, True) for name in event_types])
    con.execute(
        "create table stg_web__touchpoints (event_id varchar, event_type varchar, "
        "channel varchar, utm_source varchar, utm_medium varchar, utm_campaign varchar, "
        "referrer_domain varchar, page_path varchar, asset_name varchar, duration_seconds bigint)"
    )
    rows = [
        (
            f"e{i:03d}",
            event_types[i % len(event_types)],
            "email",
            "newsletter",
            "email",
            "spring",
            None,
            "/pricing",
            None,
            i,
        )
        for i in range(40)
    ]
    con.executemany("insert into stg_web__touchpoints values (?,?,?,?,?,?,?,?,?,?)", rows)
    if scored:
        con.execute("create table scored_leads (lead_id varchar, scored_at timestamp)")
        con.executemany(
            "insert into scored_leads values (?, ?)",
            [("L2", datetime(2025, 6, 30, 12)), ("L1", datetime(2025, 6, 30, 23, 59, 58))],
        )
    con.close()
    return path


def test_plan_reads_open_leads_latest_scored_at_and_templates_of_each_type(tmp_path):
    plan = bench.read_plan(_warehouse(tmp_path / "w.duckdb"), templates_per_type=3, seed=7)
    assert plan["lead_ids"] == ["L1", "L2"]
    assert plan["base_occurred_at"] == "2025-06-30 23:59:58.000000"
    by_type = {}
    for template in plan["templates"]:
        by_type.setdefault(template["event_type"], []).append(template)
        assert set(template) == set(bench.TEMPLATE_COLUMNS)
        assert template["page_url"] == "/pricing"
        assert isinstance(template["duration_seconds"], int)
    # sampled per type, so a rare type gets its templates too
    assert {name: len(found) for name, found in by_type.items()} == {
        name: 3 for name in bench.EVENT_TYPES
    }
    again = bench.read_plan(tmp_path / "w.duckdb", templates_per_type=3, seed=7)
    assert again["templates"] == plan["templates"]


def test_plan_errors_name_the_warehouse_table_and_value(tmp_path):
    with pytest.raises(bench.BenchError, match="no warehouse at .*missing.duckdb"):
        bench.read_plan(tmp_path / "missing.duckdb", 3, 7)
    with pytest.raises(bench.BenchError, match="cannot read table scored_leads"):
        bench.read_plan(_warehouse(tmp_path / "a.duckdb", scored=False), 3, 7)
    short = ("page_view", "email_click", "content_download")
    with pytest.raises(
        bench.BenchError, match=r"lacks the raw event_type value\(s\) \['demo_request'\]"
    ):
        bench.read_plan(_warehouse(tmp_path / "b.duckdb", event_types=short), 3, 7)


def test_locust_csv_statistics_are_read_per_request_name(tmp_path):
    (tmp_path / "run_stats.csv").write_text(
        LOCUST_HEADER + "\nPOST,/leads/{id}/events,120,2,40,45.5,3.1,250.2,900,11.9,0.2,"
        "40,44,48,50,60,85,120,190,240,250,250"
        + "\n,Aggregated,120,2,40,45.5,3.1,250.2,900,11.9,0.2,40,44,48,50,60,85,120,190,240,250,250"
        + "\nGET,/leads/{id}/score,0,0,0,0,0,0,0,0,0,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A\n"
    )
    stats = bench.read_stats(tmp_path / "run")
    post = bench.row_summary(stats["/leads/{id}/events"])
    assert post == {
        "requests": 120,
        "errors": 2,
        "requests_per_second": 11.9,
        "p50_ms": 40.0,
        "p95_ms": 85.0,
        "p99_ms": 190.0,
        "mean_ms": 45.5,
        "max_ms": 250.2,
    }
    idle = bench.row_summary(stats["/leads/{id}/score"])
    assert idle["requests"] == 0 and idle["p95_ms"] is None
    assert bench.read_stats(tmp_path / "absent") == {}
    assert [bench.ms(v) for v in (None, 0.0, 0.4, 7.0, 250.2)] == ["n/a", "<1", "<1", "7", "250"]


def test_rss_trend_tells_a_plateau_from_a_leak():
    seconds = range(0, 601, 5)
    flat = bench.rss_trend([(t, 800.0 + (100 if t < 60 else 150)) for t in seconds], 10)
    assert flat["growth_second_half_mb"] == 0.0
    assert flat["slope_second_half_mb_per_minute"] == 0.0
    assert flat["rss_after_first_minute_mb"] == 950.0
    assert len(flat["per_minute_mb"]) == 11
    leak = bench.rss_trend([(t, 800.0 + t / 6) for t in seconds], 10)  # 10 MB a minute
    assert leak["slope_second_half_mb_per_minute"] == pytest.approx(10.0)
    # medians over the minute around each point (the last one ends with the run): about 50 MB
    assert leak["growth_second_half_mb"] == pytest.approx(50.0, abs=5.0)
    assert bench.rss_trend([(0, 1.0)], 10) == {}


def test_only_a_loopback_address_is_a_target(tmp_path):
    args = argparse.Namespace(host="10.1.2.3")
    with pytest.raises(bench.BenchError, match="only targets a loopback address"):
        bench.run(args)
    args = argparse.Namespace(host="example.com")
    with pytest.raises(bench.BenchError, match="only targets a loopback address"):
        bench.run(args)
