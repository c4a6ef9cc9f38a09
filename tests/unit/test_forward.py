"""The forward-in-time check: outcomes in (D, D + H], its metrics, reading raw conversions."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from lead_scoring.forward import (
    FORWARD_METRIC_KEYS,
    forward_metrics,
    forward_outcomes,
    read_raw_conversions,
)

D = pd.Timestamp("2025-05-01")
H = 30


def _scored(*lead_ids: str) -> pd.DataFrame:
    return pd.DataFrame({"lead_id": list(lead_ids), "conversion_probability": 0.1})


def _conversions(rows: list[tuple[str | None, str | None]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lead_id": [r[0] for r in rows],
            "converted_at": pd.to_datetime([r[1] for r in rows], format="ISO8601"),
        }
    )


def test_outcomes_window_bounds_are_open_at_d_and_closed_at_d_plus_h():
    scored = _scored("in", "at_end", "after_end", "never", "just_after_d")
    conversions = _conversions(
        [
            ("in", "2025-05-10 12:00"),
            ("at_end", "2025-05-31 00:00"),  # exactly D + 30 days: counts
            ("after_end", "2025-05-31 00:00:01"),
            ("just_after_d", "2025-05-01 00:00:01"),
        ]
    )
    y = forward_outcomes(scored, conversions, D, H)
    assert y.tolist() == [1, 1, 0, 0, 1]
    assert y.dtype == np.int64


def test_conversion_exactly_at_d_means_the_lead_was_not_open():
    conversions = _conversions([("a", "2025-05-01 00:00")])
    with pytest.raises(ValueError, match=r"1 scored lead\(s\).*at or before.*a \("):
        forward_outcomes(_scored("a", "b"), conversions, D, H)


def test_lead_converted_before_d_is_an_error():
    conversions = _conversions([("b", "2025-03-01"), ("b", "2025-05-10")])
    with pytest.raises(ValueError, match="should not be in scored_leads"):
        forward_outcomes(_scored("a", "b"), conversions, "2025-05-01", H)


def test_only_the_first_conversion_counts_and_repeats_collapse():
    scored = _scored("repeat_in", "first_after_horizon", "dup")
    conversions = _conversions(
        [
            # listed out of order: the first (2025-05-03) is in the horizon
            ("repeat_in", "2025-07-01"),
            ("repeat_in", "2025-05-03"),
            # first conversion after the horizon: a later repeat cannot make it count
            ("first_after_horizon", "2025-06-15"),
            ("first_after_horizon", "2025-08-01"),
            ("dup", "2025-05-20"),
            ("dup", "2025-05-20"),
        ]
    )
    assert forward_outcomes(scored, conversions, D, H).tolist() == [1, 0, 1]


def test_unknown_leads_and_null_rows_are_ignored_and_order_follows_scored():
    scored = _scored("c", "a", "b")
    conversions = _conversions(
        [
            ("zzz-unknown", "2025-05-02"),
            ("old-unknown", "2024-01-01"),  # converted before D, but not scored: fine
            (None, "2025-05-02"),
            ("a", None),
            ("b", "2025-05-05"),
        ]
    )
    assert forward_outcomes(scored, conversions, D, H).tolist() == [0, 0, 1]


def test_empty_inputs():
    assert forward_outcomes(_scored(), _conversions([]), D, H).tolist() == []
    assert forward_outcomes(_scored("a"), _conversions([]), D, H).tolist() == [0]


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="one row per lead"):
        forward_outcomes(_scored("a", "a"), _conversions([]), D, H)
    with pytest.raises(ValueError, match="horizon_days"):
        forward_outcomes(_scored("a"), _conversions([]), D, 0)
    with pytest.raises(ValueError, match="lead_id"):
        forward_outcomes(pd.DataFrame({"x": [1]}), _conversions([]), D, H)


def test_timezone_aware_conversions_compare_in_utc():
    conversions = pd.DataFrame(
        {
            "lead_id": ["a", "b"],
            # 2025-05-01 01:00 in UTC+02:00 is 2025-04-30 23:00 UTC: before D
            "converted_at": pd.to_datetime(
                ["2025-05-01 01:00+02:00", "2025-05-31 01:00+02:00"], utc=True
            ),
        }
    )
    with pytest.raises(ValueError, match="a \\("):
        forward_outcomes(_scored("a"), conversions, D, H)
    assert forward_outcomes(_scored("b"), conversions, D, H).tolist() == [1]


def test_metrics_match_sklearn_on_random_data():
    rng = np.random.default_rng(3)
    n = 5_000
    p = rng.beta(1.2, 8.0, size=n)
    y = (rng.random(n) < np.clip(p * 1.3, 0, 1)).astype(int)
    m = forward_metrics(y, p)
    assert tuple(m) == FORWARD_METRIC_KEYS
    assert m["n_leads"] == n
    assert m["n_converted"] == y.sum()
    assert m["realized_rate"] == pytest.approx(y.mean())
    assert m["mean_probability"] == pytest.approx(p.mean())
    assert m["observed_to_expected"] == pytest.approx(y.sum() / p.sum())
    assert m["auc"] == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert m["pr_auc"] == pytest.approx(average_precision_score(y, p), abs=1e-12)
    assert m["brier"] == pytest.approx(brier_score_loss(y, p), abs=1e-12)
    # equal-mass ECE by hand: 10 bins by rank of p, weighted |mean p - mean y|
    order = np.argsort(p, kind="stable")
    ece = sum(
        len(b) / n * abs(p[b].mean() - y[b].mean()) for b in np.array_split(order, 10)
    )
    assert m["ece_equal_mass"] == pytest.approx(ece, abs=1e-12)
    top = np.argsort(-p, kind="stable")[: n // 10]
    assert m["lift_top_decile"] == pytest.approx(y[top].mean() / y.mean())


def test_metrics_with_ties_match_sklearn():
    rng = np.random.default_rng(5)
    p = rng.choice([0.02, 0.05, 0.1, 0.4], size=2_000)
    y = (rng.random(2_000) < p).astype(int)
    m = forward_metrics(y, p)
    assert m["auc"] == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert m["pr_auc"] == pytest.approx(average_precision_score(y, p), abs=1e-12)


def test_metrics_undefined_cases_are_nan_not_errors():
    m = forward_metrics([0, 0, 0], [0.1, 0.2, 0.3])
    assert m["n_converted"] == 0 and m["realized_rate"] == 0
    assert math.isnan(m["auc"]) and math.isnan(m["pr_auc"])
    assert m["observed_to_expected"] == 0
    empty = forward_metrics([], [])
    assert empty["n_leads"] == 0
    assert all(math.isnan(empty[k]) for k in ("auc", "brier", "realized_rate"))
    with pytest.raises(ValueError, match="missing"):
        forward_metrics([0, 1], [0.1, float("nan")])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        forward_metrics([0, 1], [0.1, 1.5])
    with pytest.raises(ValueError, match="differ"):
        forward_metrics([0, 1], [0.1])


def _write_raw(folder, fmt: str) -> None:
    leads = pd.DataFrame(
        {
            "lead_id": ["a", "b", "b", "c"],
            # b has an older duplicate row and a newer one; the latest version wins
            "created_at": pd.to_datetime(
                ["2025-01-01", "2025-01-01", "2025-03-01", "2025-06-10"]
            ),
        }
    )
    conversions = pd.DataFrame(
        {
            "lead_id": [" a ", "a", "b", "", None, "zzz", "c", "a"],
            "converted_at": [
                "2025-05-10 08:00:00",
                "2025-06-01 00:00:00",
                "2025-02-01 00:00:00",  # before b's (latest) creation: dropped as staging does
                "2025-05-10 00:00:00",
                "2025-05-10 00:00:00",
                "2025-05-11 00:00:00",  # unknown lead: kept
                "2025-06-01 00:00:00",
                "not a date",
            ],
            "conversion_type": "opportunity",
        }
    )
    folder.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        leads.to_parquet(folder / "leads.parquet")
        conversions.to_parquet(folder / "conversions.parquet")
    else:
        leads.to_csv(folder / "leads.csv", index=False)
        conversions.to_csv(folder / "conversions.csv", index=False)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_read_raw_conversions(tmp_path, fmt):
    _write_raw(tmp_path, fmt)
    frame = read_raw_conversions(tmp_path).sort_values(["lead_id", "converted_at"])
    assert list(frame.columns) == ["lead_id", "converted_at"]
    rows = [(r.lead_id, str(r.converted_at)) for r in frame.itertuples()]
    # c converts before its creation (2025-06-10)? no: 06-01 < 06-10, so it is dropped too
    assert rows == [
        ("a", "2025-05-10 08:00:00"),
        ("a", "2025-06-01 00:00:00"),
        ("zzz", "2025-05-11 00:00:00"),
    ]
    # as of 2025-02-15, b's version is the 2025-01-01 row (the newer one did not exist yet), and
    # c did not exist: their conversions are kept
    as_of = read_raw_conversions(tmp_path, as_of="2025-02-15")
    assert set(as_of["lead_id"]) == {"a", "b", "c", "zzz"}
    everything = read_raw_conversions(tmp_path, drop_before_created=False)
    assert len(everything) == 5
    y = forward_outcomes(_scored("a", "b"), frame, "2025-05-01", 30)
    assert y.tolist() == [1, 0]


def test_read_raw_conversions_without_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="conversions"):
        read_raw_conversions(tmp_path)
