from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lead_scoring.ml import InsufficientHistoryError, resolve_config, train_and_evaluate
from lead_scoring.ml.config import DEFAULT_BAND_THRESHOLDS
from lead_scoring.ml.registry import deserialize_bundle
from lead_scoring.ml.scoring import resolve_band_thresholds, score_open_leads

from .conftest import FAST_CONFIG, TRAINED_AT
from .synthetic import make_synthetic_snapshots

BANDS = {"A": 0.5, "B": 0.25, "C": 0.1}


def test_tables_are_complete(trained):
    version = trained.bundle.model_version
    tables = {
        "metrics": trained.metrics,
        "calibration_bins": trained.calibration_bins,
        "lift": trained.lift,
        "feature_importance": trained.feature_importance,
        "segment_metrics": trained.segment_metrics,
        "confusion": trained.confusion,
        "split_boundaries": trained.split_boundaries,
        "calibration": trained.calibration,
        "leakage": trained.leakage,
    }
    for name, table in tables.items():
        assert len(table) > 0, name
        assert table.columns[0] == "model_version" and (table["model_version"] == version).all()
    test_models = {"xgboost", "xgboost_raw", "logistic_regression", "rule_points"}
    m = trained.metrics
    assert set(m.loc[m["split"] == "test", "model_name"]) == test_models
    xgb_splits = set(m.loc[m["model_name"] == "xgboost", "split"])
    assert {"test", "cv", "train", "cv_fold_1", "cv_fold_2", "cv_fold_3"} <= xgb_splits
    metrics = set(m.loc[(m["model_name"] == "xgboost") & (m["split"] == "test"), "metric"])
    assert {"auc", "ece_equal_mass", "observed_to_expected", "observed_to_expected_decile_1"} <= (
        metrics
    )
    assert set(trained.lift["model_name"]) == test_models
    assert (trained.calibration_bins.groupby("model_name").size() == 10).all()
    # every tuning candidate has its pooled cross-validated log loss; exactly one is chosen
    cv_rows = m[(m["split"] == "cv") & (m["metric"] == "is_chosen")]
    is_blend = cv_rows["model_name"].str.contains("+logistic_regression[", regex=False)
    chosen = cv_rows[cv_rows["model_name"].str.startswith("xgboost[") & ~is_blend]
    assert len(chosen) == len(trained.validation["candidates"]) and chosen["value"].sum() == 1
    # the blends tried with the chosen candidate: at most one chosen, as the registry says
    blends = cv_rows[is_blend]
    assert len(blends) == 2 and blends["value"].sum() == (trained.validation["blend_weight"] < 1)
    headline = trained.bundle.metrics
    assert headline["auc"] == pytest.approx(
        m.loc[
            (m.model_name == "xgboost") & (m.split == "test") & (m.metric == "auc"), "value"
        ].iloc[0]
    )
    assert "cv_auc" in headline


def test_folds_are_purged_expanding_windows(snapshots, trained):
    """Each fold trains only on labels known when its window opened; the windows follow each
    other; the newest is the test fold; production refits on every matured label."""
    b = trained.split_boundaries.set_index("split")
    folds = b.loc[["fold_1", "fold_2", "test"]]
    assert (folds["start"].diff().dropna() > pd.Timedelta(0)).all()
    assert (folds["end"].iloc[:-1].to_numpy() == folds["start"].iloc[1:].to_numpy()).all()
    horizon = pd.Timedelta(days=30)
    assert (folds["purge_cutoff"] == folds["start"] - horizon).all()
    assert (folds["n_train_rows"].diff().dropna() > 0).all()  # expanding
    assert folds["is_used"].all()
    labeled = snapshots[snapshots["label_converted_in_horizon"].notna()]
    assert b.loc["train", "n_rows"] == len(labeled)
    assert b.loc["train", "end"] == labeled["snapshot_at"].max()
    assert b.loc["test", "end"] == labeled["snapshot_at"].max()
    v = trained.validation
    assert v["method"] == "rolling_origin_cv" and v["n_folds"] == 3
    assert v["calibration_source"] == "oof"
    assert trained.bundle.boundaries["test_start"] == b.loc["test", "start"].isoformat()


def test_test_fold_never_sees_its_own_labels(snapshots, rules):
    """Shuffling the outcomes among the test window's snapshots of each day (so the windows,
    placed by the converted snapshots' times, stay where they are) changes the test metrics but
    nothing that was chosen or fitted for the test: same candidate, rounds and calibrator, the
    same probabilities for the same rows."""
    base = train_and_evaluate(snapshots, FAST_CONFIG, rules=rules, trained_at=TRAINED_AT)
    start = pd.Timestamp(base.bundle.boundaries["test_start"])
    shuffled = snapshots.copy()
    in_test = shuffled["snapshot_at"] >= start
    rng = np.random.default_rng(1)
    for _, rows in shuffled[in_test].groupby("snapshot_at").groups.items():
        order = rng.permutation(len(rows))
        for c in ("label_converted_in_horizon", "label_converted_at"):
            shuffled.loc[rows, c] = shuffled.loc[rows, c].to_numpy()[order]
    again = train_and_evaluate(shuffled, FAST_CONFIG, rules=rules, trained_at=TRAINED_AT)
    for key in ("test_candidate", "test_rounds", "test_calibration", "n_folds"):
        assert again.validation[key] == base.validation[key]
    bins = [
        r.calibration_bins.query("model_name == 'xgboost'")[
            ["bin", "count", "mean_predicted"]
        ].reset_index(drop=True)
        for r in (base, again)
    ]
    pd.testing.assert_frame_equal(bins[0], bins[1])  # the same probabilities for the same rows
    auc = [
        r.metrics.query("model_name == 'xgboost' and split == 'test' and metric == 'auc'")[
            "value"
        ].iloc[0]
        for r in (base, again)
    ]
    assert auc[0] != auc[1]  # the outcomes did change


def test_short_history_trains_an_unvalidated_model(rules):
    """15 days of labels with a 30-day horizon: no fold has converted leads on both sides of
    the purge gap. The model still trains (enough converted leads), calibrated in sample on its
    latest window, and says it is unvalidated: no test metrics, no fold rows used."""
    df = make_synthetic_snapshots(3000, seed=3, days=45, base_logit=-3.0)
    r = train_and_evaluate(df, {**FAST_CONFIG, "min_positive_labels": 20}, rules=rules)
    assert r.validation["method"] == "none"
    assert r.validation["calibration_source"] == "in_sample_recent"
    assert "fewer than" in r.validation["reason"]
    assert not (r.metrics["split"] == "test").any()
    assert r.bundle.boundaries["test_start"] is None
    assert not r.split_boundaries.query("split != 'train'")["is_used"].any()
    scores = score_open_leads(deserialize_bundle(r.registry.iloc[0].to_dict()), df)
    assert scores["conversion_probability"].between(0, 1).all()


def test_an_unvalidated_model_learns_from_the_snapshots_whose_horizon_is_still_open(rules):
    """Unvalidated (no fold can be purged), the production fit also uses the snapshots whose
    horizon has not ended, with imputed labels; the validated path is untouched by the switch."""
    df = make_synthetic_snapshots(3000, seed=3, days=45, base_logit=-3.0)
    config = {**FAST_CONFIG, "min_positive_labels": 20}
    imputed = train_and_evaluate(df, config, rules=rules)
    plain = train_and_evaluate(df, {**config, "impute_censored_labels": False}, rules=rules)
    assert imputed.validation["censored_labels"] == "imputed"
    assert imputed.validation["n_censored_rows"] > 0
    assert "censored_labels" not in plain.validation
    assert imputed.bundle.model_version != plain.bundle.model_version
    trained_rows = imputed.split_boundaries.query("split == 'train'")["n_rows_trained"].iloc[0]
    assert trained_rows > plain.split_boundaries.query("split == 'train'")["n_rows_trained"].iloc[0]


def test_the_validated_path_ignores_the_censored_label_switch(snapshots, rules, trained):
    off = train_and_evaluate(
        snapshots,
        {**FAST_CONFIG, "impute_censored_labels": False},
        rules=rules,
        trained_at=TRAINED_AT,
    )
    assert off.validation["method"] == "rolling_origin_cv"
    pd.testing.assert_frame_equal(
        off.metrics.drop(columns="model_version"), trained.metrics.drop(columns="model_version")
    )


def test_too_few_converted_leads_raise(snapshots):
    with pytest.raises(InsufficientHistoryError, match="min_positive_labels"):
        train_and_evaluate(snapshots, {**FAST_CONFIG, "min_positive_labels": 100_000})


def test_timing_probabilities_are_monotone_and_calibrated(snapshots, trained):
    bundle = deserialize_bundle(trained.registry.iloc[0].to_dict())
    assert set(bundle.timing_models) == {7, 90}  # 30 is the main horizon
    scores = score_open_leads(bundle, snapshots)
    p7, p30, p90 = (scores[f"conversion_probability_{h}d"] for h in (7, 30, 90))
    assert (p30 == scores["conversion_probability"]).all()
    assert (p7 <= p30).all() and (p30 <= p90).all()
    assert (p7 < p30).mean() > 0.5 and (p90 > p30).mean() > 0.5
    timing = trained.metrics[trained.metrics["split"] == "timing"]
    auc = timing[timing["metric"] == "auc"].set_index("model_name")["value"]
    assert auc["xgboost_7d"] > 0.6 and auc["xgboost_90d"] > 0.6


def test_bands_follow_the_base_rate(trained):
    bundle = trained.bundle
    base = bundle.base_rate
    test = trained.metrics.query("model_name == 'xgboost' and split == 'test'")
    assert base == pytest.approx(test.set_index("metric").loc["positive_rate", "value"])
    assert bundle.band_thresholds == pytest.approx({"A": 4 * base, "B": 2 * base, "C": base})
    fixed = resolve_band_thresholds(resolve_config({"band_thresholds": BANDS}), base)
    assert fixed == BANDS
    assert resolve_band_thresholds(resolve_config({}), None) == DEFAULT_BAND_THRESHOLDS


def test_config_validation():
    with pytest.raises(ValueError, match="unknown ML config key"):
        resolve_config({"horizon_dayz": 30})
    with pytest.raises(ValueError, match="cv_valid_share"):
        resolve_config({"cv_valid_share": 1.5})
    with pytest.raises(ValueError, match="train_max_rows"):
        resolve_config({"train_max_rows": 10})
    cfg = resolve_config({"xgb_params": {"max_depth": 3}, "band_lift_multiples": {"A": 5}})
    assert cfg.xgb_params["max_depth"] == 3 and cfg.xgb_params["tree_method"] == "hist"
    assert cfg.band_lift_multiples == {"A": 5, "B": 2.0, "C": 1.0}
    assert cfg.band_thresholds is None
    with pytest.raises(ValueError, match="band_thresholds"):
        resolve_config({"band_thresholds": {"A": 0.5}})
    assert resolve_config(cfg.to_dict()) == cfg


def test_leaky_mart_is_refused(snapshots):
    leaky = snapshots.assign(
        converted_flag=snapshots["label_converted_in_horizon"].astype("Float64")
    )
    with pytest.raises(Exception, match="converted_flag"):
        train_and_evaluate(leaky, {"num_boost_round": 10})


def test_the_model_does_not_depend_on_the_row_order(snapshots, rules, trained) -> None:
    """DuckDB scans in parallel: the same rows in another order give the same model."""
    shuffled = snapshots.sample(frac=1.0, random_state=7).reset_index(drop=True)
    again = train_and_evaluate(shuffled, FAST_CONFIG, rules=rules, trained_at=TRAINED_AT)
    assert again.bundle.model_version == trained.bundle.model_version
    pd.testing.assert_frame_equal(again.metrics, trained.metrics)


def test_a_sample_of_whole_leads_with_weights_stands_for_the_history(snapshots, rules, trained):
    """Rows of non-converting leads sampled at 50 % with weight 2 give nearly the same model
    quality, and with a test_frame the test metrics use every test row."""
    converting = snapshots["label_converted_at"].notna()
    keep = converting | (np.random.default_rng(0).random(len(snapshots)) < 0.5)
    sample = snapshots[keep].assign(sample_weight=np.where(converting[keep], 1.0, 2.0))
    r = train_and_evaluate(
        sample, FAST_CONFIG, rules=rules, trained_at=TRAINED_AT, test_frame=snapshots
    )
    full_test = trained.metrics.query("model_name == 'xgboost' and split == 'test'")
    test = r.metrics.query("model_name == 'xgboost' and split == 'test'")
    n = test.set_index("metric").loc["n_rows", "value"]
    assert n == full_test.set_index("metric").loc["n_rows", "value"]  # every test row
    auc, full_auc = (t.set_index("metric").loc["auc", "value"] for t in (test, full_test))
    assert auc == pytest.approx(full_auc, abs=0.03)


def test_without_a_test_frame_the_weighted_sample_estimates_the_test_window(
    snapshots, rules, trained
):
    """Given only the weighted sample (the dbt model at scale passes a weighted test sample
    too), the test metrics and tables are weighted: they estimate the whole window's."""
    converting = snapshots["label_converted_at"].notna()
    keep = converting | (np.random.default_rng(1).random(len(snapshots)) < 0.5)
    sample = snapshots[keep].assign(sample_weight=np.where(converting[keep], 1.0, 2.0))
    r = train_and_evaluate(sample, FAST_CONFIG, rules=rules, trained_at=TRAINED_AT)
    full = trained.metrics.query("model_name == 'xgboost' and split == 'test'")
    test = r.metrics.query("model_name == 'xgboost' and split == 'test'")
    full_rows = full.set_index("metric").loc["n_rows", "value"]
    assert test.set_index("metric").loc["n_rows", "value"] < 0.9 * full_rows  # the sample's rows
    lift = r.lift.query("model_name == 'xgboost'")
    assert lift["n_rows"].sum() == pytest.approx(full_rows, rel=0.1)  # the window's, estimated
    auc, full_auc = (t.set_index("metric").loc["auc", "value"] for t in (test, full))
    assert auc == pytest.approx(full_auc, abs=0.03)


def test_racing_runs_the_losers_on_one_fold_only(snapshots):
    """Large histories race the candidates on the fold before the test fold; only the winner
    runs on the others, and the test fold's choice sees no test labels."""
    from lead_scoring.ml.cv import plan_folds
    from lead_scoring.ml.dataset import build_feature_spec, prepare_features, select_features
    from lead_scoring.ml.models import native_params
    from lead_scoring.ml.tuning import Candidate
    from lead_scoring.ml.validation import CrossValidation, LabeledHistory

    cfg = resolve_config(FAST_CONFIG)
    scoring_at = snapshots.loc[snapshots["is_scoring_snapshot"], "snapshot_at"].max()
    h = LabeledHistory(snapshots, cfg, scoring_at)
    plan = plan_folds(h.times[h.known], h.y[h.known], h.lead_codes[h.known], 30)
    features = select_features(snapshots)
    spec = build_feature_spec(snapshots[features], features)
    X = spec.for_trees(prepare_features(snapshots, spec))
    cands = [Candidate({"max_depth": 2}), Candidate({"max_depth": 5})]
    params = [native_params(cfg.xgb_params, c.params, 1, 1) for c in cands]
    cv = CrossValidation(h, X, plan, cands, params).fit(race=True)
    runs = [cv.folds_run(i) for i in range(2)]
    assert sorted(map(len, runs)) == [1, 3]
    loser = runs[0] if len(runs[0]) == 1 else runs[1]
    assert loser == [1]  # the fold before the test fold
    assert list(cv.curves()) == [runs.index(max(runs, key=len))]  # only the winner is complete
