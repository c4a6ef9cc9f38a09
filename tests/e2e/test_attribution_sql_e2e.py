"""Attribution in the warehouse, end to end: dbt builds the attribution models on small generated
raw files in a temporary warehouse, compared with pandas and the package:

* paths and rule-model credits of the SQL models with a pandas re-implementation of the
  documented definitions (tests/support/attribution_reference.py: lookback window, open
  journeys, position-based, time decay);
* the dbt Python models ``int_channel_credit_markov`` / ``int_channel_credit_shapley`` with
  ``lead_scoring.attribution`` called on the same ``fct_conversion_paths``;
* ``fct_channel_attribution``: seven models, totals, spend window, ROAS, no division errors;
* degenerate inputs (no conversions, one channel, no spend) build without failing.

The fast tests of the reference and of the Python models are tests/unit/test_attribution_sql.py.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from attribution_reference import reference_paths_and_credits
from dbt_runner import DbtRun, run_dbt

from lead_scoring import vocabulary
from lead_scoring.attribution import (
    markov_attribution,
    shapley_attribution,
    touch_credit_weights,
)

END = pd.Timestamp("2025-06-30 18:00:00")
CHANNELS = [channel for channel in vocabulary.channels() if channel != "other"]
CAMPAIGNS = {
    "paid_search": ["ps_brand", "ps_generic"],
    "paid_social": ["li_abm", "fb_retarget"],
    "display": ["gdn_awareness"],
    "email": ["newsletter", "nurture"],
    "events": ["summit_2025"],
}
EVENT_BY_CHANNEL = {"email": "email_click", "events": "webinar_attended"}
BUILD_SELECTION = [
    "resource_type:seed",
    "resource_type:model,+fct_campaign_attribution",
    "resource_type:model,+fct_touchpoint_attribution",
    "resource_type:model,+dim_leads",  # the attribution marts' lead_id relationships test
    "path:models/intermediate/attribution",
    "path:models/marts/attribution",
    "path:python_models/intermediate/attribution",
    "path:tests/dbt/attribution",
]


# ------------------------------------------------------------------------------------------
# Raw files (the raw data contract of DESIGN.md) and the attribution build
# ------------------------------------------------------------------------------------------


def write_synthetic_raw(
    folder: Path,
    n_leads: int = 300,
    seed: int = 0,
    *,
    channels: list[str] | None = None,
    conversion_rate: float = 0.25,
    with_spend: bool = True,
    days: int = 180,
) -> Path:
    """Write leads, touchpoints, conversions and ad_spend as Parquet (a small B2B funnel).

    Every lead gets 0-8 touches spread over up to 60 days (web sessions with explicit
    session ids, email clicks, webinars, ad clicks); a share converts some hours after a
    touch, a few with a NULL amount, a few touches fall after the conversion.
    """
    rng = np.random.default_rng(seed)
    channels = channels or CHANNELS
    folder.mkdir(parents=True, exist_ok=True)
    start = END - pd.Timedelta(days=days)
    created = start + pd.to_timedelta(rng.uniform(0, days - 5, n_leads), unit="D")
    lead_ids = np.array([f"L{i:06d}" for i in range(n_leads)], dtype=object)
    leads = pd.DataFrame(
        {
            "lead_id": lead_ids,
            "created_at": created.floor("s"),
            "email": [f"p{i}@acme{i % 50}.com" for i in range(n_leads)],
            "company_name": [f"Acme {i % 50}" for i in range(n_leads)],
            "job_title": rng.choice(["VP Sales", "Marketing Manager", "Intern", None], n_leads),
            "company_size": rng.choice(["1-10", "51-200", "1001-5000", None], n_leads),
            "industry": rng.choice(["software", "retail", " Finance "], n_leads),
            "country": rng.choice(["US", "de", "FR"], n_leads),
            "lead_source": rng.choice(["Organic Search", "webinar"], n_leads),
            "tech_stack": rng.choice(["salesforce;hubspot", None], n_leads),
        }
    )
    n_touch = rng.integers(0, 9, n_leads)
    owner = np.repeat(np.arange(n_leads), n_touch)
    offset_days = rng.uniform(0, 60, len(owner))
    occurred = (created[owner] + pd.to_timedelta(offset_days, unit="D")).floor("s")
    keep = occurred <= END
    owner, occurred = owner[keep], occurred[keep]
    n = len(owner)
    weights = np.linspace(2.0, 1.0, len(channels))
    channel = rng.choice(np.array(channels, dtype=object), n, p=weights / weights.sum())
    event_type = np.array([EVENT_BY_CHANNEL.get(c, "page_view") for c in channel], dtype=object)
    is_ad = np.isin(channel, ["paid_search", "paid_social", "display"]) & (rng.random(n) < 0.3)
    event_type[is_ad] = "ad_click"
    campaign = np.array(
        [rng.choice(CAMPAIGNS[c]) if c in CAMPAIGNS else None for c in channel], dtype=object
    )
    event_ids = np.array([f"E{i:08d}" for i in range(n)], dtype=object)
    session = np.where(event_type == "page_view", np.char.add("S", event_ids.astype(str)), None)
    touchpoints = pd.DataFrame(
        {
            "event_id": event_ids,
            "lead_id": lead_ids[owner],
            "occurred_at": occurred,
            "event_type": event_type,
            "channel": channel,
            "utm_source": None,
            "utm_medium": None,
            "utm_campaign": campaign,
            "referrer_domain": None,
            "page_url": np.where(event_type == "page_view", "/pricing", None),
            "asset_name": None,
            "session_id": session,
            "duration_seconds": rng.integers(1, 600, n).astype("int32"),
        }
    )
    # conversions: a few hours after a random touch of a lead that has touches
    touched = np.unique(owner)
    converting = touched[rng.random(len(touched)) < conversion_rate]
    first_touch = touchpoints.groupby("lead_id")["occurred_at"].agg(["min", "max"])
    rows = []
    for lead in converting:
        lo, hi = first_touch.loc[lead_ids[lead]]
        at = lo + (hi - lo) * rng.random() + pd.Timedelta(hours=float(rng.uniform(0.1, 48)))
        if at > END:
            continue
        amount = None if rng.random() < 0.05 else float(round(rng.uniform(1_000, 50_000), 2))
        rows.append((lead_ids[lead], at.floor("s"), "opportunity", amount))
    conversions = pd.DataFrame(
        rows, columns=["lead_id", "converted_at", "conversion_type", "amount"]
    )
    conversions["amount"] = conversions["amount"].astype("float64")
    spend_rows = []
    if with_spend:
        for day in pd.date_range(start.normalize(), END.normalize(), freq="D"):
            for ch, names in CAMPAIGNS.items():
                if ch in channels and ch != "email":
                    for name in names:
                        spend_rows.append((day.date(), ch, name, float(rng.uniform(10, 200))))
    ad_spend = pd.DataFrame(spend_rows, columns=["spend_date", "channel", "utm_campaign", "spend"])
    ad_spend["spend"] = ad_spend["spend"].astype("float64")
    con = duckdb.connect()
    for name, frame in {
        "leads": leads,
        "touchpoints": touchpoints,
        "conversions": conversions,
        "ad_spend": ad_spend,
    }.items():
        con.register("frame", frame)
        types = {
            "leads": "created_at::timestamp as created_at",
            "touchpoints": "occurred_at::timestamp as occurred_at, session_id::varchar as "
            "session_id, utm_source::varchar as utm_source, utm_medium::varchar as utm_medium, "
            "referrer_domain::varchar as referrer_domain, asset_name::varchar as asset_name, "
            "page_url::varchar as page_url, utm_campaign::varchar as utm_campaign",
            "conversions": "converted_at::timestamp as converted_at, amount::double as amount",
            "ad_spend": "spend_date::date as spend_date, channel::varchar as channel, "
            "utm_campaign::varchar as utm_campaign, spend::double as spend",
        }[name]
        con.execute(
            f"copy (select * replace ({types}) from frame) to '{folder / name}.parquet' "
            "(format parquet)"
        )
        con.unregister("frame")
    con.close()
    return folder


def build_attribution(workdir: Path, raw: Path, **dbt_vars) -> DbtRun:
    """One ``dbt build``: seeds, the attribution models and their ancestors, and the tests of
    the attribution folders only (indirect selection off: other teams' tests are not run)."""
    all_vars = {"raw_data_path": str(raw), "scoring_date": str(END), **dbt_vars}
    build = run_dbt(
        ["build", "--indirect-selection", "empty", "--select", *BUILD_SELECTION],
        workdir,
        all_vars,
        timeout=600,
    )
    assert build.returncode == 0, build.output[-7000:]
    assert "ERROR=0" in build.output and " 0 unit tests" not in build.output
    return build


# ------------------------------------------------------------------------------------------
# End to end: dbt builds the attribution models on generated raw files
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> DbtRun:
    """A warehouse with the attribution models built (and tested) on 400 generated leads."""
    workdir = tmp_path_factory.mktemp("attribution")
    raw = write_synthetic_raw(workdir / "raw", n_leads=400, seed=11)
    return build_attribution(workdir, raw)


@pytest.mark.e2e
def test_sql_paths_and_rule_credits_match_the_pandas_reference(built):
    leads = built.query("select lead_id from stg_crm__leads")["lead_id"]
    touches = built.query(
        "select touch_id, lead_id, channel, occurred_at from int_marketing_touches"
    )
    conversions = built.query("select lead_id, converted_at, amount from stg_crm__conversions")
    scoring_at = built.query("select scoring_at from int_attribution_report_window").iloc[0, 0]
    assert scoring_at == END
    expected_paths, expected_credits = reference_paths_and_credits(
        leads, touches, conversions, scoring_at
    )

    paths = built.query("select * from int_attribution_paths").set_index("lead_id")
    assert sorted(paths.index) == sorted(expected_paths.index)
    paths = paths.loc[expected_paths.index]
    assert paths["has_path"].tolist() == expected_paths["has_path"].tolist()
    assert paths["is_conversion"].tolist() == expected_paths["is_conversion"].tolist()
    assert paths["path"].fillna("").tolist() == expected_paths["path"].fillna("").tolist()
    assert expected_paths["has_path"].sum() > 100 and expected_paths["is_conversion"].sum() > 20

    credits = built.query("select * from int_attribution_touches").set_index("touch_id")
    expected_credits = expected_credits.set_index("touch_id")
    assert sorted(credits.index) == sorted(expected_credits.index)
    credits = credits.loc[expected_credits.index]
    assert (credits["touch_position"] == expected_credits["touch_position"]).all()
    for column in [
        "first_touch_credit",
        "last_touch_credit",
        "linear_credit",
        "position_based_credit",
        "time_decay_credit",
    ]:
        np.testing.assert_allclose(
            credits[column].to_numpy(dtype=float),
            expected_credits[column].to_numpy(dtype=float),
            rtol=1e-9,
            atol=1e-12,
            err_msg=column,
        )


@pytest.mark.e2e
def test_python_models_equal_the_package_on_fct_conversion_paths(built):
    paths = built.query("select * from fct_conversion_paths")
    for table, function in [
        ("int_channel_credit_markov", markov_attribution),
        ("int_channel_credit_shapley", shapley_attribution),
    ]:
        expected = function(paths).set_index("channel").sort_index()
        got = built.query(f"select * from {table}").set_index("channel").sort_index()
        assert got.index.tolist() == expected.index.tolist()
        for column in ("attributed_conversions", "attributed_revenue", "share"):
            np.testing.assert_allclose(got[column], expected[column], rtol=1e-9, err_msg=column)
        channels = built.query(
            "select channel, attributed_conversions from fct_channel_attribution "
            f"where attribution_model = '{table.rsplit('_', 1)[1]}' and attributed_conversions > 0",
        ).set_index("channel")["attributed_conversions"]
        positive = expected["attributed_conversions"][expected["attributed_conversions"] > 0]
        np.testing.assert_allclose(channels.sort_index(), positive.sort_index(), rtol=1e-9)


@pytest.mark.e2e
def test_markov_touch_split_is_touch_credit_weights(built):
    touches = built.query(
        "select lead_id as conversion_id, touch_id, channel from int_attribution_touches "
        "where is_conversion and is_in_report_window",
    )
    markov = built.query("select * from int_channel_credit_markov")
    expected = touch_credit_weights(touches, markov)
    got = built.query(
        "select touch_id, credit from fct_touchpoint_attribution "
        "where attribution_model = 'markov'",
    ).set_index("touch_id")["credit"]
    np.testing.assert_allclose(
        got.loc[touches["touch_id"]].to_numpy(), expected.to_numpy(), rtol=1e-9, atol=1e-12
    )


@pytest.mark.e2e
def test_channel_attribution_has_seven_models_and_safe_ratios(built):
    frame = built.query("select * from fct_channel_attribution")
    assert set(frame["attribution_model"]) == {
        "first_touch",
        "last_touch",
        "linear",
        "position_based",
        "time_decay",
        "markov",
        "shapley",
    }
    conversions = built.query(
        "select count(*) as n from int_attribution_paths "
        "where is_conversion and has_path and is_in_report_window",
    )["n"].iloc[0]
    totals = frame.groupby("attribution_model")["attributed_conversions"].sum()
    np.testing.assert_allclose(totals, conversions, rtol=1e-9)
    with_spend = frame[frame["spend"] > 0]
    np.testing.assert_allclose(
        with_spend["roas"], with_spend["attributed_revenue"] / with_spend["spend"], rtol=1e-12
    )
    paid = with_spend[with_spend["attributed_conversions"] > 0]
    np.testing.assert_allclose(
        paid["cost_per_conversion"], paid["spend"] / paid["attributed_conversions"], rtol=1e-12
    )
    no_spend = frame[frame["spend"].isna()]
    assert len(no_spend) > 0 and no_spend["roas"].isna().all()
    assert no_spend["cost_per_conversion"].isna().all()
    # spend of the window, the same for every model
    window = built.query("select * from int_attribution_report_window").iloc[0]
    spend = built.query(
        "select sum(spend) as s from stg_ads__ad_spend where spend_date between "
        f"'{window['window_start_date']}' and '{window['window_end_date']}'",
    )["s"].iloc[0]
    np.testing.assert_allclose(frame.groupby("attribution_model")["spend"].sum(), spend)


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("case", "options", "log_text"),
    [
        (
            "no conversions, no spend",
            {"conversion_rate": 0.0, "with_spend": False},
            "no conversion with a touch in the report window",
        ),
        ("one channel", {"channels": ["paid_search"]}, "a single channel has conversions"),
    ],
)
def test_degenerate_input_builds_with_a_log_line(tmp_path, case, options, log_text):
    raw = write_synthetic_raw(tmp_path / "raw", n_leads=80, seed=5, **options)
    run = build_attribution(tmp_path, raw, attribution_window_days=None)
    output = run.output
    assert log_text in output, output[-3000:]
    frame = run.query("select * from fct_channel_attribution")
    if case == "one channel":
        assert set(frame["channel"]) == {"paid_search"}
        assert len(frame) == 7
        np.testing.assert_allclose(frame["conversion_share"], 1.0)
        assert frame["roas"].notna().all() and frame["cost_per_conversion"].notna().all()
    else:
        # markov and shapley list the channels of the open paths with 0; nothing else
        assert set(frame["attribution_model"]) <= {"markov", "shapley"}
        assert (frame["attributed_conversions"] == 0).all()
        assert (
            frame[["spend", "roas", "cost_per_conversion", "conversion_share"]].isna().all().all()
        )
        assert "no ad spend in the report window" in output
        assert run.query("select count(*) as n from fct_touchpoint_attribution")["n"][0] == 0
