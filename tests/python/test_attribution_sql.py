"""Attribution in the warehouse: the SQL paths and credits against pandas, and the Python models.

Fast tests (no dbt) check the pandas reference implementation used below and the degenerate
inputs of the Python side. Tests marked ``e2e`` build the attribution models with dbt on small
generated raw files in a temporary warehouse and compare:

* paths and rule-model credits of the SQL models with a pandas re-implementation of the
  documented definitions (lookback window, open journeys, position-based, time decay);
* the dbt Python models ``int_channel_credit_markov`` / ``int_channel_credit_shapley`` with
  ``lead_scoring.attribution`` called on the same ``fct_conversion_paths``;
* ``fct_channel_attribution``: seven models, totals, spend window, ROAS, no division errors;
* degenerate inputs (no conversions, one channel, no spend) build without failing.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from lead_scoring import vocabulary
from lead_scoring.attribution import (
    markov_attribution,
    shapley_attribution,
    touch_credit_weights,
)

PROJECT_DIR = Path(__file__).resolve().parents[2]
DBT = str(Path(sys.executable).parent / "dbt")
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
LOOKBACK_DAYS = 30
HALF_LIFE_DAYS = 7.0
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
# Raw files (the raw data contract of DESIGN.md) and a dbt runner
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


def run_dbt(args: list[str], workdir: Path, dbt_vars: dict) -> subprocess.CompletedProcess:
    """Run the dbt CLI on this project with warehouse, target and logs inside ``workdir``."""
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(PROJECT_DIR),
        "DBT_TARGET_PATH": str(workdir / "target"),
        "DBT_LOG_PATH": str(workdir / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "LEAD_SCORING_DUCKDB": str(workdir / "warehouse.duckdb"),
    }
    return subprocess.run(
        [DBT, *args, "--vars", json.dumps(dbt_vars)],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def build_attribution(workdir: Path, raw: Path, **dbt_vars) -> str:
    """One ``dbt build``: seeds, the attribution models and their ancestors, and the tests of
    the attribution folders only (indirect selection off: other teams' tests are not run)."""
    workdir.mkdir(parents=True, exist_ok=True)
    all_vars = {"raw_data_path": str(raw), "scoring_date": str(END), **dbt_vars}
    build = run_dbt(
        ["build", "--indirect-selection", "empty", "--select", *BUILD_SELECTION],
        workdir,
        all_vars,
    )
    assert build.returncode == 0, build.stdout[-5000:] + build.stderr[-2000:]
    assert "ERROR=0" in build.stdout and " 0 unit tests" not in build.stdout
    return build.stdout


def query(workdir: Path, sql: str) -> pd.DataFrame:
    con = duckdb.connect(str(workdir / "warehouse.duckdb"), read_only=True)
    try:
        return con.sql(sql).df()
    finally:
        con.close()


# ------------------------------------------------------------------------------------------
# A pandas re-implementation of the documented definitions
# ------------------------------------------------------------------------------------------


def reference_paths_and_credits(
    leads: pd.Series,
    touches: pd.DataFrame,
    conversions: pd.DataFrame,
    scoring_at: pd.Timestamp,
    lookback_days: int = LOOKBACK_DAYS,
    half_life_days: float = HALF_LIFE_DAYS,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Journeys with their path, and the rule-based credits of their touches.

    ``touches``: touch_id, lead_id, channel, occurred_at (int_marketing_touches);
    ``conversions``: lead_id, converted_at, amount. Returns (paths by lead_id, touch credits).
    """
    journeys = pd.DataFrame({"lead_id": leads.to_numpy()}).merge(
        conversions[["lead_id", "converted_at", "amount"]], on="lead_id", how="left"
    )
    journeys["is_conversion"] = journeys["converted_at"].notna()
    journeys["path_end_at"] = journeys["converted_at"].fillna(scoring_at)
    journeys["lookback_start_at"] = journeys["path_end_at"] - pd.Timedelta(days=lookback_days)
    t = touches.merge(journeys, on="lead_id", how="inner")
    t = t[(t["occurred_at"] >= t["lookback_start_at"]) & (t["occurred_at"] <= t["path_end_at"])]
    t = t.sort_values(["lead_id", "occurred_at", "touch_id"]).reset_index(drop=True)
    group = t.groupby("lead_id", sort=False)
    t["touch_position"] = group.cumcount() + 1
    t["touch_count"] = group["touch_id"].transform("size")
    paths = group.agg(path=("channel", " > ".join), touch_count=("touch_id", "size"))
    paths = journeys.set_index("lead_id").join(paths)
    paths["has_path"] = paths["path"].notna()

    n, i = t["touch_count"], t["touch_position"]
    t["first_touch_credit"] = (i == 1).astype(float)
    t["last_touch_credit"] = (i == n).astype(float)
    t["linear_credit"] = 1.0 / n
    middle = 0.2 / (n - 2).where(n > 2, 1)
    t["position_based_credit"] = np.select(
        [n == 1, n == 2, (i == 1) | (i == n)], [1.0, 0.5, 0.4], default=middle
    )
    days = (t["path_end_at"] - t["occurred_at"]).dt.total_seconds() / 86400
    weight = np.power(2.0, -days / half_life_days)
    t["time_decay_credit"] = weight / weight.groupby(t["lead_id"]).transform("sum")
    credit_columns = [c for c in t.columns if c.endswith("_credit")]
    t.loc[~t["is_conversion"], credit_columns] = np.nan
    return paths, t


def test_reference_reproduces_the_documented_example():
    """The worked example of the docs: paid_search > email > direct, 14/7/0 days before."""
    conversion_at = pd.Timestamp("2025-06-20 12:00")
    touches = pd.DataFrame(
        {
            "touch_id": ["t0", "t1", "t2", "t3", "t4"],
            "lead_id": "L1",
            "channel": ["display", "paid_search", "email", "direct", "direct"],
            "occurred_at": pd.to_datetime(
                [
                    "2025-05-10 09:00",
                    "2025-06-06 12:00",
                    "2025-06-13 12:00",
                    "2025-06-20 12:00",
                    "2025-06-21 08:00",
                ]
            ),
        }
    )
    conversions = pd.DataFrame(
        {"lead_id": ["L1"], "converted_at": [conversion_at], "amount": [1e3]}
    )
    paths, credits = reference_paths_and_credits(
        pd.Series(["L1", "L2"]), touches, conversions, pd.Timestamp("2025-06-30")
    )
    assert paths.loc["L1", "path"] == "paid_search > email > direct"
    assert not paths.loc["L2", "has_path"]
    assert credits["touch_id"].tolist() == ["t1", "t2", "t3"]
    np.testing.assert_allclose(credits["position_based_credit"], [0.4, 0.2, 0.4])
    np.testing.assert_allclose(credits["time_decay_credit"], np.array([0.25, 0.5, 1.0]) / 1.75)
    np.testing.assert_allclose(credits["linear_credit"], [1 / 3] * 3)


# ------------------------------------------------------------------------------------------
# The Python models, called with a stand-in for dbt (no warehouse needed)
# ------------------------------------------------------------------------------------------


class _Relation:
    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame

    def df(self) -> pd.DataFrame:
        return self._frame.copy()


class _Config:
    def __init__(self, values: dict) -> None:
        self._values = values

    def get(self, key: str, default=None):
        return self._values.get(key, default)


class _Dbt:
    """The part of dbt's Python-model API the attribution models use."""

    def __init__(self, paths: pd.DataFrame, **config) -> None:
        self._paths = paths
        self.config = _Config(config)

    def ref(self, name: str) -> _Relation:
        assert name == "fct_conversion_paths"
        return _Relation(self._paths)


def _load_python_model(name: str):
    import importlib.util

    path = PROJECT_DIR / "python_models" / "intermediate" / "attribution" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.model


MODEL_CONFIG = {
    "int_channel_credit_markov": {"order": 1, "collapse_repeats": True},
    "int_channel_credit_shapley": {"max_channels": 15},
}


def _paths(rows: list[tuple[str, int, float, int]]) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["path", "total_conversions", "total_conversion_value", "total_null"]
    ).astype({"path": object, "total_conversions": "int64", "total_null": "int64"})


@pytest.mark.parametrize("name", sorted(MODEL_CONFIG))
def test_python_models_return_the_package_result(name):
    paths = _paths(
        [
            ("paid_search > email", 1, 1000.0, 0),
            ("email", 1, 500.0, 0),
            ("paid_search", 0, 0.0, 2),
        ]
    )
    result = _load_python_model(name)(_Dbt(paths, **MODEL_CONFIG[name]), None)
    expected = {
        "int_channel_credit_markov": {"email": 4 / 3, "paid_search": 2 / 3},
        "int_channel_credit_shapley": {"email": 1.5, "paid_search": 0.5},
    }[name]
    got = dict(zip(result["channel"], result["attributed_conversions"], strict=True))
    assert got == pytest.approx(expected)
    assert result["share"].sum() == pytest.approx(1.0)
    assert str(result["channel"].dtype) == "string"


@pytest.mark.parametrize("name", sorted(MODEL_CONFIG))
@pytest.mark.parametrize(
    ("case", "rows", "expected_rows", "log_text"),
    [
        ("no paths", [], 0, "no paths"),
        ("no conversions", [("email > direct", 0, 0.0, 3), ("direct", 0, 0.0, 1)], 2, "no conv"),
        ("one channel", [("email", 2, 300.0, 1), ("email > email", 1, 50.0, 0)], 1, None),
    ],
)
def test_python_models_survive_degenerate_input(name, case, rows, expected_rows, log_text, caplog):
    caplog.set_level(logging.INFO, logger="lead_scoring.attribution")
    result = _load_python_model(name)(_Dbt(_paths(rows), **MODEL_CONFIG[name]), None)
    assert len(result) == expected_rows, case
    assert {"channel", "attributed_conversions", "attributed_revenue", "share"} <= set(result)
    assert str(result["channel"].dtype) == "string"
    for column in ("attributed_conversions", "attributed_revenue", "share"):
        assert result[column].dtype == np.float64
    if case == "no conversions":
        assert (result["attributed_conversions"] == 0).all()
    if case == "one channel":
        assert result["attributed_conversions"].tolist() == [pytest.approx(3.0)]
        assert result["attributed_revenue"].tolist() == [pytest.approx(350.0)]
    if log_text:
        assert log_text in caplog.text, caplog.text
    else:
        assert "single channel" in caplog.text, caplog.text
    # the result must be writable to DuckDB with typed columns, also when empty
    con = duckdb.connect()
    con.register("result", result)
    types = {row[0]: row[1] for row in con.sql("describe select * from result").fetchall()}
    con.close()
    assert types["channel"] == "VARCHAR"
    assert types["attributed_conversions"] == "DOUBLE"


# ------------------------------------------------------------------------------------------
# End to end: dbt builds the attribution models on generated raw files
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A warehouse with the attribution models built (and tested) on 400 generated leads."""
    workdir = tmp_path_factory.mktemp("attribution")
    raw = write_synthetic_raw(workdir / "raw", n_leads=400, seed=11)
    build_attribution(workdir, raw)
    return workdir


@pytest.mark.e2e
def test_sql_paths_and_rule_credits_match_the_pandas_reference(built):
    leads = query(built, "select lead_id from stg_crm__leads")["lead_id"]
    touches = query(
        built, "select touch_id, lead_id, channel, occurred_at from int_marketing_touches"
    )
    conversions = query(built, "select lead_id, converted_at, amount from stg_crm__conversions")
    scoring_at = query(built, "select scoring_at from int_attribution_report_window").iloc[0, 0]
    assert scoring_at == END
    expected_paths, expected_credits = reference_paths_and_credits(
        leads, touches, conversions, scoring_at
    )

    paths = query(built, "select * from int_attribution_paths").set_index("lead_id")
    assert sorted(paths.index) == sorted(expected_paths.index)
    paths = paths.loc[expected_paths.index]
    assert paths["has_path"].tolist() == expected_paths["has_path"].tolist()
    assert paths["is_conversion"].tolist() == expected_paths["is_conversion"].tolist()
    assert paths["path"].fillna("").tolist() == expected_paths["path"].fillna("").tolist()
    assert expected_paths["has_path"].sum() > 100 and expected_paths["is_conversion"].sum() > 20

    credits = query(built, "select * from int_attribution_touches").set_index("touch_id")
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
    paths = query(built, "select * from fct_conversion_paths")
    for table, function in [
        ("int_channel_credit_markov", markov_attribution),
        ("int_channel_credit_shapley", shapley_attribution),
    ]:
        expected = function(paths).set_index("channel").sort_index()
        got = query(built, f"select * from {table}").set_index("channel").sort_index()
        assert got.index.tolist() == expected.index.tolist()
        for column in ("attributed_conversions", "attributed_revenue", "share"):
            np.testing.assert_allclose(got[column], expected[column], rtol=1e-9, err_msg=column)
        channels = query(
            built,
            "select channel, attributed_conversions from fct_channel_attribution "
            f"where attribution_model = '{table.rsplit('_', 1)[1]}' and attributed_conversions > 0",
        ).set_index("channel")["attributed_conversions"]
        positive = expected["attributed_conversions"][expected["attributed_conversions"] > 0]
        np.testing.assert_allclose(channels.sort_index(), positive.sort_index(), rtol=1e-9)


@pytest.mark.e2e
def test_markov_touch_split_is_touch_credit_weights(built):
    touches = query(
        built,
        "select lead_id as conversion_id, touch_id, channel from int_attribution_touches "
        "where is_conversion and is_in_report_window",
    )
    markov = query(built, "select * from int_channel_credit_markov")
    expected = touch_credit_weights(touches, markov)
    got = query(
        built,
        "select touch_id, credit from fct_touchpoint_attribution "
        "where attribution_model = 'markov'",
    ).set_index("touch_id")["credit"]
    np.testing.assert_allclose(
        got.loc[touches["touch_id"]].to_numpy(), expected.to_numpy(), rtol=1e-9, atol=1e-12
    )


@pytest.mark.e2e
def test_channel_attribution_has_seven_models_and_safe_ratios(built):
    frame = query(built, "select * from fct_channel_attribution")
    assert set(frame["attribution_model"]) == {
        "first_touch",
        "last_touch",
        "linear",
        "position_based",
        "time_decay",
        "markov",
        "shapley",
    }
    conversions = query(
        built,
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
    window = query(built, "select * from int_attribution_report_window").iloc[0]
    spend = query(
        built,
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
    output = build_attribution(tmp_path, raw, attribution_window_days=None)
    assert log_text in output, output[-3000:]
    frame = query(tmp_path, "select * from fct_channel_attribution")
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
        assert query(tmp_path, "select count(*) as n from fct_touchpoint_attribution")["n"][0] == 0
