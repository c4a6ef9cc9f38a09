"""Posted events: validated like the raw touchpoints, kept once, never lost."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from lead_scoring.serve.events import (
    MAX_EVENTS_PER_REQUEST,
    EventError,
    ReceivedEvents,
    validate_events,
)

TYPES = ["page_view", "demo_request", "email_click"]
NOW = dt.datetime(2025, 7, 1, 12, 0)


def _one(**event):
    return validate_events({"events": [event]}, "L1", TYPES, now=NOW)[0]


def test_offsets_become_utc_and_missing_columns_null():
    row = _one(event_type="Demo Request", occurred_at="2025-07-01T10:02:00+02:00")
    assert row["occurred_at"] == "2025-07-01 08:02:00.000000"
    assert row["lead_id"] == "L1" and row["channel"] is None and row["duration_seconds"] is None
    assert row["event_id"].startswith("api-")
    assert _one(event_type="page_view", occurred_at="2025-07-01T08:02:00Z")["occurred_at"] == (
        "2025-07-01 08:02:00.000000"
    )
    # no offset: UTC, as in the raw files
    assert _one(event_type="page_view", occurred_at="2025-07-01 08:02")["occurred_at"] == (
        "2025-07-01 08:02:00.000000"
    )


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"event_type": "page_view"}, "missing occurred_at"),
        ({"event_type": "page_view", "occurred_at": "tomorrow"}, "occurred_at='tomorrow'"),
        ({"event_type": "page_view", "occurred_at": "2025-07-02T00:00:00Z"}, "in the future"),
        ({"event_type": "fax", "occurred_at": "2025-07-01T00:00:00Z"}, "event_type='fax'"),
        ({"event_type": "page_view", "occurred_at": "2025-07-01", "email": "a@b.c"}, "email"),
        ({"event_type": "page_view", "occurred_at": "2025-07-01", "lead_id": "L2"}, "differs"),
        (
            {"event_type": "page_view", "occurred_at": "2025-07-01", "duration_seconds": -1},
            "duration",
        ),
        (
            {"event_type": "page_view", "occurred_at": "2025-07-01", "duration_seconds": "9"},
            "duration",
        ),
        ({"event_type": "page_view", "occurred_at": "2025-07-01", "channel": 3}, "channel must be"),
        (
            {"event_type": "page_view", "occurred_at": "2025-07-01", "page_url": "x" * 5000},
            "longer",
        ),
    ],
)
def test_bad_events_are_named(event, message):
    with pytest.raises(EventError, match="event 0") as caught:
        validate_events({"events": [event]}, "L1", TYPES, now=NOW)
    assert message in str(caught.value)


def test_body_shapes_and_limits():
    event = {"event_type": "page_view", "occurred_at": "2025-07-01"}
    assert len(validate_events(event, "L1", TYPES, now=NOW)) == 1
    assert len(validate_events([event, event], "L1", TYPES, now=NOW)) == 2
    with pytest.raises(EventError, match="one or more events"):
        validate_events({"events": []}, "L1", TYPES, now=NOW)
    with pytest.raises(EventError, match="at most"):
        validate_events([event] * (MAX_EVENTS_PER_REQUEST + 1), "L1", TYPES, now=NOW)
    with pytest.raises(EventError, match="twice"):
        validate_events(
            [{**event, "event_id": "e"}, {**event, "event_id": "e"}], "L1", TYPES, now=NOW
        )
    with pytest.raises(EventError, match="top-level"):
        validate_events({"events": [event], "extra": 1}, "L1", TYPES, now=NOW)


def test_received_events_are_appended_once_and_survive_a_restart(tmp_path):
    store = ReceivedEvents(tmp_path)
    rows = validate_events(
        [
            {"event_id": "e1", "event_type": "page_view", "occurred_at": "2025-07-01T09:00:00Z"},
            {"event_id": "e2", "event_type": "demo_request", "occurred_at": "2025-07-01T10:00:00Z"},
        ],
        "L1",
        TYPES,
        now=NOW,
    )
    assert len(store.append(rows)) == 2
    assert store.append(rows[:1]) == []  # the same event_id again: kept once
    assert store.latest == "2025-07-01 10:00:00.000000"
    lines = [json.loads(x) for x in store.path.read_text().splitlines()]
    assert [x["event_id"] for x in lines] == ["e1", "e2"] and all("received_at" in x for x in lines)
    # a crash in the middle of an append leaves a partial line: it was never acknowledged
    with open(store.path, "a") as handle:
        handle.write('{"event_id": "e3", "lead_')
    reopened = ReceivedEvents(tmp_path)
    assert reopened.dropped_partial_bytes > 0
    assert reopened.event_ids == {"e1", "e2"}
    frame = reopened.frame(["l1"])
    assert list(frame["event_id"]) == ["e1", "e2"]
    assert str(frame["occurred_at"].dtype).startswith("datetime64")
    assert reopened.frame(["l2"]) is None


def test_a_corrupt_line_in_the_middle_is_an_error_naming_the_line(tmp_path):
    good = '{"event_id": "e1", "lead_id": "L1", "occurred_at": "2025-07-01 00:00:00.000000"}'
    (tmp_path / "touchpoints.jsonl").write_text(good + "\nnot json\n")
    with pytest.raises(EventError, match="line 2: not JSON"):
        ReceivedEvents(tmp_path)
    (tmp_path / "touchpoints.jsonl").write_text(good + '\n{"event_id": "e2"}\n')
    with pytest.raises(EventError, match="line 2: not a received event"):
        ReceivedEvents(tmp_path)
