"""The real-time API against the batch: the same scores for the same leads, events and time.

One copy of the sample's scoring history (two runs, an A/B test with a rules arm, so the
priority and band of both arms and the previous scores are exercised) is served in-process
(FastAPI's TestClient over ``lead_scoring.serve``). Several hundred open leads are scored online
at the batch's scoring time and must equal ``scored_leads`` (floats to 1e-9); then a demo request
is posted and the warehouse rebuilt with the received events as an extra raw source: the lead's
new batch row must equal the API's answer.
"""

from __future__ import annotations

import json
import math
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
from crm_fakes import FakeCrm, no_sleep
from dbt_runner import SAMPLE_HISTORY_VARS, copy_build, run_dbt
from fastapi.testclient import TestClient
from project import PROJECT_DIR

from lead_scoring.crm import SyncConfig, sync
from lead_scoring.serve.app import create_app
from lead_scoring.serve.service import SCORED_LEADS_COLUMNS, ScoringService, ServiceConfig

pytestmark = pytest.mark.e2e
TOKEN = "test-token-not-a-secret"
ONLINE_LEADS = 300


@pytest.fixture(scope="module")
def served(sample_history, tmp_path_factory):
    work = Path(tmp_path_factory.mktemp("serve"))
    build = copy_build(sample_history["final"], work)
    config = ServiceConfig(
        warehouse=build.duckdb_path,
        project_dir=PROJECT_DIR,
        serve_dir=work / "serve",
        received_dir=work / "received_events",
        vars=SAMPLE_HISTORY_VARS,
        workers=2,
        refresh_seconds=3600,
    )
    service = ScoringService(config)
    client = TestClient(create_app(service, token=TOKEN))
    client.headers["Authorization"] = f"Bearer {TOKEN}"
    yield {"work": work, "build": build, "service": service, "client": client, "config": config}
    service.close()


def _same(online, batch, column: str) -> bool:
    if online is None or (isinstance(online, float) and math.isnan(online)):
        return batch is None or pd.isna(batch)
    if batch is None or (not isinstance(batch, str) and pd.isna(batch)):
        return False
    if column.endswith("_at"):
        return pd.Timestamp(online) == pd.Timestamp(batch)
    if isinstance(batch, float):
        return math.isclose(float(online), batch, rel_tol=1e-9, abs_tol=1e-12)
    return online == (batch.item() if hasattr(batch, "item") else batch)


def test_online_scores_equal_the_batch_at_its_scoring_time(served):
    client = served["client"]
    batch = served["build"].query("select * from scored_leads order by lead_id")
    assert set(batch["experiment_arm"]) == {"model", "rules"}
    step = max(1, len(batch) // ONLINE_LEADS)
    chosen = batch.iloc[::step].head(ONLINE_LEADS)
    at = str(batch["scored_at"].max())

    def online(lead_id: str) -> dict:
        response = client.get(f"/leads/{lead_id}/score", params={"at": at})
        assert response.status_code == 200, response.text
        return response.json()

    with ThreadPoolExecutor(16) as pool:  # concurrent requests share the engine's runs
        rows = list(pool.map(online, chosen["lead_id"]))
    assert len(rows) == len(chosen) >= 250
    mismatches = []
    for row, (_, expected) in zip(rows, chosen.iterrows(), strict=True):
        assert row["score_source"] == "online"
        for column in SCORED_LEADS_COLUMNS:
            if not _same(row[column], expected[column], column):
                mismatches.append((row["lead_id"], column, row[column], expected[column]))
    assert not mismatches, mismatches[:10]
    # both arms, several bands and previous scores were compared, not only easy rows
    assert chosen["experiment_arm"].nunique() == 2
    assert chosen["score_band"].nunique() >= 3
    assert chosen["previous_lead_score"].notna().any()


def test_a_demo_request_moves_the_score_as_a_rebuild_does(served):
    client, build, work = served["client"], served["build"], served["work"]
    # the model arm's best band-D lead: a demo request should lift it into band C or above
    batch = build.query(
        "select * from scored_leads where experiment_arm = 'model' and score_band = 'D' "
        "order by conversion_probability desc, lead_id"
    )
    lead = batch.iloc[0]
    at = pd.Timestamp(batch["scored_at"].max()) + pd.Timedelta(hours=1)
    event = {
        "event_id": "api-test-demo-1",
        "occurred_at": (at.tz_localize("UTC").tz_convert("Europe/Paris")).isoformat(),
        "event_type": "Demo Request",
        "page_url": "https://www.example.com/demo",
        "channel": "direct",
    }
    response = client.post(f"/leads/{lead['lead_id']}/events", json={"events": [event]})
    assert response.status_code == 200, response.text
    online = response.json()
    assert online["events_received"] == 1
    assert pd.Timestamp(online["scored_at"]) == at
    assert online["conversion_probability"] > lead["conversion_probability"]
    assert online["previous_lead_score"] == lead["lead_score"]
    assert response.headers["X-Model-Version"] == online["model_version"]
    # the same event again is not kept twice
    again = client.post(f"/leads/{lead['lead_id']}/events", json=event)
    assert again.status_code == 200 and again.json()["events_duplicate"] == 1
    # GET now answers the lead's online row
    current = client.get(f"/leads/{lead['lead_id']}/score").json()
    assert current["score_source"] == "online"
    assert current["conversion_probability"] == online["conversion_probability"]

    # the band changed: the row went to the CRM changes file for lead-scoring sync-crm
    assert online["score_band"] < "D"
    changes = (served["config"].serve_dir / "crm_changes.jsonl").read_text().splitlines()
    assert [json.loads(line)["lead_id"] for line in changes] == [lead["lead_id"]]
    assert json.loads(changes[0])["score_band"] == online["score_band"]

    # ... and lead-scoring sync-crm delivers it, though scored_leads still holds the older row
    crm = FakeCrm()
    try:
        report = sync(
            build.duckdb_path,
            SyncConfig(
                endpoint=crm.url,
                api_changes=served["config"].serve_dir / "crm_changes.jsonl",
                deadline_seconds=120,
            ),
            sleep=no_sleep,
        )
    finally:
        crm.server.shutdown()
    assert report.failed == 0, report.summary()
    sent = {record["lead_id"]: record for record in crm.records}
    assert sent[lead["lead_id"]]["score_band"] == online["score_band"]

    received = served["config"].received_dir
    lines = (received / "touchpoints.jsonl").read_text().splitlines()
    assert [json.loads(line)["event_id"] for line in lines] == ["api-test-demo-1"]
    # the batch catches up: a rebuild reads the received events as an extra raw source and
    # defaults its scoring date to the event's time
    rebuilt = run_dbt(
        ["run", "-s", "+scored_leads"],
        work,
        {**SAMPLE_HISTORY_VARS, "ml_retrain": False},
        duckdb_path=build.duckdb_path,
        env={"LEAD_SCORING_RECEIVED_EVENTS": str(received)},
    )
    assert rebuilt.returncode == 0, rebuilt.output[-4000:]
    after = rebuilt.query(f"select * from scored_leads where lead_id = '{lead['lead_id']}'")
    assert len(after) == 1
    expected = after.iloc[0]
    assert expected["model_version"] == online["model_version"]
    for column in (
        "scored_at",
        "conversion_probability",
        "conversion_probability_7d",
        "conversion_probability_30d",
        "conversion_probability_90d",
        "lead_score",
        "score_band",
        "top_factors",
        "top_factors_json",
        "reasons_for",
        "reasons_against",
        "fit_score",
        "engagement_score",
        "score_confidence",
        "experiment_arm",
    ):
        assert _same(online[column], expected[column], column), (
            column,
            online[column],
            expected[column],
        )


def test_bad_requests_get_clear_4xx_and_no_trace(served):
    client = served["client"]
    lead_id = served["build"].query("select min(lead_id) as l from scored_leads")["l"][0]
    cases = [
        (client.get("/leads/NO-SUCH-LEAD/score"), 404, "not an open lead"),
        (client.get(f"/leads/{lead_id}/score", params={"at": "soon"}), 422, "at='soon'"),
        (
            client.post(
                f"/leads/{lead_id}/events",
                json={"events": [{"event_type": "page_view", "occurred_at": "31/12/2025"}]},
            ),
            422,
            "occurred_at='31/12/2025'",
        ),
        (
            client.post(
                f"/leads/{lead_id}/events",
                json={
                    "events": [
                        {
                            "event_type": "page_view",
                            "occurred_at": "2025-06-01T00:00:00Z",
                            "email": "x@y.z",
                        }
                    ]
                },
            ),
            422,
            "unknown column(s) email",
        ),
        (
            client.post(
                f"/leads/{lead_id}/events",
                json={
                    "events": [
                        {"event_type": "fax_received", "occurred_at": "2025-06-01T00:00:00Z"}
                    ]
                },
            ),
            422,
            "fax_received",
        ),
        (
            client.post(
                f"/leads/{lead_id}/events",
                json={
                    "events": [{"event_type": "page_view", "occurred_at": "2999-01-01T00:00:00Z"}]
                },
            ),
            422,
            "in the future",
        ),
        (client.post(f"/leads/{lead_id}/events", content=b"{not json"), 400, "not JSON"),
        (client.post(f"/leads/{lead_id}/events", content=b"x" * 70_000), 413, "above"),
        (client.get("/health", headers={"Authorization": "Bearer wrong"}), 401, "bearer token"),
    ]
    for response, status, text in cases:
        assert response.status_code == status, (status, response.text)
        assert text in response.json()["detail"]
        assert "Traceback" not in response.text
        assert response.headers["X-Model-Version"]
    assert TOKEN not in "".join(r.text for r, _, _ in cases)
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["model_version"]


def test_a_pinned_model_version_scores_every_answer(served, tmp_path):
    registry = served["build"].query(
        "select model_version, model_name from ml_models order by trained_at"
    )
    batch = served["build"].query("select lead_id, model_version from scored_leads limit 1")
    older = registry[registry["model_version"] != batch["model_version"][0]]
    assert len(older), registry  # two scoring runs a horizon apart: the first model is older
    config = served["config"]
    pinned = ScoringService(
        ServiceConfig(
            warehouse=config.warehouse,
            project_dir=PROJECT_DIR,
            serve_dir=tmp_path / "serve",
            received_dir=tmp_path / "received_events",
            pinned_version=str(older["model_version"].iloc[-1]),
            vars=SAMPLE_HISTORY_VARS,
            workers=1,
            refresh_seconds=3600,
        )
    )
    try:
        client = TestClient(create_app(pinned, token=""))
        answer = client.get(f"/leads/{batch['lead_id'][0]}/score")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        # not the build's row: the pinned model's score, online
        assert body["model_version"] == str(older["model_version"].iloc[-1])
        assert answer.headers["X-Model-Version"] == body["model_version"]
        assert body["score_source"] == "online"
        assert client.get("/health").json()["model_version"] == body["model_version"]
    finally:
        pinned.close()
