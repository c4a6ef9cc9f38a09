"""The dashboard kept as code (dashboard/) and its bundle (lead_scoring.dashboard), without
Superset: the code is consistent, the bundle is a valid import ZIP whose database is the
published folder given when it is built, and the checker of what the browser saw fails on a
broken chart. The browser test itself is tests/e2e/dashboard/test_dashboard_browser.py."""

from __future__ import annotations

import copy
import json
import zipfile
from pathlib import Path

import duckdb
import pytest
import yaml
from project import PROJECT_DIR

from lead_scoring.dashboard import (
    BUNDLE_ROOT,
    DashboardError,
    browser_problems,
    build_bundle,
    bundle_problems,
    database_uri,
    dataset_reads,
    expand_params,
    layout_chart_names,
    layout_rows,
    load_assets,
    read_bundle,
    tables_read_by,
)
from lead_scoring.publish import BI_DATABASE, PUBLISHED_TABLES

ASSETS = PROJECT_DIR / "dashboard"


# --------------------------------------------------------------------------- the code


def test_every_chart_of_the_layout_has_a_file_and_every_file_is_on_the_dashboard():
    assets = load_assets(ASSETS)
    names = layout_chart_names(assets.dashboard)
    assert len(names) == len(set(names))
    assert sorted(names) == sorted(assets.charts)


def test_the_charts_read_published_tables_only():
    assets = load_assets(ASSETS)
    for name, chart in assets.charts.items():
        for key in ("slice_name", "viz_type", "dataset"):
            assert chart.get(key), f"charts/{name}.yaml has no {key}"
        dataset = assets.datasets.get(chart["dataset"], {})
        reads = tables_read_by(dataset["sql"]) if dataset.get("sql") else {chart["dataset"]}
        assert reads and reads <= set(PUBLISHED_TABLES), (name, reads)


def test_the_code_holds_no_database_path():
    for path in ASSETS.rglob("*.yaml"):
        assert "duckdb:///" not in path.read_text(encoding="utf-8"), path


def test_the_dashboard_covers_what_the_issue_asks_for():
    tables = {load_assets(ASSETS).charts[name]["dataset"] for name in load_assets(ASSETS).charts}
    sql = " ".join(d.get("sql") or "" for d in load_assets(ASSETS).datasets.values())
    read = {t for t in tables if t in PUBLISHED_TABLES} | tables_read_by(sql)
    assert {
        "scored_leads",
        "scored_leads_history",
        "dim_leads",
        "fct_channel_attribution",
        "fct_channel_mix_performance",
        "ml_calibration_bins",
        "ml_backtest",
        "ml_drift",
        "ml_model_health",
    } <= read


def test_layout_rows_share_the_width_and_refuse_too_wide_rows():
    rows = layout_rows({"rows": [["a", "b", "c"], [{"chart": "d", "width": 8}, "e"]]})
    assert [(c.name, c.width) for c in rows[0]] == [("a", 4), ("b", 4), ("c", 4)]
    assert [(c.name, c.width) for c in rows[1]] == [("d", 8), ("e", 4)]
    with pytest.raises(DashboardError, match="add up"):
        layout_rows({"rows": [[{"chart": "a", "width": 8}, {"chart": "b", "width": 6}]]})
    with pytest.raises(DashboardError, match="rows"):
        layout_rows({"rows": []})


def test_the_sql_shorthand_becomes_superset_ad_hoc_metrics_and_columns():
    params = expand_params(
        {
            "metrics": [{"sql": "count(*)", "label": "Leads"}, "count"],
            "x_axis": {"sql": "strftime(scored_at, '%Y')", "label": "Year"},
            "groupby": ["score_band"],
        }
    )
    metric = params["metrics"][0]
    assert metric["expressionType"] == "SQL" and metric["sqlExpression"] == "count(*)"
    assert metric["label"] == "Leads" and metric["hasCustomLabel"] is True
    assert params["metrics"][1] == "count"
    assert params["x_axis"] == {
        "expressionType": "SQL",
        "sqlExpression": "strftime(scored_at, '%Y')",
        "label": "Year",
    }
    assert params["groupby"] == ["score_band"]


def test_tables_read_by_finds_main_tables():
    sql = 'select * from main.scored_leads join main."dim_leads" using (lead_id)'
    assert tables_read_by(sql) == {"scored_leads", "dim_leads"}


# --------------------------------------------------------------------------- the bundle


def _published(folder: Path, tables: dict[str, str]) -> Path:
    """A published folder holding a BI database with the given tables (name -> select)."""
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(folder / BI_DATABASE))
    for name, query in tables.items():
        con.execute(f"create table {name} as {query}")
    con.close()
    return folder


def _assets(folder: Path, charts: dict[str, dict], datasets: dict | None = None) -> Path:
    (folder / "charts").mkdir(parents=True)
    (folder / "datasets").mkdir()
    board = {"title": "T", "slug": "t", "rows": [{"markdown": "hi"}, list(charts)]}
    (folder / "dashboard.yaml").write_text(yaml.safe_dump(board))
    for name, chart in charts.items():
        (folder / "charts" / f"{name}.yaml").write_text(yaml.safe_dump(chart))
    for name, dataset in (datasets or {}).items():
        (folder / "datasets" / f"{name}.yaml").write_text(yaml.safe_dump(dataset))
    return folder


SCORED = "select 'L1' as lead_id, 'A' as score_band, 0.5 as conversion_probability"
LEADS = "select 'L1' as lead_id, 'webinar' as lead_source, date '2025-01-01' as created_date"
BAND_CHART = {
    "slice_name": "By band",
    "viz_type": "echarts_timeseries_bar",
    "dataset": "scored_leads",
    "where": ["score_band <> 'X'"],
    "params": {"x_axis": "score_band", "metrics": [{"sql": "count(*)", "label": "Leads"}]},
}
JOIN_CHART = {
    "slice_name": "Leads",
    "viz_type": "table",
    "dataset": "leads_with_source",
    "params": {"query_mode": "raw", "all_columns": ["lead_id", "lead_source"]},
}
JOIN_DATASET = {
    "sql": "select * from main.scored_leads join main.dim_leads using (lead_id)",
    "verbose_names": {"lead_source": "Lead source"},
}


@pytest.fixture
def small(tmp_path: Path) -> tuple[Path, Path]:
    assets = _assets(
        tmp_path / "assets",
        {"by_band": BAND_CHART, "leads": JOIN_CHART},
        {"leads_with_source": JOIN_DATASET},
    )
    published = _published(tmp_path / "pub one", {"scored_leads": SCORED, "dim_leads": LEADS})
    return assets, published


def test_the_bundle_is_a_valid_import_zip(small, tmp_path):
    assets, published = small
    bundle = build_bundle(assets, published, tmp_path / "bundle.zip")
    assert zipfile.is_zipfile(bundle.path)
    names = zipfile.ZipFile(bundle.path).namelist()
    assert all(name.startswith(f"{BUNDLE_ROOT}/") for name in names)
    contents = read_bundle(bundle.path)
    assert contents["metadata.yaml"]["type"] == "assets"
    assert sorted(p for p in contents if p.startswith("charts/")) == [
        "charts/by_band.yaml",
        "charts/leads.yaml",
    ]
    assert bundle_problems(bundle.path, published) == []
    assert bundle.tables == ["dim_leads", "scored_leads"]

    board = contents["dashboards/lead_scoring.yaml"]
    charts = {c["uuid"]: c for p, c in contents.items() if p.startswith("charts/")}
    items = [v for v in board["position"].values() if isinstance(v, dict)]
    on_board = [v["meta"]["uuid"] for v in items if v["type"] == "CHART"]
    assert sorted(on_board) == sorted(charts)
    assert any(v["type"] == "MARKDOWN" for v in items)

    band = contents["charts/by_band.yaml"]
    assert band["params"]["viz_type"] == "echarts_timeseries_bar"
    assert band["params"]["adhoc_filters"][0]["sqlExpression"] == "score_band <> 'X'"
    datasets = {d["table_name"]: d for p, d in contents.items() if p.startswith("datasets/")}
    assert datasets["scored_leads"]["sql"] is None  # a physical dataset on the published table
    virtual = datasets["leads_with_source"]
    assert virtual["sql"].startswith("select")
    columns = {c["column_name"]: c for c in virtual["columns"]}
    assert columns["lead_source"]["verbose_name"] == "Lead source"
    assert columns["created_date"]["is_dttm"] is True


def test_the_database_uri_is_the_published_folder_given_at_build_time(small, tmp_path):
    assets, published = small
    other = _published(tmp_path / "pub_two", {"scored_leads": SCORED, "dim_leads": LEADS})
    one = read_bundle(build_bundle(assets, published, tmp_path / "one.zip").path)
    two = read_bundle(build_bundle(assets, other, tmp_path / "two.zip").path)
    uri_one = one["databases/lead_scoring.yaml"]["sqlalchemy_uri"]
    uri_two = two["databases/lead_scoring.yaml"]["sqlalchemy_uri"]
    assert uri_one == database_uri(published) and uri_two == database_uri(other)
    assert uri_one.startswith(f"duckdb:///{published.resolve()}/{BI_DATABASE}?")
    assert "access_mode=read_only" in uri_one and "enable_external_access=false" in uri_one
    # the same objects (UUIDs) whatever the folder: a re-import updates them
    assert one["charts/by_band.yaml"]["uuid"] == two["charts/by_band.yaml"]["uuid"]
    assert bundle_problems(tmp_path / "one.zip", other)  # not the other folder's database


def test_a_missing_table_fails_the_bundle(small, tmp_path):
    assets, _ = small
    only_scores = _published(tmp_path / "partial", {"scored_leads": SCORED})
    with pytest.raises(DashboardError, match="cannot be read"):
        build_bundle(assets, only_scores, tmp_path / "b.zip")


def test_a_table_that_is_not_published_fails_the_bundle(small, tmp_path):
    assets, published = small
    chart = {**BAND_CHART, "dataset": "stg_crm__leads"}
    (assets / "charts" / "by_band.yaml").write_text(yaml.safe_dump(chart))
    with pytest.raises(DashboardError, match="PUBLISHED_TABLES"):
        build_bundle(assets, published, tmp_path / "b.zip")


def test_a_chart_of_the_layout_without_a_file_fails_the_bundle(small, tmp_path):
    assets, published = small
    (assets / "charts" / "leads.yaml").unlink()
    with pytest.raises(DashboardError, match="without a file"):
        build_bundle(assets, published, tmp_path / "b.zip")


def test_no_published_folder_says_to_run_make_run(small, tmp_path):
    assets, _ = small
    with pytest.raises(DashboardError, match="make run"):
        build_bundle(assets, tmp_path / "nothing", tmp_path / "b.zip")


def test_bundle_problems_finds_a_dashboard_chart_missing_from_the_zip(small, tmp_path):
    assets, published = small
    bundle = build_bundle(assets, published, tmp_path / "bundle.zip").path
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(bundle) as source, zipfile.ZipFile(broken, "w") as target:
        for item in source.infolist():
            if not item.filename.endswith("charts/leads.yaml"):
                target.writestr(item, source.read(item))
    problems = bundle_problems(broken, published)
    assert any("has no chart file" in p for p in problems)
    assert bundle_problems(tmp_path / "not_a_zip.zip") != []


# --------------------------------------------------------------------------- the checker

GOOD_REPORT = {
    "charts": [
        {"name": "Open leads", "chart_id": "1", "rendered": True, "error": None, "empty": False},
        {"name": "Top leads", "chart_id": "2", "rendered": True, "error": None, "empty": False},
    ],
    "chart_data": {
        "1": {"name": "Open leads", "status": 200, "errors": [], "rowcount": 1},
        "2": {"name": "Top leads", "status": 200, "errors": [], "rowcount": 25},
    },
    "page_errors": [],
    "outside_requests": [],
    "outside_requests_blocked_by_csp": ["https://telemetry.invalid/pixel"],
}
EXPECTED = ["Open leads", "Top leads"]


def test_a_good_report_has_no_problem():
    assert browser_problems(GOOD_REPORT, EXPECTED) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda r: r["charts"][1].update(error="Data error", rendered=False), "shows an error"),
        (lambda r: r["charts"][1].update(empty=True, rendered=False), "shows no results"),
        (lambda r: r["charts"][1].update(rendered=False), "did not render"),
        (lambda r: r["charts"].pop(1), "is not on the page"),
        (lambda r: r["chart_data"]["2"].update(rowcount=0), "returned no rows"),
        (lambda r: r["chart_data"]["2"].update(status=403, errors=["no sub-queries"]), "HTTP 403"),
        (lambda r: r["chart_data"].pop("2"), "no chart data response"),
        (lambda r: r["page_errors"].append("Unexpected error"), "error alert on the page"),
        (lambda r: r["outside_requests"].append("https://example.org/x"), "left this machine"),
        (lambda r: r.update(error="charts still loading after 180 s"), "browser check failed"),
    ],
)
def test_a_broken_chart_makes_the_check_fail(change, expected):
    report = copy.deepcopy(GOOD_REPORT)
    change(report)
    problems = browser_problems(report, EXPECTED)
    assert any(expected in p for p in problems), problems


def test_the_checker_reads_a_report_file(tmp_path):
    path = tmp_path / "report.json"
    path.write_text(json.dumps(GOOD_REPORT))
    assert browser_problems(json.loads(path.read_text()), EXPECTED) == []


def test_the_dbt_exposure_of_the_dashboard_lists_every_table_it_reads():
    """Lineage in dbt docs: the exposure bi_lead_scoring_dashboard depends on what it shows."""
    exposures = yaml.safe_load((PROJECT_DIR / "models/marts/_exposures.yml").read_text())
    exposure = next(e for e in exposures["exposures"] if e["name"] == "bi_lead_scoring_dashboard")
    refs = {ref.split("'")[1] for ref in exposure["depends_on"]}
    assets = load_assets(ASSETS)
    read: set[str] = set()
    for chart in assets.charts.values():
        dataset = assets.datasets.get(chart["dataset"], {})
        read |= tables_read_by(dataset["sql"]) if dataset.get("sql") else {chart["dataset"]}
    assert read <= refs, sorted(read - refs)


def test_a_dataset_reads_the_tables_of_its_sql_or_else_its_own_table():
    sql = 'select * from main.dim_leads join main."ml_drift" using (lead_id)'
    assert dataset_reads("virtual", sql) == {"dim_leads", "ml_drift"}
    assert dataset_reads("scored_leads", None) == {"scored_leads"}
    assert dataset_reads("scored_leads", "") == {"scored_leads"}
