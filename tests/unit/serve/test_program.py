"""The feature program read from a dbt manifest: dependency order, the clock, clear errors."""

from __future__ import annotations

import pytest

from lead_scoring.serve.program import (
    CLOCK_SQL,
    SENTINEL_SQL,
    FeatureProgram,
    ProgramError,
    program_from_manifest,
)


def _node(name, kind="model", deps=(), code="select 1", materialized="table", language="sql"):
    return {
        "name": name,
        "resource_type": kind,
        "depends_on": {"nodes": [f"model.p.{d}" if not d.startswith("seed") else d for d in deps]},
        "config": {"materialized": materialized, "reasons_per_side": 2},
        "compiled_code": code,
        "language": language,
    }


def _manifest(**overrides):
    nodes = {
        "seed.p.event_types": _node("event_types", kind="seed"),
        "model.p.base": _node(
            "base", deps=["seed.p.event_types"], code=f"select {SENTINEL_SQL} as t"
        ),
        "model.p.windows": _node("windows", deps=["base"], materialized="ephemeral"),
        "model.p.fct_lead_features": _node("fct_lead_features", deps=["windows", "base", "stg"]),
        "model.p.stg": _node("stg", deps=["base"]),
        "model.p.unrelated": _node("unrelated"),
        "model.p.ml_scores": _node("ml_scores", language="python"),
    }
    nodes.update(overrides)
    return {"nodes": nodes}


def test_models_in_dependency_order_with_the_clock_wired():
    program = program_from_manifest(_manifest(), {"snapshot_interval_days": 7})
    assert [s.name for s in program.steps] == ["base", "stg", "fct_lead_features"]
    assert program.seeds == ("event_types",)
    assert CLOCK_SQL in program.steps[0].sql and SENTINEL_SQL not in program.steps[0].sql
    assert program.reasons_per_side == 2
    assert FeatureProgram.from_json(program.to_json()) == program


def test_errors_name_the_model():
    no_clock = _manifest(**{"model.p.base": _node("base", code="select now()")})
    with pytest.raises(ProgramError, match="scoring date"):
        program_from_manifest(no_clock, {})
    python = _manifest(**{"model.p.stg": _node("stg", deps=["base"], language="python")})
    with pytest.raises(ProgramError, match="stg is a Python model"):
        program_from_manifest(python, {})
    uncompiled = _manifest(**{"model.p.stg": _node("stg", deps=["base"], code="")})
    with pytest.raises(ProgramError, match="stg has no compiled SQL"):
        program_from_manifest(uncompiled, {})
