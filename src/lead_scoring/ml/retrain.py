"""Retrain or score with the registered model: the decision behind var ``ml_retrain``.

Training cross-validates and refits (minutes at scale); scoring the open leads with a registered
model takes seconds. ``ml_retrain``:

* ``true`` -- every build retrains (the model learns from the labels matured since the last one).
* ``false`` -- score with the active registered model; train only when there is none usable.
* ``auto`` (default) -- retrain when any of these holds, else score with the active model:

  - no model is registered, or the active one is the rule fallback;
  - the active model was trained for a scoring date ``ml_retrain_every_days`` (7) or more days
    before this build's (the schedule: with daily builds, a weekly retrain);
  - the latest ``ml_model_health`` check of the active model asked for it (realized AUC drop,
    calibration, drift; see that model);
  - the ML config or the feature columns of the mart changed since it was trained.

Whatever the mode, a model trained for a *later* scoring date than this build's is never used
(replaying an earlier date must not score with labels from its future): the latest registered model
trained at or before the scoring date is, else a new one is trained.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from lead_scoring.ml.registry import latest_first

__all__ = ["RETRAIN_MODES", "RetrainDecision", "parse_retrain_mode", "retrain_decision"]

RETRAIN_MODES = ("auto", "true", "false")


@dataclass(frozen=True)
class RetrainDecision:
    """Train or not, why, and the registered row to score with when not."""

    retrain: bool
    reason: str
    model: Mapping[str, Any] | None = None


def parse_retrain_mode(value: Any) -> str:
    """'auto', 'true' or 'false' from a dbt var (bool, or any casing of the words)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value).strip().lower() if value is not None else "auto"
    text = {"": "auto", "none": "auto", "null": "auto", "yes": "true", "no": "false"}.get(
        text, text
    )
    if text not in RETRAIN_MODES:
        raise ValueError(f"var ml_retrain must be true, false or auto, got {value!r}")
    return text


def _usable(registry: pd.DataFrame, scoring_at: pd.Timestamp | None) -> pd.DataFrame:
    """Rows trained for a scoring date at or before ``scoring_at`` (rows without one: legacy,
    usable), latest trained first."""
    if registry is None or registry.empty:
        return pd.DataFrame()
    rows = latest_first(registry)
    if scoring_at is None or "scoring_at" not in rows.columns:
        return rows
    trained_for = pd.to_datetime(rows["scoring_at"])
    return rows[trained_for.isna() | (trained_for <= pd.Timestamp(scoring_at))]


def retrain_decision(
    mode: str,
    registry: pd.DataFrame | None,
    scoring_at: pd.Timestamp | None,
    config: Mapping[str, Any],
    features: Sequence[str],
    every_days: int = 7,
    health: pd.DataFrame | None = None,
) -> RetrainDecision:
    """Decide (see the module docstring). ``registry``: the ``ml_models`` rows;
    ``config``: the resolved ML config of this build (``MLConfig.to_dict()``); ``features``: the
    feature columns the mart offers now; ``health``: ``ml_model_health`` rows (may be None)."""
    mode = parse_retrain_mode(mode)
    if mode == "true":
        return RetrainDecision(True, "var ml_retrain is true: every build retrains")
    usable = _usable(registry, scoring_at)
    if usable.empty:
        if registry is not None and not registry.empty:
            return RetrainDecision(
                True, "every registered model was trained for a later scoring date"
            )
        return RetrainDecision(True, "no model is registered yet")
    active = usable.iloc[0].to_dict()
    if mode == "false":
        return RetrainDecision(False, "var ml_retrain is false", active)
    if active.get("model_name") != "xgboost":
        return RetrainDecision(True, "the active model is the rule-based fallback")
    metadata = json.loads(active.get("metadata_json") or "{}")
    trained_config = dict(metadata.get("config") or {})
    current = {k: v for k, v in config.items() if k != "nthread"}
    before = {k: v for k, v in trained_config.items() if k != "nthread"}
    if _canonical(current) != _canonical(before):
        changed = sorted(k for k in set(current) | set(before) if current.get(k) != before.get(k))
        return RetrainDecision(True, f"the ML config changed ({', '.join(changed)})")
    trained_features = json.loads(active.get("features_json") or "[]")
    if sorted(trained_features) != sorted(features):
        added = sorted(set(features) - set(trained_features))
        removed = sorted(set(trained_features) - set(features))
        return RetrainDecision(
            True, f"the feature columns changed (added {added[:5]}, removed {removed[:5]})"
        )
    trained_for = active.get("scoring_at")
    if scoring_at is not None and trained_for is not None and not pd.isna(trained_for):
        age = (pd.Timestamp(scoring_at) - pd.Timestamp(trained_for)).total_seconds() / 86400
        if age >= every_days:
            return RetrainDecision(
                True,
                f"the active model is {age:.0f} days old (ml_retrain_every_days={every_days})",
            )
    if health is not None and not health.empty:
        own = health[health["model_version"] == active["model_version"]]
        if not own.empty:
            latest = own.sort_values(["scored_at", "checked_at"]).iloc[-1]
            if bool(latest["requires_retraining"]):
                return RetrainDecision(
                    True, f"ml_model_health asked for it: {latest.get('reasons', '')}"
                )
    return RetrainDecision(False, "the active model is current", active)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)
