"""Locust users for the scoring API load benchmark (started by scripts/bench_serve.py).

Runs in .venv-bench (locust and gevent), never in the project's venv. Reads one JSON plan
written by bench_serve.py, named by $BENCH_SERVE_PLAN:

    {"lead_ids": [...open leads of scored_leads...],
     "templates": [{event_type, channel, utm_*, referrer_domain, page_url, asset_name,
                    duration_seconds}, ...],
     "base_occurred_at": "YYYY-MM-DD HH:MM:SS.ffffff" (the batch's latest scored_at),
     "started_epoch": seconds, "run_id": "..."}

and sends $BENCH_SERVE_TOKEN, when set, as the bearer token.

Two user classes, chosen on the locust command line:
- GetScoreUser: GET /leads/{id}/score for a random open lead.
- PostEventUser: POST /leads/{id}/events with one new touchpoint (a unique event_id,
  occurred_at = base_occurred_at + the seconds elapsed since started_epoch, so later requests
  carry later events, in this run and across runs), for a random open lead.
Closed loop: no think time (wait_time 0), so each user sends its next request as soon as the
previous one is answered. A response counts as a failure unless it is HTTP 200 with a JSON
body naming the requested lead and carrying a lead_score.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from locust import FastHttpUser, constant, task

PLAN = json.loads(Path(os.environ["BENCH_SERVE_PLAN"]).read_text(encoding="utf-8"))
LEAD_IDS: list[str] = PLAN["lead_ids"]
TEMPLATES: list[dict] = PLAN["templates"]
BASE_AT = datetime.strptime(PLAN["base_occurred_at"], "%Y-%m-%d %H:%M:%S.%f")
STARTED_EPOCH = float(PLAN["started_epoch"])
RUN_ID = PLAN["run_id"]
TOKEN = os.environ.get("BENCH_SERVE_TOKEN", "")
HEADERS = {"Authorization": f"Bearer {TOKEN}"} if TOKEN else {}
SEQUENCE = itertools.count()  # one locust process, gevent greenlets: a plain counter is safe


def check(response, lead_id: str) -> None:
    """Mark the response failed unless it is a 200 score of the requested lead."""
    if response.status_code != 200:
        response.failure(f"HTTP {response.status_code}: {response.text[:200]}")
        return
    try:
        body = response.json()
    except ValueError:
        response.failure(f"not JSON: {response.text[:200]}")
        return
    if not isinstance(body, dict) or body.get("lead_id") != lead_id or "lead_score" not in body:
        response.failure(f"unexpected body: {str(body)[:200]}")
        return
    response.success()


class GetScoreUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def get_score(self) -> None:
        lead_id = random.choice(LEAD_IDS)
        with self.client.get(
            f"/leads/{lead_id}/score",
            name="/leads/{id}/score",
            headers=HEADERS,
            catch_response=True,
        ) as response:
            check(response, lead_id)


class PostEventUser(FastHttpUser):
    wait_time = constant(0)

    def event(self, lead_id: str) -> dict:
        template = random.choice(TEMPLATES)
        occurred_at = BASE_AT + timedelta(seconds=max(time.time() - STARTED_EPOCH, 0.0))
        return {
            **template,
            "event_id": f"bench-{RUN_ID}-{next(SEQUENCE)}-{uuid.uuid4().hex[:8]}",
            "lead_id": lead_id,
            "occurred_at": occurred_at.strftime("%Y-%m-%d %H:%M:%S.%f"),
            "session_id": f"bench-{RUN_ID}-{lead_id}",  # one session per lead and run
        }

    @task
    def post_event(self) -> None:
        lead_id = random.choice(LEAD_IDS)
        with self.client.post(
            f"/leads/{lead_id}/events",
            name="/leads/{id}/events",
            json={"events": [self.event(lead_id)]},
            headers=HEADERS,
            catch_response=True,
        ) as response:
            check(response, lead_id)
