"""Plain-words reasons: a label for every feature of the mart, the split by sign, the fallback."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from project import PROJECT_DIR

from lead_scoring.ml import rule_based_scores, score_open_leads
from lead_scoring.ml.config import DEFAULT_BAND_LIFT_MULTIPLES
from lead_scoring.ml.dataset import is_reserved
from lead_scoring.ml.explain import format_factors
from lead_scoring.ml.reasons import (
    missing_value_text,
    plain_label,
    plain_labels,
    reason_labels,
    reason_values,
    reasons_split,
)
from lead_scoring.ml.scoring import SCORE_COLUMNS, band_base_rate

from .synthetic import make_synthetic_snapshots

MART_YAML = PROJECT_DIR / "models" / "marts" / "features" / "_features__models.yml"


def mart_features() -> list[str]:
    """The feature columns of fct_lead_features, as documented (docs coverage keeps the YAML
    equal to the model's columns)."""
    models = yaml.safe_load(MART_YAML.read_text())["models"]
    (mart,) = [m for m in models if m["name"] == "fct_lead_features"]
    return [c["name"] for c in mart["columns"] if not is_reserved(c["name"])]


def test_every_mart_feature_has_a_plain_label():
    features = mart_features()
    assert len(features) > 100
    labels = {f: plain_label(f) for f in features}
    assert not [f for f, label in labels.items() if not label], "features without a plain label"
    assert not {f: lb for f, lb in labels.items() if "_" in lb}, "labels with an underscore"
    repeated = pd.Series(labels).loc[lambda s: s.duplicated(keep=False)]
    assert repeated.empty, f"two features share a label: {repeated.to_dict()}"


def test_label_rules_read_the_naming_scheme():
    assert plain_label("pricing_page_views_30d") == "Pricing page views in the last 30 days"
    assert plain_label("demo_requests_1d") == "Demo requests in the last day"
    assert plain_label("events_prev_7d") == "Activities in the 7 days before the last 7"
    assert plain_label("email_clicks_total") == "Marketing email clicks since the lead was created"
    assert plain_label("hours_since_last_pricing_view") == "Hours since the last pricing page view"
    assert plain_label("engaged_events_7d_vs_baseline") == (
        "Engaged activities in the last 7 days compared with the lead's usual level"
    )
    assert plain_label("is_student") == "Student"
    # a new windowed count is covered by the rule; an unknown shape is not (the test above fails)
    assert plain_label("chat_messages_14d") == "Chat messages in the last 14 days"
    assert plain_label("mystery_column") is None
    assert plain_labels(["mystery_column"]) == ["Mystery column"]
    assert plain_label("mystery_column", {"mystery_column": "A mystery"}) == "A mystery"


def test_reasons_split_by_sign_with_plain_values():
    values = pd.DataFrame(
        {
            "pricing_page_views_30d": [4.0, 0.0, np.nan],
            "seniority_level": pd.Categorical(["c_level", "manager", None]),
            "is_student": [0.0, 1.0, 0.0],
            "hours_since_last_demo_request": [np.nan, 5.5, np.nan],
        }
    )
    contribs = np.array(
        [
            [0.9, 0.3, 0.0, -0.2],
            [-0.1, -0.5, -0.8, 0.4],
            [0.0, 0.0, 0.0, 0.0],
        ]
    )
    cols = list(values.columns)
    out = reasons_split(contribs, values, cols, reason_labels(cols), k=3, boolean=["is_student"])
    assert out["reasons_for"].iloc[0] == (
        "Pricing page views in the last 30 days: 4; Seniority: c level"
    )
    assert out["reasons_against"].iloc[0] == "Last demo request: never"
    assert out["reasons_for"].iloc[1] == "Last demo request: 6 hours ago"
    assert out["reasons_against"].iloc[1] == (
        "Student: yes; Seniority: manager; Pricing page views in the last 30 days: 0"
    )
    assert out["reasons_for"].isna().iloc[2] and out["reasons_against"].isna().iloc[2]
    assert not out.stack().str.contains("_").any()


def test_reasons_read_as_a_rep_reads_them_one_per_idea():
    values = pd.DataFrame(
        {
            "high_intent_page_views_14d": [11.0, 2.0],
            "high_intent_events_14d": [12.0, 2.0],
            "pricing_page_views_30d": [3.0, 0.0],
            "hours_since_last_high_intent_event": [105.25, 14.1],
            "lead_age_days": [221.01, 0.5],
            "high_intent_page_share": [0.053, 0.0004],
            "company_size": pd.Categorical(["11-50", "201-500"]),
            "company_size_ordinal": [2.0, 4.0],
            "pages_per_session": [3.456, 12.6],
        }
    )
    contribs = np.array(
        [
            [0.9, 0.8, 0.2, 0.5, -0.3, -0.2, -0.25, -0.24, 0.1],
            [0.1, 0.7, 0.0, 0.6, 0.3, 0.2, -0.2, -0.3, -0.1],
        ]
    )
    cols = list(values.columns)
    out = reasons_split(contribs, values, cols, reason_labels(cols), k=3)
    # the 14-day high-intent page views and actions are one idea: only the stronger shows
    assert out["reasons_for"].iloc[0] == (
        "Pricing, demo or contact page views in the last 14 days: 11; "
        "Last high-intent action: 4 days ago; Pricing page views in the last 30 days: 3"
    )
    assert out["reasons_against"].iloc[0] == (
        "Lead created: 221 days ago; Company size: 11-50; "
        "Share of page views on pricing, demo or contact pages: 5%"
    )
    assert out["reasons_for"].iloc[1] == (
        "High-intent actions (pricing, demo, chat) in the last 14 days: 2; "
        "Last high-intent action: 14 hours ago; Lead created: 12 hours ago"
    )
    # a size and its rank are one idea too; 12.6 pages per visit reads 13
    assert out["reasons_against"].iloc[1] == (
        "Company size rank (higher is larger): 4; Pages viewed per website visit: 13"
    )
    # the raw form keeps every feature and the raw values
    raw = reasons_split(contribs, values, cols, plain_labels(cols), k=3, readable=False)
    assert (
        raw["reasons_for"]
        .iloc[0]
        .startswith(
            "Pricing, demo or contact page views in the last 14 days: 11; "
            "High-intent actions (pricing, demo, chat) in the last 14 days: 12"
        )
    )


def test_only_the_values_listed_are_formatted_and_they_read_as_the_whole_column_would():
    """reasons_split formats the few values it lists, not every value of every column; the
    text is the text of reason_values over the whole frame (a share column reads as a
    percentage only when all its values, listed or not, lie in [0, 1])."""
    rng = np.random.default_rng(3)
    n = 400
    values = pd.DataFrame(
        {
            "high_intent_page_share": rng.uniform(0, 1, n),  # a share: percentages
            "email_click_rate": np.r_[rng.uniform(0, 1, n - 1), 3.0],  # one value above 1
            "hours_since_last_high_intent_event": np.where(
                rng.uniform(size=n) < 0.2, np.nan, rng.uniform(0, 400, n)
            ),
            "pages_per_session": rng.uniform(0, 30, n),
            "is_free_email_domain": rng.uniform(size=n) < 0.5,
            "company_size": pd.Categorical(rng.choice(["11-50", "201-500", None], n)),
        }
    )
    cols = list(values.columns)
    contribs = rng.normal(size=(n, len(cols)))
    contribs[:, 1] = np.where(np.arange(n) == n - 1, -0.01, 5.0)  # the 3.0 is never listed
    labels = reason_labels(cols)
    got = reasons_split(contribs, values, cols, labels, k=2, boolean=["is_free_email_domain"])
    shown = reason_values(values, cols, boolean=["is_free_email_domain"])
    for side, part in (
        ("reasons_for", contribs.clip(min=0)),
        ("reasons_against", contribs.clip(max=0)),
    ):
        whole = format_factors(
            part, shown, cols, cols, labels, k=2, style="plain",
            boolean=["is_free_email_domain"], missing_texts=[missing_value_text(c) for c in cols],
        )["top_factors"].replace("", None)  # fmt: skip
        assert got[side].tolist() == whole.tolist()
    listed = got["reasons_for"].str.extract(r"Email click rate[^:]*: ([^;]+)")[0].dropna()
    assert len(listed) > 100 and not listed.str.endswith("%").any()  # the 3.0 rules the column
    assert got["reasons_for"].str.contains("%").any()  # the plain share column is in percent


def _text(value) -> str:
    return value if isinstance(value, str) else ""


def test_model_reasons_never_contradict_the_contributions(trained, snapshots):
    out = score_open_leads(trained.bundle, snapshots, reasons_per_side=3)
    assert list(out.columns) == SCORE_COLUMNS
    names = trained.bundle.feature_names
    label = dict(zip(names, reason_labels(names), strict=True))
    checked = 0
    columns = ["top_factors_json", "reasons_for", "reasons_against"]
    for factors_json, pros, cons in out[columns].itertuples(index=False):
        factors = json.loads(factors_json)
        pro_labels = [r.split(": ")[0] for r in _text(pros).split("; ") if r]
        con_labels = [r.split(": ")[0] for r in _text(cons).split("; ") if r]
        assert len(pro_labels) <= 3 and len(con_labels) <= 3
        for f in factors:  # a raising factor is never a reason against, and vice versa
            if f["direction"] == "+":
                assert label[f["feature"]] not in con_labels
            else:
                assert label[f["feature"]] not in pro_labels
        ups = [f for f in factors if f["direction"] == "+"]
        downs = [f for f in factors if f["direction"] == "-"]
        if ups:  # the strongest raising factor of the top five is the first reason for
            assert pro_labels[0] == label[ups[0]["feature"]]
            checked += 1
        if downs:
            assert con_labels[0] == label[downs[0]["feature"]]
    assert checked > len(out) / 2
    assert not out["reasons_for"].dropna().str.contains("_").any()
    assert not out["reasons_against"].dropna().str.contains("_").any()


def test_band_is_a_range_of_lift(trained, snapshots):
    out = score_open_leads(trained.bundle, snapshots)
    base = trained.bundle.base_rate
    assert base and (out["base_rate"] == base).all()
    lift = out["conversion_probability"] / out["base_rate"]
    m = DEFAULT_BAND_LIFT_MULTIPLES
    eps = 1e-9
    expected = np.select(
        [lift >= m["A"] - eps, lift >= m["B"] - eps, lift >= m["C"] - eps], ["A", "B", "C"], "D"
    )
    near_edge = np.isclose(lift.to_numpy()[:, None], list(m.values()), rtol=0, atol=1e-9).any(1)
    assert (out["score_band"].to_numpy() == expected)[~near_edge].all()


def test_fallback_has_the_same_reason_columns(rules):
    small = make_synthetic_snapshots(250, seed=3, n_scoring=40)
    negative = pd.DataFrame(
        [("no_email", "email_opens_30d", "=", "0", -5, "No email opened in the last 30 days")],
        columns=rules.columns,
    )
    out = rule_based_scores(small, pd.concat([rules, negative], ignore_index=True))
    assert list(out.columns) == SCORE_COLUMNS and len(out) == 40
    # the linear convention has no base rate: the one its fixed thresholds imply (0.40 / 4)
    assert np.allclose(out["base_rate"], 0.10)
    leads = small[small["is_scoring_snapshot"]].reset_index(drop=True)
    c_level = (leads["seniority_level"] == "c_level").to_numpy()
    assert (
        out["reasons_for"][c_level]
        .str.contains(r"^C-level title \(Seniority: c level\)", regex=True)
        .all()
    )
    no_email = (leads["email_opens_30d"] == 0).to_numpy()
    assert no_email.any()
    assert (
        out["reasons_against"][no_email]
        .str.startswith(
            "No email opened in the last 30 days (Marketing emails opened in the last 30 days: 0)"
        )
        .all()
    )
    assert out["reasons_against"][~no_email].isna().all()
    assert not out["reasons_for"].dropna().str.contains("No email opened").any()
    fitted = rule_based_scores(small, rules, history=small)
    labeled = small[small["label_converted_in_horizon"].notna()]
    assert fitted["base_rate"].iloc[0] == pytest.approx(
        labeled["label_converted_in_horizon"].astype(float).mean()
    )


def test_band_base_rate_without_a_model_rate():
    multiples = DEFAULT_BAND_LIFT_MULTIPLES
    assert band_base_rate(0.03, {"A": 0.12, "B": 0.06, "C": 0.03}, multiples) == 0.03
    assert band_base_rate(None, {"A": 0.4, "B": 0.2, "C": 0.1}, multiples) == 0.1
