"""The docs-coverage check (scripts/check_docs_coverage.py, run by `make docs`) on a hand-made
manifest: it refuses a metric or a semantic-model element without a description. The semantic
layer itself, on a built warehouse, is tests/e2e/test_semantic_layer.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from project import PROJECT_DIR


def test_docs_coverage_check_catches_an_undescribed_metric_or_measure(tmp_path: Path) -> None:
    """The check refuses a metric or a semantic model element without a description (every
    semantic model, entity, dimension, measure and metric of the project has one)."""
    manifest = {
        "metadata": {"project_name": "lead_scoring"},
        "nodes": {},
        "sources": {},
        "exposures": {},
        "semantic_models": {
            "semantic_model.lead_scoring.leads": {
                "unique_id": "semantic_model.lead_scoring.leads",
                "package_name": "lead_scoring",
                "description": "Leads.",
                "entities": [{"name": "lead", "description": "The lead."}],
                "dimensions": [],
                "measures": [{"name": "lead_count", "description": None}],
            }
        },
        "metrics": {
            "metric.lead_scoring.leads": {
                "unique_id": "metric.lead_scoring.leads",
                "package_name": "lead_scoring",
                "description": "",
            }
        },
    }
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    check = subprocess.run(
        [sys.executable, str(PROJECT_DIR / "scripts" / "check_docs_coverage.py"), str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 1, check.stdout
    assert "metric.lead_scoring.leads: no description" in check.stdout
    assert "semantic_model.lead_scoring.leads.lead_count: no description (measures)" in check.stdout
