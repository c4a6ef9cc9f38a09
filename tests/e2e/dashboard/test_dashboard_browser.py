"""The dashboard as a person sees it: Superset (its own venv, .venv-dashboard) serves the
dashboard of dashboard/ over a published copy of the two-run sample (the session fixture
sample_history: matured runs, so the backtest, channel mix and trend have data), and headless
Debian Chromium, resolving no host but 127.0.0.1, opens it after logging in.

Every chart must render with data and no error alert, its chart data query must return rows
without error, and no request may leave the machine (the telemetry pixel of Superset's front
end is refused by the page's content security policy before it is sent). Screenshots and the
JSON reports go to reports/dashboard/. A second dashboard with a deliberately broken chart
shows that the same check fails on an error a person would see.

Skipped when .venv-dashboard or Chromium is missing, unless LEAD_SCORING_REQUIRE_DASHBOARD=1
(set by `make test` and `make dashboard-test`, which install them): then it fails.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
import yaml
from project import PROJECT_DIR

from lead_scoring.dashboard import (
    ADMIN_USER,
    Superset,
    browser_problems,
    build_bundle,
    bundle_problems,
    dashboard_url,
    free_port,
    load_assets,
    open_local,
    read_bundle,
    run_browser_check,
    setup_superset,
    start_server,
    stop_server,
    wait_for_server,
)
from lead_scoring.publish import publish

pytestmark = [pytest.mark.dashboard, pytest.mark.e2e]

ASSETS = PROJECT_DIR / "dashboard"
REPORTS = PROJECT_DIR / "reports" / "dashboard"
VENV = Path(os.environ.get("LEAD_SCORING_DASHBOARD_VENV") or PROJECT_DIR / ".venv-dashboard")
REQUIRED = os.environ.get("LEAD_SCORING_REQUIRE_DASHBOARD") == "1"
CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")


def _require(ok: bool, message: str) -> None:
    if not ok:
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def served(sample_history: dict, tmp_path_factory: pytest.TempPathFactory):
    """The sample published, the dashboard bundled, imported and served on a free port."""
    _require((VENV / "bin" / "superset").exists(), f"no Superset in {VENV}: make dashboard-setup")
    _require(
        bool(CHROMIUM and CHROMEDRIVER),
        "no chromium/chromedriver: apt-get install chromium chromium-driver",
    )
    work = tmp_path_factory.mktemp("dashboard")
    timings: dict[str, float] = {}
    start = time.monotonic()
    published = work / "published"
    publish(sample_history["final"].duckdb_path, published)
    timings["publish"] = time.monotonic() - start

    start = time.monotonic()
    bundle = build_bundle(ASSETS, published, work / "bundle.zip")
    timings["bundle"] = time.monotonic() - start
    superset = Superset(VENV, work / "superset_home", ASSETS)
    password = "test-" + os.urandom(6).hex()

    start = time.monotonic()
    setup_superset(superset, bundle.path, password)
    timings["superset_setup_and_import"] = time.monotonic() - start

    port = free_port()
    start = time.monotonic()
    server = start_server(superset, port, work / "server.log")
    try:
        wait_for_server(f"http://127.0.0.1:{port}", server)
        timings["server_start"] = time.monotonic() - start
        yield {
            "superset": superset,
            "port": port,
            "password": password,
            "published": published,
            "bundle": bundle,
            "work": work,
            "timings": timings,
        }
    finally:
        stop_server(server)
        REPORTS.mkdir(parents=True, exist_ok=True)
        log = work / "server.log"
        if log.exists():
            shutil.copyfile(log, REPORTS / "server.log")


def _check(served: dict, slug: str, name: str) -> dict:
    out = REPORTS / name
    if out.exists():
        shutil.rmtree(out)
    start = time.monotonic()
    report = run_browser_check(
        served["superset"],
        dashboard_url(served["port"], slug),
        served["password"],
        out / "report.json",
        out,
        chromium=CHROMIUM,
        chromedriver=CHROMEDRIVER,
    )
    served["timings"][f"browser_{name}"] = time.monotonic() - start
    return report


def test_the_bundle_reads_the_published_copy_only(served):
    bundle = served["bundle"]
    assert bundle_problems(bundle.path, served["published"]) == []
    database = read_bundle(bundle.path)["databases/lead_scoring.yaml"]
    assert str(served["published"].resolve()) in database["sqlalchemy_uri"]


def test_every_chart_renders_with_data_and_no_error(served):
    slug = load_assets(ASSETS).dashboard["slug"]
    report = _check(served, slug, "lead-scoring")
    expected = [read_bundle(served["bundle"].path)[f"charts/{n}.yaml"]["slice_name"]
                for n in served["bundle"].charts]  # fmt: skip
    problems = browser_problems(report, expected)
    summary = {
        "timings_seconds": {k: round(v, 1) for k, v in served["timings"].items()},
        "charts": len(expected),
        "problems": problems,
        "outside_requests_blocked_by_csp": report.get("outside_requests_blocked_by_csp"),
        "requests": report.get("requests"),
    }
    (REPORTS / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    assert not problems, "\n".join(problems)
    assert len(report["charts"]) == len(expected)
    assert Path(report["screenshot"]).stat().st_size > 50_000  # a full page, not a blank one


def test_a_broken_chart_fails_the_check(served, tmp_path):
    """The same check on a dashboard with one good and one broken chart (a metric on a
    column that does not exist): it must name the broken chart, and only that one."""
    assets = tmp_path / "dashboard"
    shutil.copytree(ASSETS, assets)
    broken = {
        "slice_name": "Deliberately broken",
        "viz_type": "big_number_total",
        "dataset": "scored_leads",
        "params": {"metric": {"sql": "sum(no_such_column)", "label": "Broken"}},
    }
    (assets / "charts" / "deliberately_broken.yaml").write_text(yaml.safe_dump(broken))
    board = {
        "title": "Broken on purpose",
        "slug": "broken-on-purpose",
        "rows": [["open_leads", "deliberately_broken"]],
    }
    (assets / "dashboard.yaml").write_text(yaml.safe_dump(board))
    bundle = build_bundle(assets, served["published"], tmp_path / "broken.zip")
    superset = Superset(served["superset"].venv, served["superset"].home, assets)
    setup_superset(superset, bundle.path, served["password"])

    report = _check(served, "broken-on-purpose", "broken-on-purpose")
    problems = browser_problems(report, ["Open leads", "Deliberately broken"])
    assert problems
    assert all("Deliberately broken" in p for p in problems), problems
    assert any("shows an error" in p for p in problems), problems
    assert any("chart data" in p for p in problems), problems


def test_the_admin_login_is_required(served):
    """The dashboard is not public: without a session Superset answers with the login page."""
    url = dashboard_url(served["port"], load_assets(ASSETS).dashboard["slug"])
    with open_local(url) as response:
        assert "/login" in response.url
    assert ADMIN_USER == "admin"
