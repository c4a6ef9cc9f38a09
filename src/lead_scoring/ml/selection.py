"""Which procedure goes to production: chosen by rolling-origin cross-validation, or the default.

:func:`plan_history` lays the rolling-origin folds over the labeled history (:mod:`.cv`).
When it has folds, :func:`cross_validate` runs every candidate of the grid on every fold
(:class:`~.validation.CrossValidation`), keeps the candidate, round count and blend with the
lowest pooled log loss, fits the production calibrator on the out-of-fold predictions of every
fold and evaluates the test fold (:mod:`.holdout`). When no fold can validate,
:func:`default_procedure` takes the most conservative candidate for the default rounds, to be
calibrated in sample (:func:`~.production.calibrate_in_sample`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
import xgboost as xgb

from lead_scoring.ml.calibration import CalibrationResult, calibrate
from lead_scoring.ml.cv import FoldPlan, plan_folds
from lead_scoring.ml.dataset import FeatureSpec
from lead_scoring.ml.evaluation import candidate_rows, cv_metrics
from lead_scoring.ml.holdout import TestFold, TestRows, evaluate_test_fold
from lead_scoring.ml.linear import LinearModel
from lead_scoring.ml.models import native_params
from lead_scoring.ml.tuning import Candidate, choose, default_rounds, size_class
from lead_scoring.ml.validation import CrossValidation, LabeledHistory

logger = logging.getLogger(__name__)

__all__ = ["Procedure", "Selection", "cross_validate", "default_procedure", "plan_history"]


@dataclass
class Procedure:
    """The chosen candidate, its native parameters, round count and the booster's share of the
    blend; ``reference`` (the quantile bins) and ``linear_init`` (the regression's warm start)
    come from the newest cross-validation fold when there is one."""

    candidate: Candidate
    params: dict[str, Any]
    rounds: int
    blend: float
    reference: xgb.DMatrix | None = None
    linear_init: LinearModel | None = None


@dataclass
class Selection:
    """The outcome of validation: the procedure to refit, the production calibration when the
    folds gave one (and its ``calibration_source``), the test fold, the metric rows so far and
    the validation entries."""

    procedure: Procedure
    calibration: CalibrationResult | None
    calibration_source: str
    test: TestFold | None
    metrics: list[pd.DataFrame]
    validation: dict[str, Any]


def plan_history(history: LabeledHistory) -> FoldPlan:
    """The rolling-origin folds of the labeled history (:func:`~.cv.plan_folds`)."""
    cfg, known = history.cfg, history.known
    return plan_folds(
        history.times[known],
        history.y[known],
        history.lead_codes[known],
        cfg.horizon_days,
        cfg.cv_folds,
        cfg.cv_valid_share,
        cfg.cv_min_train_positives,
        cfg.cv_min_valid_positives,
    )


def cross_validate(
    history: LabeledHistory,
    X: pd.DataFrame,
    T: pd.DataFrame,
    spec: FeatureSpec,
    plan: FoldPlan,
    candidates: list[Candidate],
    rules: pd.DataFrame | list[Mapping] | None,
    test_frame: TestRows,
    stage: Callable[[str], None],
) -> Selection:
    """Every candidate on every fold; the candidate, rounds and blend with the lowest pooled
    log loss; the production calibrator on the out-of-fold predictions of every fold, the newest
    included; the cross-validated metrics and the test fold. ``X``: the prepared matrix, ``T``:
    the boosters' input; ``stage`` logs the time of each step."""
    cfg = history.cfg
    params = [native_params(cfg.xgb_params, c.params, cfg.seed, cfg.nthread) for c in candidates]
    linear = (X, spec) if cfg.blend_weights else None
    race = len(candidates) > 1 and size_class(history.n_positive_leads()) == "large"
    cv = CrossValidation(history, T, plan, candidates, params, linear).fit(race)
    chosen, rounds, cv_loss = choose(cv.curves())
    all_folds = list(range(len(cv.runs)))
    blend, blend_losses = cv.choose_blend(chosen, rounds, all_folds, cfg.blend_weights)
    metrics = candidate_rows(cv, chosen, blend_losses, blend)
    m_oof, y_oof, w_oof, _ = cv.out_of_fold(chosen, rounds, all_folds, history.labeled_end, blend)
    cal = calibrate(m_oof, y_oof, w_oof, cfg)
    stage("cross-validation")
    metrics += cv_metrics(cv, chosen, rounds, blend, cfg)
    test = evaluate_test_fold(cv, X, spec, rules, test_frame, cfg)
    stage("test fold")
    metrics += test.metrics
    validation = {
        "method": "rolling_origin_cv",
        "n_folds": len(plan.folds),
        "chosen_candidate": candidates[chosen].name,
        "test_candidate": candidates[test.candidate].name,
        "test_rounds": int(test.rounds),
        "test_blend_weight": test.blend,
        "test_calibration": test.calibration,
        "cv_log_loss": cv_loss,
    }
    procedure = Procedure(
        candidates[chosen], params[chosen], rounds, blend, cv.reference, cv.last_linear
    )
    return Selection(procedure, cal, "oof", test, metrics, validation)


def default_procedure(
    history: LabeledHistory, plan: FoldPlan, candidates: list[Candidate]
) -> Selection:
    """No fold can validate: the most conservative shape, the default rounds, and labels that
    count half after one horizon (a history too short to validate is one whose conversions are
    recent: the market or the sales team changed, or the funnel just began)."""
    cfg = history.cfg
    candidate = Candidate(params=dict(candidates[0].params), half_life_days=float(cfg.horizon_days))
    params = native_params(cfg.xgb_params, candidate.params, cfg.seed, cfg.nthread)
    eta = float(params["eta"])
    rounds = default_rounds(history.n_positive_leads(), eta, cfg.num_boost_round)
    reason = "; ".join(f"{f.name}: {f.dropped_reason}" for f in plan.dropped)
    validation = {
        "method": "none",
        "n_folds": 0,
        "chosen_candidate": candidate.name,
        "reason": reason or "no labeled history to form a fold",
    }
    logger.warning(
        "ml: no rolling-origin fold can be formed (%s); training %s for %d rounds "
        "without a validation",
        validation["reason"],
        candidate.name,
        rounds,
    )
    procedure = Procedure(candidate, params, rounds, 1.0)
    return Selection(procedure, None, "in_sample_recent", None, [], validation)
