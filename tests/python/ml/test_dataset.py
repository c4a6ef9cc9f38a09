from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lead_scoring.ml.dataset import (
    SPLITS,
    build_feature_spec,
    check_leakage,
    is_reserved,
    labeled_mask,
    prepare_features,
    select_features,
    time_split,
)
from lead_scoring.ml.errors import InsufficientHistoryError, LeakageError
from lead_scoring.ml.synthetic import make_synthetic_snapshots

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


def test_time_split_is_ordered_and_purged(snapshots):
    b = time_split(snapshots, (0.6, 0.15, 0.1, 0.15), horizon_days=30)
    assert b.start < b.valid_start < b.calib_start < b.test_start <= b.end
    split = b.assign(snapshots)
    t = snapshots["snapshot_at"]
    times = {s: t[split == s] for s in SPLITS}
    for earlier, later in zip(SPLITS, SPLITS[1:], strict=False):
        assert times[earlier].max() < times[later].min()
    # purge: every train label has matured before the validation split starts
    assert (times["train"] + pd.Timedelta(days=30)).max() <= b.valid_start
    assert b.n_purged["train"] > 0
    assert sum(b.n_purged.values()) == b.n_purged["train"]
    # only labeled, non-scoring rows take part
    assert split[~labeled_mask(snapshots)].isna().all()
    assert snapshots.loc[split.notna(), "label_converted_in_horizon"].notna().all()
    frame = b.to_frame()
    assert frame["split"].tolist() == list(SPLITS)
    assert frame["n_rows"].tolist() == [b.n_rows[s] for s in SPLITS]
    assert (frame["start"].diff().dropna() > pd.Timedelta(0)).all()


def test_time_split_purge_all_boundaries(snapshots):
    b = time_split(snapshots, horizon_days=30, purge="all")
    split = b.assign(snapshots)
    t = snapshots["snapshot_at"]
    for s in ("train", "valid", "calib"):
        assert (t[split == s] + pd.Timedelta(days=30)).max() <= b.ends[s]
    assert all(b.n_purged[s] > 0 for s in ("train", "valid", "calib"))


def test_time_split_empty_split_raises():
    df = make_synthetic_snapshots(300, seed=1, days=40)  # 10 labeled days: purge empties train
    with pytest.raises(InsufficientHistoryError, match="empty"):
        time_split(df, horizon_days=30)


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


def test_pipeline_caps_the_train_split_and_reports_it(snapshots, trained) -> None:
    from lead_scoring.ml.pipeline import train_and_evaluate

    fast = {"nthread": 1, "num_boost_round": 400, "early_stopping_rounds": 30}  # as `trained`
    full = trained
    n_train = int(full.split_boundaries.set_index("split").loc["train", "n_rows"])
    capped = train_and_evaluate(snapshots, {**fast, "train_max_rows": n_train // 2})
    b = capped.split_boundaries.set_index("split")
    assert b.loc["train", "n_rows"] == n_train  # the split itself is unchanged
    assert b.loc["train", "n_rows_trained"] == n_train // 2
    assert 0 < b.loc["train", "negative_sample_rate"] < 1
    assert b.loc["test", "n_rows_trained"] == b.loc["test", "n_rows"]
    assert capped.bundle.model_version != full.bundle.model_version
