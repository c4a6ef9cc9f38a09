"""BI-safe publishing (`lead-scoring publish`): Parquet files, a DuckDB copy readable by older
DuckDB versions and a manifest, each replaced atomically, so a BI reader never blocks
`dbt build` and never reads a partial file.

Unit tests on a small DuckDB file made here; the end-to-end tests (a 300-lead funnel built with
dbt, a reader process over the published files during a second build) are
tests/e2e/test_publish_e2e.py."""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from publication import fetch_rows, read_manifest

import lead_scoring.publish as publish_module
from lead_scoring.cli import main
from lead_scoring.publish import (
    BI_DATABASE,
    MANIFEST,
    PII_COLUMNS,
    PUBLISHED_TABLES,
    PublishError,
    publish,
)

PRESENT = ["scored_leads", "fct_channel_attribution", "ml_model_metrics"]


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """A small warehouse: three of the published tables and a staging table holding PII."""
    path = tmp_path / "wh.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        """
        create table scored_leads as
            select 'L' || range as lead_id, range * 10 as lead_score,
                ['A', 'B', 'C', 'D', 'D'][range + 1] as score_band,
                timestamp '2025-06-30' as scored_at
            from range(5);
        create table fct_channel_attribution as
            select * from (values ('linear', 'email', 1.5), ('linear', 'direct', 0.5),
                ('markov', 'email', 2.0)) as t(attribution_model, channel, attributed_conversions);
        create table ml_model_metrics as
            select 'v1' as model_version, 'test' as split, metric, value
            from (values ('auc', 0.8), ('ece', 0.01), ('brier', 0.1), ('log_loss', 0.2))
                as t(metric, value);
        create table stg_crm__leads as
            select 'L1' as lead_id, 'a@acme.com' as email, 'Acme' as company_name;
        """
    )
    con.close()
    return path


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tmp-" in p.name or p.name.endswith(".wal"))


@contextlib.contextmanager
def _process_holding(path: Path, read_only: bool) -> Iterator[subprocess.Popen]:
    """Another process with the DuckDB file open until the block ends."""
    code = (
        "import duckdb, sys\n"
        "con = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == '1')\n"
        "print('held', flush=True)\n"
        "sys.stdin.read()\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(path), "1" if read_only else "0"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline().strip() == "held"
        yield process
    finally:
        process.stdin.close()
        process.wait(timeout=30)


# --------------------------------------------------------------------------- unit tests


def test_publishes_the_default_tables_present_and_reports_the_absent(
    warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "published"
    code = main(["publish", "--duckdb", str(warehouse), "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    absent = [name for name in PUBLISHED_TABLES if name not in PRESENT]
    assert absent  # the control: some default tables are missing from this warehouse
    manifest = read_manifest(out)
    assert sorted(manifest["tables"]) == sorted(PRESENT)
    assert manifest["skipped"] == absent
    assert sorted(p.name for p in out.glob("*.parquet")) == sorted(f"{t}.parquet" for t in PRESENT)
    lines = printed.splitlines()
    for name in PRESENT:
        rows = fetch_rows(warehouse, f"select count(*) from {name}")[0][0]
        assert any(
            line.startswith(name)
            and f"{rows} rows -> {out / 'current' / (name + '.parquet')}" in line
            for line in lines
        ), printed
    for name in absent:
        assert any(line.startswith(name) and "skipped" in line for line in lines), printed


def test_manifest_describes_the_files_exactly(warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "published"
    summary = publish(warehouse, out)
    manifest = read_manifest(out)
    assert manifest["source_warehouse"] == str(warehouse.resolve())
    assert manifest["published_at"] == summary.published_at
    for name in PRESENT:
        entry = manifest["tables"][name]
        path = out / entry["file"]
        assert entry["rows"] == fetch_rows(warehouse, f"select count(*) from {name}")[0][0]
        assert [(c["name"], c["type"]) for c in entry["columns"]] == [
            (row[0], row[1]) for row in fetch_rows(warehouse, f"describe {name}")
        ]
        assert entry["sha256"] == _sha256(path)
        assert entry["bytes"] == path.stat().st_size
        # same rows (as a multiset) and same types, read back by DuckDB
        differences = fetch_rows(
            warehouse,
            f"""select count(*) from (
                (select * from {name} except all select * from read_parquet('{path}'))
                union all
                (select * from read_parquet('{path}') except all select * from {name}))""",
        )[0][0]
        assert differences == 0
        assert fetch_rows(
            warehouse, f"describe select * from read_parquet('{path}')"
        ) == fetch_rows(warehouse, f"describe {name}")
    assert manifest["bi_database"]["sha256"] == _sha256(out / BI_DATABASE)


def test_bi_copy_holds_the_same_tables_readable_by_older_duckdb(
    warehouse: Path, tmp_path: Path
) -> None:
    out = tmp_path / "published"
    publish(warehouse, out)
    con = duckdb.connect()
    try:
        con.execute(f"attach '{out / BI_DATABASE}' as bi (read_only)")
        tags = con.execute("select tags from duckdb_databases() where database_name = 'bi'")
        assert tags.fetchall()[0][0]["storage_version"].startswith("v1.4.0")
        tables = con.execute(
            "select table_name from information_schema.tables where table_catalog = 'bi'"
        ).fetchall()
        assert sorted(t[0] for t in tables) == sorted(PRESENT)
        for name in PRESENT:
            rows = con.execute(f"select count(*) from bi.main.{name}").fetchall()[0][0]
            assert rows == read_manifest(out)["tables"][name]["rows"]
    finally:
        con.close()
    # the control: a file written by this DuckDB without the option is in the newer format
    default = tmp_path / "default.duckdb"
    duckdb.connect(str(default)).close()
    con = duckdb.connect()
    try:
        con.execute(f"attach '{default}' as d (read_only)")
        tags = con.execute("select tags from duckdb_databases() where database_name = 'd'")
        assert not tags.fetchall()[0][0]["storage_version"].startswith("v1.4.0")
    finally:
        con.close()


def test_requested_tables_only_and_a_missing_one_is_an_error_naming_it(
    warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "published"
    code = main(["publish", "--duckdb", str(warehouse), "--out", str(out), "--tables", "ml_drift"])
    err = capsys.readouterr().err
    assert code == 2
    assert "ml_drift" in err and str(warehouse) in err and "Traceback" not in err
    assert not out.exists() or not list(out.iterdir())

    with pytest.raises(PublishError, match="ml_backtest"):
        publish(warehouse, out, ["scored_leads", "ml_backtest"])

    summary = publish(warehouse, out, ["ml_model_metrics"])
    assert [t.name for t in summary.tables] == ["ml_model_metrics"]
    assert summary.skipped == []
    assert [p.name for p in out.glob("*.parquet")] == ["ml_model_metrics.parquet"]


def test_no_published_file_has_a_pii_column(warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "published"
    publish(warehouse, out)
    assert {"email", "company_name"} <= {
        row[0] for row in fetch_rows(warehouse, "describe stg_crm__leads")
    }  # the control: the warehouse does hold PII
    for path in out.glob("*.parquet"):
        assert not set(pq.read_schema(path).names) & PII_COLUMNS, path
    bi_columns = fetch_rows(out / BI_DATABASE, "select column_name from information_schema.columns")
    assert not {row[0] for row in bi_columns} & PII_COLUMNS
    # asked for explicitly, a table with PII is refused
    with pytest.raises(PublishError, match="company_name, email"):
        publish(warehouse, tmp_path / "other", ["stg_crm__leads"])
    assert not (tmp_path / "other").exists()


def test_the_lead_dimension_is_published_and_joins_the_scores(
    warehouse: Path, tmp_path: Path
) -> None:
    assert {"dim_leads", "fct_channel_mix_performance", "ml_experiment_results"} <= set(
        PUBLISHED_TABLES
    )
    con = duckdb.connect(str(warehouse))
    con.execute(
        """
        create table dim_leads as
            select 'L' || range as lead_id, 'software' as industry,
                case when range = 0 then 'converted' else 'open' end as status
            from range(6);
        """
    )
    con.close()
    out = tmp_path / "published"
    summary = publish(warehouse, out)
    assert "dim_leads" in [t.name for t in summary.tables]
    assert "fct_channel_mix_performance" in summary.skipped  # absent here: skipped, reported
    joined = fetch_rows(
        out / BI_DATABASE,
        "select count(*), count(dim_leads.lead_id) from scored_leads "
        "left join dim_leads on scored_leads.lead_id = dim_leads.lead_id",
    )
    assert joined == [(5, 5)]


def test_republish_replaces_the_files(warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "published"
    publish(warehouse, out)
    first = read_manifest(out)
    inode = (out / "scored_leads.parquet").stat().st_ino
    con = duckdb.connect(str(warehouse))
    con.execute("insert into scored_leads select 'L9', 90, 'A', timestamp '2025-06-30'")
    con.close()
    publish(warehouse, out)
    second = read_manifest(out)
    assert second["published_at"] > first["published_at"]
    assert first["tables"]["scored_leads"]["rows"] == 5
    assert second["tables"]["scored_leads"]["rows"] == 6
    assert pq.read_metadata(out / "scored_leads.parquet").num_rows == 6
    assert second["tables"]["scored_leads"]["sha256"] == _sha256(out / "scored_leads.parquet")
    assert (out / "scored_leads.parquet").stat().st_ino != inode  # a new file, moved in
    assert fetch_rows(out / BI_DATABASE, "select count(*) from scored_leads")[0][0] == 6
    assert _temp_files(out) == []


def test_a_failure_leaves_no_temp_file_and_the_old_publication_intact(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "published"
    publish(warehouse, out)
    current = os.readlink(out / "current")
    before = {p.name: _sha256(p) for p in (out / "current").iterdir()}
    con = duckdb.connect(str(warehouse))
    con.execute("delete from scored_leads where lead_id = 'L0'")
    con.close()
    written: list[list[str]] = []

    def failing_bi_database(con, path, names):  # after every new Parquet file is written
        written.append(sorted(p.name for p in path.parent.glob("*.parquet")))
        raise duckdb.IOException("disk full (simulated)")

    monkeypatch.setattr(publish_module, "_write_bi_database", failing_bi_database)
    with pytest.raises(PublishError, match="disk full"):
        publish(warehouse, out)
    assert len(written[0]) == len(PRESENT)  # the control: the new files did exist
    assert _temp_files(out) == []
    assert [p.name for p in (out / "publications").iterdir()] == [Path(current).name]
    assert os.readlink(out / "current") == current
    assert {p.name: _sha256(p) for p in (out / "current").iterdir()} == before


def test_a_crashed_bi_clients_wal_never_reaches_a_reader_of_the_next_publication(
    warehouse: Path, tmp_path: Path
) -> None:
    """A BI client opened the published file read-write (through the flat name and through
    `current`), wrote, and was killed: its .wal is left in the publication's folder (DuckDB
    resolves the links). The next publication must not inherit it."""
    out = tmp_path / "published"
    publish(warehouse, out)
    code = (
        "import duckdb, os, signal, sys\n"
        "con = duckdb.connect(sys.argv[1])\n"
        "con.execute(\"insert into scored_leads values ('ZZ', 1, 'A', timestamp '2025-07-01')\")\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    for path in (out / BI_DATABASE, out / "current" / BI_DATABASE):
        crashed = subprocess.run([sys.executable, "-c", code, str(path)], check=False)
        assert crashed.returncode == -signal.SIGKILL
    stale = list((out / "current").glob("*.wal"))
    assert stale  # the control: the crashes left a WAL, which a reader would replay
    assert fetch_rows(out / BI_DATABASE, "select count(*) from scored_leads") == [(7,)]
    publish(warehouse, out)
    assert not list((out / "current").glob("*.wal")) and not list(out.glob("*.wal"))
    for path in (out / BI_DATABASE, out / "current" / BI_DATABASE):
        rows = fetch_rows(
            path, "select count(*), count(*) filter (where lead_id = 'ZZ') from scored_leads"
        )
        assert rows == [(5, 0)], path


def test_publications_are_folders_switched_by_one_link_and_old_ones_are_removed(
    warehouse: Path, tmp_path: Path
) -> None:
    out = tmp_path / "published"
    out.mkdir()
    (out / "scored_leads.parquet").write_bytes(b"a file of the flat layout")
    ids = []
    for _ in range(5):
        summary = publish(warehouse, out)
        ids.append(summary.publication.name)
        assert os.readlink(out / "current") == f"publications/{summary.publication.name}"
    assert sorted(p.name for p in (out / "publications").iterdir()) == ids[-3:]
    # the flat names are links through `current`, the old file among them
    for name in [*(f"{t}.parquet" for t in PRESENT), BI_DATABASE, MANIFEST]:
        assert os.readlink(out / name) == f"current/{name}", name
    assert read_manifest(out)["publication"] == ids[-1]
    assert summary.tables[0].path == out.resolve() / "current" / summary.tables[0].path.name


def test_temp_files_of_a_killed_publish_are_removed(warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "published"
    out.mkdir()
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    stale = out / f".scored_leads.parquet.tmp-{int(gone.stdout)}"
    stale.write_bytes(b"PAR1 half a file")
    half = out / "publications" / f".20250101T000000000000Z-1.partial-{int(gone.stdout)}"
    half.mkdir(parents=True)
    (half / "scored_leads.parquet").write_bytes(b"PAR1 half a file")
    summary = publish(warehouse, out)
    assert summary.removed_temp_files == [stale.name, f"publications/{half.name}"]
    assert _temp_files(out) == [] and not half.exists()


def test_two_publishes_into_one_folder_never_mix(warehouse: Path, tmp_path: Path) -> None:
    import fcntl

    out = tmp_path / "published"
    out.mkdir()
    fd = os.open(out, os.O_RDONLY)  # what a publish in progress holds
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(PublishError, match="another `lead-scoring publish`"):
            publish(warehouse, out)
        assert list(out.iterdir()) == []
    finally:
        os.close(fd)
    assert publish(warehouse, out).tables  # the lock released, it publishes


def test_cli_defaults_come_from_the_environment(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LEAD_SCORING_DUCKDB", str(warehouse))
    monkeypatch.delenv("LEAD_SCORING_PUBLISH_DIR", raising=False)
    assert main(["publish"]) == 0
    assert (tmp_path / "published" / MANIFEST).is_file()
    monkeypatch.setenv("LEAD_SCORING_PUBLISH_DIR", str(tmp_path / "bi"))
    assert main(["publish", "--tables", "scored_leads"]) == 0
    assert list(read_manifest(tmp_path / "bi")["tables"]) == ["scored_leads"]


def test_missing_or_locked_warehouse_is_a_clear_error(
    warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    missing = tmp_path / "nowhere.duckdb"
    assert main(["publish", "--duckdb", str(missing), "--out", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err
    assert str(missing) in err and "Traceback" not in err
    with _process_holding(warehouse, read_only=False):  # a writer, e.g. `dbt build`
        code = main(["publish", "--duckdb", str(warehouse), "--out", str(tmp_path / "p")])
    err = capsys.readouterr().err
    assert code == 2
    assert str(warehouse) in err and "writing" in err and "Traceback" not in err
    assert not (tmp_path / "p").exists()


def test_negative_control_a_reader_on_the_live_warehouse_blocks_the_writer(
    warehouse: Path,
) -> None:
    """Why publishing exists: a BI tool reading the live file makes the build's writes fail."""
    with (
        _process_holding(warehouse, read_only=True),
        pytest.raises(duckdb.IOException, match="lock"),
    ):
        duckdb.connect(str(warehouse)).close()
    duckdb.connect(str(warehouse)).close()  # and once the reader is gone, the writer can open


# --------------------------------------------------------------------------- end to end
