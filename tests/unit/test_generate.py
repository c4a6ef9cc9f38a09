"""Tests of the synthetic funnel generator (the package src/lead_scoring/generate/).

One small multi-chunk dataset is generated once per module; the checks are statistical bands
(wide enough for sampling noise at 2,000 leads, narrow enough to catch a broken mechanism),
contract checks against the dbt seeds, and determinism.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from project import PROJECT_DIR

from lead_scoring import vocabulary
from lead_scoring.cli import main as cli_main
from lead_scoring.generate import GeneratorConfig, generate_dataset

SEEDS = PROJECT_DIR / "seeds"
END = "2025-06-30"
END_EXCLUSIVE = pd.Timestamp("2025-07-01")
N_LEADS = 2000

# the staging vocabularies (the dbt seeds, read through lead_scoring.vocabulary)
CANONICAL_CHANNELS = set(vocabulary.channels())
EVENT_TYPES = set(vocabulary.raw_event_types())
WEB_EVENT_TYPES = set(vocabulary.event_type_names("is_web_event"))
COMPANY_SIZES = set(vocabulary.company_size_bands())
# the channels the generator writes ad spend for
PAID_CHANNELS = {"paid_search", "paid_social", "display", "events"}

EXPECTED_SCHEMAS = {
    "leads": [
        ("lead_id", pa.string()), ("created_at", pa.timestamp("us")), ("email", pa.string()),
        ("company_name", pa.string()), ("job_title", pa.string()),
        ("company_size", pa.string()), ("industry", pa.string()), ("country", pa.string()),
        ("lead_source", pa.string()), ("tech_stack", pa.string()),
    ],
    "touchpoints": [
        ("event_id", pa.string()), ("lead_id", pa.string()), ("occurred_at", pa.timestamp("us")),
        ("event_type", pa.string()), ("channel", pa.string()), ("utm_source", pa.string()),
        ("utm_medium", pa.string()), ("utm_campaign", pa.string()),
        ("referrer_domain", pa.string()), ("page_url", pa.string()), ("asset_name", pa.string()),
        ("session_id", pa.string()), ("duration_seconds", pa.int32()),
    ],
    "conversions": [
        ("lead_id", pa.string()), ("converted_at", pa.timestamp("us")),
        ("conversion_type", pa.string()), ("amount", pa.float64()),
    ],
    "ad_spend": [
        ("spend_date", pa.date32()), ("channel", pa.string()), ("utm_campaign", pa.string()),
        ("spend", pa.float64()),
    ],
}  # fmt: skip


# ------------------------------------------------------------------------------------------
# helpers: the staging layer's normalisations, in Python
# ------------------------------------------------------------------------------------------


def _seed(name: str) -> list[dict[str, str]]:
    with open(SEEDS / f"{name}.csv", newline="") as f:
        return list(csv.DictReader(f))


def _snake(value) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    out = re.sub(r"[\s\-]+", "_", str(value).strip().lower())
    return out or None


def _lower(value) -> str | None:
    if not isinstance(value, str):
        return None
    return value.strip().lower() or None


def _referrer(value) -> str | None:
    value = _lower(value)
    if value is None:
        return None
    value = re.sub(r"^[a-z]+://", "", value)
    return re.sub(r"^www\.|[/:?#].*$", "", value) or None


def _page_path(url) -> str | None:
    if not isinstance(url, str) or not url.strip():
        return None
    path = re.sub(r"^[a-z]+://[^/]*", "", url.strip().lower())
    path = re.sub(r"[?#].*$", "", path)
    return re.sub(r"/+$", "", path) or "/"


def _derive_channel(medium, source, referrer, event_type) -> str:
    """seeds/channel_rules.csv, then the event-type and no-tag fallbacks of staging."""
    fields = {"utm_medium": medium, "utm_source": source, "referrer_domain": referrer}
    for rule in vocabulary.channel_rules():
        value = fields[rule.source_field]
        if value is not None and re.search(rule.pattern, value):
            return rule.channel
    known = vocabulary.event_types().get(event_type)
    if known is not None and known.is_raw_contract and known.fallback_channel:
        return known.fallback_channel
    if medium is None and source is None and referrer is None:
        return "direct"
    return "other"


def _seniority(title) -> str:
    if not isinstance(title, str) or not title.strip():
        return "unknown"
    text = re.sub(r"\s+", " ", title.strip().lower())
    for row in sorted(_seed("job_title_keywords"), key=lambda r: int(r["match_priority"])):
        if re.search(row["keyword_pattern"], text):
            return row["seniority_level"]
    return "unknown"


def _read(folder: Path) -> dict[str, pd.DataFrame]:
    return {name: pd.read_parquet(folder / f"{name}.parquet") for name in EXPECTED_SCHEMAS}


# ------------------------------------------------------------------------------------------
# fixtures
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("funnel")
    config = GeneratorConfig(n_leads=N_LEADS, seed=7, end_date=END, chunk_size=800)  # 3 chunks
    counts = generate_dataset(config, out, progress=False)
    return out, counts, _read(out)


@pytest.fixture(scope="module")
def frames(generated):
    return generated[2]


@pytest.fixture(scope="module")
def latest_leads(frames):
    leads = frames["leads"]
    return leads.sort_values("created_at").drop_duplicates("lead_id", keep="last")


@pytest.fixture(scope="module")
def first_conversions(frames, latest_leads):
    conv = frames["conversions"]
    known = conv[conv["lead_id"].isin(latest_leads["lead_id"])]
    first = known.groupby("lead_id", as_index=False)["converted_at"].min()
    return first.merge(latest_leads[["lead_id", "created_at"]], on="lead_id")


@pytest.fixture(scope="module")
def touches(frames):
    tp = frames["touchpoints"].copy()
    tp["etype"] = tp["event_type"].map(_snake)
    tp["path"] = tp["page_url"].map(_page_path)
    return tp


# ------------------------------------------------------------------------------------------
# API and contract
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(n_leads=0),
        dict(n_leads=-5),
        dict(n_leads=10, chunk_size=0),
        dict(n_leads=10, seed=-1),
        dict(n_leads=10, end_date="2025-13-01"),
        dict(n_leads=10, end_date="yesterday"),
        dict(n_leads=2.5),
        dict(n_leads=True),
    ],
)
def test_invalid_config_raises_value_error(kwargs):
    with pytest.raises(ValueError, match="GeneratorConfig"):
        GeneratorConfig(**kwargs)


def test_output_folder_that_is_a_file_is_rejected(tmp_path):
    target = tmp_path / "not_a_folder"
    target.write_text("x")
    with pytest.raises(ValueError, match="not a folder"):
        generate_dataset(GeneratorConfig(n_leads=5), target, progress=False)


def test_schemas_match_the_raw_contract_exactly(generated):
    out, _, _ = generated
    for name, expected in EXPECTED_SCHEMAS.items():
        schema = pq.read_schema(out / f"{name}.parquet")
        assert [(f.name, f.type) for f in schema] == expected, name


def test_returned_counts_are_the_rows_on_disk(generated):
    out, counts, _ = generated
    assert set(counts) == set(EXPECTED_SCHEMAS)
    for name, rows in counts.items():
        assert pq.ParquetFile(out / f"{name}.parquet").metadata.num_rows == rows
        assert rows > 0
    assert not list(out.glob(".*.tmp"))


def test_same_config_same_rows_other_seed_other_rows(tmp_path):
    def run(folder: str, seed: int) -> dict[str, pa.Table]:
        config = GeneratorConfig(n_leads=300, seed=seed, end_date=END, chunk_size=120)
        generate_dataset(config, tmp_path / folder, progress=False)
        return {n: pq.read_table(tmp_path / folder / f"{n}.parquet") for n in EXPECTED_SCHEMAS}

    a, b, c = run("a", 11), run("b", 11), run("c", 12)
    for name in EXPECTED_SCHEMAS:
        assert a[name].equals(b[name]), name
    for name in ("leads", "touchpoints", "conversions"):
        assert not a[name].equals(c[name]), name


def test_progress_is_one_line_per_chunk_on_stderr(tmp_path, capsys):
    generate_dataset(GeneratorConfig(n_leads=90, chunk_size=40), tmp_path / "p", progress=True)
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert captured.out == ""
    assert [line.split(":")[1].strip() for line in lines[:3]] == [
        "chunk 1/3", "chunk 2/3", "chunk 3/3",
    ]  # fmt: skip
    assert "leads 90/90" in lines[2] and "touchpoints" in lines[2]
    generate_dataset(GeneratorConfig(n_leads=20), tmp_path / "q", progress=False)
    assert capsys.readouterr().err == ""


def test_cli_generate(tmp_path, capsys):
    assert cli_main(["generate", "--leads", "40", "--out", str(tmp_path / "cli"), "--quiet"]) == 0
    assert (tmp_path / "cli" / "touchpoints.parquet").exists()
    assert cli_main(["generate", "--leads", "0", "--out", str(tmp_path / "bad")]) == 2
    assert "n_leads" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------
# leads
# ------------------------------------------------------------------------------------------


def test_leads_ids_window_and_duplicates(frames, latest_leads):
    leads = frames["leads"]
    assert latest_leads["lead_id"].nunique() == N_LEADS
    assert leads["lead_id"].str.fullmatch(r"L\d{7}").all()
    dup_share = leads["lead_id"].duplicated().mean()
    assert 0.002 < dup_share < 0.03
    # a duplicated lead is another version: same id, different created_at
    dups = leads[leads["lead_id"].duplicated(keep=False)]
    assert dups.groupby("lead_id")["created_at"].nunique().eq(dups.groupby("lead_id").size()).all()
    # created over the ~540 days before the end, growing over time
    created = latest_leads["created_at"]
    assert created.max() < END_EXCLUSIVE
    assert created.min() >= END_EXCLUSIVE - pd.Timedelta(days=541)
    midpoint = END_EXCLUSIVE - pd.Timedelta(days=270)
    assert (created >= midpoint).sum() > 1.2 * (created < midpoint).sum()
    # ids are chronological
    ordered = latest_leads.sort_values("lead_id")["created_at"]
    assert ordered.is_monotonic_increasing


def test_leads_fields_are_messy_but_parseable(frames):
    leads = frames["leads"]
    title = leads["job_title"]
    assert 0.02 < title.isna().mean() < 0.15
    assert (title.dropna() != title.dropna().str.strip()).any()  # whitespace noise
    assert (title.dropna() == title.dropna().str.upper()).any()  # case noise
    levels = title.map(_seniority)
    for level in ("c_level", "vp", "director", "manager", "individual_contributor", "entry"):
        assert (levels == level).mean() > 0.01, level
    assert (levels == "unknown").mean() < 0.25

    assert set(leads["company_size"].dropna()) <= COMPANY_SIZES
    assert leads["company_size"].isna().any()

    valid = {row["country_code"] for row in _seed("country_regions")}
    country = leads["country"].dropna()
    parsed = country.str.strip().str.upper().isin(valid)
    assert 0.95 < parsed.mean() < 1.0  # a few invalid values ('USA', 'xx', ...)
    assert (country != country.str.strip()).any() and (country == country.str.lower()).any()

    sources = leads["lead_source"].dropna().map(_snake)
    assert set(sources) == {
        "organic_search", "paid_search", "paid_social", "content_download", "webinar",
        "referral", "event", "outbound", "direct",
    }  # fmt: skip
    assert (leads["lead_source"].dropna() != leads["lead_source"].dropna().map(str.strip)).any()

    industry = leads["industry"].dropna().map(lambda s: re.sub(r"\s+", " ", s.strip().lower()))
    assert 10 <= industry.nunique() <= 20

    stack = leads["tech_stack"].dropna().map(lambda s: re.sub(r"\s*;\s*", ";", s.lower()))
    tokens = {t for s in stack for t in s.split(";")}
    assert {"salesforce", "hubspot", "snowflake", "dbt"} <= tokens
    assert "" not in tokens
    assert leads["email"].str.fullmatch(r"[A-Za-z0-9._]+@[a-z0-9.\-]+\.[a-z]+").all()
    assert leads["company_name"].notna().all()


# ------------------------------------------------------------------------------------------
# touchpoints
# ------------------------------------------------------------------------------------------


def test_touchpoint_volume_is_heavy_tailed(touches):
    per_lead = touches.dropna(subset=["lead_id"]).groupby("lead_id").size()
    assert 40 < len(touches) / N_LEADS < 130
    assert per_lead.quantile(0.99) > 3 * per_lead.median()


def test_touchpoint_mess_shares(touches, latest_leads):
    n = len(touches)
    anonymous = touches["lead_id"].isna().mean()
    assert 0.03 < anonymous < 0.08
    known = touches["lead_id"].isin(latest_leads["lead_id"])
    unknown = (touches["lead_id"].notna() & ~known).mean()
    assert 0.001 < unknown < 0.015
    # duplicate deliveries: same event_id, same row
    dup_ids = touches["event_id"].duplicated().mean()
    assert 0.005 < dup_ids < 0.02
    cols = [c for c in touches.columns if c not in ("etype", "path")]
    assert touches[cols].drop_duplicates().shape[0] == touches["event_id"].nunique()
    # far-future typos only, nothing else after the end
    future = touches["occurred_at"] >= pd.Timestamp("2090-01-01")
    assert future.sum() / n < 1e-3
    late = (touches["occurred_at"] >= END_EXCLUSIVE) & ~future
    assert not late.any()
    # a few events before their lead was created
    created = touches["lead_id"].map(latest_leads.set_index("lead_id")["created_at"])
    before = (touches["occurred_at"] < created) & known
    assert 0 < before.sum() / known.sum() < 0.01
    # channel: ~20% null (derive it), some non-canonical spellings
    assert 0.17 < touches["channel"].isna().mean() < 0.23
    raw = touches["channel"].dropna()
    assert (~raw.isin(CANONICAL_CHANNELS)).mean() > 0.005
    # event types: mostly canonical after normalisation, ~0.2% unknown ones
    assert set(touches["etype"].dropna()) - EVENT_TYPES  # some unknown types
    assert 0.0005 < (~touches["etype"].isin(EVENT_TYPES)).mean() < 0.005
    assert (touches["event_type"] != touches["etype"]).mean() > 0.02  # case/whitespace noise
    # durations: time on page, nullable, a few negative
    dur = touches["duration_seconds"]
    assert dur.isna().any() and (dur < 0).any() and (dur < 0).mean() < 0.002


def test_sessions_and_pages(touches):
    web = touches["etype"].isin(WEB_EVENT_TYPES)
    share = touches.loc[web, "session_id"].notna().mean()
    assert 0.5 < share < 0.7
    assert touches.loc[~web, "session_id"].isna().all()
    # every page path is classified by seeds/page_types.csv
    patterns = [r["path_pattern"] for r in _seed("page_types")]
    paths = touches["path"].dropna().unique()
    unmatched = [p for p in paths if not any(re.search(pt, p) for pt in patterns)]
    assert unmatched == []
    urls = touches["page_url"].dropna()
    assert urls.str.contains(r"\?").any() and urls.str.contains(r".+/$").any()
    assert (urls.str.contains(r"[A-Z]") & (urls.str.upper() == urls)).any()
    assert touches.loc[touches["etype"].isin({"email_open", "ad_click"}), "page_url"].isna().all()
    # downloads and attendances name their asset
    named = touches["etype"].isin({"content_download", "webinar_attended", "event_attended"})
    assert touches.loc[named, "asset_name"].notna().all()
    assert touches.loc[touches["etype"] == "page_view", "asset_name"].isna().all()


def test_channel_is_coherent_with_utm_and_referrer(touches):
    """Where the export names a canonical channel, seeds/channel_rules.csv derive the same one
    from the UTMs and referrer: so the ~20% null channels can be derived."""
    df = pd.DataFrame(
        {
            "channel": touches["channel"].map(_snake),
            "medium": touches["utm_medium"].map(_lower),
            "source": touches["utm_source"].map(_lower),
            "referrer": touches["referrer_domain"].map(_referrer),
            "etype": touches["etype"],
        }
    )
    combos = df.drop_duplicates().replace({np.nan: None})
    canonical = combos[combos["channel"].isin(CANONICAL_CHANNELS)]
    derived = [
        _derive_channel(r.medium, r.source, r.referrer, r.etype)
        for r in canonical.itertuples(index=False)
    ]
    mismatches = canonical[[d != c for d, c in zip(derived, canonical["channel"], strict=True)]]
    assert mismatches.empty, mismatches.head(10).to_string()
    assert set(canonical["channel"]) == CANONICAL_CHANNELS
    # non-canonical spellings are readable too (as a medium, by the seed rules)
    odd = combos[combos["channel"].notna() & ~combos["channel"].isin(CANONICAL_CHANNELS)]
    assert len(odd)
    for value in odd["channel"].unique():
        assert _derive_channel(value, None, None, None) in CANONICAL_CHANNELS - {"other", "direct"}


def test_paid_campaigns_match_between_touchpoints_and_ad_spend(frames, touches):
    spend = frames["ad_spend"]
    assert set(spend["channel"]) == PAID_CHANNELS
    assert (spend["spend"] >= 0).all()
    assert spend["utm_campaign"].isna().any()  # unallocated spend
    dates = pd.to_datetime(spend["spend_date"])
    assert dates.max() < END_EXCLUSIVE
    assert dates.min() >= END_EXCLUSIVE - pd.Timedelta(days=541)
    paid_prefix = ("ps_", "li_", "fb_", "dsp_", "ev_", "wb_")
    touch_campaigns = set(touches["utm_campaign"].dropna())
    paid_touch = {c for c in touch_campaigns if c.startswith(paid_prefix)}
    spend_campaigns = set(spend["utm_campaign"].dropna())
    assert spend_campaigns == paid_touch
    assert any(c.startswith("ps_brand_q") for c in spend_campaigns)
    # more ad clicks, more spend: daily paid-search spend follows the daily clicks
    clicks = touches[
        (touches["etype"] == "ad_click") & touches["utm_campaign"].str.startswith("ps_")
    ]
    daily_clicks = clicks.groupby(clicks["occurred_at"].dt.date).size()
    daily_spend = spend[spend["channel"] == "paid_search"].groupby("spend_date")["spend"].sum()
    joined = pd.concat([daily_clicks.rename("clicks"), daily_spend.rename("spend")], axis=1)
    joined = joined.fillna(0)
    assert joined["clicks"].corr(joined["spend"], method="spearman") > 0.4


# ------------------------------------------------------------------------------------------
# conversions and signal
# ------------------------------------------------------------------------------------------


def test_conversion_invariants(frames, latest_leads, first_conversions):
    conv = frames["conversions"]
    assert set(conv["conversion_type"]) == {"opportunity", "closed_won"}
    assert (conv["conversion_type"] == "opportunity").mean() > 0.7
    assert conv["converted_at"].max() < END_EXCLUSIVE
    rate = len(first_conversions) / N_LEADS
    assert 0.07 < rate < 0.17
    before = first_conversions["converted_at"] < first_conversions["created_at"]
    assert before.mean() < 0.03  # only the deliberate few
    days = (first_conversions["converted_at"] - first_conversions["created_at"]).dt.days
    assert 5 <= days[~before].median() <= 120
    known = conv["lead_id"].isin(latest_leads["lead_id"])
    assert (~known).sum() >= 1  # conversions of unknown leads
    repeats = conv[known].groupby("lead_id").size()
    assert 0 < (repeats > 1).mean() < 0.08
    amount = conv["amount"]
    assert amount.isna().any()
    assert 15_000 < amount[amount > 0].median() < 60_000
    assert (amount < 0).mean() < 0.02


def test_converted_leads_stay_active_after_converting(touches, first_conversions):
    after = touches.merge(first_conversions, on="lead_id")
    after = after[after["occurred_at"] > after["converted_at"]]
    assert after["lead_id"].nunique() > 0.5 * len(first_conversions)
    assert (after["path"].fillna("").str.startswith("/docs")).mean() > 0.1


def test_high_intent_pages_precede_conversion(touches, latest_leads, first_conversions):
    """Converters view more pricing/demo/contact/comparison pages in the 30 days before they
    convert than non-converters in the 30 days before a comparable date."""
    high = touches["path"].fillna("").str.match(r"^/(pricing|demo|request-demo|book-demo|"
                                                r"contact|contact-sales|talk-to-sales|compare|vs)"
                                                r"(/|$)")  # fmt: skip
    views = touches[touches["etype"] == "page_view"].assign(high=high)
    ref = latest_leads[["lead_id", "created_at"]].merge(first_conversions[["lead_id",
                                                                           "converted_at"]],
                                                        on="lead_id", how="left")  # fmt: skip
    ref["converter"] = ref["converted_at"].notna()
    delay = (first_conversions["converted_at"] - first_conversions["created_at"]).median()
    ref["ref_at"] = ref["converted_at"].fillna(ref["created_at"] + delay)
    v = views.merge(ref, on="lead_id")
    window = (v["occurred_at"] < v["ref_at"]) & (
        v["occurred_at"] >= v["ref_at"] - pd.Timedelta(30, "D")
    )
    share = v[window].groupby("converter")["high"].mean()
    assert share[True] > 1.5 * share[False]


def test_fit_drives_conversion(frames, latest_leads, first_conversions, touches):
    leads = latest_leads.assign(
        converted=latest_leads["lead_id"].isin(first_conversions["lead_id"]),
        level=latest_leads["job_title"].map(_seniority),
    )
    senior = leads["level"].isin({"vp", "director"}) & leads["company_size"].isin(
        {"51-200", "201-500", "501-1000", "1001-5000", "5001+"}
    )
    junior = leads["level"].isin({"entry", "individual_contributor"}) | (
        leads["company_size"] == "1-10"
    )
    assert leads.loc[senior, "converted"].mean() > 1.8 * leads.loc[junior, "converted"].mean()
    assert leads.loc[leads["level"] == "entry", "converted"].mean() < 0.03
    # repeated careers-page visitors (job seekers) almost never convert
    careers = touches[touches["path"].fillna("").str.match(r"^/(careers|jobs)(/|$)")]
    seekers = careers.groupby("lead_id").size()
    seekers = seekers[seekers >= 2].index
    assert len(seekers) >= 10
    assert leads.loc[leads["lead_id"].isin(seekers), "converted"].mean() < 0.04


def test_buying_bursts_several_visits_within_48_hours(touches, first_conversions):
    """Before converting, converters come back several times within 48 hours more often."""
    pv = touches[(touches["etype"] == "page_view") & touches["lead_id"].notna()]
    pv = pv.sort_values(["lead_id", "occurred_at"])
    gap = pv.groupby("lead_id")["occurred_at"].diff()
    visits = pv[gap.isna() | (gap > pd.Timedelta(minutes=30))]  # session starts
    close = visits.groupby("lead_id")["occurred_at"].diff() < pd.Timedelta(hours=48)
    burst_share = close.groupby(visits["lead_id"]).mean()
    conv = burst_share.index.isin(first_conversions["lead_id"])
    assert burst_share[conv].mean() > burst_share[~conv].mean()


def test_sample_end_date_moves_the_window(tmp_path):
    config = GeneratorConfig(n_leads=60, seed=3, end_date="2023-03-31")
    generate_dataset(config, tmp_path, progress=False)
    tp = pd.read_parquet(tmp_path / "touchpoints.parquet")
    ok = tp["occurred_at"] < pd.Timestamp("2090-01-01")
    assert tp.loc[ok, "occurred_at"].max() < pd.Timestamp("2023-04-01")
    assert tp.loc[ok, "occurred_at"].min() > pd.Timestamp(dt.date(2023, 3, 31)) - pd.Timedelta(
        days=560
    )
