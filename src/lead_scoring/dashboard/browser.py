"""The headless-browser check: dashboard/browser_check.py run in Superset's venv, and what a
person would see wrong, read from its report."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from lead_scoring.dashboard.errors import DashboardError
from lead_scoring.dashboard.superset import ADMIN_USER, Superset


def _rendered_problems(name: str, chart: dict[str, Any] | None) -> list[str]:
    """What is wrong with one chart as the page shows it (its entry in the report's charts)."""
    if chart is None:
        return [f"chart {name!r} is not on the page"]
    problems = []
    if chart.get("error"):
        problems.append(f"chart {name!r} shows an error: {chart['error']}")
    if chart.get("empty"):
        problems.append(f"chart {name!r} shows no results")
    if not chart.get("rendered"):
        problems.append(f"chart {name!r} did not render (still loading or blank)")
    return problems


def _query_problems(name: str, query: dict[str, Any] | None) -> list[str]:
    """What is wrong with one chart's data query (its entry in the report's chart_data)."""
    if query is None:
        return [f"chart {name!r}: no chart data response was seen"]
    if query.get("status") != 200 or query.get("errors"):
        return [f"chart {name!r}: chart data HTTP {query.get('status')}: {query.get('errors')}"]
    if not query.get("rowcount"):
        return [f"chart {name!r}: its query returned no rows"]
    return []


def browser_problems(report: dict[str, Any], expected_charts: list[str]) -> list[str]:
    """What a person would see wrong, from the report of dashboard/browser_check.py:
    a chart of the dashboard not rendered, rendered with an error or without data, a chart
    data query with an error or no rows, an error alert on the page, or a request that left
    this machine. Empty when the dashboard is right."""
    problems = []
    if report.get("error"):
        problems.append(f"browser check failed: {report['error']}")
    dom = {c.get("name"): c for c in report.get("charts", [])}
    for name in expected_charts:
        problems += _rendered_problems(name, dom.get(name))
    queries = report.get("chart_data", {})
    by_name = {v.get("name"): v for v in queries.values()} if isinstance(queries, dict) else {}
    for name in expected_charts:
        problems += _query_problems(name, by_name.get(name))
    problems += [f"error alert on the page: {text}" for text in report.get("page_errors", [])]
    problems += [f"request left this machine: {url}" for url in report.get("outside_requests", [])]
    return problems


def run_browser_check(
    superset: Superset,
    url: str,
    password: str,
    out_json: Path,
    screenshot_dir: Path,
    timeout: int = 300,
    chromium: str | None = None,
    chromedriver: str | None = None,
) -> dict[str, Any]:
    """Run dashboard/browser_check.py (Superset's venv has Selenium) and return its report."""
    script = (superset.assets_dir / "browser_check.py").resolve()
    command = [
        str(superset.python), str(script),
        "--url", url,
        "--user", ADMIN_USER,
        "--out", str(out_json),
        "--screenshots", str(screenshot_dir),
        "--timeout", str(timeout - 30),
    ]  # fmt: skip
    if chromium:
        command += ["--chromium", chromium]
    if chromedriver:
        command += ["--chromedriver", chromedriver]
    completed = subprocess.run(
        command, env=superset.env(password), capture_output=True, text=True, timeout=timeout
    )
    if not out_json.exists():
        raise DashboardError(
            f"the browser check wrote no report (exit {completed.returncode}):\n"
            f"{(completed.stdout + completed.stderr)[-4000:]}"
        )
    return json.loads(out_json.read_text(encoding="utf-8"))
