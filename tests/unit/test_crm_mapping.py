"""The CRM field mapping: built-in HubSpot- and Salesforce-style files, the request bodies they
produce, which fields resend a lead, and clear errors for a bad mapping file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml
from crm_fakes import make_warehouse
from project import PROJECT_DIR

from lead_scoring.crm import SyncConfig, SyncError, sync
from lead_scoring.crm_mapping import BUILTIN_MAPPINGS, MappingError, load_mapping


class Capture:
    """A transport that answers 200 and keeps every request body."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []

    def __call__(self, url: str, body: bytes, headers: dict, timeout: float):
        self.bodies.append(json.loads(body))
        return 200, {}, "{}"


def _sync(wh: Path, mapping, transport: Capture):
    return sync(wh, SyncConfig(endpoint="https://crm.example.com/x", mapping=mapping), transport)


def _scored_leads_contract() -> list[str]:
    spec = yaml.safe_load((PROJECT_DIR / "models/marts/scoring/_scoring__models.yml").read_text())
    model = next(m for m in spec["models"] if m["name"] == "scored_leads")
    return [c["name"] for c in model["columns"]]


@pytest.mark.parametrize("name", BUILTIN_MAPPINGS)
def test_every_built_in_mapping_reads_columns_of_the_scored_leads_contract(name) -> None:
    mapping = load_mapping(name)
    assert set(mapping.columns) <= set(_scored_leads_contract())
    # the fields a rep reads resend the lead; the probability alone never does
    resend = {f.column for f in mapping.fields if f.resend}
    assert {"lead_priority", "score_band", "reasons_for", "reasons_against"} <= resend
    assert "conversion_probability" not in resend


def test_hubspot_body_is_a_batch_upsert_with_the_mapped_property_names(tmp_path) -> None:
    wh = make_warehouse(tmp_path / "w.duckdb", n=5)
    capture = Capture()
    report = _sync(wh, load_mapping("hubspot"), capture)
    assert (report.delivered, report.exit_code) == (5, 0)
    (body,) = capture.bodies
    assert set(body) == {"inputs"}
    first = next(i for i in body["inputs"] if i["id"] == "L00003")
    assert first["idProperty"] == "lead_scoring_id"
    props = first["properties"]
    assert props["lead_scoring_priority"] == 4 and props["lead_scoring_band"] == "D"
    assert props["lead_scoring_probability"] == 0.03
    assert props["lead_scoring_probability_7d"] == 0.0075  # 0.03 / 4, rounded to 4 decimals
    assert props["lead_scoring_scored_at"] == "2025-06-30T00:00:00Z"
    assert "lead_id" not in props and "payload_hash" not in props


def test_the_api_changes_go_through_the_same_mapping(tmp_path) -> None:
    """A line of the scoring API's crm_changes.jsonl is mapped like a batch row: property
    names, rounding, timestamp format (the payload SQL runs over the per-lead newest rows)."""
    wh = make_warehouse(tmp_path / "w.duckdb", n=5)
    capture = Capture()
    mapping = load_mapping("hubspot")
    _sync(wh, mapping, capture)
    con = duckdb.connect(str(wh), read_only=True)
    cursor = con.execute("select * from main.scored_leads where lead_id = 'L00003'")
    row = dict(zip([d[0] for d in cursor.description], cursor.fetchone(), strict=True))
    con.close()
    row = {k: float(v) if type(v).__name__ == "Decimal" else v for k, v in row.items()}
    row.update(
        scored_at="2025-06-30 09:30:00.250000", lead_priority=97, score_band="A",
        conversion_probability=0.123456789,
    )
    changes = tmp_path / "crm_changes.jsonl"
    changes.write_text(json.dumps(row) + "\n")
    config = SyncConfig(endpoint="https://crm.example.com/x", mapping=mapping, api_changes=changes)
    assert sync(wh, config, capture).api_queued == 1
    (sent,) = capture.bodies[-1]["inputs"]
    assert (sent["idProperty"], sent["id"]) == ("lead_scoring_id", "L00003")
    props = sent["properties"]
    assert (props["lead_scoring_priority"], props["lead_scoring_band"]) == (97, "A")
    assert props["lead_scoring_probability"] == 0.1235  # round: 4, as for a batch row
    assert props["lead_scoring_scored_at"] == "2025-06-30T09:30:00Z"


def test_salesforce_body_is_an_sobject_collection_keyed_by_the_external_id(tmp_path) -> None:
    wh = make_warehouse(tmp_path / "w.duckdb", n=3)
    capture = Capture()
    _sync(wh, load_mapping("salesforce"), capture)
    (body,) = capture.bodies
    assert body["allOrNone"] is False
    record = next(r for r in body["records"] if r["Lead_Scoring_Id__c"] == "L00002")
    assert record["attributes"] == {"type": "Lead"}
    assert record["Lead_Priority__c"] == 3 and record["Lead_Score__c"] == 2
    assert record["Lead_Score_Reasons_Against__c"] == "Personal email address: yes"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mapping.yml"
    path.write_text(text)
    return path


PROBABILITY_RESENDS = """
envelope: leads
key: {column: lead_id, property: id}
fields:
  - {column: score_band, property: band, resend: false}
  - {column: conversion_probability, property: p, resend: true, round: 2}
"""


def test_only_the_resend_fields_resend_and_a_new_mapping_resends_everything(tmp_path) -> None:
    wh = make_warehouse(tmp_path / "w.duckdb", n=20)
    mapping = load_mapping(_write(tmp_path, PROBABILITY_RESENDS))
    capture = Capture()
    assert _sync(wh, mapping, capture).delivered == 20
    assert set(capture.bodies[0]["leads"][0]) == {"id", "band", "p", "payload_hash"}
    con = duckdb.connect(str(wh))
    con.execute("update main.scored_leads set score_band = 'A' where lead_id = 'L00001'")
    con.execute(
        "update main.scored_leads set conversion_probability = 0.9 where lead_id = 'L00002'"
    )
    con.close()
    again = _sync(wh, mapping, capture)
    assert again.queued == 1  # the band is not a resend field here; the probability is
    assert [r["id"] for r in capture.bodies[-1]["leads"]] == ["L00002"]
    assert capture.bodies[-1]["leads"][0]["p"] == 0.9
    # the default mapping sends other fields: every lead goes again, once
    assert _sync(wh, load_mapping("default"), capture).queued == 20
    assert _sync(wh, load_mapping("default"), capture).queued == 0


BAD = {
    "not yaml": ("fields: [a: b: c", "not valid YAML"),
    "no fields": ("envelope: leads\nkey: {column: lead_id, property: id}\n", "fields must be"),
    "envelope": (
        "envelope: pipedrive\nkey: {column: lead_id, property: id}\nfields: []",
        "envelope 'pipedrive' is not one of leads, hubspot, salesforce",
    ),
    "salesforce object": (
        "envelope: salesforce\nkey: {column: lead_id, property: Id__c}\n"
        "fields: [{column: score_band, property: Band__c, resend: true}]",
        "needs object",
    ),
    "property name": (
        "key: {column: lead_id, property: id}\n"
        "fields: [{column: score_band, property: \"band'; drop\", resend: true}]",
        "fields\\[0\\]: property .* must be letters, digits and underscores",
    ),
    "twice": (
        "key: {column: lead_id, property: id}\nfields:\n"
        "  - {column: score_band, property: band, resend: true}\n"
        "  - {column: lead_score, property: Band, resend: true}",
        "fields\\[1\\]: property 'Band' is used twice",
    ),
    "resend missing": (
        "key: {column: lead_id, property: id}\nfields: [{column: score_band, property: band}]",
        "fields\\[0\\] \\(score_band\\): resend must be true or false",
    ),
    "nothing resends": (
        "key: {column: lead_id, property: id}\n"
        "fields: [{column: score_band, property: band, resend: false}]",
        "no field has resend: true",
    ),
    "typo key": (
        "key: {column: lead_id, property: id}\n"
        "fields: [{column: score_band, property: band, resend: true, rnd: 2}]",
        "fields\\[0\\] has unknown key\\(s\\) rnd",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_mapping_file_is_named_with_the_entry_at_fault(tmp_path, case) -> None:
    text, message = BAD[case]
    path = _write(tmp_path, text)
    with pytest.raises(MappingError, match=message) as raised:
        load_mapping(path)
    assert str(path) in str(raised.value)


def test_a_column_scored_leads_lacks_is_named_before_anything_is_sent(tmp_path) -> None:
    wh = make_warehouse(tmp_path / "w.duckdb", n=3)
    path = _write(
        tmp_path,
        "key: {column: lead_id, property: id}\n"
        "fields: [{column: lead_scroe, property: score, resend: true}]",
    )
    capture = Capture()
    with pytest.raises(SyncError, match=f"no column lead_scroe, which the field mapping \\({path}"):
        _sync(wh, load_mapping(path), capture)
    assert capture.bodies == []


def test_cli_reports_a_bad_mapping_without_a_traceback(tmp_path) -> None:
    wh = make_warehouse(tmp_path / "w.duckdb", n=3)
    cli = subprocess.run(
        [sys.executable, "-m", "lead_scoring.cli", "sync-crm", "--duckdb", str(wh),
         "--endpoint", "http://127.0.0.1:9/x", "--field-mapping", "pipedrive"],
        capture_output=True,
        text=True,
    )
    assert cli.returncode == 2
    assert "field mapping 'pipedrive': no such file (built-in: default, hubspot, salesforce)" in (
        cli.stderr
    )
    assert "Traceback" not in cli.stderr


def test_per_record_answers_of_each_envelope_name_the_rejected_records() -> None:
    keys = ["L1", "L2", "L3"]
    ours = load_mapping("default")
    answer = {
        "results": [
            {"lead_id": "L1", "status": 200},
            {"lead_id": "L2", "status": 422, "error": "score out of range"},
        ]
    }
    assert ours.record_errors(json.dumps(answer), keys) == {
        "L2": "score out of range",
        "L3": "no result for this record in the per-record answer",
    }
    hubspot = load_mapping("hubspot")
    error = {"message": "no such property", "context": {"ids": ["L3"]}}
    answer = {"results": [{}], "errors": [error]}
    assert hubspot.record_errors(json.dumps(answer), keys) == {"L3": "no such property"}
    salesforce = load_mapping("salesforce")
    assert salesforce.has_record_results(200) and not hubspot.has_record_results(200)
    answer = [
        {"success": True},
        {"success": False, "errors": [{"message": "FIELD_INTEGRITY_EXCEPTION"}]},
        {"success": True},
    ]
    assert salesforce.record_errors(json.dumps(answer), keys) == {
        "L2": "FIELD_INTEGRITY_EXCEPTION"
    }
    for mapping, text in [
        (ours, "not json"),
        (ours, '{"ok": true}'),
        (hubspot, '{"errors": [{"message": "x"}]}'),
        (hubspot, '{"errors": [{"message": "x", "context": {"ids": ["L9"]}}]}'),
        (salesforce, '[{"success": true}]'),
    ]:
        with pytest.raises(ValueError):
            mapping.record_errors(text, keys)
