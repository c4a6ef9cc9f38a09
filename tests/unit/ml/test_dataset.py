from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lead_scoring.ml.dataset import (
    build_feature_spec,
    check_leakage,
    horizon_labels,
    is_reserved,
    labeled_mask,
    prepare_features,
    select_features,
)
from lead_scoring.ml.errors import LeakageError

FEATURES = [
    "pricing_page_views_30d",
    "email_opens_30d",
    "days_since_last_visit",
    "webinar_attended",
    "seniority_level",
    "company_size_band",
    "lead_source",
]


def test_reserved_columns_are_never_features(snapshots):
    assert select_features(snapshots) == FEATURES
    for name in (
        "lead_id",
        "account_id",
        "created_at",
        "snapshot_at",
        "label_anything",
        "is_scoring_snapshot",
        "converted_at",
    ):
        assert is_reserved(name)
    assert select_features(snapshots, exclude=["lead_source"]) == FEATURES[:-1]
    assert select_features(snapshots, include=["lead_source", "email_opens_30d"]) == [
        "email_opens_30d",
        "lead_source",
    ]
    with pytest.raises(ValueError, match="reserved"):
        select_features(snapshots, include=["email_opens_30d", "label_days_to_conversion"])


def test_categories_fixed_at_training_and_unseen_become_missing():
    train = pd.DataFrame({"x": [1, 2, None], "c": ["b", "a", "b"], "f": [True, False, True]})
    spec = build_feature_spec(train, ["x", "c", "f"])
    assert spec.categorical_levels == {"c": ("a", "b")}
    assert spec.numeric == ("x", "f") and spec.boolean == ("f",)
    new = pd.DataFrame({"x": [3.5, None], "c": ["z", None], "f": [False, True]})
    X = prepare_features(new, spec)
    assert list(X["c"].cat.categories) == ["a", "b"]
    assert X["c"].isna().all()
    assert X["x"].dtype == np.float32 and np.isnan(X["x"].iloc[1])
    assert X["f"].tolist() == [0.0, 1.0]
    with pytest.raises(ValueError, match="missing"):
        prepare_features(new.drop(columns="x"), spec)


def test_columns_missing_on_every_training_row_are_left_out():
    train = pd.DataFrame({"x": [1.0, 2.0], "empty": [None, None], "c": [None, None]})
    train["c"] = train["c"].astype("string")
    spec = build_feature_spec(train, ["x", "empty", "c"])
    assert spec.columns == ("x",)


def test_horizon_labels_follow_the_conversion_time():
    scoring_at = pd.Timestamp("2025-03-01")
    frame = pd.DataFrame(
        {
            "snapshot_at": pd.to_datetime(
                ["2025-01-01", "2025-01-01", "2025-01-01", "2025-02-25", "2025-01-10", "2025-03-01"]
            ),
            "label_converted_at": pd.to_datetime(
                ["2025-01-05", "2025-01-31", None, "2025-02-26", "2025-01-10", None]
            ),
            "is_scoring_snapshot": [False, False, False, False, False, True],
        }
    )
    known, y = horizon_labels(frame, 7, scoring_at)
    # converted 4 days later: positive at 7 days; 30 days later: negative; never: negative;
    # a snapshot 4 days before the scoring time: unknown at 7 days; converting at the snapshot
    # time itself is not "after" it; the scoring snapshot is never labeled
    assert known.tolist() == [True, True, True, False, True, False]
    assert y.tolist() == [1, 0, 0, 0, 0, 0]
    known, y = horizon_labels(frame, 30, scoring_at)
    assert known.tolist() == [True, True, True, False, True, False]
    assert y.tolist() == [1, 1, 0, 0, 0, 0]  # (t, t + 30 days]: the 31st of January is in
    known, _ = horizon_labels(frame, 90, scoring_at)
    assert not known.any()  # no 90-day outcome is known by the scoring time


def test_horizon_labels_fall_back_to_the_mart_label(snapshots):
    known, y = horizon_labels(snapshots.drop(columns="label_converted_at"), 30)
    expected = snapshots["label_converted_in_horizon"]
    assert known.tolist() == (expected.notna() & ~snapshots["is_scoring_snapshot"]).tolist()
    assert y[known].tolist() == expected[known].astype(int).tolist()
    # the mart's label and the label derived from the conversion time agree
    scoring_at = snapshots.loc[snapshots["is_scoring_snapshot"], "snapshot_at"].max()
    known2, y2 = horizon_labels(snapshots, 30, scoring_at)
    assert known2.tolist() == known.tolist() and y2.tolist() == y.tolist()


def _xy(snapshots):
    lab = snapshots[labeled_mask(snapshots)]
    spec = build_feature_spec(lab, FEATURES)
    return prepare_features(lab, spec), lab["label_converted_in_horizon"].astype(int).to_numpy()


def test_leakage_trap_passes_clean_features(snapshots):
    X, y = _xy(snapshots)
    table = check_leakage(X, y)
    assert not table["is_leak"].any() and len(table) == len(FEATURES)


def test_leakage_trap_catches_copies_of_the_label(snapshots):
    X, y = _xy(snapshots)
    rng = np.random.default_rng(0)
    leaky = X.assign(
        converted_flag=y.astype(np.float32),
        noisy_copy=(y + rng.normal(0, 0.3, y.size)).astype(np.float32),
    )
    with pytest.raises(LeakageError) as err:
        check_leakage(leaky, y)
    assert err.value.features == ["converted_flag", "noisy_copy"]
    assert "converted_flag" in str(err.value) and "noisy_copy" in str(err.value)
    # a categorical copy, a copy only filled for converters, and a label_ name
    cat = X.assign(status=pd.Categorical(np.where(y == 1, "won", "open")))
    with pytest.raises(LeakageError, match="status"):
        check_leakage(cat, y)
    only_conv = X.assign(days_to_close=np.where(y == 1, 5.0, np.nan))
    with pytest.raises(LeakageError, match="days_to_close"):
        check_leakage(only_conv, y)
    named = X.assign(label_other=rng.normal(size=y.size))
    with pytest.raises(LeakageError, match="label_other"):
        check_leakage(named, y)


def test_downsample_negatives_keeps_positives_and_reweights() -> None:
    from lead_scoring.ml.dataset import downsample_negatives

    rng = np.random.default_rng(0)
    y = (rng.random(10_000) < 0.05).astype(int)
    rows = np.arange(100, 10_100)
    kept, weight, rate = downsample_negatives(rows, y, 2_000, seed=1)
    assert len(kept) == 2_000
    assert np.all(np.diff(kept) > 0)  # sorted positions of the input rows
    kept_y = y[kept - 100]
    assert kept_y.sum() == y.sum()  # every positive kept
    assert rate == pytest.approx((2_000 - y.sum()) / (len(y) - y.sum()))
    # the weighted negatives stand for all of them
    assert weight[kept_y == 0].sum() == pytest.approx((y == 0).sum(), rel=1e-4)
    assert np.all(weight[kept_y == 1] == 1.0)
    # no cap, or a split below it: untouched
    same, w1, r1 = downsample_negatives(rows, y, None, seed=1)
    assert np.array_equal(same, rows) and r1 == 1.0 and np.all(w1 == 1.0)
    # deterministic
    again, _, _ = downsample_negatives(rows, y, 2_000, seed=1)
    assert np.array_equal(again, kept)


def test_pipeline_caps_the_training_rows_and_reports_it(snapshots, trained) -> None:
    from lead_scoring.ml.pipeline import train_and_evaluate

    from .conftest import FAST_CONFIG

    full = trained
    n_train = int(full.split_boundaries.set_index("split").loc["train", "n_rows"])
    capped = train_and_evaluate(snapshots, {**FAST_CONFIG, "train_max_rows": 2_000})
    b = capped.split_boundaries.set_index("split")
    assert b.loc["train", "n_rows"] == n_train  # the history itself is unchanged
    assert b.loc["train", "n_rows_trained"] == 2_000
    assert capped.bundle.model_version != full.bundle.model_version


def test_trees_read_the_zeros_of_complete_counts_as_missing():
    train = pd.DataFrame(
        {
            "count": [0, 2, 0, 5],  # no missing values: its zeros become missing for the trees
            "share": [0.0, 0.5, None, 1.0],  # has missing values: a zero stays a zero
            "flag": [True, False, False, True],  # booleans are left alone
            "c": ["a", "b", "a", "b"],
        }
    )
    spec = build_feature_spec(train, ["count", "share", "flag", "c"])
    assert spec.zero_missing == ("count",)
    X = prepare_features(train, spec)
    T = spec.for_trees(X)
    assert np.isnan(T["count"].to_numpy()).tolist() == [True, False, True, False]
    assert T["share"].tolist()[:2] == [0.0, 0.5] and T["flag"].tolist() == [1.0, 0.0, 0.0, 1.0]
    assert X["count"].tolist() == [0.0, 2.0, 0.0, 5.0]  # the displayed values are untouched
    assert type(spec).from_dict(spec.to_dict()) == spec


def test_censored_labels_impute_the_chance_of_still_converting():
    """Horizon 10 days, judged at day 20. Matured rows keep their 0/1 label; a snapshot whose
    horizon is open gets 1 when it already converted, else 1 - S(10) / S(c) with S the
    Kaplan-Meier survival of the conversion delay; conversions after the judging time are not
    seen; scoring snapshots are left out. By hand: exits (days) A 5 event, B 10 censored, C 2
    event, D 5 censored, E 5 censored, G 8 event -> S(2) = 5/6, S(5) = 2/3, S(8) = S(10) = 1/3,
    so D and E get 1 - (1/3) / (2/3) = 0.5."""
    from lead_scoring.ml.dataset import censored_horizon_labels

    day0 = pd.Timestamp("2025-01-01")
    d = lambda n: day0 + pd.Timedelta(days=n)  # noqa: E731
    df = pd.DataFrame(
        {
            "lead_id": ["A", "B", "C", "D", "E", "G", "S"],
            "snapshot_at": [d(0), d(0), d(15), d(15), d(15), d(0), d(20)],
            "label_converted_at": [d(5), None, d(17), None, d(22), d(8), None],
            "is_scoring_snapshot": [False] * 6 + [True],
        }
    )
    df["label_converted_at"] = pd.to_datetime(df["label_converted_at"])
    rows, y = censored_horizon_labels(df, 10, d(20))
    assert rows.tolist() == [True] * 6 + [False]
    np.testing.assert_allclose(y[:6], [1.0, 0.0, 1.0, 0.5, 0.5, 1.0])
