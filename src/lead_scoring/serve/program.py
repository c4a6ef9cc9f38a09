"""The feature program: the dbt models from the raw sources to ``fct_lead_features``, compiled.

``dbt compile`` (target ``lint``: an in-memory DuckDB, so it never opens the warehouse) renders
every model of ``+fct_lead_features`` with var ``scoring_date`` set to a sentinel timestamp. In the
compiled SQL the sentinel literal is replaced by a read of the one-row table
``raw.scoring_clock``, so one program serves any scoring time. The models are returned in
dependency order with the seeds they read; :mod:`.engine` runs them, as one statement, over a few
leads' rows. Nothing is rewritten by hand: the SQL is the dbt models', with the vars of the build
and var ``portable_asof_join`` (the point-in-time joins as window functions, the same rows:
DuckDB 2.0 fails re-running a cached plan that holds an ``ASOF`` join).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "CLOCK_SQL",
    "FEATURE_MODEL",
    "SENTINEL",
    "FeatureProgram",
    "ProgramError",
    "compile_program",
]

FEATURE_MODEL = "fct_lead_features"
SCORING_MODEL = "ml_scores"
# var scoring_date while compiling: a timestamp no data holds; its literal is swapped for CLOCK_SQL
SENTINEL = "1970-01-01 00:00:00.424242"
SENTINEL_SQL = f"cast('{SENTINEL}' as timestamp)"
CLOCK_SQL = "(select scoring_at from raw.scoring_clock)"
PORTABLE_ASOF = "portable_asof_join"


class ProgramError(Exception):
    """The feature models could not be compiled or read (the message says which and why)."""


@dataclass(frozen=True)
class Step:
    """One model of the program: its name and compiled ``select`` (the clock already wired)."""

    name: str
    sql: str


@dataclass(frozen=True)
class FeatureProgram:
    """The models to run in order, the seeds they read, and the vars they were compiled with."""

    steps: tuple[Step, ...]
    seeds: tuple[str, ...]
    vars: dict[str, Any]
    reasons_per_side: int | None = None

    def to_json(self) -> str:
        return json.dumps(
            {
                "steps": [{"name": s.name, "sql": s.sql} for s in self.steps],
                "seeds": list(self.seeds),
                "vars": self.vars,
                "reasons_per_side": self.reasons_per_side,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> FeatureProgram:
        data = json.loads(text)
        steps = tuple(Step(s["name"], s["sql"]) for s in data["steps"])
        return cls(steps, tuple(data["seeds"]), dict(data["vars"]), data.get("reasons_per_side"))


def _ordered_nodes(manifest: dict, target: str) -> list[dict]:
    """The model and seed nodes ``target`` depends on (and itself), dependencies first."""
    nodes = {
        key: node
        for key, node in manifest["nodes"].items()
        if node["resource_type"] in ("model", "seed")
    }
    roots = [key for key, node in nodes.items() if node["name"] == target]
    if len(roots) != 1:
        raise ProgramError(f"the dbt manifest has no single model named {target!r}")
    order: list[dict] = []
    seen: set[str] = set()
    stack: list[tuple[str, bool]] = [(roots[0], False)]
    while stack:  # iterative depth-first post-order (the DAG is a few dozen nodes)
        key, expanded = stack.pop()
        if expanded:
            order.append(nodes[key])
            continue
        if key in seen:
            continue
        seen.add(key)
        stack.append((key, True))
        for dep in reversed(nodes[key].get("depends_on", {}).get("nodes", [])):
            if dep in nodes and dep not in seen:
                stack.append((dep, False))
    return order


def program_from_manifest(manifest: dict, vars: dict[str, Any]) -> FeatureProgram:
    """The program of a manifest compiled with var ``scoring_date`` = :data:`SENTINEL`."""
    steps: list[Step] = []
    seeds: list[str] = []
    for node in _ordered_nodes(manifest, FEATURE_MODEL):
        if node["resource_type"] == "seed":
            seeds.append(node["name"])
            continue
        if node["config"].get("materialized") == "ephemeral":
            continue  # inlined by dbt into the models that read it
        if node.get("language", "sql") != "sql":
            raise ProgramError(
                f"model {node['name']} is a Python model: the online feature program runs SQL only"
            )
        code = node.get("compiled_code")
        if not code:
            raise ProgramError(f"model {node['name']} has no compiled SQL in the manifest")
        steps.append(Step(node["name"], code.replace(SENTINEL_SQL, CLOCK_SQL)))
    if not any(CLOCK_SQL in step.sql for step in steps):
        raise ProgramError(
            "the compiled feature models never read the scoring date: macro scoring_at() no "
            f"longer renders var scoring_date as {SENTINEL_SQL}"
        )
    scoring = [n for n in manifest["nodes"].values() if n["name"] == SCORING_MODEL]
    reasons = scoring[0]["config"].get("reasons_per_side") if scoring else None
    return FeatureProgram(
        tuple(steps), tuple(seeds), vars, None if reasons in (None, "") else int(reasons)
    )


def compile_program(
    project_dir: Path, out_dir: Path, vars: dict[str, Any] | None = None
) -> FeatureProgram:
    """Compile ``+fct_lead_features`` into ``out_dir`` (its own dbt target path) and read it.

    ``vars`` are the build's ``--vars`` (the same snapshot interval, horizon, windows...);
    ``scoring_date`` is always the sentinel and ``portable_asof_join`` true. Runs the ``dbt`` of
    this Python environment.
    """
    vars = {k: v for k, v in (vars or {}).items() if k not in ("scoring_date", PORTABLE_ASOF)}
    # the ASOF joins in their portable form (macro window_asof_join, the same rows): the engine
    # caches the program's plan, and DuckDB 2.0 fails re-running a cached ASOF join
    compile_vars = {**vars, "scoring_date": SENTINEL, PORTABLE_ASOF: True}
    dbt = Path(sys.executable).with_name("dbt")
    command = [
        str(dbt) if dbt.exists() else "dbt",
        "compile",
        "--target",
        "lint",
        "--target-path",
        str(out_dir),
        # the feature models (tests are not needed) and ml_scores, for its scoring config
        "--select",
        f"+{FEATURE_MODEL},resource_type:model",
        SCORING_MODEL,
        "--vars",
        json.dumps(compile_vars),
        "--quiet",
    ]
    env = {
        **os.environ,
        "DBT_PROJECT_DIR": str(project_dir),
        "DBT_PROFILES_DIR": os.environ.get("DBT_PROFILES_DIR", str(project_dir)),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    done = subprocess.run(
        command, cwd=project_dir, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-8:])
        raise ProgramError(f"dbt compile of the feature models failed:\n{tail}")
    manifest = json.loads((Path(out_dir) / "manifest.json").read_text())
    return program_from_manifest(manifest, vars)
