"""The raw-file contract: the Arrow schema of each of the four files the generator writes."""

from __future__ import annotations

import pyarrow as pa

LEADS_SCHEMA = pa.schema(
    [
        ("lead_id", pa.string()),
        ("created_at", pa.timestamp("us")),
        ("email", pa.string()),
        ("company_name", pa.string()),
        ("job_title", pa.string()),
        ("company_size", pa.string()),
        ("industry", pa.string()),
        ("country", pa.string()),
        ("lead_source", pa.string()),
        ("tech_stack", pa.string()),
    ]
)
TOUCHPOINTS_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("lead_id", pa.string()),
        ("occurred_at", pa.timestamp("us")),
        ("event_type", pa.string()),
        ("channel", pa.string()),
        ("utm_source", pa.string()),
        ("utm_medium", pa.string()),
        ("utm_campaign", pa.string()),
        ("referrer_domain", pa.string()),
        ("page_url", pa.string()),
        ("asset_name", pa.string()),
        ("session_id", pa.string()),
        ("duration_seconds", pa.int32()),
    ]
)
CONVERSIONS_SCHEMA = pa.schema(
    [
        ("lead_id", pa.string()),
        ("converted_at", pa.timestamp("us")),
        ("conversion_type", pa.string()),
        ("amount", pa.float64()),
    ]
)
AD_SPEND_SCHEMA = pa.schema(
    [
        ("spend_date", pa.date32()),
        ("channel", pa.string()),
        ("utm_campaign", pa.string()),
        ("spend", pa.float64()),
    ]
)
FILES = {
    "leads": LEADS_SCHEMA,
    "touchpoints": TOUCHPOINTS_SCHEMA,
    "conversions": CONVERSIONS_SCHEMA,
    "ad_spend": AD_SPEND_SCHEMA,
}
