"""The plain peer model of the forward check (scripts/peer_xgboost.py): snapshots, labels and
point-in-time counts on a hand-made raw folder, and a small end-to-end fit."""

from __future__ import annotations

import importlib.util

import duckdb
import numpy as np
import pandas as pd
import pytest
from project import PROJECT_DIR

spec = importlib.util.spec_from_file_location(
    "peer_xgboost", PROJECT_DIR / "scripts" / "peer_xgboost.py"
)
peer = importlib.util.module_from_spec(spec)
spec.loader.exec_module(peer)

D = "2025-03-01"
H = 14


def _write(folder, leads, touchpoints, conversions, fmt="parquet"):
    folder.mkdir(parents=True, exist_ok=True)
    files = {"leads": leads, "touchpoints": touchpoints, "conversions": conversions}
    for name, rows in files.items():
        frame = pd.DataFrame(rows)
        if fmt == "parquet":
            frame.to_parquet(folder / f"{name}.parquet")
        else:
            frame.to_csv(folder / f"{name}.csv", index=False)


def _lead(lead_id, created_at, **extra):
    return {
        "lead_id": lead_id,
        "created_at": pd.Timestamp(created_at),
        "company_size": extra.get("company_size", "51-200"),
        "industry": extra.get("industry", "software"),
        "country": extra.get("country", "US"),
        "lead_source": extra.get("lead_source", "organic_search"),
    }


def _event(event_id, lead_id, occurred_at, event_type):
    return {
        "event_id": event_id,
        "lead_id": lead_id,
        "occurred_at": pd.Timestamp(occurred_at),
        "event_type": event_type,
    }


def _features(folder):
    d = f"cast('{pd.Timestamp(D)}' as timestamp)"
    with duckdb.connect() as con:
        frame = con.sql(peer._features_sql(folder, d, H)).df()
    return frame.sort_values(["lead_id", "snapshot_at"]).reset_index(drop=True)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_snapshots_labels_and_point_in_time_counts(tmp_path, fmt):
    leads = [
        _lead("L1", "2025-01-01 10:00", industry=" SaaS "),
        _lead("L2", "2025-01-01 00:00"),
        _lead("L3", "2025-02-25 00:00"),
        _lead("L4", "2025-03-02 00:00"),  # created after D: unknown yet
    ]
    touchpoints = [
        _event("e1", "L1", "2025-01-01 12:00", "page_view"),
        _event("e2", "L1", "2025-01-05 00:00", " PAGE_VIEW"),
        _event("e2", "L1", "2025-01-05 00:00", " PAGE_VIEW"),  # redelivered: counts once
        _event("e3", "L1", "2025-01-09 00:00", "demo_request"),  # exactly at snapshot 2
        _event("e4", "L1", "2025-02-20 00:00", "mystery"),  # unknown type -> other
        _event("e5", "L1", "2025-03-05 00:00", "demo_request"),  # after D: never read
        _event("e6", "L1", "2099-01-01 00:00", "page_view"),
        _event("e7", None, "2025-01-02 00:00", "page_view"),
    ]
    conversions = [
        {"lead_id": "L2", "converted_at": pd.Timestamp("2025-01-20")},
        {"lead_id": "L2", "converted_at": pd.Timestamp("2025-02-20")},  # a repeat
        {"lead_id": "L1", "converted_at": pd.Timestamp("2025-03-10")},  # after D: never read
    ]
    _write(tmp_path, leads, touchpoints, conversions, fmt)
    f = _features(tmp_path)

    l1 = f[f["lead_id"] == "L1"]
    # every 7 days from the first midnight after creation while T + H <= D (T <= 2025-02-15),
    # then the scoring row at D
    assert l1["snapshot_at"].dt.strftime("%m-%d %H").tolist() == [
        "01-02 00", "01-09 00", "01-16 00", "01-23 00", "01-30 00", "02-06 00", "02-13 00",
        "03-01 00",
    ]  # fmt: skip
    assert l1["is_scoring"].tolist() == [False] * 7 + [True]
    assert l1["label"].iloc[:7].tolist() == [0] * 7  # L1's conversion is after D
    assert pd.isna(l1["label"].iloc[7])
    at = l1.set_index(l1["snapshot_at"].dt.strftime("%m-%d"))
    assert at.loc["01-02", "page_view_total"] == 1
    assert at.loc["01-02", "demo_request_total"] == 0
    assert at.loc["01-09", "page_view_total"] == 2
    assert at.loc["01-09", "page_view_7d"] == 1  # (01-02, 01-09]: not e1 (01-01 12:00)
    assert at.loc["01-09", "demo_request_7d"] == 1  # an event at T counts at T
    assert at.loc["01-16", "page_view_7d"] == 0
    assert at.loc["01-16", "page_view_30d"] == 2
    assert at.loc["03-01", "page_view_total"] == 2  # not the 2099 one
    assert at.loc["03-01", "demo_request_total"] == 1  # not the one after D
    assert at.loc["03-01", "other_total"] == 1
    assert at.loc["03-01", "other_7d"] == 0 and at.loc["03-01", "other_30d"] == 1
    assert at.loc["01-09", "lead_age_days"] == pytest.approx(7 + 14 / 24)
    assert at.loc["03-01", "industry"] == "saas"

    l2 = f[f["lead_id"] == "L2"]
    # open until its first conversion (01-20): snapshots 01-02, 01-09, 01-16; not scored at D
    assert l2["snapshot_at"].dt.strftime("%m-%d").tolist() == ["01-02", "01-09", "01-16"]
    assert l2["label"].tolist() == [0, 1, 1]  # 01-02 + 14 d = 01-16 < 01-20
    # L3: too young for a labeled snapshot, scored at D; L4 does not exist yet
    assert f[f["lead_id"] == "L3"]["is_scoring"].tolist() == [True]
    assert "L4" not in set(f["lead_id"])
    assert not f.filter(like="_total").lt(0).any().any()


def test_appending_later_data_does_not_change_earlier_features(tmp_path):
    leads = [_lead("L1", "2025-01-01"), _lead("L2", "2025-01-03")]
    events = [
        _event(f"e{i}", f"L{1 + i % 2}", pd.Timestamp("2025-01-01") + pd.Timedelta(hours=37 * i),
               ["page_view", "email_open", "demo_request"][i % 3])
        for i in range(40)
    ]  # fmt: skip
    conversions = [{"lead_id": "L2", "converted_at": pd.Timestamp("2025-02-28")}]
    _write(tmp_path / "a", leads, events, conversions)
    after_d = pd.Timestamp(D) + pd.Timedelta(seconds=1)  # an event at D itself counts at D
    later = [_event(f"x{i}", "L1", after_d + pd.Timedelta(days=i), "page_view") for i in range(5)]
    _write(tmp_path / "b", leads, events + later, conversions)
    a, b = _features(tmp_path / "a"), _features(tmp_path / "b")
    pd.testing.assert_frame_equal(a, b)  # nothing dated after D is read


def test_peer_scores_end_to_end_on_a_small_world(tmp_path):
    rng = np.random.default_rng(0)
    n = 400
    created = pd.Timestamp("2024-06-01") + pd.to_timedelta(rng.integers(0, 200, n), unit="D")
    eager = rng.random(n) < 0.3  # eager leads request demos and convert
    leads, events, conversions = [], [], []
    for i in range(n):
        lead_id = f"L{i:04d}"
        leads.append(_lead(lead_id, created[i], company_size=["1-10", "5001+"][i % 2]))
        for j in range(int(rng.integers(1, 8))):
            at = created[i] + pd.Timedelta(hours=float(rng.uniform(0, 24 * 60)))
            kind = "demo_request" if eager[i] and j == 0 else "page_view"
            events.append(_event(f"E{i}-{j}", lead_id, at, kind))
        if eager[i] and rng.random() < 0.8:
            conversions.append(
                {"lead_id": lead_id, "converted_at": created[i] + pd.Timedelta(days=20)}
            )
    _write(tmp_path, leads, events, conversions)
    scores = peer.peer_scores(tmp_path, "2025-01-15", 30, num_boost_round=20)  # fast
    assert scores["lead_id"].is_unique
    assert scores["probability"].between(0, 1).all()
    info = scores.attrs["peer"]
    assert info["fit_positives"] > 0 and info["valid_snapshots"] > 0
    # every lead created by D and without a conversion by D is scored
    firsts = {c["lead_id"]: c["converted_at"] for c in conversions}
    d = pd.Timestamp("2025-01-15")
    expected = {
        row["lead_id"]
        for row in leads
        if row["created_at"] <= d and not (row["lead_id"] in firsts and firsts[row["lead_id"]] <= d)
    }
    assert set(scores["lead_id"]) == expected
