"""Docs coverage: fail below 100 %.

    .venv/bin/python scripts/check_docs_coverage.py target            # after `dbt docs generate`

Reads ``manifest.json`` (and ``catalog.json`` when it lists the built tables) from the dbt target
folder and checks that every model, seed, source table and exposure of the project has a
description, and that every column has one:

* the columns declared in YAML must carry a description;
* a seed's columns are read from its CSV header, so a seed column missing from YAML is caught;
* with a catalog of a built warehouse (the end-to-end test generates one), every column that
  exists in a model, seed or source table must be described in YAML: a column added to the SQL
  but not to the docs is caught;
* the semantic layer: every semantic model and each of its entities, dimensions and measures,
  every metric and every saved query must have a description.

Prints the coverage and each gap; exits 1 below 100 %, 2 when the target folder has no manifest.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

DOCUMENTED_TYPES = ("model", "seed", "snapshot")


def _described(entry: dict) -> bool:
    return bool((entry.get("description") or "").strip())


def _catalog_columns(catalog: dict, unique_id: str) -> list[str] | None:
    for section in ("nodes", "sources"):
        node = catalog.get(section, {}).get(unique_id)
        if node:
            return [c.lower() for c in node.get("columns", {})]
    return None


def coverage_gaps(manifest: dict, catalog: dict | None, project_dir: Path) -> tuple[int, list[str]]:
    """(number of items checked, list of gaps)."""
    checked = 0
    gaps: list[str] = []
    resources = [
        n for n in manifest["nodes"].values() if n["resource_type"] in DOCUMENTED_TYPES
    ] + list(manifest.get("sources", {}).values())
    for node in sorted(resources, key=lambda n: n["unique_id"]):
        uid = node["unique_id"]
        if node.get("package_name") not in (None, manifest["metadata"].get("project_name")):
            continue  # only this project's resources
        checked += 1
        if not _described(node):
            gaps.append(f"{uid}: no description")
        documented = {name.lower(): col for name, col in node.get("columns", {}).items()}
        for name, col in documented.items():
            checked += 1
            if not _described(col):
                gaps.append(f"{uid}.{name}: no description")
        actual: list[str] | None = None
        if catalog is not None:
            actual = _catalog_columns(catalog, uid)
        if actual is None and node["resource_type"] == "seed":
            with open(project_dir / node["original_file_path"], newline="") as handle:
                actual = [c.strip().lower() for c in next(csv.reader(handle))]
        for name in actual or []:
            if name not in documented:
                checked += 1
                gaps.append(f"{uid}.{name}: column not documented in YAML")
    for exposure in manifest.get("exposures", {}).values():
        checked += 1
        if not _described(exposure):
            gaps.append(f"{exposure['unique_id']}: no description")
    semantic_checked, semantic_gaps = semantic_layer_gaps(manifest)
    return checked + semantic_checked, gaps + semantic_gaps


def semantic_layer_gaps(manifest: dict) -> tuple[int, list[str]]:
    """Semantic models (with their entities, dimensions and measures), metrics and saved
    queries of this project without a description."""
    checked = 0
    gaps: list[str] = []
    project = manifest["metadata"].get("project_name")
    resources = [
        *manifest.get("semantic_models", {}).values(),
        *manifest.get("metrics", {}).values(),
        *manifest.get("saved_queries", {}).values(),
    ]
    for resource in sorted(resources, key=lambda r: r["unique_id"]):
        if resource.get("package_name") not in (None, project):
            continue
        uid = resource["unique_id"]
        checked += 1
        if not _described(resource):
            gaps.append(f"{uid}: no description")
        for kind in ("entities", "dimensions", "measures"):
            for element in resource.get(kind) or []:
                checked += 1
                if not _described(element):
                    gaps.append(f"{uid}.{element['name']}: no description ({kind})")
    return checked, gaps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", help="dbt target folder holding manifest.json (and catalog.json)")
    parser.add_argument(
        "--project-dir", default=str(Path(__file__).resolve().parents[1]), help="dbt project root"
    )
    args = parser.parse_args(argv)
    target = Path(args.target)
    manifest_path = target / "manifest.json"
    if not manifest_path.exists():
        print(f"docs coverage: {manifest_path} not found; run `dbt docs generate` first")
        return 2
    manifest = json.loads(manifest_path.read_text())
    catalog = None
    catalog_path = target / "catalog.json"
    if catalog_path.exists():
        catalog = json.loads(catalog_path.read_text())
        if not catalog.get("nodes") and not catalog.get("sources"):
            catalog = None  # generated against an empty (in-memory) warehouse
    checked, gaps = coverage_gaps(manifest, catalog, Path(args.project_dir))
    share = 100.0 * (checked - len(gaps)) / checked if checked else 100.0
    source = "manifest + catalog" if catalog else "manifest + seed headers"
    print(f"docs coverage: {share:.1f}% of {checked} resources and columns described ({source})")
    for gap in gaps:
        print(f"  missing: {gap}")
    return 0 if not gaps else 1


if __name__ == "__main__":
    sys.exit(main())
