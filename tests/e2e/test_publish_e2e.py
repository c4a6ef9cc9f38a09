"""BI-safe publishing end to end: a 300-lead funnel built once with dbt and published; a BI
reader in its own process reads the published files during a second build and while every file
is replaced, and never blocks the build nor reads a partial file. The unit tests of publishing
are tests/unit/test_publish.py."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from dbt_runner import DbtRun, run_dbt
from publication import fetch_rows, read_manifest

from lead_scoring.generate import GeneratorConfig, generate_dataset
from lead_scoring.publish import BI_DATABASE, PII_COLUMNS, publish

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
    run = run_dbt(BUILD, root / "dbt", {"raw_data_path": str(raw)}, unit_tests=False)
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
    return read_manifest(out)


@pytest.mark.e2e
def test_published_files_of_a_build_have_no_pii(built: tuple[DbtRun, Path, Path]) -> None:
    run, _, out = built
    manifest = read_manifest(out)
    assert manifest["tables"]["scored_leads"]["rows"] > 0
    for path in out.glob("*.parquet"):
        names = set(pq.read_schema(path).names)
        assert not names & PII_COLUMNS, path
    bi_columns = fetch_rows(out / BI_DATABASE, "select column_name from information_schema.columns")
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
    manifest = read_manifest(out)
    assert manifest["tables"]["dim_leads"]["rows"] > 0
    assert "fct_channel_mix_performance" in manifest["tables"]  # empty before a run matures
    dim_columns = {c["name"] for c in manifest["tables"]["dim_leads"]["columns"]}
    assert not {c for c in dim_columns if "email" in c or "name" in c or "phone" in c}
    for name in ("scored_leads", "scored_leads_history"):
        unmatched = fetch_rows(
            out / BI_DATABASE,
            f"select count(*) from {name} anti join dim_leads using (lead_id)",
        )
        assert unmatched == [(0,)], name


@pytest.mark.e2e
def test_a_bi_reader_never_blocks_the_build_nor_reads_a_partial_file(
    built: tuple[DbtRun, Path, Path], tmp_path: Path
) -> None:
    run, raw, out = built
    manifests = [read_manifest(out)]
    reader, control = _start_reader(out, tmp_path)
    try:
        _wait_for(control / "ready", reader)
        build_started = time.time()
        rebuild = run_dbt(
            BUILD,
            run.duckdb_path.parent,
            {"raw_data_path": str(raw)},
            run.duckdb_path,
            unit_tests=False,
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
