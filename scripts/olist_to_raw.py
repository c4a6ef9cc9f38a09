"""Map the public Olist marketing funnel onto the project's raw data contract.

    .venv/bin/python scripts/olist_to_raw.py [--source DIR] [--out DIR]

Reads the two Kaggle CSVs from ``../shared/data/real/olist_marketing_funnel`` (never copied into
the repository) and writes the four contract files to ``bench_data/olist_raw`` (ignored by git):

* ``leads``: one lead per MQL (``mql_id``), created at its first contact (a date: midnight UTC),
  country ``BR``, ``lead_source`` = the MQL's ``origin`` ('unknown' when empty). Olist gives no
  title, company size, industry or e-mail for an MQL, so those stay null. The closed-deal columns
  (business segment, lead type, ...) exist only for won leads: they would leak the label and are
  not used.
* ``touchpoints``: the first contact as one ``form_submit`` on the landing page
  (``page_url = /lp/<landing_page_id>``, ``utm_campaign = <landing_page_id>``), with the origin
  mapped to a canonical channel (unknown origins left null, so staging derives them).
* ``conversions``: the won date of each closed deal (``conversion_type = 'won'``, amount = the
  declared monthly revenue when positive).
* ``ad_spend``: none (an empty file with the contract's columns).

The forward check of ``make bench`` builds this folder with ``scoring_date: 2018-04-30`` and
``prediction_horizon_days: 90`` and compares the scores with the deals won in the next 90 days.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb

PROJECT_DIR = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = PROJECT_DIR.parent / "shared" / "data" / "real" / "olist_marketing_funnel"
MQL_FILE = "olist_marketing_qualified_leads_dataset.csv"
DEALS_FILE = "olist_closed_deals_dataset.csv"

# Olist origin -> canonical channel (null: let staging derive it, i.e. 'direct')
ORIGIN_CHANNELS = {
    "organic_search": "organic_search",
    "paid_search": "paid_search",
    "social": "organic_social",
    "direct_traffic": "direct",
    "email": "email",
    "referral": "referral",
    "display": "display",
    "other_publicities": "other",
    "other": "other",
}


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def olist_to_raw(source: Path, out: Path) -> dict[str, int]:
    """Write leads / touchpoints / conversions / ad_spend Parquet files; return row counts."""
    mql, deals = source / MQL_FILE, source / DEALS_FILE
    for f in (mql, deals):
        if not f.exists():
            raise SystemExit(f"Olist file not found: {f}")
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(
        f"create view mql as select * from read_csv({_sql_text(str(mql))}, header = true, "
        "columns = {'mql_id': 'varchar', 'first_contact_date': 'date', "
        "'landing_page_id': 'varchar', 'origin': 'varchar'})"
    )
    con.execute(
        f"create view deals as select mql_id, won_date, declared_monthly_revenue "
        f"from read_csv_auto({_sql_text(str(deals))}, header = true, all_varchar = true)"
    )
    channel_case = " ".join(
        f"when {_sql_text(k)} then {_sql_text(v)}" for k, v in ORIGIN_CHANNELS.items()
    )
    queries = {
        "leads": """
            select
                mql_id as lead_id,
                cast(first_contact_date as timestamp) as created_at,
                cast(null as varchar) as email,
                cast(null as varchar) as company_name,
                cast(null as varchar) as job_title,
                cast(null as varchar) as company_size,
                cast(null as varchar) as industry,
                'BR' as country,
                coalesce(nullif(trim(origin), ''), 'unknown') as lead_source,
                cast(null as varchar) as tech_stack
            from mql
        """,
        "touchpoints": f"""
            select
                'olist-' || mql_id as event_id,
                mql_id as lead_id,
                cast(first_contact_date as timestamp) as occurred_at,
                'form_submit' as event_type,
                case origin {channel_case} end as channel,
                cast(null as varchar) as utm_source,
                cast(null as varchar) as utm_medium,
                landing_page_id as utm_campaign,
                cast(null as varchar) as referrer_domain,
                '/lp/' || landing_page_id as page_url,
                cast(null as varchar) as asset_name,
                'olist-' || mql_id as session_id,
                cast(null as integer) as duration_seconds
            from mql
        """,
        "conversions": """
            select
                mql_id as lead_id,
                cast(won_date as timestamp) as converted_at,
                'won' as conversion_type,
                case
                    when try_cast(declared_monthly_revenue as double) > 0
                        then try_cast(declared_monthly_revenue as double)
                end as amount
            from deals
        """,
        "ad_spend": """
            select
                cast(null as date) as spend_date,
                cast(null as varchar) as channel,
                cast(null as varchar) as utm_campaign,
                cast(null as double) as spend
            where false
        """,
    }
    counts = {}
    for name, query in queries.items():
        target = out / f"{name}.parquet"
        con.execute(f"copy ({query}) to {_sql_text(str(target))} (format parquet)")
        counts[name] = con.execute(f"select count(*) from {_sql_text(str(target))}").fetchone()[0]
    con.close()
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default=str(DEFAULT_SOURCE))
    parser.add_argument("--out", default=str(PROJECT_DIR / "bench_data" / "olist_raw"))
    args = parser.parse_args()
    counts = olist_to_raw(Path(args.source), Path(args.out))
    for name, n in counts.items():
        print(f"{name:12s} {n:>6,} rows -> {Path(args.out) / (name + '.parquet')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
