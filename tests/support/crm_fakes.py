"""Stand-ins for the CRM sync tests: a small scored warehouse, a sleep that does not wait and a
local HTTP server playing a CRM that honours ``Idempotency-Key`` and fails on request."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb


def make_warehouse(path: Path, n: int = 250) -> Path:
    """A warehouse holding only ``scored_leads``: n leads with every column the CRM sync reads."""
    con = duckdb.connect(str(path))
    con.execute(
        f"""
        create table main.scored_leads as
        select
            'L' || lpad(cast(i as varchar), 5, '0') as lead_id,
            timestamp '2025-06-30 00:00:00' as scored_at,
            (i % 100) / 100.0 as conversion_probability,
            (i % 100) / 400.0 as conversion_probability_7d,
            (i % 100) / 200.0 as conversion_probability_30d,
            (i % 100) / 100.0 as conversion_probability_90d,
            cast(i % 100 as integer) as lead_score,
            cast(i % 100 + 1 as integer) as lead_priority,
            (i % 100) / 10.0 as lift,
            case when i % 100 >= 40 then 'A' when i % 100 >= 20 then 'B' else 'D' end
                as score_band,
            'Pricing page views (30d) = 3 (+)' as top_factors,
            '[]' as top_factors_json,
            'Pricing page views in the last 30 days: 3' as reasons_for,
            case when i % 2 = 0 then 'Personal email address: yes' end as reasons_against,
            50 as fit_score,
            50 as engagement_score,
            0.8 as score_confidence,
            'abc123' as model_version,
            'model' as experiment_arm
        from range({n}) t(i)
        """
    )
    con.close()
    return path


def no_sleep(_: float) -> None:
    """A sleep that returns at once: retries and back-off without the wait."""
    pass


class FakeCrm:
    def __init__(self) -> None:
        # per request: an int status, (429, "Retry-After value"), "drop", "slow",
        # "hang_after_apply" or None (apply and answer 200)
        self.script: list = []
        self.requests = 0
        self.applied: list[tuple[str, int, str]] = []  # (lead_id, lead_score, band)
        self.keys: set[str] = set()
        self.auth: list[str | None] = []
        self.records: list[dict] = []  # every record applied, as received
        self.rejected_leads: set[str] = set()  # a batch holding one of these gets a 422
        self.partial = False  # True: answer 207 and refuse only the rejected_leads' records
        self.gets = 0  # requests that followed a redirect
        self.applied_event = threading.Event()
        self.lock = threading.Lock()
        crm = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802
                with crm.lock:
                    crm.gets += 1
                    crm.auth.append(self.headers.get("Authorization"))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"<html>login</html>")

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with crm.lock:
                    crm.requests += 1
                    action = crm.script.pop(0) if crm.script else None
                    crm.auth.append(self.headers.get("Authorization"))
                    bad = sorted(crm.rejected_leads & {lead["lead_id"] for lead in body["leads"]})
                if action is None and bad and not crm.partial:
                    action = 422
                if action is None and crm.partial:
                    action = "partial"
                if action == "slow":
                    time.sleep(1.0)
                if action == "trickle":  # a 200 whose body arrives a byte every 50 ms
                    self.send_response(200)
                    self.send_header("Content-Length", "1000")
                    self.end_headers()
                    for _ in range(100):
                        try:
                            self.wfile.write(b" ")
                            self.wfile.flush()
                        except OSError:
                            return
                        time.sleep(0.05)
                    return
                if action == "partial":  # 207: the records of rejected_leads are refused alone
                    key = self.headers["Idempotency-Key"]
                    results = []
                    with crm.lock:
                        fresh = key not in crm.keys
                        crm.keys.add(key)
                        for lead in body["leads"]:
                            if lead["lead_id"] in crm.rejected_leads:
                                results.append(
                                    {"lead_id": lead["lead_id"], "status": 422, "error": "bad"}
                                )
                                continue
                            results.append({"lead_id": lead["lead_id"], "status": 200})
                            if fresh:
                                crm.records.append(lead)
                                crm.applied.append(
                                    (lead["lead_id"], lead["lead_score"], lead["score_band"])
                                )
                    self.send_response(207)
                    self.end_headers()
                    self.wfile.write(json.dumps({"results": results}).encode())
                    return
                if action == "drop":  # close the connection without answering
                    self.close_connection = True
                    return
                if isinstance(action, tuple):
                    action, retry_after = action
                else:
                    retry_after = "0"
                if isinstance(action, int):
                    self.send_response(action)
                    if action == 429:
                        self.send_header("Retry-After", retry_after)
                    if action == 302:
                        self.send_header("Location", "/login")
                    self.end_headers()
                    self.wfile.write(json.dumps({"error": "injected", "leads": bad}).encode())
                    return
                key = self.headers["Idempotency-Key"]
                with crm.lock:
                    if key not in crm.keys:  # a replay of a known key is acknowledged, not applied
                        crm.keys.add(key)
                        crm.records += body["leads"]
                        for lead in body["leads"]:
                            crm.applied.append(
                                (lead["lead_id"], lead["lead_score"], lead["score_band"])
                            )
                if action == "hang_after_apply":
                    crm.applied_event.set()
                    time.sleep(30)  # the client is killed meanwhile
                    return
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b'{"ok": true}')

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/scores"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
