from __future__ import annotations

import numpy as np
import pytest

from lead_scoring.ml.calibration import (
    IsotonicCalibrator,
    PlattCalibrator,
    calibrator_from_json,
    fit_calibrators,
    fit_isotonic,
    fit_platt,
)
from lead_scoring.ml.metrics import EPS, log_loss


def _miscalibrated(n=4000, seed=0):
    rng = np.random.default_rng(seed)
    true_logit = rng.normal(-2.2, 1.2, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-true_logit))).astype(int)
    margin = 2.0 * true_logit + 1.5  # overconfident and shifted
    return margin, y


def test_platt_recovers_the_linear_distortion():
    margin, y = _miscalibrated()
    platt = fit_platt(margin, y)
    assert platt.slope == pytest.approx(0.5, abs=0.08)
    assert platt.intercept == pytest.approx(-0.75, abs=0.25)
    raw = 1 / (1 + np.exp(-margin))
    assert log_loss(y, platt.predict(margin)) < log_loss(y, raw) - 0.03


def test_isotonic_flat_ends_are_clipped():
    margin = np.array([-3.0, -2.0, -1.0, 1.0, 2.0, 3.0])
    y = np.array([0, 0, 0, 1, 1, 1])
    iso = fit_isotonic(margin, y)
    p = iso.predict(np.array([-10.0, -3.0, 3.0, 10.0]))
    assert p.tolist() == [EPS, EPS, 1 - EPS, 1 - EPS]
    assert np.isfinite(log_loss([1, 0], iso.predict(np.array([-3.0, 3.0]))))
    assert np.all(np.diff(iso.predict(np.linspace(-5, 5, 50))) >= 0)


def test_fit_calibrators_reports_both_and_chooses_by_cv():
    margin, y = _miscalibrated()
    res = fit_calibrators(margin, y, selection="cv", n_folds=5)
    t = res.table.set_index("method")
    assert set(t.index) == {"platt", "isotonic"}
    assert t["log_loss_cv"].notna().all()
    # PAV is the in-sample maximum-likelihood monotone map: never worse in-sample
    assert t.loc["isotonic", "log_loss_in_sample"] <= t.loc["platt", "log_loss_in_sample"] + 1e-9
    assert res.chosen == t["log_loss_cv"].idxmin()
    literal = fit_calibrators(margin, y, selection="in_sample")
    assert literal.chosen == "isotonic"
    with pytest.raises(ValueError, match="both classes"):
        fit_calibrators(margin, np.zeros_like(y))


def test_calibrators_round_trip_json():
    margin, y = _miscalibrated(500)
    for cal in (fit_platt(margin, y), fit_isotonic(margin, y)):
        back = calibrator_from_json(cal.to_json())
        assert type(back) in (PlattCalibrator, IsotonicCalibrator)
        np.testing.assert_array_equal(back.predict(margin), cal.predict(margin))


def test_weighted_calibration_equals_repeated_rows():
    """Calibrating on a sample of negatives with weights 1 / rate gives the calibrator of all the
    rows (what out-of-fold predictions of a sampled history are calibrated on)."""
    import numpy as np

    from lead_scoring.ml.calibration import fit_isotonic, fit_platt

    rng = np.random.default_rng(0)
    margin = rng.normal(-3, 1.2, 40_000)
    y = (rng.random(margin.size) < 1 / (1 + np.exp(-(0.8 * margin + 0.3)))).astype(int)
    full = fit_platt(margin, y)
    keep = (y == 1) | (rng.random(margin.size) < 0.25)
    weight = np.where(y[keep] == 1, 1.0, 4.0)
    sampled = fit_platt(margin[keep], y[keep], weight)
    unweighted = fit_platt(margin[keep], y[keep])
    assert sampled.slope == pytest.approx(full.slope, rel=0.08)
    assert sampled.intercept == pytest.approx(full.intercept, abs=0.12)
    assert unweighted.intercept > full.intercept + 1.0  # without weights: far too optimistic
    iso = fit_isotonic(margin[keep], y[keep], weight)
    grid = np.linspace(-5, -1, 9)
    assert np.abs(iso.predict(grid) - full.predict(grid)).max() < 0.03


def test_platt_is_the_weighted_maximum_likelihood_fit():
    """The Newton solve gives sklearn's (unpenalised) weighted logistic fit of y on the margin."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(8)
    m = rng.normal(-3.0, 1.5, 20_000)
    y = (rng.random(m.size) < 1 / (1 + np.exp(-(0.7 * m + 0.4)))).astype(int)
    w = rng.uniform(0.5, 4.0, m.size)
    c = fit_platt(m, y, w)
    lr = LogisticRegression(C=1e8, tol=1e-10, max_iter=10_000)
    lr.fit(m.reshape(-1, 1), y, sample_weight=w)
    assert c.slope == pytest.approx(lr.coef_[0, 0], abs=1e-4)
    assert c.intercept == pytest.approx(lr.intercept_[0], abs=1e-4)
    assert abs(c.slope - 0.7) < 0.05 and abs(c.intercept - 0.4) < 0.15
