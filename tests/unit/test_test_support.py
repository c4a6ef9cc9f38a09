"""The e2e tests' shared parse (tests/support/dbt_shared_parse.py): which saved parse a run may
start from. Its dbt side (a reused parse equals plain dbt's) is tests/e2e/test_shared_parse.py."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from dbt_shared_parse import UNPARSED_CONNECTION_KEYS, find_saved_parse, parse_key, save_parse
from project import PROJECT_DIR


def saved(tmp_path: Path, cli_vars: dict, var_names: set[str]) -> Path:
    manifest = tmp_path / "partial_parse.msgpack"
    manifest.write_bytes(repr((cli_vars, sorted(var_names))).encode())
    save_parse(tmp_path / "cache", manifest, cli_vars, var_names)
    return tmp_path / "cache"


def test_the_key_holds_only_the_vars_read_while_parsing() -> None:
    names = {"scoring_date"}
    base = parse_key({"scoring_date": "2025-06-01", "raw_data_path": "a"}, names)
    assert base == parse_key({"scoring_date": "2025-06-01", "raw_data_path": "b"}, names)
    assert base != parse_key({"scoring_date": "2025-06-02", "raw_data_path": "a"}, names)
    # a var set on the command line is not the same parse as one left to its default
    assert parse_key({}, names) != parse_key({"scoring_date": None}, names)
    assert parse_key({}, names) == parse_key({"raw_data_path": "a"}, names)


def test_a_saved_parse_is_found_for_the_same_parse_time_values_only(tmp_path: Path) -> None:
    cache = saved(tmp_path, {"scoring_date": "2025-06-01", "raw_data_path": "a"}, {"scoring_date"})
    found = find_saved_parse(cache, {"scoring_date": "2025-06-01", "raw_data_path": "b"})
    assert found is not None and found.read_bytes().startswith(b"({'scoring_date'")
    assert find_saved_parse(cache, {"scoring_date": "2025-06-02"}) is None
    assert find_saved_parse(cache, {}) is None
    assert find_saved_parse(tmp_path / "no_cache", {}) is None


def test_an_entry_without_its_manifest_or_unreadable_is_not_used(tmp_path: Path) -> None:
    cache = saved(tmp_path, {}, set())
    assert find_saved_parse(cache, {"anything": 1}) is not None
    next(cache.glob("*.msgpack")).unlink()
    assert find_saved_parse(cache, {}) is None
    (cache / "broken.json").write_text("{not json")
    assert find_saved_parse(cache, {}) is None


def test_no_project_file_reads_what_the_check_leaves_out() -> None:
    """The profile keys the shared parse leaves out of dbt's state check (the warehouse path)
    must not be read by any file dbt parses: target.path in a model, macro, test or property
    file would make the parse depend on it."""
    read = re.compile(r"target\s*(\.|\[\s*['\"])\s*(" + "|".join(UNPARSED_CONNECTION_KEYS) + r")\b")
    project = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())
    folders = [
        folder
        for key, value in project.items()
        if key.endswith("-paths") and key != "docs-paths"
        for folder in value
    ]
    assert {"models", "python_models", "macros", "tests/dbt"} <= set(folders)
    parsed_files = [
        path
        for folder in folders
        for path in (PROJECT_DIR / folder).rglob("*")
        if path.suffix in {".sql", ".yml", ".yaml", ".py", ".csv"}
    ]
    parsed_files.append(PROJECT_DIR / "dbt_project.yml")
    assert len(parsed_files) > 100
    readers = [str(p) for p in parsed_files if read.search(p.read_text(errors="replace"))]
    assert readers == []


def test_run_dbt_leaves_out_the_dbt_unit_tests_only_when_asked(monkeypatch, tmp_path: Path) -> None:
    """run_dbt(..., unit_tests=False) runs dbt with DBT_EXCLUDE_RESOURCE_TYPES=unit_test (dbt's
    own switch); by default dbt runs every unit test it selects."""
    import subprocess

    import dbt_runner

    seen: list[dict] = []

    def fake_run(command, **kwargs):
        seen.append(kwargs["env"])
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.delenv("DBT_EXCLUDE_RESOURCE_TYPES", raising=False)
    monkeypatch.setattr(dbt_runner.subprocess, "run", fake_run)
    dbt_runner.run_dbt(["build"], tmp_path / "a")
    dbt_runner.run_dbt(["build"], tmp_path / "b", unit_tests=False)
    assert "DBT_EXCLUDE_RESOURCE_TYPES" not in seen[0]
    assert seen[1]["DBT_EXCLUDE_RESOURCE_TYPES"] == "unit_test"
