"""Stand-ins for the CRM sync tests: a small scored warehouse and a sleep that does not wait."""

from __future__ import annotations

from pathlib import Path

import duckdb


def make_warehouse(path: Path, n: int = 250) -> Path:
    """A warehouse holding only ``scored_leads``: n leads with every column the CRM sync reads."""
    con = duckdb.connect(str(path))
    con.execute(
        f"""
        create table main.scored_leads as
        select
            'L' || lpad(cast(i as varchar), 5, '0') as lead_id,
            timestamp '2025-06-30 00:00:00' as scored_at,
            (i % 100) / 100.0 as conversion_probability,
            (i % 100) / 400.0 as conversion_probability_7d,
            (i % 100) / 200.0 as conversion_probability_30d,
            (i % 100) / 100.0 as conversion_probability_90d,
            cast(i % 100 as integer) as lead_score,
            cast(i % 100 + 1 as integer) as lead_priority,
            (i % 100) / 10.0 as lift,
            case when i % 100 >= 40 then 'A' when i % 100 >= 20 then 'B' else 'D' end
                as score_band,
            'Pricing page views (30d) = 3 (+)' as top_factors,
            '[]' as top_factors_json,
            'Pricing page views in the last 30 days: 3' as reasons_for,
            case when i % 2 = 0 then 'Personal email address: yes' end as reasons_against,
            50 as fit_score,
            50 as engagement_score,
            0.8 as score_confidence,
            'abc123' as model_version,
            'model' as experiment_arm
        from range({n}) t(i)
        """
    )
    con.close()
    return path


def no_sleep(_: float) -> None:
    """A sleep that returns at once: retries and back-off without the wait."""
    pass
