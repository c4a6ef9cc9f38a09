"""The raw data contract: bad input stops the build with a message that names
the file, the column and the var to fix; good input in Parquet or CSV passes."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from dbt_runner import run_dbt, write_tiny_raw

pytestmark = pytest.mark.e2e

# run only the contract check (the on-run-start hook) and one cheap node: the ad-spend base model
# with the seed it reads (channels)
NODES = ["--select", "+base_ads__ad_spend", "--resource-type", "seed", "--resource-type", "model"]
CHECK = ["build", *NODES]


def _rewrite(path: Path, select_sql: str) -> None:
    """Replace a raw Parquet file by a query over its current content."""
    con = duckdb.connect()
    tmp = path.with_suffix(".tmp.parquet")
    quoted = str(path).replace("'", "''")
    query = select_sql.format(src=f"read_parquet('{quoted}')")
    target = str(tmp).replace("'", "''")
    con.execute(f"copy ({query}) to '{target}' (format parquet)")
    con.close()
    tmp.replace(path)


def test_valid_parquet_passes(tiny_raw: Path, tmp_path: Path) -> None:
    run = run_dbt(CHECK, tmp_path / "dbt", {"raw_data_path": str(tiny_raw)})
    assert run.returncode == 0, run.output
    assert "raw contract ok" in run.output


def _append_csv(path: Path, *rows: str) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.writelines(f"{row}\n" for row in rows)


def test_csv_with_same_columns_is_accepted(tmp_path: Path) -> None:
    """A CSV export, with the values real exports hold: timestamps with a UTC offset or a Z are
    converted to UTC; inf, -inf and NaN amounts and spend are counted and nulled (or dropped)."""
    raw = write_tiny_raw(tmp_path / "raw_csv", fmt="csv")
    _append_csv(
        raw / "touchpoints.csv",
        "E3,L1,2025-01-07T12:00:00+02:00,page_view,direct,,,,,/,,s2,5",
        "E4,L2,2025-01-07T12:00:00Z,page_view,direct,,,,,/,,s3,5",
    )
    _append_csv(raw / "conversions.csv", "L2,2025-01-06T20:30:00-05:00,opportunity,inf")
    _append_csv(
        raw / "ad_spend.csv", "2025-01-06,paid_search,ps_brand,NaN", "2025-01-07,paid_social,x,-inf"
    )
    run = run_dbt(
        [
            "build",
            "--select",
            "+fct_data_quality_issues",
            "path:models/staging",
            "--indirect-selection",
            "cautious",
        ],
        tmp_path / "dbt",
        # two of the three spend rows are bad on purpose: above the default drop limit
        {"raw_data_path": str(raw), "dq_max_dropped_share": {"default": 1.0}},
    )
    assert run.returncode == 0, run.output
    leads = run.query("select lead_id, created_at from stg_crm__leads order by lead_id")
    assert list(leads.lead_id) == ["L1", "L2"]
    assert str(leads.created_at.dtype).startswith("datetime64")
    touches = run.query(
        "select event_id, occurred_at from stg_web__touchpoints where event_id in ('E3', 'E4') "
        "order by event_id"
    )
    assert [str(t) for t in touches.occurred_at] == ["2025-01-07 10:00:00", "2025-01-07 12:00:00"]
    conversion = run.query(
        "select converted_at, amount from stg_crm__conversions where lead_id = 'L2'"
    )
    assert str(conversion.converted_at.iloc[0]) == "2025-01-07 01:30:00"
    assert conversion.amount.isna().all()  # inf is not an amount: nulled, counted
    spend = run.query("select spend from stg_ads__ad_spend")
    assert spend.spend.tolist() == [10.0]  # NaN and -inf spend rows dropped, counted
    issues = run.query(
        "select source_file, rule, row_count from fct_data_quality_issues where row_count > 0"
    )
    counted = {(f, r): n for f, r, n in issues.itertuples(index=False)}
    assert counted[("conversions", "invalid_amount_nulled")] == 1
    assert counted[("ad_spend", "malformed_spend")] == 2


def test_missing_file_names_file_and_var(tiny_raw: Path, tmp_path: Path) -> None:
    (tiny_raw / "conversions.parquet").unlink()
    run = run_dbt(CHECK, tmp_path / "dbt", {"raw_data_path": str(tiny_raw)})
    assert run.returncode != 0
    assert "conversions.parquet" in run.output
    assert "raw_data_path" in run.output
    assert "Traceback" not in run.output


def test_missing_folder_names_the_var(tmp_path: Path) -> None:
    run = run_dbt(CHECK, tmp_path / "dbt", {"raw_data_path": str(tmp_path / "nowhere")})
    assert run.returncode != 0
    assert "nowhere" in run.output and "raw_data_path" in run.output


def test_missing_column_names_file_column_and_var(tiny_raw: Path, tmp_path: Path) -> None:
    _rewrite(tiny_raw / "touchpoints.parquet", "select * exclude (occurred_at) from {src}")
    run = run_dbt(CHECK, tmp_path / "dbt", {"raw_data_path": str(tiny_raw)})
    assert run.returncode != 0
    assert "touchpoints.parquet" in run.output
    assert "'occurred_at'" in run.output
    assert "raw_data_path" in run.output


def test_uncastable_type_names_file_column_and_type(tiny_raw: Path, tmp_path: Path) -> None:
    _rewrite(
        tiny_raw / "leads.parquet",
        "select * replace (created_at is not null as created_at) from {src}",
    )
    run = run_dbt(CHECK, tmp_path / "dbt", {"raw_data_path": str(tiny_raw)})
    assert run.returncode != 0
    assert "leads.parquet" in run.output
    assert "'created_at'" in run.output
    assert "BOOLEAN" in run.output


def test_unparseable_text_column_names_an_example_value(tiny_raw: Path, tmp_path: Path) -> None:
    _rewrite(
        tiny_raw / "ad_spend.parquet",
        "select * replace ('lots' as spend) from {src}",
    )
    run = run_dbt(CHECK, tmp_path / "dbt", {"raw_data_path": str(tiny_raw)})
    assert run.returncode != 0
    assert "ad_spend.parquet" in run.output
    assert "'spend'" in run.output
    assert "'lots'" in run.output


def test_bad_scoring_date_names_the_var(tiny_raw: Path, tmp_path: Path) -> None:
    run = run_dbt(
        ["run", "--select", "base_crm__leads"],
        tmp_path / "dbt",
        {"raw_data_path": str(tiny_raw), "scoring_date": "next tuesday"},
    )
    assert run.returncode != 0
    assert "scoring_date" in run.output and "next tuesday" in run.output


def test_all_null_column_takes_the_contract_type(tiny_raw: Path, tmp_path: Path) -> None:
    """Parquet writes an all-null column with type NULL: the raw view gives it the contract's
    type, so staging (and the dbt unit tests over it) build instead of failing on a cast."""
    _rewrite(
        tiny_raw / "touchpoints.parquet",
        "select * replace (null as asset_name, null as duration_seconds) from {src}",
    )
    run = run_dbt(
        ["build", "--select", "+path:models/staging", "--indirect-selection", "cautious"],
        tmp_path / "dbt",
        {"raw_data_path": str(tiny_raw)},
    )
    assert run.returncode == 0, run.output[-3000:]
    types = run.query(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'raw' and table_name = 'touchpoints' "
        "and column_name in ('asset_name', 'duration_seconds') order by 1"
    )
    assert list(types.data_type) == ["VARCHAR", "INTEGER"]


# ------------------------------------------------------------------ files real exports produce


def test_latin1_csv_is_named_and_read_with_the_encoding_var(tmp_path: Path) -> None:
    raw = write_tiny_raw(tmp_path / "raw", fmt="csv")
    with (raw / "ad_spend.csv").open("ab") as f:
        f.write("2025-01-06,paid_search,caf\u00e9,5.0\n".encode("latin-1"))
    run = run_dbt(CHECK, tmp_path / "dbt", {"raw_data_path": str(raw)})
    assert run.returncode != 0 and "Traceback" not in run.output
    assert "ad_spend.csv' is not UTF-8" in run.output and "raw_csv_encoding: latin-1" in run.output
    latin1 = {"raw_data_path": str(raw), "raw_csv_encoding": "latin-1"}
    ok = run_dbt(CHECK, tmp_path / "dbt", latin1)
    assert ok.returncode == 0, ok.output[-3000:]
    campaigns = ok.query("select utm_campaign from base_ads__ad_spend order by 1")
    assert "caf\u00e9" in campaigns.utm_campaign.tolist()


def test_a_folder_with_a_glob_character_or_two_formats_of_one_file_is_named(
    tmp_path: Path,
) -> None:
    raw = write_tiny_raw(tmp_path / "exports[2025]")
    run = run_dbt(CHECK, tmp_path / "dbt", {"raw_data_path": str(raw)})
    assert run.returncode != 0 and "glob character" in run.output and "exports[2025]" in run.output
    raw = write_tiny_raw(tmp_path / "raw")
    write_tiny_raw(tmp_path / "csv", fmt="csv")
    (tmp_path / "csv" / "leads.csv").rename(raw / "leads.csv")
    run = run_dbt(CHECK, tmp_path / "dbt", {"raw_data_path": str(raw)})
    assert run.returncode != 0 and "Traceback" not in run.output
    assert "holds both 'leads.parquet' and 'leads.csv'" in run.output


def test_a_header_only_leads_file_stops_the_build(tiny_raw: Path, tmp_path: Path) -> None:
    _rewrite(tiny_raw / "leads.parquet", "select * from {src} where false")
    run = run_dbt(CHECK, tmp_path / "dbt", {"raw_data_path": str(tiny_raw)})
    assert run.returncode != 0
    assert "leads.parquet' has no rows" in run.output and "raw_data_path" in run.output


def test_a_new_account_in_a_folder_with_a_quote_builds_and_scores_with_the_rules(
    tmp_path: Path,
) -> None:
    """No conversion yet (a header-only conversions file) and a quote in the folder path (read as
    a literal path, not a glob, and quoted in SQL): the whole build passes, warns, and scores
    every open lead with the rules."""
    raw = write_tiny_raw(tmp_path / "o'brien's exports")
    _rewrite(raw / "conversions.parquet", "select * from {src} where false")
    run = run_dbt(["build"], tmp_path / "dbt", {"raw_data_path": str(raw)})
    assert run.returncode == 0, run.output[-4000:]
    assert "conversions.parquet has no rows" in run.output
    scored = run.query("select lead_id, model_version, lead_priority from scored_leads")
    assert sorted(scored.lead_id) == ["L1", "L2"]
    assert scored.model_version.str.startswith("rules-").all()


def test_the_default_scoring_date_is_the_same_in_every_time_zone(
    tiny_raw: Path, tmp_path: Path
) -> None:
    """The default scoring date is the latest touch not in the future of the wall clock, in UTC:
    on a machine ten hours behind UTC, a touch made an hour ago (UTC) is not "in the future"."""
    _rewrite(
        tiny_raw / "touchpoints.parquet",
        "select * replace (timezone('UTC', current_timestamp) - interval 1 hour as occurred_at) "
        "from {src}",
    )
    expected = (
        duckdb.connect()
        .sql(f"select max(occurred_at) from read_parquet('{tiny_raw / 'touchpoints.parquet'}')")
        .fetchall()[0][0]
    )
    for tz in ("UTC", "Pacific/Honolulu"):
        run = run_dbt(
            CHECK, tmp_path / tz.replace("/", "_"), {"raw_data_path": str(tiny_raw)}, env={"TZ": tz}
        )
        assert run.returncode == 0, run.output[-3000:]
        latest = run.query("select latest_occurred_at from raw.run_context").iloc[0, 0]
        assert latest == expected, tz


def test_lead_ids_in_another_case_and_a_lead_submitted_twice_keep_their_history(
    tmp_path: Path,
) -> None:
    raw = write_tiny_raw(tmp_path / "raw", fmt="csv")
    _append_csv(
        raw / "leads.csv",
        # L2 again, later, with a new title: its attributes win, its first creation stays
        "L2,2025-01-04 10:00:00,b@beta.io,Beta,VP Marketing,1-10,retail,DE,organic_search,",
        # two leads whose ids differ only in case: only exact matches for them
        "A1,2025-01-01 09:00:00,x@acme.com,Acme,CTO,51-200,software,US,webinar,",
        "a1,2025-01-01 09:00:00,y@acme.com,Acme,CFO,51-200,software,US,webinar,",
    )
    _append_csv(
        raw / "touchpoints.csv",
        "E5,l1,2025-01-06 11:00:00,page_view,direct,,,,,/,,s5,5",  # L1 in lower case
        "E6,L2,2025-01-03 10:00:00,page_view,direct,,,,,/,,s6,5",  # between L2's submissions
        "E7,a1,2025-01-06 12:00:00,page_view,direct,,,,,/,,s7,5",
        "E8,A1,2025-01-06 12:00:00,page_view,direct,,,,,/,,s8,5",
    )
    _append_csv(raw / "conversions.csv", "l2,2025-01-06 12:00:00,opportunity,50")
    run = run_dbt(
        [
            "build",
            "--select",
            "+stg_web__touchpoints",
            "+stg_crm__conversions",
            "+fct_data_quality_issues",
            "stg_crm__leads",
            "--indirect-selection",
            "cautious",
        ],
        tmp_path / "dbt",
        {"raw_data_path": str(raw)},
    )
    assert run.returncode == 0, run.output[-4000:]
    leads = run.query("select lead_id, created_at, job_title from stg_crm__leads order by 1")
    l2 = leads.set_index("lead_id").loc["L2"]
    assert str(l2.created_at) == "2025-01-02 10:00:00" and l2.job_title == "vp marketing"
    touches = run.query("select event_id, lead_id from stg_web__touchpoints order by 1")
    assert dict(touches.itertuples(index=False)) == {
        "E1": "L1",
        "E2": "L2",
        "E5": "L1",
        "E6": "L2",
        "E7": "a1",
        "E8": "A1",
    }
    conversions = run.query("select lead_id from stg_crm__conversions order by 1")
    assert conversions.lead_id.tolist() == ["L1", "L2"]
    issues = run.query(
        "select source_file, rule, row_count from fct_data_quality_issues where row_count > 0"
    )
    counted = {(f, r): n for f, r, n in issues.itertuples(index=False)}
    assert counted[("touchpoints", "lead_id_case_matched")] == 1
    assert counted[("conversions", "lead_id_case_matched")] == 1
    assert ("touchpoints", "occurred_before_lead_created") not in counted


def test_a_file_mostly_dropped_stops_the_build_with_the_numbers(
    tiny_raw: Path, tmp_path: Path
) -> None:
    """A changed id format orphans every touchpoint: the build stops at the base model."""
    _rewrite(
        tiny_raw / "touchpoints.parquet", "select * replace ('X-' || lead_id as lead_id) from {src}"
    )
    run = run_dbt(
        [
            "build",
            "--select",
            "+base_web__touchpoints",
            "stg_web__touchpoints",
            "--indirect-selection",
            "cautious",
        ],
        tmp_path / "dbt",
        {"raw_data_path": str(tiny_raw)},
    )
    assert run.returncode != 0 and "Traceback" not in run.output
    assert (
        "2 of 2 rows of file touchpoints (100.0%) are dropped as unknown_lead_id, above the "
        "limit of 20.0% (var dq_max_dropped_share, key unknown_lead_id)"
    ) in run.output
    assert "SKIP" in run.output  # stg_web__touchpoints (and all below it) is not built
    allowed = run_dbt(
        ["build", "--select", "+base_web__touchpoints", "--indirect-selection", "cautious"],
        tmp_path / "dbt",
        {
            "raw_data_path": str(tiny_raw),
            "dq_max_dropped_share": {"default": 0.2, "unknown_lead_id": 1.0},
        },
    )
    assert allowed.returncode == 0, allowed.output[-3000:]


def test_the_every_raw_row_gate_fails_when_a_row_goes_missing(
    tiny_raw: Path, tmp_path: Path
) -> None:
    """assert_every_raw_row_is_accounted_for can fail: a kept touchpoint that disappears
    between the ledger and staging is caught."""
    gate = "assert_every_raw_row_is_accounted_for"
    run = run_dbt(
        ["build", "--select", f"+{gate}", "--indirect-selection", "cautious"],
        tmp_path / "dbt",
        {"raw_data_path": str(tiny_raw)},
    )
    assert run.returncode == 0, run.output[-3000:]
    con = duckdb.connect(str(run.duckdb_path))
    con.execute("delete from main.base_web__touchpoints where event_id = 'E1'")
    con.close()
    again = run_dbt(
        ["test", "--select", gate],
        tmp_path / "dbt",
        {"raw_data_path": str(tiny_raw)},
        duckdb_path=run.duckdb_path,
    )
    assert again.returncode != 0 and f"FAIL 1 {gate}" in again.output.replace(
        "\x1b[31m", ""
    ).replace("\x1b[0m", "")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("prediction_horizon_days", "30; drop table x", "var prediction_horizon_days='30; drop"),
        (
            "prediction_horizon_days",
            0,
            "var prediction_horizon_days=0 is not a whole number from 1",
        ),
        ("attribution_window_days", 7.5, "var attribution_window_days=7.5 is not a whole number"),
        ("drift_fdr", 2, "var drift_fdr=2 is not a number from 0 to 1"),
        ("session_timeout_minutes", None, "var session_timeout_minutes must be set"),
        ("lead_buckets", 0, "var lead_buckets=0 is not 'auto' or a whole number >= 1"),
        ("lead_buckets", "many", "var lead_buckets=many is not 'auto' or a whole number >= 1"),
    ],
)
def test_a_bad_numeric_var_is_named(tiny_raw: Path, tmp_path: Path, name, value, message) -> None:
    run = run_dbt(CHECK, tmp_path / "dbt", {"raw_data_path": str(tiny_raw), name: value})
    assert run.returncode != 0 and "Traceback" not in run.output
    assert message in run.output, run.output[-2000:]
