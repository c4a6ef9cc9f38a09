"""State no rebuild brings back: backed up, restored into a new warehouse, kept by make clean."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest
from crm_fakes import make_warehouse, no_sleep
from project import PROJECT_DIR
from warehouse_state import dump_state

from lead_scoring.crm import SyncConfig, sync
from lead_scoring.state import StateError, backup_state, restore_state


class Ok:
    def __call__(self, url, body, headers, timeout):
        return 200, {}, "{}"


def _warehouse_with_state(path: Path) -> Path:
    make_warehouse(path, n=20)
    sync(path, SyncConfig(endpoint="https://crm.example.com/x"), Ok(), sleep=no_sleep)
    con = duckdb.connect(str(path))
    con.execute(
        "create table main.ml_models as select 'v1' as model_version, "
        "timestamp '2025-06-30' as trained_at, 'xgboost' as model_name, "
        "'\\x00\\x01'::blob as booster"
    )
    con.execute(
        "create table main.scored_leads_history as select lead_id, scored_at, "
        "conversion_probability from main.scored_leads"
    )
    con.close()
    return path


def test_backup_then_restore_into_a_new_warehouse_gives_the_same_state(tmp_path) -> None:
    old = _warehouse_with_state(tmp_path / "old.duckdb")
    summary = backup_state(old, tmp_path / "backups")
    assert summary.rows == {
        "main.ml_models": 1,
        "main.scored_leads_history": 20,
        "crm_sync.outbox": 20,
        "crm_sync.delivered_state": 20,
    }
    assert [p.name for p in (tmp_path / "backups").iterdir()] == [summary.folder.name]
    new = tmp_path / "new.duckdb"
    restored = restore_state(new, summary.folder)
    assert restored.rows == summary.rows
    assert dump_state(new) == dump_state(old)
    # the CRM state is usable: with the same scores nothing is resent
    scores = duckdb.connect(str(old), read_only=True).sql("select * from main.scored_leads").df()
    con = duckdb.connect(str(new))
    con.register("scores", scores)
    con.execute("create table main.scored_leads as select * from scores")
    con.close()
    again = sync(new, SyncConfig(endpoint="https://crm.example.com/x"), Ok(), sleep=no_sleep)
    assert again.queued == 0
    # a warehouse that already holds state is never overwritten
    with pytest.raises(StateError, match="already holds"):
        restore_state(old, summary.folder)


def test_make_clean_keeps_the_warehouse(tmp_path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(PROJECT_DIR / "Makefile", project / "Makefile")
    for name in ("target", "logs", "published", "reports"):
        (project / name).mkdir()
    (project / "lead_scoring.duckdb").write_bytes(b"state")
    done = subprocess.run(
        ["make", "-s", "clean"],
        cwd=project,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr
    assert (project / "lead_scoring.duckdb").read_bytes() == b"state"
    assert not any((project / n).exists() for n in ("target", "logs", "published", "reports"))
    assert "kept" in done.stdout and "clean-warehouse" in done.stdout
