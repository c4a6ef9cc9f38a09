"""Open the dashboard in headless Chromium as a person would, and report what it shows.

Run by Superset's venv (it ships Selenium), with Debian's chromium and chromium-driver:

    .venv-dashboard/bin/python dashboard/browser_check.py --url URL --user admin \
        --out report.json --screenshots DIR          # password: env LEAD_SCORING_DASHBOARD_PASSWORD

Chromium resolves no host but 127.0.0.1 (--host-resolver-rules), so no request can leave
this machine; every request the page tries is recorded, and one to another host is reported
unless the page's own content security policy blocked it before it was sent.

It logs in through the login form, opens the dashboard, waits until every chart has finished
loading, then writes a JSON report: per chart (from the DOM) whether it rendered, shows an
error alert or an empty state; per chart the response of its chart data query (status,
rowcount, errors) as the browser received it; error alerts outside charts; the outside
requests; a full-page screenshot and one per chart. It judges nothing: the project's
lead_scoring.dashboard.browser_problems does, in the project's tests.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]"}

# Per chart on the page: name, id, viz type and what a person sees in it.
CHART_STATE_JS = """
return Array.from(document.querySelectorAll('[data-test="chart-grid-component"]')).map(el => {
  const container = el.querySelector('[data-test="chart-container"], .slice_container');
  const alert = el.querySelector('.ant-alert-error, [role="alert"].ant-alert-error');
  const loading = el.querySelector('[data-test="loading-indicator"], img.loading, .loading');
  const emptyState = el.querySelector('.ant-empty, [data-test="empty-state"]');
  const text = el.innerText || '';
  let drawn = false;
  if (container) {
    const canvas = Array.from(container.querySelectorAll('canvas'))
      .some(c => c.width > 0 && c.height > 0);
    const rows = container.querySelectorAll('table tbody tr').length;
    const big = container.querySelector('.header-line');
    const bigText = big ? big.innerText.trim() : '';
    drawn = canvas || rows > 0 || bigText.length > 0;
  }
  const box = el.getBoundingClientRect();
  return {
    name: el.getAttribute('data-test-chart-name'),
    chart_id: el.getAttribute('data-test-chart-id'),
    viz_type: el.getAttribute('data-test-viz-type'),
    loading: !!loading,
    error: alert ? alert.innerText.trim().replace(/\\s+/g, ' ') : null,
    empty: !!emptyState || /No results were returned/i.test(text),
    rendered: drawn && !alert,
    box: {x: box.x + window.scrollX, y: box.y + window.scrollY,
          width: box.width, height: box.height},
  };
});
"""

PAGE_ERRORS_JS = """
return Array.from(document.querySelectorAll('.ant-alert-error, .ant-message-error'))
  .filter(el => !el.closest('[data-test="chart-grid-component"]'))
  .map(el => el.innerText.trim().replace(/\\s+/g, ' '));
"""


def make_driver(chromium: str, chromedriver: str, width: int, height: int) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={width},{height}",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    # an explicit driver: Selenium Manager (which downloads drivers) never runs
    return webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))


def login(driver: webdriver.Chrome, base: str, user: str, password: str, timeout: float) -> None:
    driver.get(f"{base}/login/")
    deadline = time.monotonic() + timeout
    while not driver.find_elements(By.ID, "username"):
        if time.monotonic() > deadline:
            raise RuntimeError("the login form did not appear")
        time.sleep(0.5)
    driver.find_element(By.ID, "username").send_keys(user)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, '[data-test="login-button"]').click()
    while "/login" in driver.current_url:
        if time.monotonic() > deadline:
            raise RuntimeError("login failed (still on the login page): wrong password?")
        time.sleep(0.5)


class NetworkLog:
    """Requests and chart data responses, from Chrome's performance log."""

    def __init__(self) -> None:
        self.requests: dict[str, str] = {}
        self.finished: set[str] = set()
        self.failed: dict[str, dict] = {}
        self.chart_data: dict[str, str] = {}  # slice_id -> requestId of its latest query
        self.status: dict[str, int] = {}

    def read(self, driver: webdriver.Chrome) -> None:
        for entry in driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            method, params = message["method"], message.get("params", {})
            request_id = params.get("requestId")
            if method == "Network.requestWillBeSent":
                url = params["request"]["url"]
                self.requests[request_id] = url
                parsed = urlparse(url)
                if parsed.path.rstrip("/") == "/api/v1/chart/data":
                    form_data = parse_qs(parsed.query).get("form_data", ["{}"])[0]
                    slice_id = json.loads(form_data).get("slice_id")
                    if slice_id is not None and params["request"]["method"] == "POST":
                        self.chart_data[str(slice_id)] = request_id
            elif method == "Network.responseReceived":
                self.status[request_id] = params["response"]["status"]
            elif method == "Network.loadingFinished":
                self.finished.add(request_id)
            elif method == "Network.loadingFailed":
                self.failed[request_id] = params

    def outside_requests(self) -> tuple[list[str], list[str]]:
        """(attempted and not blocked by the page's CSP, blocked by the page's CSP)."""
        attempted, blocked = [], []
        for request_id, url in self.requests.items():
            parsed = urlparse(url)
            if parsed.scheme not in ("http", "https", "ws", "wss"):
                continue
            if parsed.hostname in LOCAL_HOSTS or f"[{parsed.hostname}]" in LOCAL_HOSTS:
                continue
            failure = self.failed.get(request_id, {})
            if failure.get("blockedReason") == "csp":
                blocked.append(url)
            else:
                attempted.append(url)
        return sorted(set(attempted)), sorted(set(blocked))

    def chart_responses(self, driver: webdriver.Chrome) -> dict[str, dict]:
        out = {}
        for slice_id, request_id in self.chart_data.items():
            item: dict = {"status": self.status.get(request_id), "errors": [], "rowcount": None}
            if request_id in self.failed:
                item["errors"].append(self.failed[request_id].get("errorText", "failed"))
            elif request_id in self.finished:
                try:
                    body = driver.execute_cdp_cmd(
                        "Network.getResponseBody", {"requestId": request_id}
                    )["body"]
                    payload = json.loads(body)
                except Exception as exc:  # noqa: BLE001 - reported, judged by the caller
                    item["errors"].append(f"unreadable response: {exc}")
                else:
                    results = payload.get("result") or []
                    if not results:
                        item["errors"].append(payload.get("message") or str(payload)[:300])
                    for result in results:
                        if result.get("error"):
                            item["errors"].append(str(result["error"]))
                        if result.get("status") not in (None, "success"):
                            item["errors"].append(f"query status {result.get('status')}")
                    counts = [r.get("rowcount") or 0 for r in results]
                    item["rowcount"] = min(counts) if counts else 0
            else:
                item["errors"].append("no response")
            out[slice_id] = item
        return out


def check(args: argparse.Namespace) -> dict:
    report: dict = {"url": args.url, "charts": [], "chart_data": {}, "page_errors": []}
    password = os.environ.get("LEAD_SCORING_DASHBOARD_PASSWORD", "")
    screenshots = Path(args.screenshots)
    screenshots.mkdir(parents=True, exist_ok=True)
    parsed = urlparse(args.url)
    base = f"{parsed.scheme}://{parsed.netloc}"
    started = time.monotonic()
    driver = make_driver(args.chromium, args.chromedriver, args.width, 1200)
    network = NetworkLog()
    try:
        login(driver, base, args.user, password, args.timeout)
        report["login_seconds"] = round(time.monotonic() - started, 1)
        driver.get(args.url)
        deadline = time.monotonic() + args.timeout
        charts: list[dict] = []
        while time.monotonic() < deadline:
            time.sleep(1)
            network.read(driver)
            charts = driver.execute_script(CHART_STATE_JS) or []
            settled = all(
                not c["loading"] and (c["rendered"] or c["error"] or c["empty"]) for c in charts
            )
            answered = all(
                network.chart_data.get(c["chart_id"]) in network.finished | set(network.failed)
                for c in charts
            )
            if charts and settled and answered:
                break
        else:
            report["error"] = f"charts still loading after {args.timeout} s"
        report["load_seconds"] = round(time.monotonic() - started, 1)
        time.sleep(args.settle)  # let chart animations finish before the pictures
        height = int(driver.execute_script("return document.body.scrollHeight"))
        driver.set_window_size(args.width, height + 100)
        time.sleep(1.5)
        network.read(driver)
        report["charts"] = driver.execute_script(CHART_STATE_JS) or []
        report["page_errors"] = driver.execute_script(PAGE_ERRORS_JS) or []
        names = {c["chart_id"]: c["name"] for c in report["charts"]}
        report["chart_data"] = {
            slice_id: {**item, "name": names.get(slice_id)}
            for slice_id, item in network.chart_responses(driver).items()
        }
        page = screenshots / "dashboard.png"
        driver.save_screenshot(str(page))
        report["screenshot"] = str(page)
        for chart in report["charts"]:
            element = driver.find_elements(
                By.CSS_SELECTOR,
                f'[data-test="chart-grid-component"][data-test-chart-id="{chart["chart_id"]}"]',
            )
            if element:
                path = screenshots / f"chart-{chart['chart_id']}.png"
                element[0].screenshot(str(path))
                chart["screenshot"] = str(path)
        network.read(driver)
        attempted, blocked = network.outside_requests()
        report["outside_requests"] = attempted
        report["outside_requests_blocked_by_csp"] = blocked
        report["requests"] = len(network.requests)
        report["console_errors"] = [
            e["message"][:500] for e in driver.get_log("browser") if e["level"] == "SEVERE"
        ]
    except Exception as exc:  # noqa: BLE001 - the report says what failed
        report["error"] = f"{type(exc).__name__}: {exc}"
        report["traceback"] = traceback.format_exc()
    finally:
        driver.quit()
    report["seconds"] = round(time.monotonic() - started, 1)
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the dashboard's URL on 127.0.0.1")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--out", required=True, help="JSON report to write")
    parser.add_argument("--screenshots", required=True, help="folder for the PNG files")
    parser.add_argument("--timeout", type=float, default=180, help="seconds to wait for charts")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds before screenshots")
    parser.add_argument("--width", type=int, default=1600)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    args = parser.parse_args()
    report = check(args)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: report.get(k) for k in ("error", "load_seconds", "seconds")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
