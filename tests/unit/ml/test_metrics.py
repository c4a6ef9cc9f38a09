from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from lead_scoring.ml.metrics import (
    average_precision,
    binary_metrics,
    brier_score,
    calibration_bins,
    confusion_at_f1_threshold,
    expected_calibration_error,
    lift_by_decile,
    log_loss,
    metrics_long,
    roc_auc,
    segment_metrics,
    top_fraction_stats,
)


def test_auc_hand_values():
    assert roc_auc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert roc_auc([1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9]) == 0.0
    assert roc_auc([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]) == 0.5
    assert math.isnan(roc_auc([1, 1], [0.2, 0.3]))
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    p = np.round(rng.random(500), 1)  # many ties
    assert roc_auc(y, p) == pytest.approx(roc_auc_score(y, p))
    assert average_precision(y, p) == pytest.approx(average_precision_score(y, p))


def test_log_loss_brier_and_clipping():
    assert brier_score([0, 1, 0, 1], [0.5] * 4) == 0.25
    assert brier_score([0, 0, 0, 1], [0.25] * 4) == pytest.approx(0.1875)
    assert log_loss([0, 1], [0.5, 0.5]) == pytest.approx(math.log(2))
    assert log_loss([1], [0.0]) == pytest.approx(-math.log(1e-6))  # clipped, finite


def test_lift_and_precision_at_top():
    y = np.array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0])
    p = np.linspace(1, 0.1, 10)
    top = top_fraction_stats(y, p, 0.1)  # the single top row is a converter
    assert top == {"precision": 1.0, "recall": 0.5, "lift": 5.0}
    top20 = top_fraction_stats(y, p, 0.2)
    assert top20["lift"] == pytest.approx(2.5)


def test_ece_perfect_and_miscalibrated():
    y = [0, 0, 0, 1, 1, 1, 1, 0]
    p = [0.25, 0.25, 0.25, 0.25, 0.75, 0.75, 0.75, 0.75]
    assert expected_calibration_error(y, p) == pytest.approx(0.0)
    assert expected_calibration_error([0, 0, 1, 1], [0.9, 0.9, 0.9, 0.9]) == pytest.approx(0.4)
    bins = calibration_bins(y, p, n_bins=4)
    assert bins["count"].tolist() == [0, 4, 0, 4]
    assert bins.loc[1, "observed_rate"] == 0.25 and bins.loc[3, "mean_predicted"] == 0.75
    q = calibration_bins(y, p, n_bins=2, strategy="quantile")
    assert q["count"].tolist() == [4, 4]


def test_binary_metrics_and_long_format():
    y = [0, 0, 1, 1]
    p = [0.1, 0.2, 0.8, 0.9]
    m = binary_metrics(y, p)
    assert m["auc"] == 1.0 and m["pr_auc"] == 1.0
    assert m["n_rows"] == 4 and m["n_positives"] == 2 and m["positive_rate"] == 0.5
    assert m["lift_at_10"] == 2.0 and m["recall_at_10"] == 0.5 and m["recall_at_30"] == 1.0
    long = metrics_long("m", "test", y, p)
    assert list(long.columns) == ["model_name", "split", "metric", "value"]
    assert len(long) == len(m) and set(long["metric"]) == set(m)


def test_lift_by_decile():
    y = np.r_[np.ones(10), np.zeros(90)]
    p = np.linspace(1, 0, 100)
    t = lift_by_decile(y, p)
    assert t["decile"].tolist() == list(range(1, 11))
    assert t["n_rows"].tolist() == [10] * 10
    assert t.loc[0, "lift"] == 10.0 and t.loc[0, "conversion_rate"] == 1.0
    assert t["cumulative_recall"].iloc[0] == 1.0 and t["cumulative_recall"].iloc[-1] == 1.0
    assert t["cumulative_lift"].iloc[-1] == pytest.approx(1.0)
    assert (t["min_probability"].diff().dropna() < 0).all()


def test_confusion_at_f1_threshold():
    y = [1, 1, 0, 1, 0, 0]
    p = [0.9, 0.8, 0.7, 0.6, 0.2, 0.1]
    c = confusion_at_f1_threshold(y, p)
    # threshold 0.6: tp 3, fp 1 -> f1 = 6/7 (best)
    assert c["threshold"] == 0.6
    assert (c["tp"], c["fp"], c["tn"], c["fn"]) == (3, 1, 2, 0)
    assert c["f1"] == pytest.approx(6 / 7) and c["precision"] == 0.75 and c["recall"] == 1.0


def test_segment_metrics_flags_miscalibrated_segment():
    rng = np.random.default_rng(1)
    n = 2000
    seg = np.where(np.arange(n) < 1000, "good", "bad")
    p = rng.uniform(0.05, 0.5, n)
    y = (rng.random(n) < p).astype(int)
    p_pred = np.where(seg == "bad", np.clip(p + 0.2, 0, 1), p)  # over-predicts 'bad'
    df = pd.DataFrame({"seg": seg, "tiny": np.where(np.arange(n) < 5, "x", None)})
    out = segment_metrics(df, y, p_pred, ["seg", "tiny"], min_rows=100, gap_threshold=0.05)
    by = out.set_index("segment_value")
    assert bool(by.loc["bad", "is_flagged"]) and by.loc["bad", "flag_reason"] == "calibration"
    assert not bool(by.loc["good", "is_flagged"])
    assert by.loc["bad", "calibration_gap"] == pytest.approx(0.2, abs=0.03)
    assert "x" not in by.index and "(missing)" in by.index  # tiny segment below min_rows


def test_segment_auc_gap_needs_enough_positives_to_be_flagged():
    """A segment that ranks badly is flagged with enough conversions, not on a handful."""
    rng = np.random.default_rng(2)
    n = 4000
    seg = np.where(np.arange(n) < 2000, "good", "bad")
    y = (rng.random(n) < 0.1).astype(int)
    p = np.where(seg == "good", y * 0.5 + rng.random(n), rng.random(n))  # 'bad': random ranks
    df = pd.DataFrame({"seg": seg})
    flagged = segment_metrics(df, y, p, ["seg"], gap_threshold=1.0, min_positives=30)
    assert flagged.set_index("segment_value").loc["bad", "flag_reason"] == "auc"
    too_few = segment_metrics(df, y, p, ["seg"], gap_threshold=1.0, min_positives=500)
    assert not too_few["is_flagged"].any()


# ---- paired_auc_margin -------------------------------------------------------------------


def _two_models(n: int, gap: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.1).astype(int)
    better = y * (0.5 + gap) + rng.random(n)
    worse = y * 0.5 + rng.random(n)
    return y, better, worse


def test_paired_auc_margin_is_the_auc_difference_with_an_interval_around_it() -> None:
    from lead_scoring.ml.metrics import paired_auc_margin

    y, a, b = _two_models(4000, 0.3)
    groups = np.arange(len(y))
    m = paired_auc_margin(y, a, b, groups, n_boot=200, seed=1)
    assert m["margin"] == pytest.approx(roc_auc(y, a) - roc_auc(y, b))
    assert m["ci_low"] < m["margin"] < m["ci_high"]
    assert m["ci_low"] > 0  # clearly better
    assert m["p_not_better"] == 0.0


def test_paired_auc_margin_interval_covers_zero_for_equal_models() -> None:
    from lead_scoring.ml.metrics import paired_auc_margin

    rng = np.random.default_rng(3)
    y = (rng.random(3000) < 0.1).astype(int)
    a = y * 0.5 + rng.random(3000)
    b = y * 0.5 + rng.random(3000)
    m = paired_auc_margin(y, a, b, np.arange(3000), n_boot=200, seed=2)
    assert m["ci_low"] < 0 < m["ci_high"]


def test_paired_auc_margin_resamples_leads_not_rows() -> None:
    """Ten identical snapshots per lead carry no more evidence than one: the cluster bootstrap
    interval stays as wide as for one row per lead, a row bootstrap would shrink it ~sqrt(10)x."""
    from lead_scoring.ml.metrics import paired_auc_margin

    y, a, b = _two_models(800, 0.1, seed=5)
    one = paired_auc_margin(y, a, b, np.arange(800), n_boot=300, seed=4)
    rep = np.repeat(np.arange(800), 10)
    clustered = paired_auc_margin(y[rep], a[rep], b[rep], rep, n_boot=300, seed=4)
    as_rows = paired_auc_margin(y[rep], a[rep], b[rep], np.arange(8000), n_boot=300, seed=4)
    width = lambda m: m["ci_high"] - m["ci_low"]  # noqa: E731
    assert clustered["margin"] == pytest.approx(one["margin"])
    assert width(clustered) == pytest.approx(width(one), rel=0.35)
    assert width(as_rows) < 0.6 * width(clustered)


def test_paired_auc_margin_handles_ties_like_the_exact_auc() -> None:
    from lead_scoring.ml.metrics import _grouped_weighted_auc

    rng = np.random.default_rng(0)
    y = (rng.random(5000) < 0.2).astype(int)
    p = np.round(y * 0.3 + rng.random(5000), 1)  # heavy ties
    order = np.argsort(p, kind="mergesort")
    sp = p[order]
    starts = np.flatnonzero(np.r_[True, sp[1:] != sp[:-1]])
    ones = np.ones((1, len(p)), dtype=np.float32)
    got = _grouped_weighted_auc(y[order].astype(np.float32), starts, ones)[0]
    assert got == pytest.approx(roc_auc(y, p), abs=1e-9)


def test_weighted_metrics_equal_the_repeated_rows():
    """A row of weight 3 counts as three rows: integer weights equal repetition (AUC, PR-AUC,
    log loss, Brier, equal-mass ECE, observed / expected, top-fraction lift)."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    from lead_scoring.ml.metrics import (
        average_precision,
        binary_metrics,
        brier_score,
        ece_equal_mass,
        log_loss,
        observed_to_expected,
        roc_auc,
    )

    rng = np.random.default_rng(5)
    p = np.round(rng.uniform(0, 0.4, 3000), 3)
    y = (rng.random(3000) < p).astype(int)
    w = rng.integers(1, 4, 3000).astype(float)
    rep = np.repeat(np.arange(3000), w.astype(int))
    assert roc_auc(y, p, w) == pytest.approx(roc_auc(y[rep], p[rep]), abs=1e-12)
    assert roc_auc(y, p, w) == pytest.approx(roc_auc_score(y, p, sample_weight=w))
    assert average_precision(y, p, w) == pytest.approx(
        average_precision_score(y, p, sample_weight=w)
    )
    assert log_loss(y, p, weight=w) == pytest.approx(log_loss(y[rep], p[rep]))
    assert brier_score(y, p, w) == pytest.approx(brier_score(y[rep], p[rep]))
    assert observed_to_expected(y, p, weight=w) == pytest.approx(
        observed_to_expected(y[rep], p[rep])
    )
    assert ece_equal_mass(y, p, 10, w) == pytest.approx(ece_equal_mass(y[rep], p[rep]), abs=2e-3)
    m, m_rep = binary_metrics(y, p, weight=w), binary_metrics(y[rep], p[rep])
    for key in ("auc", "pr_auc", "log_loss", "brier", "positive_rate", "mean_predicted"):
        assert m[key] == pytest.approx(m_rep[key]), key
    assert m["lift_at_10"] == pytest.approx(m_rep["lift_at_10"], rel=0.03)


def test_weighted_tables_equal_the_repeated_rows():
    """The test-fold tables of a weighted sample (reliability bins, gains, confusion at the best
    F1, segments, the paired AUC margin) equal those of the rows repeated by their weights."""
    from lead_scoring.ml.metrics import paired_auc_margin

    rng = np.random.default_rng(11)
    n = 2000
    p = np.round(rng.uniform(0, 0.5, n), 4)
    y = (rng.random(n) < p).astype(int)
    w = rng.integers(1, 5, n).astype(float)
    rep = np.repeat(np.arange(n), w.astype(int))
    bins, bins_rep = calibration_bins(y, p, 10, weight=w), calibration_bins(y[rep], p[rep], 10)
    pd.testing.assert_frame_equal(bins, bins_rep)
    lift, lift_rep = lift_by_decile(y, p, weight=w), lift_by_decile(y[rep], p[rep])
    pd.testing.assert_frame_equal(
        lift[["n_rows", "n_positives"]].sum().to_frame(),
        lift_rep[["n_rows", "n_positives"]].sum().to_frame(),
    )
    assert lift["cumulative_recall"].iloc[-1] == pytest.approx(1.0)
    assert lift["lift"].iloc[0] == pytest.approx(lift_rep["lift"].iloc[0], rel=0.05)
    assert confusion_at_f1_threshold(y, p, w) == pytest.approx(
        confusion_at_f1_threshold(y[rep], p[rep])
    )
    frame = pd.DataFrame({"seg": np.where(rng.random(n) < 0.5, "a", "b")})
    seg = segment_metrics(frame, y, p, ["seg"], min_rows=10, weight=w)
    seg_rep = segment_metrics(frame.iloc[rep].reset_index(drop=True), y[rep], p[rep], ["seg"], 10)
    for column in ("n_rows", "n_positives", "positive_rate", "mean_predicted", "auc"):
        np.testing.assert_allclose(seg[column], seg_rep[column], rtol=1e-9, err_msg=column)
    q = np.clip(p + rng.normal(0, 0.1, n), 0, 1)
    leads = np.arange(n)
    margin = paired_auc_margin(y, p, q, leads, n_boot=0, weight=w)["margin"]
    assert margin == pytest.approx(roc_auc(y[rep], p[rep]) - roc_auc(y[rep], q[rep]))


def test_a_weighted_sample_of_negatives_estimates_the_full_tables():
    """Non-converting rows kept at 20 % with weight 5 estimate the full table's counts."""
    rng = np.random.default_rng(3)
    n = 200_000
    p = rng.beta(0.5, 30, n)
    y = (rng.random(n) < p).astype(int)
    keep = (y == 1) | (rng.random(n) < 0.2)
    w = np.where(y[keep] == 1, 1.0, 5.0)
    full = calibration_bins(y, p, 10, "quantile")
    sample = calibration_bins(y[keep], p[keep], 10, "quantile", weight=w)
    np.testing.assert_allclose(sample["count"], full["count"], rtol=0.03)
    np.testing.assert_allclose(sample["observed_rate"], full["observed_rate"], rtol=0.12)


def test_equal_mass_ece_sees_miscalibration_at_a_low_base_rate():
    """At a 2 % base rate every probability lies in the first equal-width bin, where
    over-predicting the best leads threefold barely moves the equal-width ECE; the equal-mass
    ECE and the top decile's observed / expected show it."""
    from lead_scoring.ml.metrics import (
        ece_equal_mass,
        expected_calibration_error,
        observed_to_expected,
    )

    rng = np.random.default_rng(0)
    true = rng.beta(0.5, 25, 200_000)  # mean ~2 %
    y = (rng.random(true.size) < true).astype(int)
    skewed = np.where(true > np.quantile(true, 0.9), 3 * true, true)
    assert expected_calibration_error(y, true) < 0.003 and ece_equal_mass(y, true) < 0.003
    assert ece_equal_mass(y, skewed) > 3 * ece_equal_mass(y, true)
    deciles = observed_to_expected(y, skewed, 10)
    assert deciles[0] < 0.45  # the top decile converts at a third of what it was told
    assert np.all(np.abs(deciles[1:9] - 1) < 0.15)  # the lowest decile expects ~2: noise
    assert observed_to_expected(y, true) == pytest.approx(1.0, abs=0.03)
