"""Sampling whole leads in the warehouse: rates, the hash draw and the weights."""

from __future__ import annotations

import duckdb
import numpy as np
import pytest

from lead_scoring.ml.sampling import (
    SALT,
    lead_bucket_predicate,
    lead_sample_predicate,
    lead_sample_rates,
    lead_sample_weight_sql,
)


def test_rates_keep_converting_leads_first():
    assert lead_sample_rates(100, 900, None) == (1.0, 1.0)
    assert lead_sample_rates(100, 900, 1000) == (1.0, 1.0)
    assert lead_sample_rates(100, 1900, 1000) == (1.0, pytest.approx(900 / 1900))
    conv, other = lead_sample_rates(800, 9200, 1000)  # converting leads alone above half the cap
    assert conv == pytest.approx(500 / 800) and other == pytest.approx(500 / 9200)


def test_the_draw_keeps_whole_leads_and_the_weights_restore_the_totals():
    con = duckdb.connect()
    con.execute(
        """
        create table snapshots as
        select
            'L' || (i // 10) as lead_id,
            case when (i // 10) % 7 = 0 then timestamp '2025-01-01' end as label_converted_at,
            i
        from range(200000) as r(i)
        """
    )
    predicate = lead_sample_predicate(1.0, 0.2)
    weight = lead_sample_weight_sql(1.0, 0.2)
    kept = con.execute(
        f"select lead_id, label_converted_at, {weight} as w from snapshots where {predicate}"
    ).df()
    per_lead = kept.groupby("lead_id").size()
    assert (per_lead == 10).all()  # a kept lead keeps all its snapshots
    converting = kept["label_converted_at"].notna()
    assert converting.sum() == con.execute(
        "select count(*) from snapshots where label_converted_at is not null"
    ).fetchone()[0]  # every converting lead is kept
    share = (~converting).sum() / con.execute(
        "select count(*) from snapshots where label_converted_at is null"
    ).fetchone()[0]
    assert share == pytest.approx(0.2, abs=0.02)
    # weighted, the sample stands for every row
    assert kept["w"].sum() == pytest.approx(200_000, rel=0.03)
    # the draw is a function of the lead id: the same in every build
    again = con.execute(f"select lead_id from snapshots where {predicate}").df()
    assert np.array_equal(np.sort(again["lead_id"].unique()), np.sort(per_lead.index))


@pytest.mark.parametrize("rate", [0.0, 1e-6, 0.013, 0.2, 0.5, 0.999999, 1.0])
def test_the_portable_draw_keeps_the_leads_of_the_numeric_draw(rate: float) -> None:
    """The predicate compares hex digits as text (SQL that Spark reads too): it keeps exactly
    the leads whose first 32 md5 bits, read as a number, are below the rate's threshold."""
    con = duckdb.connect()
    con.execute(
        "create table leads as select 'L' || i as lead_id, "
        "case when i % 3 = 0 then timestamp '2025-01-01' end as label_converted_at "
        "from range(50000) as r(i)"
    )
    threshold = int(round(rate * 2**32))
    numeric = con.execute(
        "select lead_id from leads where "
        f"cast(('0x' || substr(md5('{SALT}' || lead_id), 1, 8)) as ubigint) < {threshold} "
        "order by lead_id"
    ).fetchall()
    text = con.execute(
        f"select lead_id from leads where {lead_sample_predicate(rate, rate)} order by lead_id"
    ).fetchall()
    assert text == numeric
    if 0 < rate < 1:
        assert len(text) == pytest.approx(rate * 50000, abs=5 * (rate * 50000) ** 0.5 + 2)


def test_the_buckets_split_the_leads_once_each() -> None:
    con = duckdb.connect()
    con.execute("create table leads as select 'L' || i as lead_id from range(10000) as r(i)")
    seen = []
    for bucket in range(7):
        predicate = lead_bucket_predicate(7, bucket)
        rows = con.execute(f"select lead_id from leads where {predicate}").fetchall()
        seen += [r[0] for r in rows]
        # on DuckDB (an unsigned hash) the buckets are those of hash(lead_id) % 7
        assert con.execute(
            f"select count(*) from leads where ({predicate}) <> (hash(lead_id) % 7 = {bucket})"
        ).fetchone()[0] == 0
    assert sorted(seen) == sorted(f"L{i}" for i in range(10000))
