"""CRM field mapping: which ``scored_leads`` columns the sync sends, under which CRM property names.

A mapping is a YAML file (see ``crm_mappings/default.yml``, ``hubspot.yml``, ``salesforce.yml``
in this package)::

    version: 1
    envelope: hubspot              # leads (ours) | hubspot | salesforce
    object: Lead                   # salesforce only: the sObject type
    key: {column: lead_id, property: lead_scoring_id}
    fields:
      - {column: lead_priority, property: lead_scoring_priority, resend: true}
      - {column: conversion_probability, property: lead_scoring_probability, resend: false,
         round: 4}

``resend: true`` fields make up the fingerprint that decides whether a lead is sent again (what
a rep sees); ``resend: false`` fields travel with the lead but do not resend it on their own.
The envelope is the shape of one request body:

* ``leads``: ``{"leads": [{key: ..., field: ..., "payload_hash": ...}]}``
* ``hubspot``: ``{"inputs": [{"idProperty": key, "id": ..., "properties": {...}}]}`` (batch
  upsert of CRM objects)
* ``salesforce``: ``{"allOrNone": false, "records": [{"attributes": {"type": object}, key: ...,
  field: ...}]}`` (sObject Collections upsert by an external id)

Every error names the file and the entry at fault (:class:`MappingError`).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

__all__ = [
    "BUILTIN_MAPPINGS",
    "ENVELOPES",
    "MAPPING_ENV",
    "CrmMapping",
    "FieldMap",
    "MappingError",
    "load_mapping",
]

MAPPING_ENV = "LEAD_SCORING_CRM_FIELD_MAPPING"
BUILTIN_DIR = Path(__file__).with_name("crm_mappings")
BUILTIN_MAPPINGS = ("default", "hubspot", "salesforce")
ENVELOPES = ("leads", "hubspot", "salesforce")
# CRM property names: letters, digits, underscores (HubSpot internal names, Salesforce API names)
_PROPERTY = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,99}$")
_COLUMN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_FIELD_KEYS = {"column", "property", "resend", "round"}
_TOP_KEYS = {"version", "envelope", "object", "key", "fields"}


class MappingError(ValueError):
    """A field-mapping file that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class FieldMap:
    column: str
    property: str
    resend: bool
    round: int | None = None


@dataclass(frozen=True)
class CrmMapping:
    source: str
    envelope: str
    key: FieldMap
    fields: tuple[FieldMap, ...]
    object: str | None = None

    @property
    def columns(self) -> list[str]:
        """Every scored_leads column the mapping reads (the key first)."""
        return [self.key.column, *(f.column for f in self.fields)]

    @property
    def fingerprint(self) -> str:
        """A hash of the mapping: part of every payload hash, so that a changed mapping (a new
        field, a renamed property) sends every lead again with the new fields."""
        spec = [self.envelope, self.object, self.key.property]
        spec += [(f.column, f.property, f.resend, f.round) for f in self.fields]
        return hashlib.md5(json.dumps(spec).encode()).hexdigest()[:12]

    def payload_sql(
        self, table: str = "main.scored_leads", timestamps: frozenset[str] = frozenset()
    ) -> str:
        """``select lead_id, payload_hash, payload_json from <table>``: one row per lead, the
        record as the CRM receives it (property names and rounding applied) and the hash of its
        resend fields. ``timestamps``: the table's timestamp columns, sent as ISO 8601 UTC
        (``2025-06-30T00:00:00Z``), whichever property they are mapped to."""
        resend = [f"'{self.fingerprint}'"]
        resend += [f"coalesce(cast({f.column} as varchar), '')" for f in self.fields if f.resend]
        entries = [f"'{self.key.property}': cast({self.key.column} as varchar)"]
        entries += [f"'{f.property}': {_value_sql(f, timestamps)}" for f in self.fields]
        if self.envelope == "leads":
            entries.append("'payload_hash': payload_hash")
        record = ",\n            ".join(entries)
        return f"""
with hashed as (
    select *, md5(concat_ws('|', {", ".join(resend)})) as payload_hash
    from {table}
)
select
    lead_id,
    payload_hash,
    to_json({{
            {record}
    }})::varchar as payload_json
from hashed"""

    def has_record_results(self, status: int) -> bool:
        """Whether a 2xx answer carries per-record results to read: a 207 Multi-Status
        always; a Salesforce sObject Collections answer always (200 with one result per record,
        some of which may have failed)."""
        return status == 207 or self.envelope == "salesforce"

    def record_errors(self, text: str, keys: list[str]) -> dict[str, str]:
        """The records a per-record answer rejected, ``{key: error}`` (the others were applied);
        ValueError when the answer does not say which records were applied.

        * ``leads``: ``{"results": [{"<key property>": "L1", "status": 200}, {..., "status":
          422, "error": "..."}]}``; a record without a result counts as rejected;
        * ``hubspot``: ``{"results": [...], "errors": [{"message": "...", "context": {"ids":
          ["L2"]}}]}``: the ids named by an error were rejected;
        * ``salesforce``: ``[{"success": true}, {"success": false, "errors": [{"message":
          "..."}]}]``, one per record, in order.
        """
        try:
            answer = json.loads(text)
        except ValueError:
            raise ValueError("the body is not JSON") from None
        if self.envelope == "salesforce":
            if not isinstance(answer, list) or len(answer) != len(keys):
                raise ValueError(f"expected a list of {len(keys)} record results")
            out = {}
            for key, result in zip(keys, answer, strict=True):
                if not isinstance(result, dict) or not isinstance(result.get("success"), bool):
                    raise ValueError("a record result has no success flag")
                if not result["success"]:
                    messages = [
                        str(e.get("message", e)) if isinstance(e, dict) else str(e)
                        for e in result.get("errors") or []
                    ]
                    out[key] = "; ".join(messages) or "rejected"
            return out
        if not isinstance(answer, dict):
            raise ValueError("expected a JSON object")
        if self.envelope == "hubspot":
            errors = answer.get("errors")
            if not isinstance(errors, list):
                raise ValueError("no errors list")
            out = {}
            for error in errors:
                ids = (error.get("context") or {}).get("ids") if isinstance(error, dict) else None
                if not isinstance(ids, list) or not ids:
                    raise ValueError("an error does not name the ids it concerns")
                for key in ids:
                    out[str(key)] = str(error.get("message", "rejected"))
            unknown = sorted(set(out) - set(keys))
            if unknown:
                raise ValueError(f"errors name ids not in the batch: {', '.join(unknown[:3])}")
            return out
        results = answer.get("results")
        if not isinstance(results, list):
            raise ValueError("no results list")
        by_key = {}
        for result in results:
            if not isinstance(result, dict) or self.key.property not in result:
                raise ValueError(f"a result without {self.key.property}")
            by_key[str(result[self.key.property])] = result
        out = {}
        for key in keys:
            result = by_key.get(key)
            if result is None:
                out[key] = "no result for this record in the per-record answer"
                continue
            status = result.get("status")
            ok = status in ("ok", "success") or (
                isinstance(status, int) and not isinstance(status, bool) and 200 <= status < 300
            )
            if not ok:
                out[key] = str(result.get("error") or f"status {status}")
        return out

    def body(self, records: list[dict]) -> dict:
        """The request body for a batch of records (as built by :meth:`payload_sql`)."""
        if self.envelope == "hubspot":
            key = self.key.property
            return {
                "inputs": [
                    {
                        "idProperty": key,
                        "id": r[key],
                        "properties": {k: v for k, v in r.items() if k != key},
                    }
                    for r in records
                ]
            }
        if self.envelope == "salesforce":
            attributes = {"attributes": {"type": self.object}}
            return {"allOrNone": False, "records": [{**attributes, **r} for r in records]}
        return {"leads": records}


def _value_sql(field: FieldMap, timestamps: frozenset[str]) -> str:
    if field.column in timestamps:
        return f"strftime({field.column}, '%Y-%m-%dT%H:%M:%SZ')"
    if field.round is not None:
        return f"round({field.column}, {field.round})"
    return field.column


def _field(entry: object, where: str, source: str, default_resend: bool | None) -> FieldMap:
    if not isinstance(entry, dict):
        raise MappingError(f"{source}: {where} must be a mapping with column and property")
    unknown = sorted(set(entry) - _FIELD_KEYS)
    if unknown:
        raise MappingError(f"{source}: {where} has unknown key(s) {', '.join(unknown)}")
    column, prop = entry.get("column"), entry.get("property")
    if not isinstance(column, str) or not _COLUMN.match(column):
        raise MappingError(f"{source}: {where}: column {column!r} is not a column name")
    if not isinstance(prop, str) or not _PROPERTY.match(prop):
        raise MappingError(
            f"{source}: {where}: property {prop!r} must be letters, digits and underscores, "
            "starting with a letter"
        )
    resend = entry.get("resend", default_resend)
    if not isinstance(resend, bool):
        raise MappingError(f"{source}: {where} ({column}): resend must be true or false")
    rounding = entry.get("round")
    if rounding is not None and (
        isinstance(rounding, bool) or not isinstance(rounding, int) or not 0 <= rounding <= 12
    ):
        raise MappingError(f"{source}: {where} ({column}): round must be a whole number 0-12")
    return FieldMap(column, prop, resend, rounding)


def load_mapping(name_or_path: str | Path | None = None) -> CrmMapping:
    """A built-in mapping by name (``default``, ``hubspot``, ``salesforce``) or a YAML file."""
    name = str(name_or_path or "default")
    path = BUILTIN_DIR / f"{name}.yml" if name in BUILTIN_MAPPINGS else Path(name)
    source = str(path) if name not in BUILTIN_MAPPINGS else f"built-in mapping {name!r}"
    if not path.is_file():
        raise MappingError(
            f"field mapping {name!r}: no such file (built-in: {', '.join(BUILTIN_MAPPINGS)})"
        )
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise MappingError(f"{source}: not valid YAML ({first})") from None
    if not isinstance(spec, dict):
        raise MappingError(f"{source}: expected a mapping with envelope, key and fields")
    unknown = sorted(set(spec) - _TOP_KEYS)
    if unknown:
        raise MappingError(f"{source}: unknown key(s) {', '.join(unknown)}")
    if spec.get("version", 1) != 1:
        raise MappingError(f"{source}: version {spec.get('version')!r} is not supported (1)")
    envelope = spec.get("envelope", "leads")
    if envelope not in ENVELOPES:
        raise MappingError(
            f"{source}: envelope {envelope!r} is not one of {', '.join(ENVELOPES)}"
        )
    obj = spec.get("object")
    if envelope == "salesforce" and (not isinstance(obj, str) or not _PROPERTY.match(obj)):
        raise MappingError(f"{source}: envelope salesforce needs object (e.g. Lead), got {obj!r}")
    key = _field(spec.get("key"), "key", source, default_resend=False)
    if key.column != "lead_id":
        raise MappingError(f"{source}: key.column must be lead_id, not {key.column!r}")
    entries = spec.get("fields")
    if not isinstance(entries, list) or not entries:
        raise MappingError(f"{source}: fields must be a non-empty list")
    fields = tuple(
        _field(entry, f"fields[{i}]", source, default_resend=None)
        for i, entry in enumerate(entries)
    )
    seen_properties = {key.property.lower(): "key"}
    seen_columns: set[str] = set()
    for i, f in enumerate(fields):
        taken = seen_properties.setdefault(f.property.lower(), f"fields[{i}]")
        if taken != f"fields[{i}]" or f.property.lower() == "payload_hash":
            raise MappingError(
                f"{source}: fields[{i}]: property {f.property!r} is used twice (or reserved)"
            )
        if f.column in seen_columns or f.column == "lead_id":
            raise MappingError(f"{source}: fields[{i}]: column {f.column!r} is mapped twice")
        seen_columns.add(f.column)
    if not any(f.resend for f in fields):
        raise MappingError(f"{source}: no field has resend: true, so no change would be sent")
    return CrmMapping(source, envelope, key, fields, obj if envelope == "salesforce" else None)
