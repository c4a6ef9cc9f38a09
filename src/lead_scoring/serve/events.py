"""Events posted to the API: validated like the raw touchpoints file, kept in an append-only file.

:func:`validate_events` checks a request body against the touchpoint columns of the raw data
contract and returns the events as the raw file would hold them (strings, ``occurred_at`` in UTC);
every problem is one :class:`EventError` naming the event, the field and the value.
:class:`ReceivedEvents` appends them to ``<received_events>/touchpoints.jsonl`` (one JSON object
per line, written and fsynced before the response, so nothing acknowledged is lost), which the next
``dbt build`` reads as an extra raw source (deduplicated with the raw file by ``event_id``), and
keeps them per lead for online scoring until then.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import threading
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from lead_scoring.generate.schema import TOUCHPOINTS_SCHEMA

__all__ = [
    "CONTRACT_COLUMNS",
    "EventError",
    "MAX_EVENTS_PER_REQUEST",
    "ReceivedEvents",
    "validate_events",
]

# the touchpoint columns of the raw data contract (one Python home: the generator's schema)
CONTRACT_COLUMNS = tuple(TOUCHPOINTS_SCHEMA.names)
REQUIRED = ("occurred_at", "event_type")
MAX_EVENTS_PER_REQUEST = 100
MAX_TEXT_LENGTH = 2048
MAX_DURATION_SECONDS = 7 * 24 * 3600
FUTURE_TOLERANCE = dt.timedelta(minutes=5)
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
FILE_NAME = "touchpoints.jsonl"


class EventError(ValueError):
    """A posted event breaks the raw contract (the message names the event, field and value)."""


def _normalized_type(value: str) -> str:
    return re.sub(r"[\s\-]+", "_", value.strip().lower())


def _utc(value: Any, where: str, now: dt.datetime) -> str:
    if not isinstance(value, str) or not value.strip():
        raise EventError(
            f"{where}: occurred_at must be an ISO 8601 timestamp string, got {value!r}"
        )
    text = value.strip()
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise EventError(
            f"{where}: occurred_at={text!r} is not an ISO 8601 timestamp "
            "(e.g. 2025-06-30T10:02:00+02:00 or 2025-06-30T08:02:00Z)"
        ) from None
    if parsed.tzinfo is not None:  # a timestamp without offset is UTC, as in the raw files
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    if parsed > now + FUTURE_TOLERANCE:
        raise EventError(
            f"{where}: occurred_at={text!r} is in the future (now is {now:%Y-%m-%d %H:%M:%S} UTC)"
        )
    return parsed.strftime(TIMESTAMP_FORMAT)


def validate_events(
    body: Any,
    lead_id: str,
    event_types: Iterable[str],
    now: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """The events of a request body (``{"events": [...]}``, a list, or one event object) as raw
    touchpoint rows of ``lead_id``: every contract column present (None when not given), a new
    ``event_id`` when none is given, ``occurred_at`` in UTC. Raises :class:`EventError`."""
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    allowed_types = sorted(set(event_types))
    if isinstance(body, Mapping) and "events" in body:
        extra = sorted(set(body) - {"events"})
        if extra:
            raise EventError(
                f'unknown top-level field(s) {", ".join(extra)}: send {{"events": [...]}}'
            )
        events = body["events"]
    else:
        events = body
    if isinstance(events, Mapping):
        events = [events]
    if not isinstance(events, list) or not events:
        raise EventError('the body must hold one or more events: {"events": [{...}, ...]}')
    if len(events) > MAX_EVENTS_PER_REQUEST:
        raise EventError(f"{len(events)} events in one request; at most {MAX_EVENTS_PER_REQUEST}")
    rows = []
    for i, event in enumerate(events):
        where = f"event {i}"
        if not isinstance(event, Mapping):
            raise EventError(f"{where}: must be a JSON object, got {type(event).__name__}")
        unknown = sorted(set(event) - set(CONTRACT_COLUMNS))
        if unknown:
            raise EventError(
                f"{where}: unknown column(s) {', '.join(unknown)}; the touchpoint columns are "
                + ", ".join(CONTRACT_COLUMNS)
            )
        missing = [c for c in REQUIRED if event.get(c) in (None, "")]
        if missing:
            raise EventError(f"{where}: missing {', '.join(missing)}")
        row: dict[str, Any] = {}
        for column in CONTRACT_COLUMNS:
            value = event.get(column)
            if column == "duration_seconds":
                if value is not None and (
                    isinstance(value, bool)
                    or not isinstance(value, int)
                    or not 0 <= value <= MAX_DURATION_SECONDS
                ):
                    raise EventError(
                        f"{where}: duration_seconds={value!r} must be a whole number of seconds "
                        f"in 0..{MAX_DURATION_SECONDS}"
                    )
                row[column] = value
                continue
            if value is not None and not isinstance(value, str):
                raise EventError(f"{where}: {column} must be a string, got {value!r}")
            if value is not None and len(value) > MAX_TEXT_LENGTH:
                raise EventError(f"{where}: {column} is longer than {MAX_TEXT_LENGTH} characters")
            row[column] = value
        if row["lead_id"] is not None and row["lead_id"].strip().lower() != lead_id.strip().lower():
            raise EventError(
                f"{where}: lead_id={row['lead_id']!r} differs from the URL's lead ({lead_id!r})"
            )
        row["lead_id"] = lead_id
        row["occurred_at"] = _utc(row["occurred_at"], where, now)
        if _normalized_type(row["event_type"]) not in allowed_types:
            raise EventError(
                f"{where}: event_type={row['event_type']!r} is not a touchpoint event type of the "
                f"raw contract ({', '.join(allowed_types)})"
            )
        if not row["event_id"] or not row["event_id"].strip():
            row["event_id"] = f"api-{uuid.uuid4().hex}"
        rows.append(row)
    ids = [r["event_id"].strip() for r in rows]
    if len(set(ids)) != len(ids):
        raise EventError("the same event_id appears twice in the request")
    return rows


class ReceivedEvents:
    """The append-only file of received events and, per lead key, the events it holds."""

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / FILE_NAME
        self.lock = threading.Lock()
        self.by_lead: dict[str, list[dict[str, Any]]] = {}
        self.event_ids: set[str] = set()
        self.latest: str | None = None
        self.dropped_partial_bytes = 0
        self._load()

    def _load(self) -> None:
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        end = data.rfind(b"\n") + 1
        if end < len(data):
            # a crash in the middle of an append: the partial last line was never acknowledged
            self.dropped_partial_bytes = len(data) - end
            with open(self.path, "r+b") as handle:
                handle.truncate(end)
        for number, line in enumerate(data[:end].decode("utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except json.JSONDecodeError as exc:
                raise EventError(f"{self.path}, line {number}: not JSON ({exc.msg})") from None
            if not isinstance(event, dict) or not all(
                isinstance(event.get(c), str) for c in ("event_id", "lead_id", "occurred_at")
            ):
                raise EventError(
                    f"{self.path}, line {number}: not a received event (event_id, lead_id and "
                    "occurred_at are required strings)"
                )
            self._index(event)

    def _index(self, event: dict[str, Any]) -> None:
        key = str(event["lead_id"]).strip().lower()
        self.by_lead.setdefault(key, []).append(event)
        self.event_ids.add(str(event["event_id"]).strip())
        if self.latest is None or event["occurred_at"] > self.latest:
            self.latest = event["occurred_at"]

    def append(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Write the events not received before (by event_id) and fsync; returns those."""
        with self.lock:
            new = [e for e in events if e["event_id"].strip() not in self.event_ids]
            if not new:
                return []
            received_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            lines = "".join(
                json.dumps({**e, "received_at": received_at.strftime(TIMESTAMP_FORMAT)}) + "\n"
                for e in new
            )
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(lines)
                handle.flush()
                os.fsync(handle.fileno())
            for e in new:
                self._index(e)
            return new

    def frame(self, lead_keys: Iterable[str]) -> pd.DataFrame | None:
        """The received events of the leads, as touchpoint contract columns (None: none)."""
        with self.lock:
            rows = [e for k in dict.fromkeys(lead_keys) for e in self.by_lead.get(k, [])]
        if not rows:
            return None
        frame = pd.DataFrame(rows).reindex(columns=list(CONTRACT_COLUMNS))
        frame["occurred_at"] = pd.to_datetime(frame["occurred_at"])
        frame["duration_seconds"] = frame["duration_seconds"].astype("Int64")
        return frame
