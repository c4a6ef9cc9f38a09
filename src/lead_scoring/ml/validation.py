"""The labeled history of a training run and its rolling-origin cross-validation.

:class:`LabeledHistory` holds what every step reads: the rows, their times, leads, sampling
weights and main-horizon labels, in a canonical order that does not depend on how a parallel
warehouse scan delivered them.

:class:`CrossValidation` trains every tuning candidate on every fold of a :class:`~.cv.FoldPlan`
(each fold's training rows capped at ``cv_max_train_rows`` and its validation rows at
``cv_max_valid_rows`` by sampling negatives, re-weighted), records each fold's validation curve,
and gives the out-of-fold margins of a candidate at a round count. A fold that stopped early
(``early_stopping_rounds`` without improvement) before the round count asked for is retrained to
exactly that count on its training rows only: stopping early looked at the fold's validation
labels, so using its shorter model would let the test fold's own outcomes shape the test model.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb

from lead_scoring.ml.config import MLConfig
from lead_scoring.ml.cv import Fold, FoldPlan
from lead_scoring.ml.dataset import (
    SAMPLE_WEIGHT_COLUMN,
    FeatureSpec,
    canonical_row_order,
    downsample_negatives,
    horizon_labels,
    times_ns,
)
from lead_scoring.ml.linear import LinearModel, fit_linear
from lead_scoring.ml.metrics import log_loss
from lead_scoring.ml.models import FittedBooster, fit_booster, make_dmatrix, predict_margin
from lead_scoring.ml.tuning import Candidate, FoldCurve, recency_weights

__all__ = ["CrossValidation", "LabeledHistory", "positive_leads"]


def positive_leads(lead_codes: np.ndarray, y: np.ndarray, mask: np.ndarray) -> int:
    """Distinct converted leads among the rows of ``mask``."""
    return int(np.unique(lead_codes[mask & (y == 1)]).size)


class LabeledHistory:
    """The rows of a training run: times, lead codes, sampling weights, main-horizon labels."""

    def __init__(self, df: pd.DataFrame, cfg: MLConfig, scoring_at: pd.Timestamp) -> None:
        self.df = df
        self.cfg = cfg
        self.scoring_at = scoring_at
        self.times = times_ns(df)
        self.lead_codes, _ = pd.factorize(df["lead_id"], sort=True)
        self.sample_weight = (
            df[SAMPLE_WEIGHT_COLUMN].to_numpy(dtype=np.float64, na_value=1.0)
            if SAMPLE_WEIGHT_COLUMN in df.columns
            else np.ones(len(df), dtype=np.float64)
        )
        self.known, self.y = horizon_labels(df, cfg.horizon_days, scoring_at)
        self.rank = canonical_row_order(df)

    @property
    def labeled_end(self) -> np.datetime64:
        return np.datetime64(self.times[self.known].max(), "ns")

    def n_positive_leads(self, mask: np.ndarray | None = None) -> int:
        return positive_leads(self.lead_codes, self.y, self.known if mask is None else mask)

    def ordered(self, mask: np.ndarray) -> np.ndarray:
        """Positions of ``mask`` in the canonical (snapshot_at, lead_id) order, so that samples
        and models do not depend on the order a parallel scan delivered the rows in."""
        positions = np.flatnonzero(mask)
        return positions[np.argsort(self.rank[positions], kind="stable")]

    def capped(
        self, mask: np.ndarray, max_rows: int | None, y: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Ordered positions of ``mask`` and their weights, capped at ``max_rows`` (every positive
        kept, negatives sampled and re-weighted: :func:`~.dataset.downsample_negatives`)."""
        labels = self.y if y is None else y
        positions = self.ordered(mask)
        kept, factor, _ = downsample_negatives(
            positions, labels[positions], max_rows, self.cfg.seed
        )
        return kept, self.sample_weight[kept] * factor.astype(np.float64)

    def recent_window(
        self,
        min_positive_leads: int = 30,
        known: np.ndarray | None = None,
        y: np.ndarray | None = None,
    ) -> np.ndarray:
        """The mask of the labeled rows (``known``, default the main horizon's) of the most
        recent 28 days, reaching back week by week until they hold ``min_positive_leads``
        converted leads (or the whole history)."""
        known = self.known if known is None else known
        y = self.y if y is None else y
        end = np.datetime64(self.times[known].max(), "ns")
        days = 28
        while True:
            window = known & (self.times > end - np.timedelta64(days, "D"))
            if window.sum() == known.sum():
                return window
            if positive_leads(self.lead_codes, y, window) >= min_positive_leads:
                return window
            days += 7


@dataclass
class _FoldRun:
    fold: Fold
    train: np.ndarray
    train_weight: np.ndarray
    valid: np.ndarray
    valid_weight: np.ndarray
    dtrain: xgb.DMatrix
    dvalid: xgb.DMatrix
    fits: dict[int, FittedBooster] = field(default_factory=dict)
    linear: LinearModel | None = None
    linear_margin: np.ndarray | None = None
    linear_job: Future | None = None


class CrossValidation:
    """Every candidate trained on every fold (see the module docstring). With ``linear`` (the
    prepared matrix of :func:`~.dataset.prepare_features` and its spec), each fold also fits the
    logistic regression a blend may use, on at most ``lr_max_rows`` of its training rows. The
    regressions run one after the other on a background thread (warm-started in fold order)
    while the boosters train: a regression's solver keeps one core busy, and so do the boosters
    between their parallel steps."""

    def __init__(
        self,
        history: LabeledHistory,
        X: pd.DataFrame,
        plan: FoldPlan,
        candidates: list[Candidate],
        params: list[dict[str, Any]],
        linear: tuple[pd.DataFrame, FeatureSpec] | None = None,
    ) -> None:
        self.history = history
        self.X = X
        self.plan = plan
        self.candidates = candidates
        self.params = params
        self.linear = linear
        self.runs: list[_FoldRun] = []
        self.last_linear: LinearModel | None = None  # warm start of the next fit
        self.reference: xgb.DMatrix | None = None  # the oldest fold's bins, shared by the rest
        self._margins: dict[tuple[int, int, int], np.ndarray] = {}  # booster margins on valid

    def _train_weight(self, run: _FoldRun, candidate: int) -> np.ndarray:
        cutoff = np.datetime64(run.fold.train_cutoff.as_unit("ns").to_datetime64())
        decay = recency_weights(
            self.history.times[run.train], cutoff, self.candidates[candidate].half_life_days
        )
        return run.train_weight * decay

    def fit(self, race: bool = False) -> CrossValidation:
        """Train the candidates on the folds. With ``race`` (large histories, where each fit
        costs the most), every candidate runs on one fold only -- the newest one before the test
        fold -- and the one with the lowest validation log loss there runs on the other folds:
        the test fold's choice still never sees the test fold."""
        cfg = self.history.cfg
        n = len(self.plan.folds)
        race_fold = max(n - 2, 0)
        order = [race_fold] + [k for k in range(n) if k != race_fold] if race else range(n)
        self.runs = [None] * n  # type: ignore[list-item]
        entrants = list(range(len(self.candidates)))
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="cv-linear") as linear_pool:
            for k in order:
                run = self._prepare(k, linear_pool)
                for i in entrants:
                    run.dtrain.set_weight(self._train_weight(run, i))
                    run.fits[i] = fit_booster(
                        run.dtrain,
                        self.params[i],
                        cfg.num_boost_round,
                        run.dvalid,
                        cfg.early_stopping_rounds,
                    )
                self.runs[k] = run
                if race and k == race_fold and len(entrants) > 1:
                    entrants = [min(entrants, key=lambda i: (float(np.min(run.fits[i].curve)), i))]
            for run in self.runs:
                if run.linear_job is not None:
                    run.linear, run.linear_margin = run.linear_job.result()
                    run.linear_job = None
        return self

    def _train_rows(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        h = self.history
        mask = h.known & self.plan.folds[k].train_mask(h.times)
        return h.capped(mask, h.cfg.cv_max_train_rows)

    def _train_matrix(self, train: np.ndarray, weight: np.ndarray) -> xgb.DMatrix:
        cfg = self.history.cfg
        return make_dmatrix(
            self.X.iloc[train],
            self.history.y[train],
            cfg.nthread,
            ref=self.reference,
            quantile=True,
            max_bin=int(cfg.xgb_params.get("max_bin", 256)),
            weight=weight,
        )

    def _prepare(self, k: int, pool: ThreadPoolExecutor) -> _FoldRun:
        h, cfg = self.history, self.history.cfg
        fold = self.plan.folds[k]
        if self.reference is None:
            # histogram bins from the oldest fold's training rows: every later fold (and the
            # production fit) reuses them instead of sketching its own, and none sees later data
            self.reference = self._train_matrix(*self._train_rows(0))
        train, train_w = self._train_rows(k)
        valid, valid_w = h.capped(h.known & fold.valid_mask(h.times), cfg.cv_max_valid_rows)
        run = _FoldRun(
            fold=fold,
            train=train,
            train_weight=train_w,
            valid=valid,
            valid_weight=valid_w,
            dtrain=self.reference if k == 0 else self._train_matrix(train, train_w),
            dvalid=make_dmatrix(self.X.iloc[valid], h.y[valid], cfg.nthread, weight=valid_w),
        )
        if self.linear is not None:
            run.linear_job = pool.submit(self._fit_linear, train, train_w, valid)
        return run

    def _fit_linear(
        self, train: np.ndarray, train_w: np.ndarray, valid: np.ndarray
    ) -> tuple[LinearModel, np.ndarray]:
        """One fold's logistic regression (warm-started from the previous fold's) and its
        margins on the fold's validation rows."""
        h, cfg = self.history, self.history.cfg
        X_linear, spec = self.linear  # type: ignore[misc]
        model = fit_linear(
            X_linear.iloc[train],
            h.y[train],
            spec,
            cfg.lr_c,
            train_w,
            cfg.lr_max_rows,
            cfg.seed,
            init=self.last_linear,
        )
        self.last_linear = model
        return model, model.margin(X_linear.iloc[valid])

    def curves(self, folds: list[int] | None = None) -> dict[int, list[FoldCurve]]:
        """Per candidate that ran on every fold of ``folds`` (all by default), its curves."""
        ks = list(range(len(self.runs))) if folds is None else list(folds)
        return {
            i: [
                FoldCurve(self.runs[k].fits[i].curve, float(self.runs[k].valid_weight.sum()))
                for k in ks
            ]
            for i in range(len(self.candidates))
            if all(i in self.runs[k].fits for k in ks)
        }

    def folds_run(self, candidate: int) -> list[int]:
        return [k for k, run in enumerate(self.runs) if candidate in run.fits]

    def booster(self, candidate: int, k: int, rounds: int) -> xgb.Booster:
        """Fold ``k``'s booster of ``candidate`` with exactly ``rounds`` rounds. A fold that
        stopped early before ``rounds`` is retrained from scratch to that count without watching
        its validation rows: its first trees come out identical (training is deterministic and
        evaluating does not change it), and where it stopped -- which its validation labels
        decided -- no longer matters."""
        run = self.runs[k]
        fit = run.fits[candidate]
        if fit.n_rounds < rounds:
            run.dtrain.set_weight(self._train_weight(run, candidate))
            longer = fit_booster(run.dtrain, self.params[candidate], rounds)
            fit = FittedBooster(booster=longer.booster, params=fit.params, curve=fit.curve)
            run.fits[candidate] = fit
        return fit.booster[:rounds]

    def margin(
        self,
        candidate: int,
        rounds: int,
        k: int,
        X: pd.DataFrame | xgb.DMatrix | None = None,
        blend: float = 1.0,
        X_linear: pd.DataFrame | None = None,
    ) -> np.ndarray:
        """Margins of fold ``k``'s model on its validation rows (or on ``X``, the boosters' input,
        with ``X_linear``, the prepared matrix, for a blend): ``blend`` x the booster's margin +
        (1 - ``blend``) x the fold's logistic regression's."""
        if X is None:
            key = (candidate, rounds, k)
            if key not in self._margins:
                self._margins[key] = predict_margin(
                    self.booster(candidate, k, rounds),
                    self.runs[k].dvalid,
                    self.history.cfg.nthread,
                )
            margin = self._margins[key]
        else:
            margin = predict_margin(self.booster(candidate, k, rounds), X, self.history.cfg.nthread)
        if blend >= 1.0:
            return margin
        run = self.runs[k]
        linear = run.linear_margin if X is None else run.linear.margin(X_linear)
        return blend * margin + (1.0 - blend) * linear

    def choose_blend(
        self, candidate: int, rounds: int, folds: list[int], shares: tuple[float, ...]
    ) -> tuple[float, dict[float, float]]:
        """The booster's share in the blend with the lowest pooled (weighted) validation log loss
        over ``folds``: 1 (no blend) or one of ``shares``; ties go to the plain booster. Returns
        the share and the pooled log loss of each."""
        if self.linear is None or not shares:
            return 1.0, {}
        valid_y = np.concatenate([self.history.y[self.runs[k].valid] for k in folds])
        valid_w = np.concatenate([self.runs[k].valid_weight for k in folds])
        losses = {}
        for share in (1.0, *shares):
            m = np.concatenate([self.margin(candidate, rounds, k, blend=share) for k in folds])
            losses[share] = log_loss(valid_y, 1.0 / (1.0 + np.exp(-m)), weight=valid_w)
        best = min(losses, key=lambda share: (losses[share], -share))
        return best, losses

    def out_of_fold(
        self,
        candidate: int,
        rounds: int,
        folds: list[int],
        reference: np.datetime64,
        blend: float = 1.0,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(margins, labels, weights, positions)`` of the validation rows of ``folds``; the
        weights carry the candidate's time decay relative to ``reference`` (calibration rows)."""
        h = self.history
        margins = np.concatenate([self.margin(candidate, rounds, k, blend=blend) for k in folds])
        rows = np.concatenate([self.runs[k].valid for k in folds])
        weights = np.concatenate([self.runs[k].valid_weight for k in folds])
        decay = recency_weights(h.times[rows], reference, self.candidates[candidate].half_life_days)
        return margins, h.y[rows], weights * decay, rows
