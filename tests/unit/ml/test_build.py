"""The bodies of the ml dbt models (lead_scoring.ml.build) on a DuckDB relation of the synthetic
mart: what ml_models appends and what ml_scores writes, without dbt."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from lead_scoring.ml.build import (
    ML_MODELS_COLUMNS,
    ML_SCORES_COLUMNS,
    open_lead_scores,
    parse_ml_config,
    registry_rows,
)
from lead_scoring.ml.registry import REGISTRY_COLUMNS
from lead_scoring.ml.tables import EVALUATION_TABLES, evaluation_table

from .conftest import FAST_CONFIG


@pytest.fixture(scope="module")
def mart(snapshots):
    con = duckdb.connect()
    con.register("snapshots_frame", snapshots)
    con.execute("create table fct_lead_features as select * from snapshots_frame")
    yield con.table("fct_lead_features")
    con.close()


@pytest.fixture(scope="module")
def first(mart, rules):
    return registry_rows(mart, rules, dict(FAST_CONFIG))


def test_dbt_rendered_config_is_parsed():
    config = parse_ml_config(
        {"horizon_days": "30", "train_max_rows": "None", "extra_models": "['mlp', 'random_forest']"}
    )
    assert config == {"horizon_days": 30, "train_max_rows": None,
                      "extra_models": ["mlp", "random_forest"]}  # fmt: skip
    assert parse_ml_config({"extra_models": "mlp, decision_tree"})["extra_models"] == [
        "mlp",
        "decision_tree",
    ]


def test_boolean_settings_rendered_as_text_are_parsed():
    assert parse_ml_config({"impute_censored_labels": "False"}) == {"impute_censored_labels": False}
    assert parse_ml_config({"impute_censored_labels": "true"}) == {"impute_censored_labels": True}
    with pytest.raises(ValueError, match="impute_censored_labels"):
        parse_ml_config({"impute_censored_labels": "maybe"})


def test_a_first_build_trains_one_typed_row(first):
    assert len(first) == 1
    assert list(first.columns[: len(REGISTRY_COLUMNS)]) == REGISTRY_COLUMNS
    assert list(first.columns) == ML_MODELS_COLUMNS
    row = first.iloc[0]
    assert row["model_name"] == "xgboost"
    assert row["validation_method"] == "rolling_origin_cv"
    assert str(first["trained_at"].dtype).startswith("datetime64")


def test_an_unchanged_model_appends_nothing(mart, rules, first):
    again = registry_rows(mart, rules, dict(FAST_CONFIG), first, None, "true")
    assert again.empty  # same data, config and code: retrained to the same version
    scoring_only = registry_rows(mart, rules, dict(FAST_CONFIG), first, None, "false")
    assert scoring_only.empty


def test_too_little_history_writes_the_rule_fallback(mart, rules):
    fallback = registry_rows(mart, rules, {**FAST_CONFIG, "min_positive_labels": 10**6})
    row = fallback.iloc[0]
    assert row["model_name"] == "rule_points"
    assert row["model_version"].startswith("rules-")
    assert "min_positive_labels" in row["metadata_json"]
    for name, table in EVALUATION_TABLES.items():  # empty, with the declared columns and dtypes
        unpacked = evaluation_table(fallback, name)
        assert unpacked.empty
        assert dict(unpacked.dtypes.astype(str)) == dict(table.dtypes), name


def test_the_evaluation_tables_of_the_run_are_unpacked_from_its_row(first):
    for name, table in EVALUATION_TABLES.items():
        unpacked = evaluation_table(first, name)
        assert list(unpacked.columns) == table.columns, name
        assert len(unpacked) > 0, name
        assert (unpacked["model_version"] == first["model_version"].iloc[0]).all(), name


def test_scores_cover_the_open_leads_with_contract_types(mart, rules, first, snapshots):
    scores = open_lead_scores(mart, first, rules)
    open_leads = snapshots.loc[snapshots["is_scoring_snapshot"], "lead_id"]
    assert sorted(scores["lead_id"]) == sorted(open_leads)
    assert (scores["model_version"] == first["model_version"].iloc[0]).all()
    assert scores["conversion_probability"].between(0, 1).all()
    assert str(scores["lead_score"].dtype) == "Int64"
    assert str(scores["conversion_probability_7d"].dtype) == "float64"


def test_scores_carry_the_rule_points_of_every_lead_on_both_paths(mart, rules, first, snapshots):
    """ml_scores.rule_points (the ranker of the A/B test's rules arm) is the rule seed's total
    of each open lead, with the trained model and with the rule fallback alike."""
    from lead_scoring.ml.rules import rule_points

    open_rows = snapshots[snapshots["is_scoring_snapshot"]]
    expected = pd.Series(rule_points(open_rows, rules), index=open_rows["lead_id"].to_numpy())
    fallback = registry_rows(mart, rules, {**FAST_CONFIG, "min_positive_labels": 10**6})
    for registry in (first, fallback):
        scores = open_lead_scores(mart, registry, rules)
        assert list(scores.columns) == ML_SCORES_COLUMNS
        assert str(scores["rule_points"].dtype) == "Int64"
        assert scores["rule_points"].notna().all()
        got = scores.set_index("lead_id")["rule_points"].astype("int64")
        assert (got.sort_index() == expected.sort_index()).all()
    assert expected.nunique() > 3  # the check compares something


def test_an_unknown_pinned_version_lists_the_registered_ones(mart, rules, first):
    with pytest.raises(ValueError, match="registered versions: " + first["model_version"].iloc[0]):
        open_lead_scores(mart, first, rules, pinned="nope")


DRIFT_CONFIG = {"psi_moderate": "0.1", "psi_major": "0.25", "fdr": "0.05",
                "time_growing_features": "None"}  # fmt: skip


def test_the_drift_body_compares_the_open_leads_with_the_test_window(mart, rules, first):
    from lead_scoring.monitoring.build import drift_rows

    scores = open_lead_scores(mart, first, rules)
    table = drift_rows(mart, first, DRIFT_CONFIG)
    features = set(table.loc[table["drift_scope"] != "score", "feature"])
    assert len(table) == len(features) + 1 and len(features) >= 5  # every feature and the score
    assert (table["model_version"] == first["model_version"].iloc[0]).all()
    assert table["reference_source"].iloc[0] == "test_window"
    assert "score" in set(table["drift_scope"])
    assert str(table["counts_for_verdict"].dtype) == "boolean"
    # the run it describes is ml_scores' run: the same scoring time and open leads
    assert (table["scored_at"] == pd.to_datetime(scores["scored_at"]).max()).all()
    assert (table["current_rows"] == len(scores)).all()
    fallback = first.assign(model_name="rule_points")
    assert drift_rows(mart, fallback, DRIFT_CONFIG).empty


def test_drift_scores_the_open_leads_as_ml_scores_does(mart, rules, first):
    """ml_drift scores the open leads itself (it runs beside ml_scores, not after it): the
    probabilities it compares are ml_scores' probabilities, so the score row is the same."""
    from lead_scoring.ml.registry import deserialize_bundle
    from lead_scoring.ml.scoring import score

    scores = open_lead_scores(mart, first, rules).sort_values("lead_id")
    current = mart.filter("is_scoring_snapshot").df().sort_values("lead_id")
    ours = score(deserialize_bundle(first.iloc[0].to_dict()), current)
    assert len(ours) == len(scores) > 10
    np.testing.assert_allclose(ours, scores["conversion_probability"].to_numpy(), rtol=1e-12)


def test_above_the_cap_drift_compares_a_sample_of_the_open_leads(mart, first):
    """ml_drift runs beside ml_scores: above max_current_rows it compares a seeded sample of
    the open leads (memory), the same sample every time."""
    from lead_scoring.monitoring.build import drift_rows

    n_open = mart.filter("is_scoring_snapshot").aggregate("count(*)").fetchall()[0][0]
    config = {**DRIFT_CONFIG, "max_current_rows": n_open // 2}
    table = drift_rows(mart, first, config)
    sampled = table["current_rows"].iloc[0]
    assert (table["current_rows"] == sampled).all()
    assert n_open // 4 < sampled < n_open * 3 // 4
    assert drift_rows(mart, first, config)["current_rows"].iloc[0] == sampled
    assert drift_rows(mart, first, DRIFT_CONFIG)["current_rows"].iloc[0] == n_open


def test_drift_reads_the_pinned_model_else_the_active_one(mart, first):
    from lead_scoring.monitoring.build import drift_rows

    older = first.assign(
        model_version="older", trained_at=first["trained_at"] - pd.Timedelta(days=1)
    )
    registry = pd.concat([first, older], ignore_index=True)
    assert set(drift_rows(mart, registry, DRIFT_CONFIG)["model_version"]) == set(
        first["model_version"]
    )
    assert set(drift_rows(mart, registry, DRIFT_CONFIG, "older")["model_version"]) == {"older"}


def test_above_the_cap_whole_leads_are_sampled_and_the_test_window_too(mart):
    """Above train_max_rows: every row of the converting leads, a weighted share of the others
    (whole leads), and a loader of the test window that keeps TEST_SAMPLE_FACTOR times that
    share (the training sample's leads among them), weighted the same way."""
    from lead_scoring.ml.build import TEST_SAMPLE_FACTOR, labeled_snapshots, scoring_time

    scoring_at = scoring_time(mart)
    all_rows, none = labeled_snapshots(mart, scoring_at, {"train_max_rows": None})
    assert none is None and (all_rows["sample_weight"] == 1.0).all()
    n_converting = int(all_rows["label_converted_at"].notna().sum())
    cap = 2 * n_converting + (len(all_rows) - 2 * n_converting) // 3
    sample, test_window = labeled_snapshots(mart, scoring_at, {"train_max_rows": cap})
    converting = sample["label_converted_at"].notna()
    assert len(sample) < len(all_rows) and (sample.loc[converting, "sample_weight"] == 1).all()
    other_weight = sample.loc[~converting, "sample_weight"].unique()
    assert len(other_weight) == 1 and other_weight[0] > 1
    whole = all_rows.groupby("lead_id").size()
    sizes = sample.groupby("lead_id").size()
    assert (sizes == whole.loc[sizes.index]).all()
    start, end = all_rows["snapshot_at"].quantile(0.7), all_rows["snapshot_at"].max()
    window = test_window(pd.Timestamp(start), pd.Timestamp(end))
    in_window = all_rows[all_rows["snapshot_at"].between(start, end)]
    other = window["label_converted_at"].isna()
    weight = window.loc[other, "sample_weight"].unique()
    assert weight == pytest.approx([max(other_weight[0] / TEST_SAMPLE_FACTOR, 1.0)], rel=1e-6)
    assert (
        window.loc[~other, "lead_id"].nunique()
        == in_window.loc[in_window["label_converted_at"].notna(), "lead_id"].nunique()
    )
    recent = ~converting & sample["snapshot_at"].between(start, end)
    assert set(sample.loc[recent, "lead_id"]) <= set(window.loc[other, "lead_id"])
    assert window["sample_weight"].sum() == pytest.approx(len(in_window), rel=0.2)


def test_health_checks_are_read_once_ml_model_health_exists():
    from lead_scoring.ml.build import health_checks

    con = duckdb.connect()
    assert health_checks(con, "main") is None  # a first build: no ml_model_health yet
    con.execute(
        "create table ml_model_health as select 'v1' as model_version, "
        "timestamp '2025-01-01' as scored_at, timestamp '2025-01-02' as checked_at, "
        "true as requires_retraining, 'drift' as reasons, 1 as other_column"
    )
    health = health_checks(con, "main")
    assert list(health.columns) == [
        "model_version", "scored_at", "checked_at", "requires_retraining", "reasons"
    ]  # fmt: skip
    assert health["requires_retraining"].tolist() == [True]
    con.close()


def test_scores_in_buckets_of_leads_equal_scores_at_once(mart, rules, first):
    """A million open leads are scored a bucket at a time (memory): the same rows, whatever the
    bucket size."""
    from lead_scoring.ml.build import scoring_buckets

    at_once = open_lead_scores(mart, first, rules).sort_values("lead_id", ignore_index=True)
    assert scoring_buckets(len(at_once), 7) > 3  # the check below really splits the leads
    in_buckets = open_lead_scores(mart, first, rules, chunk_rows=7)
    in_buckets = in_buckets.sort_values("lead_id", ignore_index=True)
    pd.testing.assert_frame_equal(in_buckets, at_once)


def test_scoring_buckets_cover_the_open_leads():
    from lead_scoring.ml.build import scoring_buckets

    assert scoring_buckets(0) == 1
    assert scoring_buckets(100_000, 100_000) == 1
    assert scoring_buckets(100_001, 100_000) == 2
    assert scoring_buckets(870_000, 100_000) == 9
