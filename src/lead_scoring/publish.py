"""Publish the BI-facing tables of a built warehouse, one whole publication at a time.

A DuckDB file open in one process cannot be written by another, so a BI tool holding the
live warehouse makes `dbt build` fail. BI tools read a published copy instead: after a
successful build, `publish()` opens the warehouse read-only and writes a new publication
folder, `<out>/publications/<id>/` (id: UTC time and process id), holding

- `<table>.parquet` for each table of `PUBLISHED_TABLES` (schema `main`),
- `lead_scoring_bi.duckdb`, a DuckDB database holding the same tables, written in storage
  version v1.4.0 so that older readers (DuckDB CLI 1.x, duckdb-wasm) can open it,
- `_manifest.json`: publication time, source warehouse and, per table, the row count, the
  columns, the file name and the sha256 of the Parquet file.

The folder is written under a temporary name, flushed to disk and renamed when complete; then
one atomic step, replacing the symlink `<out>/current` (``os.replace`` of a new link), switches
readers to it. A reader that reads through `current/` sees one publication whole: the files of
the link it resolved, old or new, never a mix; one holding files open keeps reading them (the
two previous publications are kept; older ones are removed). `<out>/<file>` are links to
`current/<file>` for tools configured with the old flat layout (each file whole, but two files
opened at different moments may come from two publications).

A `.wal` file can never reach a reader of a new publication: a new folder holds none, a BI
client that crashed while holding `current/lead_scoring_bi.duckdb` left its `.wal` in its own,
older publication folder, and stale `.wal` files next to the top-level links are removed at
every publication.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from lead_scoring import __version__
from lead_scoring.warehouse import open_warehouse

# Schema of the warehouse the tables are read from.
SCHEMA = "main"

# The tables published by default: what BI tools, dashboards and reports read. The list is
# explicit so that nothing else (staging, features, the model registry with its serialized
# booster) is ever published by accident. A table of this list absent from the warehouse
# (e.g. built by a model that is not in this build) is skipped and reported.
PUBLISHED_TABLES: tuple[str, ...] = (
    "scored_leads",
    "scored_leads_history",
    "fct_channel_attribution",
    "fct_campaign_attribution",
    "fct_conversion_paths",
    "dim_leads",
    "fct_channel_mix_performance",
    "ml_model_metrics",
    "ml_calibration_bins",
    "ml_lift_by_decile",
    "ml_feature_importance",
    "ml_segment_metrics",
    "ml_confusion_matrix",
    "ml_split_boundaries",
    "ml_drift",
    "ml_backtest",
    "ml_model_health",
    "ml_experiment_results",
)

# Column names that mean personal data: a table holding one is never published, whatever
# was asked (PII stops in staging; this is the last guard).
PII_COLUMNS = frozenset({"email", "company_name", "first_name", "last_name", "full_name", "phone"})

BI_DATABASE = "lead_scoring_bi.duckdb"
BI_STORAGE_VERSION = "v1.4.0"
MANIFEST = "_manifest.json"
MANIFEST_FORMAT_VERSION = 1

DEFAULT_WAREHOUSE = "lead_scoring.duckdb"
DEFAULT_OUT_DIR = "published"

_TEMP_NAME = re.compile(r"^\..+\.tmp-(\d+)(\.wal)?$")
PUBLICATIONS = "publications"
CURRENT = "current"
KEEP_PUBLICATIONS = 3  # the current one and the two before it (readers may hold them open)
_PARTIAL = re.compile(r"^\.(.+)\.partial-(\d+)$")
_CHUNK = 1 << 20


class PublishError(Exception):
    """Publishing failed for a reason the user can fix; the message says which and how."""


@dataclass(frozen=True)
class PublishedTable:
    name: str
    rows: int
    columns: list[dict[str, str]]
    path: Path
    sha256: str
    size_bytes: int


@dataclass(frozen=True)
class PublishSummary:
    warehouse: Path
    out_dir: Path
    published_at: str
    tables: list[PublishedTable]
    skipped: list[str]
    bi_database: Path
    manifest: Path
    removed_temp_files: list[str] = field(default_factory=list)
    publication: Path | None = None

    def lines(self) -> list[str]:
        """One line per published table (rows -> path), then the skipped ones."""
        lines = [f"{t.name:28s} {t.rows:>12,d} rows -> {t.path}" for t in self.tables]
        lines += [
            f"{name:28s} {'skipped':>17s}: not in schema {SCHEMA} of {self.warehouse}"
            for name in self.skipped
        ]
        lines.append(f"{'BI database':28s} {len(self.tables):>12d} tables -> {self.bi_database}")
        lines.append(f"{'manifest':28s} {'':>17s} -> {self.manifest}")
        return lines


def default_warehouse() -> Path:
    """The warehouse file: env LEAD_SCORING_DUCKDB, else lead_scoring.duckdb."""
    return Path(os.environ.get("LEAD_SCORING_DUCKDB") or DEFAULT_WAREHOUSE)


def default_out_dir() -> Path:
    """The publish folder: env LEAD_SCORING_PUBLISH_DIR, else published/ (current folder)."""
    return Path(os.environ.get("LEAD_SCORING_PUBLISH_DIR") or DEFAULT_OUT_DIR)


def publish(
    duckdb_path: Path | str,
    out_dir: Path | str,
    tables: list[str] | tuple[str, ...] | None = None,
) -> PublishSummary:
    """Publish tables of schema `main` of the warehouse into out_dir (see the module doc).

    tables=None publishes PUBLISHED_TABLES, skipping (and reporting) those not in the
    warehouse; an explicit list must name existing tables only. Raises PublishError.
    """
    warehouse = Path(duckdb_path).resolve()
    out = Path(out_dir).resolve()
    con = _open_read_only(warehouse)
    temps: list[Path] = []
    dir_fd: int | None = None
    try:
        names, skipped = _select_tables(con, warehouse, tables)
        columns = {name: _columns(con, name) for name in names}
        for name in names:
            leaked = sorted(c["name"] for c in columns[name] if c["name"].lower() in PII_COLUMNS)
            if leaked:
                raise PublishError(
                    f"table {SCHEMA}.{name} of {warehouse} has personal-data column(s) "
                    f"{', '.join(leaked)}: it is never published (PII stops in staging)"
                )
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise PublishError(f"cannot create the publish folder {out}: {exc}") from None
        dir_fd = _lock_folder(out)
        removed = _remove_stale_temps(out)
        publications = out / PUBLICATIONS
        publications.mkdir(exist_ok=True)
        removed += _remove_stale_partials(publications)
        pid = os.getpid()
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        publication_id = f"{stamp}-{pid}"
        partial = publications / f".{publication_id}.partial-{pid}"
        partial.mkdir()
        temps.append(partial)
        reading = out / CURRENT  # readers read through the link

        # 1. every file of the new publication, complete and on disk, in its own folder
        published: list[PublishedTable] = []
        for name in names:
            target = partial / f"{name}.parquet"
            con.execute(
                f"copy (select * from {_table(name)}) to {_literal(target)} "
                "(format parquet, compression snappy)"
            ).fetchall()
            _fsync_file(target)
            rows = pq.ParquetFile(target).metadata.num_rows
            digest, size = _sha256(target)
            published.append(
                PublishedTable(name, rows, columns[name], reading / target.name, digest, size)
            )
        bi_path = partial / BI_DATABASE
        _write_bi_database(con, bi_path, names)
        with contextlib.suppress(FileNotFoundError):
            Path(f"{bi_path}.wal").unlink()  # checkpointed: nothing may be replayed onto it
        _fsync_file(bi_path)
        bi_digest, bi_size = _sha256(bi_path)
        published_at = datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
        manifest = {
            "format_version": MANIFEST_FORMAT_VERSION,
            "published_at": published_at,
            "publication": publication_id,
            "published_by": f"lead-scoring {__version__}",
            "source_warehouse": str(warehouse),
            "schema": SCHEMA,
            "tables": {
                t.name: {
                    "file": t.path.name,
                    "rows": t.rows,
                    "columns": t.columns,
                    "sha256": t.sha256,
                    "bytes": t.size_bytes,
                }
                for t in published
            },
            "skipped": skipped,
            "bi_database": {
                "file": BI_DATABASE,
                "storage_version": BI_STORAGE_VERSION,
                "tables": list(names),
                "sha256": bi_digest,
                "bytes": bi_size,
            },
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        _fsync_file(partial / MANIFEST)
        _fsync_dir(partial)
        final = publications / publication_id
        os.rename(partial, final)
        temps.remove(partial)
        _fsync_dir(publications)

        # 2. one atomic step switches every reader to it: the `current` link is replaced
        _replace_link(out / CURRENT, Path(PUBLICATIONS) / publication_id, pid)
        # the flat layout's names, as links through `current` (made once), and no stale .wal
        # next to them (a BI client that crashed writing through a link leaves one there)
        for file_name in [*(f"{n}.parquet" for n in names), BI_DATABASE, MANIFEST]:
            link = out / file_name
            if not (link.is_symlink() and os.readlink(link) == f"{CURRENT}/{file_name}"):
                _replace_link(link, Path(CURRENT) / file_name, pid)
            with contextlib.suppress(FileNotFoundError):
                Path(f"{link}.wal").unlink()
        os.fsync(dir_fd)
        removed += _remove_old_publications(publications, keep=KEEP_PUBLICATIONS)
        return PublishSummary(
            warehouse=warehouse,
            out_dir=out,
            published_at=published_at,
            tables=published,
            skipped=skipped,
            bi_database=reading / BI_DATABASE,
            manifest=reading / MANIFEST,
            removed_temp_files=removed,
            publication=final,
        )
    except duckdb.Error as exc:
        raise PublishError(f"publishing {warehouse} to {out} failed: {_first_line(exc)}") from None
    except OSError as exc:
        raise PublishError(f"publishing {warehouse} to {out} failed: {exc}") from None
    finally:
        con.close()
        for tmp in temps:
            if tmp.is_dir() and not tmp.is_symlink():
                shutil.rmtree(tmp, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
        if dir_fd is not None:
            os.close(dir_fd)  # also releases the folder lock


def _open_read_only(warehouse: Path) -> duckdb.DuckDBPyConnection:
    return open_warehouse(
        warehouse,
        error=PublishError,
        hint="run `dbt build` first, or pass --duckdb PATH (default: env LEAD_SCORING_DUCKDB)",
    )


def _select_tables(
    con: duckdb.DuckDBPyConnection,
    warehouse: Path,
    requested: list[str] | tuple[str, ...] | None,
) -> tuple[list[str], list[str]]:
    """(tables to publish, default tables skipped because absent)."""
    available = {
        row[0]
        for row in con.execute(
            "select table_name from information_schema.tables "
            "where table_schema = ? and table_catalog = current_database()",
            [SCHEMA],
        ).fetchall()
    }
    if requested is None:
        names = [name for name in PUBLISHED_TABLES if name in available]
        return names, [name for name in PUBLISHED_TABLES if name not in available]
    names = list(dict.fromkeys(requested))
    if not names:
        raise PublishError("no table to publish: --tables is empty")
    missing = [name for name in names if name not in available]
    if missing:
        raise PublishError(
            f"table(s) {', '.join(missing)} not found in schema {SCHEMA} of {warehouse} "
            f"(the default list is {', '.join(PUBLISHED_TABLES)})"
        )
    return names, []


def _columns(con: duckdb.DuckDBPyConnection, name: str) -> list[dict[str, str]]:
    described = con.execute(f"describe select * from {_table(name)}").fetchall()
    return [{"name": row[0], "type": row[1]} for row in described]


def _write_bi_database(con: duckdb.DuckDBPyConnection, path: Path, names: list[str]) -> None:
    """The same tables in a fresh DuckDB file that DuckDB 1.4+ readers can open."""
    alias = "lead_scoring_bi_publish"
    con.execute(
        f"attach {_literal(path)} as {alias} (read_write, storage_version '{BI_STORAGE_VERSION}')"
    ).fetchall()
    try:
        for name in names:
            con.execute(
                f'create table {alias}.main."{_ident(name)}" as select * from {_table(name)}'
            ).fetchall()
        con.execute(f"checkpoint {alias}").fetchall()
    finally:
        con.execute(f"detach {alias}").fetchall()


def _lock_folder(out: Path) -> int:
    """Hold an exclusive lock on the folder while publishing: two publishers never mix files."""
    fd = os.open(out, os.O_RDONLY)
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock (and os.replace is not atomic for readers there)
        return fd
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise PublishError(
            f"another `lead-scoring publish` is writing to {out}: try again when it has finished"
        ) from None
    return fd


def _remove_stale_temps(out: Path) -> list[str]:
    """Temporary files left by a publish that was killed (its process is gone)."""
    removed = []
    for entry in out.iterdir():
        match = _TEMP_NAME.match(entry.name)
        if match and entry.is_file() and not _process_alive(int(match.group(1))):
            with contextlib.suppress(FileNotFoundError):
                entry.unlink()
                removed.append(entry.name)
    return removed


def _remove_stale_partials(publications: Path) -> list[str]:
    """Publication folders left half-written by a publish that was killed."""
    removed = []
    for entry in publications.iterdir():
        match = _PARTIAL.match(entry.name)
        if match and entry.is_dir() and not _process_alive(int(match.group(2))):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(f"{PUBLICATIONS}/{entry.name}")
    return removed


def _remove_old_publications(publications: Path, keep: int) -> list[str]:
    """All but the newest ``keep`` publications (ids sort by time); a reader holding one of
    their files open keeps reading it."""
    done = sorted(
        entry.name
        for entry in publications.iterdir()
        if entry.is_dir() and not entry.name.startswith(".")
    )
    removed = []
    for name in done[:-keep] if keep > 0 else done:
        shutil.rmtree(publications / name, ignore_errors=True)
        removed.append(f"{PUBLICATIONS}/{name}")
    return removed


def _replace_link(link: Path, target: Path, pid: int) -> None:
    """Point ``link`` at ``target`` (relative) in one atomic step: a new link, then os.replace
    over the old one (a link or, from the flat layout, a file)."""
    tmp = link.with_name(f".{link.name}.tmp-{pid}")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    os.symlink(target, tmp)
    os.replace(tmp, link)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # ours, from an earlier call that could not clean up
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha256(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _table(name: str) -> str:
    return f'{SCHEMA}."{_ident(name)}"'


def _ident(name: str) -> str:
    return name.replace('"', '""')


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
