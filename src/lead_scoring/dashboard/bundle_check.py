"""Reading an import ZIP back and listing what is wrong with it (as Superset would import it)."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import yaml

from lead_scoring.dashboard.assets import dataset_reads
from lead_scoring.dashboard.bundle import database_uri
from lead_scoring.publish import BI_DATABASE, PUBLISHED_TABLES


def read_bundle(zip_path: Path | str) -> dict[str, dict[str, Any]]:
    """{path inside the bundle root: parsed YAML} of an import ZIP."""
    with zipfile.ZipFile(zip_path) as bundle:
        contents = {}
        for info in bundle.infolist():
            if info.is_dir():
                continue
            _, _, inner = info.filename.partition("/")
            contents[inner] = yaml.safe_load(bundle.read(info))
    return contents


def _by_uuid(contents: dict[str, dict[str, Any]], folder: str) -> dict[str, dict[str, Any]]:
    return {item["uuid"]: item for path, item in contents.items() if path.startswith(folder)}


def _dashboard_problems(board: dict[str, Any], charts: dict[str, dict[str, Any]]) -> list[str]:
    """The dashboard shows charts, each in the bundle, and every chart of the bundle."""
    referenced = [
        item["meta"]["uuid"]
        for item in board["position"].values()
        if isinstance(item, dict) and item.get("type") == "CHART"
    ]
    problems = []
    if not referenced:
        problems.append("the dashboard shows no chart")
    problems += [f"dashboard chart {u} has no chart file" for u in referenced if u not in charts]
    problems += [
        f"chart {c['slice_name']!r} is not on the dashboard"
        for u, c in charts.items()
        if u not in referenced
    ]
    return problems


def _dataset_problems(
    dataset: dict[str, Any], databases: dict[str, Any], published_tables: tuple[str, ...]
) -> list[str]:
    """The dataset reads published tables only, from a database of the bundle."""
    problems = []
    reads = dataset_reads(dataset["table_name"], dataset.get("sql"))
    outside = sorted(reads - set(published_tables))
    if not reads or outside:
        problems.append(
            f"dataset {dataset['table_name']!r} reads {outside or 'no table'}: "
            "only published tables (lead_scoring.publish.PUBLISHED_TABLES)"
        )
    if dataset["database_uuid"] not in databases:
        problems.append(f"dataset {dataset['table_name']!r}: its database is not in the bundle")
    return problems


def _database_problems(database: dict[str, Any], published_dir: Path | str | None) -> list[str]:
    """The database is a published BI database (published_dir's when given), read-only."""
    problems = []
    uri = database["sqlalchemy_uri"]
    expected = database_uri(published_dir) if published_dir is not None else None
    if expected and uri != expected:
        problems.append(f"database URI {uri} is not the published folder's ({expected})")
    if not uri.startswith("duckdb:///") or f"/{BI_DATABASE}?" not in uri:
        problems.append(f"database URI {uri} is not a published {BI_DATABASE}")
    if "access_mode=read_only" not in uri:
        problems.append(f"database URI {uri} is not read-only")
    return problems


def bundle_problems(
    zip_path: Path | str,
    published_dir: Path | str | None = None,
    published_tables: tuple[str, ...] = PUBLISHED_TABLES,
) -> list[str]:
    """What is wrong with an import ZIP (empty when nothing): every chart of the dashboard
    is in it with its dataset and database, every dataset reads published tables only, and
    the database is the published BI database (of published_dir when given), read-only."""
    try:
        contents = read_bundle(zip_path)
    except (zipfile.BadZipFile, OSError, yaml.YAMLError) as exc:
        return [f"{zip_path}: not a readable ZIP of YAML files: {exc}"]
    problems = []
    if (contents.get("metadata.yaml") or {}).get("type") != "assets":
        problems.append("metadata.yaml missing or not of type assets")
    charts = _by_uuid(contents, "charts/")
    datasets = _by_uuid(contents, "datasets/")
    databases = _by_uuid(contents, "databases/")
    dashboards = [d for p, d in contents.items() if p.startswith("dashboards/")]
    if len(dashboards) != 1:
        problems.append(f"expected one dashboard, found {len(dashboards)}")
    for board in dashboards:
        problems += _dashboard_problems(board, charts)
    for chart in charts.values():
        if chart["dataset_uuid"] not in datasets:
            problems.append(f"chart {chart['slice_name']!r}: its dataset is not in the bundle")
    for dataset in datasets.values():
        problems += _dataset_problems(dataset, databases, published_tables)
    for database in databases.values():
        problems += _database_problems(database, published_dir)
    return problems
