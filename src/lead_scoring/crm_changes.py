"""The scoring API's changes, read by the CRM sync: ``$LEAD_SCORING_SERVE_DIR/crm_changes.jsonl``.

``lead-scoring serve`` appends one JSON object per line to that file when an online rescoring
changes what a rep sees (a ``resend`` field of the CRM mapping). Each line holds every column of
``main.scored_leads`` under the same names (timestamps as ``'YYYY-MM-DD HH:MM:SS.ffffff'`` UTC
strings, numbers as JSON numbers, nulls as null); its ``scored_at`` is when the API scored the
lead. :func:`lead_scoring.crm.sync` delivers them with the batch's changes:

1. **Reading** (:func:`read_changes`): only the lines appended since the last read. The byte
   offset after the last complete line, the number of lines before it and the sha256 of the
   file's first line are kept in ``crm_sync.api_changes_read`` and committed in the transaction
   that enqueues what the lines changed, so a crash reads them again instead of losing them. A
   file whose first line changed or that is shorter than the offset (rotated, truncated) is read
   again from its start; a last line without its newline (the API is still writing it) is left
   for the next read. An absent file is nothing to do.
2. **Malformed lines are skipped and counted, never silently**: a line that is not a JSON
   object, has no ``lead_id``, has a ``scored_at`` not in the contract's format, lacks a column
   the field mapping sends, or holds a value that is not of its ``scored_leads`` column's type
   is skipped; the run's summary names the file and each line number with the reason, and the
   run exits 3. (Stopping at the line instead would hold back every later change, and every
   batch delivery, until someone edits the file.)
3. **Newest wins** (:func:`prepare`): ``crm_sync.api_scores`` keeps each lead's newest API line
   (by ``scored_at``; in a tie, the later line). The sync sends, per lead, the newest of its
   batch row (``main.scored_leads``) and its API row: an API row counts only while its
   ``scored_at`` is later than the batch row's (for a lead the batch does not hold, later than
   the build's latest ``scored_at``), or equal to it while the batch row is still the one that
   was there when the line was read (the API scores at the time the next build will: a late
   event gives an equal ``scored_at``); otherwise it is dropped. So until the next ``dbt build``
   the stale batch row of a lead rescored online is not queued over the API's newer payload,
   and once a build has scored the lead again (later, or at the same time but with a different
   row), the batch row wins again. The temp view
   ``crm_scores`` is that per-lead newest row with the columns of ``scored_leads``: the payload
   SQL of the field mapping runs over it (one definition of the payload, the hash and the change
   detection for both sources).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

__all__ = [
    "API_DDL",
    "CHANGES_FILE",
    "SERVE_DIR_ENV",
    "ChangesRead",
    "default_changes_path",
    "prepare",
    "read_changes",
    "save",
]

SERVE_DIR_ENV = "LEAD_SCORING_SERVE_DIR"
CHANGES_FILE = "crm_changes.jsonl"
# lines handed to DuckDB at a time: a long backlog (a file read again from its start) is
# streamed, never held whole in Python
CHUNK_LINES = 20_000
# how many skipped lines the summary names one by one (all are counted)
NAMED_SKIPS = 5
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?$")

API_DDL = """
create schema if not exists crm_sync;
-- each lead's newest line of the API's changes that is newer than its batch row
create table if not exists crm_sync.api_scores (
    lead_id varchar not null,
    scored_at timestamp not null,
    score_json varchar not null,      -- the line as the API wrote it
    source_line bigint not null,      -- its line number in the file
    read_at timestamp not null,
    -- md5 of the lead's scored_leads row when the line was read: at an equal scored_at the API
    -- row wins over that row only, not over one a later build wrote
    batch_row_md5 varchar
);
-- how far the API's changes file was read
create table if not exists crm_sync.api_changes_read (
    file_path varchar not null,
    first_line_sha256 varchar,        -- the file's identity: a rotated file starts over
    byte_offset bigint not null,      -- just after the last complete line read
    lines_read bigint not null,       -- complete lines before byte_offset
    read_at timestamp not null
);
"""


def default_changes_path() -> Path:
    """``$LEAD_SCORING_SERVE_DIR/crm_changes.jsonl`` (default folder ``serve``, relative to the
    working directory, like the API's)."""
    return Path(os.environ.get(SERVE_DIR_ENV) or "serve") / CHANGES_FILE


@dataclass
class ChangesRead:
    """What one read of the changes file found (nothing is written until :func:`save`)."""

    path: Path
    exists: bool = False
    lines: int = 0  # complete lines read this time
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)
    first_line_sha256: str | None = None
    offset: int = 0
    lines_read: int = 0
    restarted: bool = False  # the file was rotated or truncated: read again from its start
    moved: bool = False  # the offset changed: the cursor must be saved

    def notes(self) -> list[str]:
        """Lines for the sync's summary: a restart, then the skipped lines (never silent)."""
        notes = []
        if self.restarted:
            notes.append(
                f"{self.path} was truncated or replaced since the last read: read again from "
                "its first line (leads already delivered are not resent)"
            )
        if self.skipped:
            named = "; ".join(f"line {n}: {why}" for n, why in self.skipped[:NAMED_SKIPS])
            more = len(self.skipped) - NAMED_SKIPS
            notes.append(
                f"skipped {len(self.skipped)} malformed line(s) of {self.path} (not sent): "
                f"{named}" + (f"; and {more} more" if more > 0 else "")
            )
        return notes


def _cursor(con, path: Path, has_table: bool) -> tuple[str | None, int, int] | None:
    if not has_table:
        return None
    rows = con.execute(
        "select first_line_sha256, byte_offset, lines_read from crm_sync.api_changes_read "
        "where file_path = ?",
        [str(path)],
    ).fetchall()
    return rows[0] if rows else None


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _check(raw: bytes, required: list[str]) -> tuple[str | None, str | None]:
    """(the line as text, None) when it may be a score row, else (None, the reason)."""
    try:
        text = raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        return None, "not UTF-8 text"
    if not text.strip():
        return None, "empty line"
    try:
        row = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        return None, f"not valid JSON ({exc.msg} at column {exc.colno})"
    except ValueError as exc:
        return None, f"not valid JSON ({exc})"
    if not isinstance(row, dict):
        return None, "not a JSON object"
    lead_id = row.get("lead_id")
    if not isinstance(lead_id, str) or not lead_id:
        return None, "no lead_id (a non-empty string)"
    scored_at = row.get("scored_at")
    if not isinstance(scored_at, str) or not _TIMESTAMP.match(scored_at):
        return None, (
            f"lead {lead_id}: scored_at {scored_at!r} is not a UTC time "
            "'YYYY-MM-DD HH:MM:SS.ffffff' (no offset)"
        )
    missing = [name for name in required if name not in row]
    if missing:
        return None, (
            f"lead {lead_id}: no {', '.join(missing)}, which the field mapping sends (an API "
            "older than the build?)"
        )
    return text, None


def read_changes(
    con, path: Path, has_table: bool, required: list[str], chunk_lines: int = CHUNK_LINES
) -> ChangesRead:
    """Read the complete lines appended to ``path`` since the last saved read into the temp
    table ``api_lines`` (line_no, line); lines that cannot be score rows are listed in
    ``skipped``. ``required``: the columns each line must hold (those the mapping sends)."""
    path = Path(path).resolve()
    read = ChangesRead(path)
    con.execute("create or replace temp table api_lines (line_no bigint, line varchar)")
    try:
        handle = open(path, "rb")  # noqa: SIM115 (closed below)
    except FileNotFoundError:
        return read
    except OSError as exc:
        raise OSError(f"cannot read the API's changes {path}: {exc.strerror or exc}") from None
    read.exists = True
    with handle:
        first = handle.readline()
        if first.endswith(b"\n"):
            read.first_line_sha256 = hashlib.sha256(first).hexdigest()
        size = os.fstat(handle.fileno()).st_size
        cursor = _cursor(con, path, has_table)
        start = line_no = 0
        if cursor and cursor[1]:
            same_file = cursor[0] == read.first_line_sha256 and cursor[1] <= size
            if same_file:
                start, line_no = cursor[1], cursor[2]
            else:
                read.restarted = True
        handle.seek(start)
        offset = start
        chunk: list[tuple[int, str]] = []
        for raw in handle:
            if not raw.endswith(b"\n"):
                break  # the API is still writing this line: the next read takes it whole
            offset += len(raw)
            line_no += 1
            read.lines += 1
            text, reason = _check(raw, required)
            if reason:
                read.skipped.append((line_no, reason))
                continue
            chunk.append((line_no, text))
            if len(chunk) >= chunk_lines:
                _insert_lines(con, chunk)
                chunk = []
        _insert_lines(con, chunk)
    read.offset, read.lines_read = offset, line_no
    if cursor is None:
        read.moved = offset > 0
    else:
        read.moved = (cursor[0], cursor[1]) != (read.first_line_sha256, offset)
    return read


def _insert_lines(con, chunk: list[tuple[int, str]]) -> None:
    if not chunk:
        return
    table = pa.table(
        {
            "line_no": pa.array([n for n, _ in chunk], pa.int64()),
            "line": pa.array([t for _, t in chunk], pa.string()),
        }
    )
    con.register("api_lines_chunk", table)
    try:
        con.execute("insert into api_lines select line_no, line from api_lines_chunk")
    finally:
        con.unregister("api_lines_chunk")


def _columns(con) -> list[tuple[str, str]]:
    return con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'main' and table_name = 'scored_leads' order by ordinal_position"
    ).fetchall()


def _literal(text: str) -> str:
    """``text`` for the inside of a SQL string literal."""
    return text.replace("'", "''")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _value(column: str, source: str = "line") -> str:
    path = "$." + json.dumps(column)
    return f"json_extract_string({source}, '{path}')"


def _skip(con, read: ChangesRead, bad: list[tuple[int, str]]) -> None:
    if bad:
        read.skipped = sorted(read.skipped + bad)
        con.execute("delete from api_lines where list_contains(?, line_no)", [[n for n, _ in bad]])


def _validate(con, read: ChangesRead, columns: list[tuple[str, str]]) -> None:
    """Skip the lines DuckDB's JSON reader refuses, then those holding a value that is not of
    its ``scored_leads`` column's type (a timestamp must be in the contract's UTC format)."""
    refused = con.execute("select line_no from api_lines where not json_valid(line)").fetchall()
    _skip(con, read, [(n, "not valid JSON (refused by DuckDB's JSON reader)") for (n,) in refused])
    paths = ", ".join("'$." + json.dumps(name) + "'" for name, _ in columns)
    checks = []
    for i, (name, kind) in enumerate(columns, start=1):
        if name == "lead_id":
            continue
        wrong = f"try_cast(texts[{i}] as {kind}) is null"
        expected = kind.lower()
        if kind.upper().startswith("TIMESTAMP"):
            wrong += f" or not regexp_full_match(texts[{i}], '{_TIMESTAMP.pattern[1:-1]}')"
            expected = "a UTC time 'YYYY-MM-DD HH:MM:SS.ffffff'"
        checks.append(
            f"select line_no, '{name}' as column_name, "
            f"'{name} = ' || left(texts[{i}], 80) || ' is not {_literal(expected)}' as reason "
            f"from texts where texts[{i}] is not null and ({wrong})"
        )
    bad = con.execute(
        f"""
        with texts as materialized (
            -- each line parsed once: every column's text in one list
            select line_no, json_extract_string(line, [{paths}]) as texts from api_lines
        ),
        wrong as ({" union all ".join(checks)})
        select line_no, min_by(reason, column_name) from wrong group by line_no order by line_no
        """
    ).fetchall()
    _skip(con, read, [(n, why) for n, why in bad])


def prepare(con, read: ChangesRead, has_table: bool) -> int:
    """Validate the new lines against the types of ``main.scored_leads`` (a bad value skips its
    line, added to ``read.skipped``), then create the temp table ``api_latest`` (each lead's
    newest API row that is newer than its batch row) and the temp view ``crm_scores`` (per lead,
    the newest of its batch and API rows, with the columns of ``scored_leads``). Returns how
    many leads take their row from the API."""
    columns = _columns(con)
    _validate(con, read, columns)
    stored = (
        "select lead_id, scored_at, score_json, source_line, batch_row_md5, 0 as is_new "
        "from crm_sync.api_scores"
        if has_table
        else "select null::varchar as lead_id, null::timestamp as scored_at, "
        "null::varchar as score_json, null::bigint as source_line, "
        "null::varchar as batch_row_md5, 0 as is_new where false"
    )
    con.execute(
        f"""
        create or replace temp table api_latest as
        with candidates as (
            {stored}
            union all
            select
                {_value("lead_id")} as lead_id,
                cast({_value("scored_at")} as timestamp) as scored_at,
                line as score_json,
                line_no as source_line,
                null::varchar as batch_row_md5,
                1 as is_new
            from api_lines
        ),
        newest as (
            select * from candidates
            qualify row_number() over (
                partition by lead_id order by scored_at desc, is_new desc, source_line desc
            ) = 1
        ),
        batch as (
            select
                lead_id,
                scored_at as batch_scored_at,
                md5(to_json(scored_leads)::varchar) as batch_row_md5
            from main.scored_leads
            where lead_id in (select lead_id from newest)
            qualify row_number() over (partition by lead_id order by scored_at desc) = 1
        ),
        build as (
            select coalesce(max(scored_at), '-infinity'::timestamp) as built_at
            from main.scored_leads
        ),
        compared as (
            select
                newest.lead_id,
                newest.scored_at,
                newest.score_json,
                newest.source_line,
                -- a line read now was scored against the batch row there is now
                case
                    when newest.is_new = 1 then batch.batch_row_md5 else newest.batch_row_md5
                end as batch_row_md5,
                batch.batch_scored_at,
                batch.batch_row_md5 as current_batch_row_md5
            from newest
            left join batch on newest.lead_id = batch.lead_id
        )
        select lead_id, scored_at, score_json, source_line, batch_row_md5
        from compared
        cross join build
        -- the newest scored_at wins: an API row older than the lead's batch row (or, for a lead
        -- the batch does not hold, than the build) is obsolete. The API scores at the time the
        -- next build will score (its clock: the latest of the batch's scored_at and the events'
        -- occurred_at), so a tie is common: the API row wins over the batch row it was read
        -- against (late events), not over a row a build wrote since
        where compared.scored_at > coalesce(compared.batch_scored_at, build.built_at)
            or (
                compared.scored_at = compared.batch_scored_at
                and compared.batch_row_md5 = compared.current_batch_row_md5
            )
        """
    )
    # each line parsed once: every column's text in one list, then cast to the column's type
    paths = ", ".join("'$." + json.dumps(name) + "'" for name, _ in columns)
    typed = ",\n            ".join(
        _quote(name)
        if name in ("lead_id", "scored_at")
        else f"try_cast(api_values.texts[{i}] as {kind}) as {_quote(name)}"
        for i, (name, kind) in enumerate(columns, start=1)
    )
    con.execute(
        f"""
        create or replace temp view crm_scores as
        select * from main.scored_leads as batch
        where not exists (select 1 from api_latest where api_latest.lead_id = batch.lead_id)
        union all by name
        select
            {typed}
        from (
            select lead_id, scored_at, json_extract_string(score_json, [{paths}]) as texts
            from api_latest
        ) as api_values
        """
    )
    return int(con.execute("select count(*) from api_latest").fetchall()[0][0])


def save(con, read: ChangesRead) -> None:
    """Persist ``api_latest`` and the read's cursor (inside the caller's transaction, with the
    enqueue, so a crash reads the lines again instead of losing them)."""
    same = (
        "stored.lead_id = latest.lead_id and stored.scored_at = latest.scored_at "
        "and stored.source_line = latest.source_line and stored.score_json = latest.score_json "
        "and stored.batch_row_md5 is not distinct from latest.batch_row_md5"
    )
    # only the difference is written: a watch cycle with one new line rewrites one row
    con.execute(
        "delete from crm_sync.api_scores as stored "
        f"where not exists (select 1 from api_latest as latest where {same})"
    )
    con.execute(
        "insert into crm_sync.api_scores (lead_id, scored_at, score_json, source_line, read_at, "
        "batch_row_md5) select lead_id, scored_at, score_json, source_line, "
        "(now() at time zone 'UTC'), batch_row_md5 from api_latest as latest "
        f"where not exists (select 1 from crm_sync.api_scores as stored where {same})"
    )
    if read.moved:
        con.execute("delete from crm_sync.api_changes_read where file_path = ?", [str(read.path)])
        con.execute(
            "insert into crm_sync.api_changes_read values (?, ?, ?, ?, (now() at time zone 'UTC'))",
            [str(read.path), read.first_line_sha256, read.offset, read.lines_read],
        )
