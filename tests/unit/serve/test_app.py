"""The HTTP layer: token, localhost-only without one, size limit, errors without tracebacks."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from lead_scoring.serve.app import MAX_BODY_BYTES, create_app
from lead_scoring.serve.cli import _loopback
from lead_scoring.serve.events import EventError
from lead_scoring.serve.service import LeadNotFoundError


class FakeService:
    """Stands in for ScoringService: the app's job is routing, guarding and error shapes."""

    model_version = "v-test"

    def __init__(self):
        self.posted = []

    def health(self):
        return {"status": "ok", "model_version": self.model_version}

    def score(self, lead_id, at=None):
        if lead_id == "missing":
            raise LeadNotFoundError("lead 'missing' is not an open lead of the last build")
        if lead_id == "boom":
            raise RuntimeError("secret internals")
        return {
            "lead_id": lead_id,
            "at": None if at is None else str(at),
            "model_version": "v-test",
        }

    def post_events(self, lead_id, body):
        if body == {"bad": True}:
            raise EventError("event 0: missing occurred_at")
        self.posted.append((lead_id, body))
        return {"lead_id": lead_id, "events_received": 1}


def test_with_a_token_every_request_needs_it():
    client = TestClient(create_app(FakeService(), token="s3cret"))
    assert client.get("/health").status_code == 401
    wrong = client.get("/health", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "s3cret" not in wrong.text
    ok = client.get("/health", headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 200 and ok.headers["X-Model-Version"] == "v-test"


def test_without_a_token_only_loopback_clients_are_served():
    app = create_app(FakeService(), token="")
    assert TestClient(app).get("/health").status_code == 200  # the in-process client is local
    remote = TestClient(app, client=("203.0.113.9", 5000))
    response = remote.get("/health")
    assert response.status_code == 403 and "localhost only" in response.json()["detail"]
    assert _loopback("127.0.0.1") and _loopback("::1") and _loopback("localhost")
    assert not _loopback("0.0.0.0") and not _loopback("10.0.0.5")


def test_routes_errors_and_limits():
    service = FakeService()
    client = TestClient(create_app(service, token=""))
    assert client.get("/leads/L1/score").json()["lead_id"] == "L1"
    assert (
        client.get("/leads/L1/score", params={"at": "2025-06-30T12:00:00+02:00"}).json()["at"]
        == "2025-06-30 10:00:00"
    )
    assert client.get("/leads/L1/score", params={"at": "noon"}).status_code == 422
    assert client.get("/leads/missing/score").status_code == 404
    boom = client.get("/leads/boom/score")
    assert boom.status_code == 500 and boom.json() == {"detail": "internal error"}
    assert "secret internals" not in boom.text and "Traceback" not in boom.text
    assert client.post("/leads/L1/events", json={"bad": True}).status_code == 422
    assert client.post("/leads/L1/events", content=b"{").status_code == 400
    big = client.post("/leads/L1/events", content=b"[" + b" " * MAX_BODY_BYTES + b"]")
    assert big.status_code == 413
    posted = client.post("/leads/L1/events", json={"events": []})
    assert posted.status_code == 200 and service.posted == [("L1", {"events": []})]


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/nowhere"])
def test_no_interactive_docs_and_unknown_paths_are_404(path):
    response = TestClient(create_app(FakeService(), token="")).get(path)
    assert response.status_code == 404 and response.headers["X-Model-Version"] == "v-test"


def test_serve_refuses_a_public_address_without_a_token(monkeypatch, capsys):
    from lead_scoring.cli import main

    monkeypatch.delenv("LEAD_SCORING_API_TOKEN", raising=False)
    assert main(["serve", "--host", "0.0.0.0", "--duckdb", "nowhere.duckdb"]) == 2
    assert "LEAD_SCORING_API_TOKEN is not set" in capsys.readouterr().err
