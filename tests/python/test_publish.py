"""BI-safe publishing (`lead-scoring publish`): Parquet files, a DuckDB copy readable by older
DuckDB versions and a manifest, each replaced atomically, so a BI reader never blocks
`dbt build` and never reads a partial file.

Unit tests run on a small DuckDB file made here; the end-to-end tests build a 300-lead funnel
once with dbt and run a reader process over the published files during a second build."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from conftest import DbtRun, run_dbt

import lead_scoring.publish as publish_module
from lead_scoring.cli import main
from lead_scoring.generate import GeneratorConfig, generate_dataset
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


def _query(path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tmp-" in p.name or p.name.endswith(".wal"))


def _manifest(folder: Path) -> dict:
    return json.loads((folder / MANIFEST).read_text())


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
    manifest = _manifest(out)
    assert sorted(manifest["tables"]) == sorted(PRESENT)
    assert manifest["skipped"] == absent
    assert sorted(p.name for p in out.glob("*.parquet")) == sorted(f"{t}.parquet" for t in PRESENT)
    lines = printed.splitlines()
    for name in PRESENT:
        rows = _query(warehouse, f"select count(*) from {name}")[0][0]
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
    manifest = _manifest(out)
    assert manifest["source_warehouse"] == str(warehouse.resolve())
    assert manifest["published_at"] == summary.published_at
    for name in PRESENT:
        entry = manifest["tables"][name]
        path = out / entry["file"]
        assert entry["rows"] == _query(warehouse, f"select count(*) from {name}")[0][0]
        assert [(c["name"], c["type"]) for c in entry["columns"]] == [
            (row[0], row[1]) for row in _query(warehouse, f"describe {name}")
        ]
        assert entry["sha256"] == _sha256(path)
        assert entry["bytes"] == path.stat().st_size
        # same rows (as a multiset) and same types, read back by DuckDB
        differences = _query(
            warehouse,
            f"""select count(*) from (
                (select * from {name} except all select * from read_parquet('{path}'))
                union all
                (select * from read_parquet('{path}') except all select * from {name}))""",
        )[0][0]
        assert differences == 0
        assert _query(warehouse, f"describe select * from read_parquet('{path}')") == _query(
            warehouse, f"describe {name}"
        )
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
            assert rows == _manifest(out)["tables"][name]["rows"]
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
        row[0] for row in _query(warehouse, "describe stg_crm__leads")
    }  # the control: the warehouse does hold PII
    for path in out.glob("*.parquet"):
        assert not set(pq.read_schema(path).names) & PII_COLUMNS, path
    bi_columns = _query(out / BI_DATABASE, "select column_name from information_schema.columns")
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
    joined = _query(
        out / BI_DATABASE,
        "select count(*), count(dim_leads.lead_id) from scored_leads "
        "left join dim_leads on scored_leads.lead_id = dim_leads.lead_id",
    )
    assert joined == [(5, 5)]


def test_republish_replaces_the_files(warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "published"
    publish(warehouse, out)
    first = _manifest(out)
    inode = (out / "scored_leads.parquet").stat().st_ino
    con = duckdb.connect(str(warehouse))
    con.execute("insert into scored_leads select 'L9', 90, 'A', timestamp '2025-06-30'")
    con.close()
    publish(warehouse, out)
    second = _manifest(out)
    assert second["published_at"] > first["published_at"]
    assert first["tables"]["scored_leads"]["rows"] == 5
    assert second["tables"]["scored_leads"]["rows"] == 6
    assert pq.read_metadata(out / "scored_leads.parquet").num_rows == 6
    assert second["tables"]["scored_leads"]["sha256"] == _sha256(out / "scored_leads.parquet")
    assert (out / "scored_leads.parquet").stat().st_ino != inode  # a new file, moved in
    assert _query(out / BI_DATABASE, "select count(*) from scored_leads")[0][0] == 6
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
    assert _query(out / BI_DATABASE, "select count(*) from scored_leads") == [(7,)]
    publish(warehouse, out)
    assert not list((out / "current").glob("*.wal")) and not list(out.glob("*.wal"))
    for path in (out / BI_DATABASE, out / "current" / BI_DATABASE):
        rows = _query(
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
    assert _manifest(out)["publication"] == ids[-1]
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
    assert list(_manifest(tmp_path / "bi")["tables"]) == ["scored_leads"]


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

# A BI reader in its own process: loops over the published files until told to stop, reading
# every Parquet file listed in the manifest (bytes, sha256, full parse) and the DuckDB copy
# (read-only, every row), recording what it saw and every error. On request (control file
# `hold`) it keeps the DuckDB copy and one Parquet file open until `release` appears, then
# checks that what it holds is still the same, complete data.
READER = r"""
import hashlib, io, json, os, sys, time
from pathlib import Path
import duckdb, pyarrow.parquet as pq

out, results, control = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
max_seconds, once = float(sys.argv[4]), sys.argv[5] == "once"
errors, parquet_reads, bi_reads, iterations = [], {}, {}, []
replaced_while_held = 0

def read_parquet(path):
    with open(path, "rb") as handle:
        data = handle.read()
    table = pq.read_table(io.BytesIO(data))
    if table.num_rows != pq.ParquetFile(io.BytesIO(data)).metadata.num_rows:
        raise ValueError("row count differs from the footer")
    return hashlib.sha256(data).hexdigest(), table.num_rows, table.column_names

def read_bi(con):
    names = sorted(r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_schema = 'main'"
    ).fetchall())
    return {n: len(con.execute(f'select * from main."{n}"').fetchall())
            for n in names}

def resolve():
    # a reader reads one publication: the folder `current` points to, resolved once
    link = out / "current"
    return out / os.readlink(link) if link.is_symlink() else out

start = time.time()
while True:
    folder = resolve()
    try:
        manifest = json.loads((folder / "_manifest.json").read_text())
    except Exception as exc:
        errors.append(f"_manifest.json: {type(exc).__name__}: {exc}")
        manifest = {"tables": {}}
    for name, entry in manifest["tables"].items():
        try:
            sha, rows, columns = read_parquet(folder / entry["file"])
            key = json.dumps([name, sha, rows, columns])
            parquet_reads[key] = parquet_reads.get(key, 0) + 1
            if sha != entry["sha256"]:
                errors.append(f"{entry['file']}: not the file of the manifest read with it")
        except Exception as exc:
            errors.append(f"{entry['file']}: {type(exc).__name__}: {exc}")
    bi = folder / "lead_scoring_bi.duckdb"
    hold = (control / "hold").exists() and not (control / "holding").exists()
    try:
        con = duckdb.connect(str(bi), read_only=True)
        try:
            counts = read_bi(con)
            whole = {n: e["rows"] for n, e in manifest["tables"].items()}
            if counts != whole:
                errors.append(f"DuckDB copy {counts} is not the publication {whole}")
            if hold:
                handle = open(folder / "scored_leads.parquet", "rb")
                held_sha = hashlib.sha256(handle.read()).hexdigest()
                (control / "holding").touch()
                deadline = time.time() + 120
                while not (control / "release").exists() and time.time() < deadline:
                    time.sleep(0.05)
                if not (control / "release").exists():
                    errors.append("never released")
                handle.seek(0)
                if hashlib.sha256(handle.read()).hexdigest() != held_sha:
                    errors.append("held scored_leads.parquet changed under the reader")
                handle.close()
                if read_bi(con) != counts:
                    errors.append("held DuckDB copy changed under the reader")
                if resolve() != folder:
                    replaced_while_held += 1
        finally:
            con.close()
        key = json.dumps(counts, sort_keys=True)
        bi_reads[key] = bi_reads.get(key, 0) + 1
    except Exception as exc:
        errors.append(f"lead_scoring_bi.duckdb: {type(exc).__name__}: {exc}")
    iterations.append(time.time())
    if not (control / "ready").exists():
        (control / "ready").touch()
    if once or (control / "stop").exists() or time.time() - start > max_seconds:
        break
    time.sleep(0.02)

results.write_text(json.dumps({
    "errors": errors, "parquet_reads": parquet_reads, "bi_reads": bi_reads,
    "iterations": iterations, "replaced_while_held": replaced_while_held,
}))
"""

# every gate runs, the model-quality ones included: on 300 leads their bootstrap intervals are
# wide, so only a model significantly worse than a baseline fails them
BUILD = ["build"]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[DbtRun, Path, Path]:
    """One dbt build of a small generated funnel (enough history to train), published."""
    root = tmp_path_factory.mktemp("publish_e2e")
    raw = root / "raw"
    generate_dataset(GeneratorConfig(n_leads=300, seed=3), raw, progress=False)
    run = run_dbt(BUILD, root / "dbt", {"raw_data_path": str(raw)})
    assert run.returncode == 0, run.output[-6000:]
    assert run.query("select count(*) as n from scored_leads").n.iloc[0] > 0
    publish(run.duckdb_path, root / "published")
    return run, raw, root / "published"


def _start_reader(out: Path, work: Path, once: bool = False) -> tuple[subprocess.Popen, Path]:
    script, control, results = work / "reader.py", work / "control", work / "results.json"
    control.mkdir(parents=True)
    script.write_text(READER)
    reader = subprocess.Popen(
        [
            sys.executable,
            str(script),
            str(out),
            str(results),
            str(control),
            "300",
            "once" if once else "loop",
        ],
    )
    return reader, control


def _wait_for(path: Path, reader: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while not path.exists():
        assert reader.poll() is None, f"the reader exited early ({reader.returncode})"
        assert time.time() < deadline, f"timed out waiting for {path.name}"
        time.sleep(0.05)


def _cli_publish(run: DbtRun, out: Path) -> dict:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "lead_scoring.cli",
            "publish",
            "--duckdb",
            str(run.duckdb_path),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    assert f"rows -> {out / 'current' / 'scored_leads.parquet'}" in completed.stdout
    return _manifest(out)


@pytest.mark.e2e
def test_published_files_of_a_build_have_no_pii(built: tuple[DbtRun, Path, Path]) -> None:
    run, _, out = built
    manifest = _manifest(out)
    assert manifest["tables"]["scored_leads"]["rows"] > 0
    for path in out.glob("*.parquet"):
        names = set(pq.read_schema(path).names)
        assert not names & PII_COLUMNS, path
    bi_columns = _query(out / BI_DATABASE, "select column_name from information_schema.columns")
    assert not {row[0] for row in bi_columns} & PII_COLUMNS
    for name in manifest["skipped"]:  # skipped only when really absent from the build
        assert (
            run.query(
                f"select count(*) as n from information_schema.tables where table_name = '{name}'"
            ).n.iloc[0]
            == 0
        )


@pytest.mark.e2e
def test_published_lead_dimension_joins_every_lead_grain_table(
    built: tuple[DbtRun, Path, Path],
) -> None:
    _, _, out = built
    manifest = _manifest(out)
    assert manifest["tables"]["dim_leads"]["rows"] > 0
    assert "fct_channel_mix_performance" in manifest["tables"]  # empty before a run matures
    dim_columns = {c["name"] for c in manifest["tables"]["dim_leads"]["columns"]}
    assert not {c for c in dim_columns if "email" in c or "name" in c or "phone" in c}
    for name in ("scored_leads", "scored_leads_history"):
        unmatched = _query(
            out / BI_DATABASE,
            f"select count(*) from {name} anti join dim_leads using (lead_id)",
        )
        assert unmatched == [(0,)], name


@pytest.mark.e2e
def test_a_bi_reader_never_blocks_the_build_nor_reads_a_partial_file(
    built: tuple[DbtRun, Path, Path], tmp_path: Path
) -> None:
    run, raw, out = built
    manifests = [_manifest(out)]
    reader, control = _start_reader(out, tmp_path)
    try:
        _wait_for(control / "ready", reader)
        build_started = time.time()
        rebuild = run_dbt(
            BUILD, run.duckdb_path.parent, {"raw_data_path": str(raw)}, run.duckdb_path
        )
        build_ended = time.time()
        assert rebuild.returncode == 0, rebuild.output[-6000:]
        manifests.append(_cli_publish(run, out))
        # replace every file while the reader holds the DuckDB copy and a Parquet file open
        (control / "hold").touch()
        _wait_for(control / "holding", reader)
        manifests.append(_cli_publish(run, out))
        (control / "release").touch()
        manifests.append(_cli_publish(run, out))
        time.sleep(0.5)
    finally:
        (control / "stop").touch()
        reader.wait(timeout=120)
    assert reader.returncode == 0
    seen = json.loads((tmp_path / "results.json").read_text())

    assert seen["errors"] == []
    assert len({m["published_at"] for m in manifests}) == 4
    during_build = [t for t in seen["iterations"] if build_started <= t <= build_ended]
    assert len(during_build) >= 10, f"{len(during_build)} reads during the build"
    assert sum(seen["parquet_reads"].values()) >= 100
    assert sum(seen["bi_reads"].values()) >= 10
    assert seen["replaced_while_held"] == 1
    # every Parquet file read is byte for byte one that a manifest describes, never a mix
    known = {
        (name, entry["sha256"]): (entry["rows"], [c["name"] for c in entry["columns"]])
        for manifest in manifests
        for name, entry in manifest["tables"].items()
    }
    for key in seen["parquet_reads"]:
        name, sha, rows, columns = json.loads(key)
        assert (name, sha) in known, f"{name}: read a file no manifest describes"
        assert known[(name, sha)] == (rows, columns)
    assert {json.loads(key)[0] for key in seen["parquet_reads"]} == set(manifests[-1]["tables"])
    # every read of the DuckDB copy saw the complete tables of one publication
    complete = [{n: e["rows"] for n, e in m["tables"].items()} for m in manifests]
    for key in seen["bi_reads"]:
        assert json.loads(key) in complete, key


@pytest.mark.e2e
def test_the_reader_check_detects_a_partial_file(
    built: tuple[DbtRun, Path, Path], tmp_path: Path
) -> None:
    """The control for the test above: what a non-atomic writer exposes is caught."""
    _, _, out = built
    copy = tmp_path / "copy"
    copy.mkdir()
    for path in (out / "current").iterdir():
        copy.joinpath(path.name).write_bytes(path.read_bytes())
    partial = copy / "scored_leads.parquet"
    partial.write_bytes(partial.read_bytes()[: partial.stat().st_size // 2])
    reader, _ = _start_reader(copy, tmp_path / "check", once=True)
    reader.wait(timeout=120)
    seen = json.loads((tmp_path / "check" / "results.json").read_text())
    assert [e for e in seen["errors"] if e.startswith("scored_leads.parquet")], seen["errors"]
    assert len(seen["errors"]) == 1
