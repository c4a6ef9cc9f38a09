"""The scoring service behind the API: state, engine, received events, CRM changes, refresh.

:class:`ScoringService` answers the three questions of the API:

- :meth:`~ScoringService.score` -- a lead's row as after the last build plus anything received
  since: the batch's ``scored_leads`` row while nothing was received for it, else its latest
  online score; with ``at``, the lead scored online at that time;
- :meth:`~ScoringService.post_events` -- validate and keep the events, then score the lead at the
  API's clock: the latest of the batch's scoring time and every ``occurred_at`` received, which
  is the ``scoring_date`` the next ``dbt build`` defaults to;
- :meth:`~ScoringService.health`.

An online row has the columns of ``scored_leads``, computed as the batch computes them: the
feature models (:mod:`.engine`), the model's scoring step (``scores_of_features``, shared with
``ml_scores``), the priority and band among the batch's leads (:mod:`.ranking`); the previous
score is the batch's. When the band changes, the row is appended to
``<serve_dir>/crm_changes.jsonl`` for ``lead-scoring sync-crm``.
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from lead_scoring.ml.build import scores_of_features
from lead_scoring.ml.registry import active_model, deserialize_bundle
from lead_scoring.ml.scoring import REASONS_PER_SIDE
from lead_scoring.serve.engine import Engine, EngineClosedError
from lead_scoring.serve.events import ReceivedEvents, validate_events
from lead_scoring.serve.program import FeatureProgram, ProgramError, compile_program
from lead_scoring.serve.ranking import ArmRanking
from lead_scoring.serve.state import ServeError, build_state, read_meta
from lead_scoring.warehouse import relation_to_pandas

__all__ = ["LeadNotFoundError", "ScoringService", "ServiceConfig"]

log = logging.getLogger("lead_scoring.serve")

SCORED_LEADS_COLUMNS = (
    "lead_id",
    "scored_at",
    "conversion_probability",
    "conversion_probability_7d",
    "conversion_probability_30d",
    "conversion_probability_90d",
    "lead_score",
    "lead_priority",
    "lift",
    "score_band",
    "top_factors",
    "top_factors_json",
    "reasons_for",
    "reasons_against",
    "fit_score",
    "engagement_score",
    "score_confidence",
    "model_version",
    "previous_scored_at",
    "previous_lead_score",
    "previous_score_band",
    "score_change",
    "experiment_arm",
)
CRM_CHANGES_FILE = "crm_changes.jsonl"


class LeadNotFoundError(LookupError):
    """No open lead with that id (unknown, converted, or not open at the time asked)."""


@dataclass(frozen=True)
class ServiceConfig:
    warehouse: Path
    project_dir: Path
    serve_dir: Path
    received_dir: Path
    pinned_version: str | None = None
    vars: dict[str, Any] | None = None
    workers: int = 2
    refresh_seconds: float = 30.0


def _json_value(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "isoformat"):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


class _Loaded:
    """One state file, loaded: what scoring needs in memory, and the engine over it."""

    def __init__(
        self,
        state_path: Path,
        config: ServiceConfig,
        received: ReceivedEvents,
        reasons_per_side: int,
    ) -> None:
        con = duckdb.connect(str(state_path), read_only=True)
        try:
            meta = self.meta = read_meta(con)
            scored = relation_to_pandas(con.sql("select * from batch.scored_leads"))
            self.registry = relation_to_pandas(con.sql("select * from batch.ml_models"))
            self.rules = relation_to_pandas(con.sql("select * from seeds.lead_scoring_rules"))
            ranking = relation_to_pandas(con.sql("select * from batch.ranking"))
            self.event_types = [
                r[0]
                for r in con.execute(
                    "select event_type from seeds.event_types where is_raw_contract"
                ).fetchall()
            ]
            self.chosen = active_model(self.registry, meta.get("pinned_version"))
            if self.chosen["model_name"] == "rule_points":
                self.bundle = None
                self.labeled = relation_to_pandas(con.sql("select * from batch.labeled_history"))
            else:
                self.bundle = deserialize_bundle(self.chosen)
                self.labeled = None
        finally:
            con.close()
        unknown = [c for c in scored.columns if c not in SCORED_LEADS_COLUMNS]
        if unknown:
            raise ServeError(
                f"scored_leads has column(s) {', '.join(unknown)} that the API does not compute: "
                "add them to lead_scoring.serve.service (SCORED_LEADS_COLUMNS and _row)"
            )
        self.batch = {str(row["lead_id"]): row for row in scored.to_dict(orient="records")}
        self.key_to_lead = {k.strip().lower(): k for k in self.batch}
        self.ranking = ArmRanking(ranking)
        self.batch_scored_at = (
            pd.Timestamp(meta["batch_scored_at"]) if meta.get("batch_scored_at") else None
        )
        self.program = FeatureProgram.from_json(meta["program"])
        self.scoring_lock = threading.Lock()
        self.received = received
        self.engine = Engine(
            state_path,
            self.program,
            received.frame,
            workers=config.workers,
            score=self.scores,
            clock=self.clock,
        )
        self.reasons_per_side = reasons_per_side

    def clock(self) -> pd.Timestamp:
        """The API's "now": the latest of the batch's scoring time and every received
        occurred_at -- the scoring date a rebuild with those events defaults to."""
        times = [t for t in (self.batch_scored_at,) if t is not None]
        if self.received.latest is not None:
            times.append(pd.Timestamp(self.received.latest))
        if not times:
            return pd.Timestamp.now(tz="UTC").tz_localize(None)
        return max(times)

    def scores(self, features: pd.DataFrame) -> pd.DataFrame:
        """The ml_scores rows of feature rows: the scoring step of the batch (one call per
        micro-batch of the engine)."""
        # one at a time: an XGBoost booster is not safe to configure from two threads, and
        # the step is Python (the GIL) anyway
        with self.scoring_lock:
            return scores_of_features(
                features,
                self.chosen,
                self.bundle,
                self.rules,
                self.reasons_per_side,
                self.labeled,
            )


class ScoringService:
    """See the module docstring. Reasons per side: the ``ml_scores`` config of the project."""

    def __init__(self, config: ServiceConfig) -> None:
        self.config = config
        self.received = ReceivedEvents(config.received_dir)
        if self.received.dropped_partial_bytes:
            log.warning(
                "%s ended in a partial line (%d bytes, a write cut by a crash, never "
                "acknowledged): dropped",
                self.received.path,
                self.received.dropped_partial_bytes,
            )
        self.crm_path = Path(config.serve_dir) / CRM_CHANGES_FILE
        self.crm_lock = threading.Lock()
        self.online: dict[str, dict[str, Any]] = {}
        self.online_lock = threading.Lock()
        self.program = compile_program(
            Path(config.project_dir), Path(config.serve_dir) / "compiled", config.vars
        )
        self.reasons_per_side = self.program.reasons_per_side or REASONS_PER_SIDE
        self.loaded = self._load()
        self._stop = threading.Event()
        self._refresher: threading.Thread | None = None

    # ---------------------------------------------------------------- state and refresh
    def _load(self) -> _Loaded:
        info = build_state(
            self.config.warehouse,
            Path(self.config.serve_dir),
            self.program,
            self.config.pinned_version,
        )
        return _Loaded(info.path, self.config, self.received, self.reasons_per_side)

    def refresh_if_changed(self) -> bool:
        """Rebuild the state when the warehouse changed since it was copied (a new build)."""
        try:
            mtime = Path(self.config.warehouse).stat().st_mtime
        except OSError:
            return False
        if mtime == self.loaded.meta["warehouse_mtime"]:
            return False
        try:
            new = self._load()
        except (ServeError, ProgramError) as exc:  # e.g. a build holds the lock: try later
            log.warning("state not refreshed: %s", exc)
            return False
        old, self.loaded = self.loaded, new
        # online rows older than the new batch are superseded by it
        if new.batch_scored_at is not None:
            self.online = {
                k: v
                for k, v in self.online.items()
                if pd.Timestamp(v["scored_at"]) > new.batch_scored_at
            }
        old.engine.close()
        log.info(
            "state refreshed from %s (model %s)", self.config.warehouse, new.meta["model_version"]
        )
        return True

    def start_refresher(self) -> None:
        def loop() -> None:
            while not self._stop.wait(self.config.refresh_seconds):
                self.refresh_if_changed()

        self._refresher = threading.Thread(target=loop, daemon=True, name="state-refresh")
        self._refresher.start()

    def close(self) -> None:
        self._stop.set()
        self.loaded.engine.close()

    # ---------------------------------------------------------------- scoring
    @property
    def model_version(self) -> str:
        return str(self.loaded.chosen["model_version"])

    def clock(self) -> pd.Timestamp:
        """The API's "now" (see :meth:`_Loaded.clock`)."""
        return self.loaded.clock()

    def _lead(self, lead_id: str) -> str:
        lead = self.loaded.key_to_lead.get(lead_id.strip().lower())
        if lead is None:
            raise LeadNotFoundError(
                f"lead {lead_id!r} is not an open lead of the last build (unknown or converted)"
            )
        return lead

    def score_online(self, lead_id: str, at: pd.Timestamp | None = None) -> dict[str, Any]:
        """The lead's scored_leads row computed now, at scoring time ``at`` (None: the API's
        clock when its run starts; requests waiting together share that run)."""
        for _ in range(3):
            loaded = self.loaded
            lead = self._lead(lead_id)
            try:
                scores = loaded.engine.features([lead.strip().lower()], at)
                break
            except EngineClosedError:  # a refresh swapped the state meanwhile: use the new one
                continue
        else:
            raise EngineClosedError("the scoring state was replaced three times in a row")
        scores = scores[scores["lead_id"].astype(str) == lead]
        if scores.empty:
            raise LeadNotFoundError(
                f"lead {lead_id!r} is not open at {at} (converted, or not yet created)"
            )
        return self._row(loaded, lead, scores.iloc[0].to_dict())

    def _row(self, loaded: _Loaded, lead: str, s: dict[str, Any]) -> dict[str, Any]:
        batch = loaded.batch[lead]
        arm, priority, band = loaded.ranking.rank(
            lead, s["conversion_probability"], s["rule_points"], s["score_band"]
        )
        scored_at = pd.Timestamp(s["scored_at"])
        if loaded.batch_scored_at is not None and scored_at <= loaded.batch_scored_at:
            previous = (
                batch["previous_scored_at"],
                batch["previous_lead_score"],
                batch["previous_score_band"],
            )
        else:
            previous = (batch["scored_at"], batch["lead_score"], batch["score_band"])
        base_rate = s["base_rate"]
        row = {
            "lead_id": lead,
            "scored_at": scored_at,
            "conversion_probability": s["conversion_probability"],
            "conversion_probability_7d": s["conversion_probability_7d"],
            "conversion_probability_30d": s["conversion_probability_30d"],
            "conversion_probability_90d": s["conversion_probability_90d"],
            "lead_score": s["lead_score"],
            "lead_priority": priority,
            "lift": s["conversion_probability"] / base_rate if base_rate else None,
            "score_band": band,
            "top_factors": s["top_factors"],
            "top_factors_json": s["top_factors_json"],
            "reasons_for": s["reasons_for"],
            "reasons_against": s["reasons_against"],
            "fit_score": s["fit_score"],
            "engagement_score": s["engagement_score"],
            "score_confidence": s["score_confidence"],
            "model_version": s["model_version"],
            "previous_scored_at": previous[0],
            "previous_lead_score": previous[1],
            "previous_score_band": previous[2],
            "score_change": (
                None
                if previous[1] is None or pd.isna(previous[1]) or pd.isna(s["lead_score"])
                else int(s["lead_score"]) - int(previous[1])
            ),
            "experiment_arm": arm,
        }
        return {c: _json_value(row[c]) for c in SCORED_LEADS_COLUMNS}

    def score(self, lead_id: str, at: pd.Timestamp | None = None) -> dict[str, Any]:
        """The lead's current row (see the module docstring); ``at``: scored online then."""
        if at is not None:
            return {**self.score_online(lead_id, at), "score_source": "online"}
        lead = self._lead(lead_id)
        if lead in self.online:
            return {**self.online[lead], "score_source": "online"}
        loaded = self.loaded
        batch = loaded.batch[lead]
        if str(batch["model_version"]) != self.model_version and loaded.batch_scored_at is not None:
            # a pinned --model-version other than the build's: the batch row is another model's
            return {**self.score_online(lead, loaded.batch_scored_at), "score_source": "online"}
        return {**{c: _json_value(batch[c]) for c in SCORED_LEADS_COLUMNS}, "score_source": "batch"}

    def post_events(self, lead_id: str, body: Any) -> dict[str, Any]:
        """Validate and keep the events, rescore the lead at the API's clock, record a band
        change for the CRM. Returns the row plus ``events_received`` / ``events_duplicate``."""
        lead = self._lead(lead_id)
        events = validate_events(body, lead, self.loaded.event_types)
        new = self.received.append(events)
        before = self.score(lead)
        row = self.score_online(lead)
        with self.online_lock:
            # concurrent posts for one lead: the later scoring time wins
            current = self.online.get(lead)
            newer = current is None or current["scored_at"] <= row["scored_at"]  # same format
            if newer:
                self.online[lead] = row
        if row["score_band"] != before["score_band"]:
            self._record_crm_change(row)
        return {
            **row,
            "score_source": "online",
            "events_received": len(new),
            "events_duplicate": len(events) - len(new),
        }

    def _record_crm_change(self, row: dict[str, Any]) -> None:
        line = json.dumps(row) + "\n"
        with self.crm_lock:
            self.crm_path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.crm_path, "a", encoding="utf-8") as handle:
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())

    def health(self) -> dict[str, Any]:
        loaded = self.loaded
        return {
            "status": "ok",
            "model_version": self.model_version,
            "model_name": str(loaded.chosen["model_name"]),
            "batch_scored_at": loaded.meta.get("batch_scored_at"),
            "clock": _json_value(self.clock()),
            "open_leads": len(loaded.batch),
            "leads_rescored_online": len(self.online),
            "events_received": len(self.received.event_ids),
            "partial_line_bytes_dropped_at_start": self.received.dropped_partial_bytes,
            "warehouse": loaded.meta.get("warehouse"),
        }
