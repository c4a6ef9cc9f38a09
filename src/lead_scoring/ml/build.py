"""The bodies of the dbt models ml_models and ml_scores, as plain functions pytest can call.

:func:`registry_rows` is ``ml_models``: train, cross-validate, calibrate and evaluate the
lead-conversion model, or keep scoring with the registered one (var ``ml_retrain``,
:func:`~.retrain.retrain_decision`). The dbt model is incremental (append): a build appends its row
when the model to score with differs from the latest row's, so the registry keeps every version
that was ever active and an old one can be re-applied (var ``ml_model_version``); the latest row by
trained_at is the active model (:func:`~.registry.active_model`). Only the labeled snapshots leave
DuckDB, through Arrow; above ``train_max_rows`` a sample of whole leads (every converting lead, a
seeded share of the others, re-weighted) and then every row of the test window (so the test metrics
use all of them). A dbt Python model returns a single frame, so the evaluation tables of the same
run ride along as JSON columns (:mod:`.tables`: their schema, packing and unpacking) -- the model
is trained once. Too little labeled history (``InsufficientHistoryError``): a fallback row for the
rule-based points (model_name ``rule_points``, model_version ``rules-<hash>``, no blobs, empty
tables) so that scoring uses the rule seed and everything downstream still builds.

:func:`open_lead_scores` is ``ml_scores``: the leads open at the scoring date scored by the active
ml_models row, or by the version var ``ml_model_version`` names (an unknown one stops the build
with the list of registered ones).
"""

from __future__ import annotations

import ast
import json
import logging

import pandas as pd

from lead_scoring.ml.config import resolve_config
from lead_scoring.ml.dataset import matured_label_predicate, select_features
from lead_scoring.ml.distributed import spark_booster_fitter
from lead_scoring.ml.errors import InsufficientHistoryError
from lead_scoring.ml.pipeline import train_and_evaluate
from lead_scoring.ml.registry import REGISTRY_COLUMNS, active_model, deserialize_bundle
from lead_scoring.ml.retrain import retrain_decision
from lead_scoring.ml.sampling import (
    lead_bucket_predicate,
    lead_sample_predicate,
    lead_sample_rates,
    lead_sample_weight_sql,
)
from lead_scoring.ml.scoring import (
    REASONS_PER_SIDE,
    SCORE_COLUMNS,
    lead_rule_points,
    rule_based_scores,
    score_open_leads,
)
from lead_scoring.ml.tables import EVALUATION_TABLES, pack_table
from lead_scoring.warehouse import (
    aggregate_row,
    is_spark_frame,
    relation_to_pandas,
    select_expressions,
    table_exists,
)

logger = logging.getLogger(__name__)

INT_KEYS = (
    "horizon_days",
    "min_positive_labels",
    "seed",
    "nthread",
    "top_k_factors",
    "train_max_rows",
    "cv_folds",
    "cv_max_train_rows",
    "cv_max_valid_rows",
    "timing_max_rows",
    "cv_min_train_positives",
    "cv_min_valid_positives",
    "baseline_max_train_rows",
    "lr_max_rows",
    "segment_min_positives",
)
BOOL_KEYS = ("impute_censored_labels", "distributed_training")
# an ml_models row: the registry columns, then the evaluation tables of its run as JSON
ML_MODELS_COLUMNS = REGISTRY_COLUMNS + [t.json_column for t in EVALUATION_TABLES.values()]


def parse_ml_config(raw: dict | None) -> dict:
    config = dict(raw or {})
    for key in INT_KEYS:  # values rendered from a dbt var in YAML arrive as strings
        if key in config and config[key] is not None:
            text = str(config[key]).strip().lower()
            config[key] = None if text in ("none", "null", "") else int(float(text))
    for key in BOOL_KEYS:  # likewise "True" / "false"
        if isinstance(config.get(key), str):
            text = config[key].strip().lower()
            if text not in ("true", "false"):
                raise ValueError(f"ml config {key} must be true or false, got {config[key]!r}")
            config[key] = text == "true"
    extra = config.get("extra_models")
    if isinstance(extra, str):  # var ml_extra_models rendered into YAML: "['mlp']" or "mlp,tree"
        text = extra.strip()
        parsed = ast.literal_eval(text) if text.startswith(("[", "(")) else text.split(",")
        config["extra_models"] = [str(m).strip() for m in parsed if str(m).strip()]
    return config


def fallback_row(features, rules, config, trained_at, reason) -> pd.DataFrame:
    labeled = features[features["label_converted_in_horizon"].notna()]
    scores = rule_based_scores(features, rules, config, history=labeled)
    version = str(scores["model_version"].iloc[0]) if len(scores) else "rules-unscored"
    row = {c: None for c in REGISTRY_COLUMNS}
    row.update(
        model_version=version,
        model_name="rule_points",
        trained_at=trained_at,
        horizon_days=int(config.get("horizon_days", 30)),
        n_train_rows=len(labeled),
        n_train_positives=int(labeled["label_converted_in_horizon"].sum()),
        params_json=json.dumps(config, sort_keys=True, default=str),
        metadata_json=json.dumps({"fallback_reason": reason}),
        validation_method="none",
        calibration_source="rules",
    )
    frame = pd.DataFrame([row])
    return typed_registry(frame)


def typed_registry(frame: pd.DataFrame) -> pd.DataFrame:
    for c in REGISTRY_COLUMNS:
        if c.endswith(("_start", "_end")) or c in ("trained_at", "scoring_at"):
            frame[c] = pd.to_datetime(frame[c])
        elif c in ("horizon_days", "n_train_rows", "n_train_positives", "best_iteration"):
            frame[c] = frame[c].astype("Int64")
        elif not c.endswith("_blob"):
            frame[c] = frame[c].astype("string")
    for table in EVALUATION_TABLES.values():
        if table.json_column not in frame.columns:
            frame[table.json_column] = pack_table(table)
    return frame


def scoring_time(mart):
    value = aggregate_row(mart.filter("is_scoring_snapshot"), "max(snapshot_at)")[0]
    return pd.Timestamp(value) if value is not None else None


TEST_SAMPLE_FACTOR = 2


def labeled_snapshots(mart, scoring_at, config):
    """The snapshots whose shortest-horizon label is known, as pandas (through Arrow). Above
    train_max_rows a seeded sample of whole leads: every lead that converted (all its snapshots),
    a share of the others, each row weighted by 1 / its lead's sampling rate; and then a loader
    of the test window, a sample of whole leads too (TEST_SAMPLE_FACTOR times the share of the
    non-converting leads, weighted: unbiased for the whole window without a second full copy of
    the newest months in memory), or None when nothing was sampled."""
    horizons = [7, 30, 90, int(config.get("horizon_days", 30))]
    shortest = min(horizons)
    if scoring_at is not None:
        rows = mart.filter(matured_label_predicate(scoring_at, shortest))
    else:
        rows = mart.filter("not is_scoring_snapshot and label_converted_in_horizon is not null")
    counts = aggregate_row(
        rows,
        "count(*) filter (where label_converted_at is not null) as converting",
        "count(*) filter (where label_converted_at is null) as other",
    )
    converting, other = int(counts[0] or 0), int(counts[1] or 0)
    cap = config.get("train_max_rows", 400_000)
    rate = lead_sample_rates(converting, other, cap)
    if rate == (1.0, 1.0):
        frame = relation_to_pandas(rows)
        frame["sample_weight"] = 1.0
        return frame, None
    print(
        f"ml_models: {converting + other:,} labeled snapshots above train_max_rows={cap:,}: "
        f"sampling whole leads (converting at {rate[0]:.3f}, others at {rate[1]:.3f})"
    )
    sampled = select_expressions(
        rows.filter(lead_sample_predicate(*rate)),
        "*",
        f"{lead_sample_weight_sql(*rate)} as sample_weight",
    )
    # the test window: TEST_SAMPLE_FACTOR times the share of the other leads (the same hash, so
    # the training sample's leads are among them), loaded once the window is known
    test_rate = (rate[0], min(1.0, rate[1] * TEST_SAMPLE_FACTOR))

    def test_window(start, end):
        window = rows.filter(
            f"snapshot_at >= timestamp '{pd.Timestamp(start)}' "
            f"and snapshot_at <= timestamp '{pd.Timestamp(end)}'"
        ).filter(lead_sample_predicate(*test_rate))
        return relation_to_pandas(
            select_expressions(
                window, "*", f"{lead_sample_weight_sql(*test_rate)} as sample_weight"
            )
        )

    return relation_to_pandas(sampled), test_window


def distributed_fit(mart, resolved, scoring_at):
    """The production fit on Spark's executors when config ``distributed_training`` asks for it
    (:mod:`lead_scoring.ml.distributed`), else None: single-node XGBoost. On DuckDB the key is
    reported and single-node training goes on (one machine is all DuckDB has)."""
    if not resolved.distributed_training:
        return None
    if not is_spark_frame(mart):
        print(
            "ml_models: var ml_distributed_training is set, but distributed training needs the "
            "Spark target: training single-node XGBoost"
        )
        return None
    if scoring_at is None:
        print(
            "ml_models: var ml_distributed_training is set, but the mart has no scoring "
            "snapshot to date the labels by: training single-node XGBoost"
        )
        return None
    return spark_booster_fitter(mart, resolved.horizon_days, scoring_at)


def health_checks(session, schema: str):
    if not table_exists(session, schema, "ml_model_health"):
        return None
    return relation_to_pandas(
        session.sql(
            f"select model_version, scored_at, checked_at, requires_retraining, reasons "
            f"from {schema}.ml_model_health"
        )
    )


def registry_rows(
    mart,
    rules: pd.DataFrame,
    raw_config: dict | None,
    registry: pd.DataFrame | None = None,
    health: pd.DataFrame | None = None,
    retrain: str = "auto",
    retrain_every_days: int = 7,
) -> pd.DataFrame:
    """What the ``ml_models`` dbt model appends (module doc): no row, the re-activated older
    row, a newly trained row or the rule fallback row. ``mart``: the DuckDB relation of
    fct_lead_features; ``registry`` / ``health``: the current ml_models and ml_model_health
    rows (None on a first build)."""
    config = parse_ml_config(raw_config)
    trained_at = pd.Timestamp.now(tz="UTC").tz_localize(None).floor("s")
    scoring_at = scoring_time(mart)
    incremental = registry is not None
    registry = registry if registry is not None else pd.DataFrame()
    resolved = resolve_config(config)
    features = select_features(
        relation_to_pandas(mart.limit(1)), resolved.include_features, resolved.exclude_features
    )
    decision = retrain_decision(
        retrain,
        registry,
        scoring_at,
        resolved.to_dict(),
        features,
        int(float(retrain_every_days)),
        health,
    )
    print(f"ml_models: {'retrain' if decision.retrain else 'no retrain'}: {decision.reason}")
    if not decision.retrain:
        chosen = decision.model
        if active_model(registry)["model_version"] == chosen["model_version"]:
            return typed_registry(pd.DataFrame(columns=ML_MODELS_COLUMNS))
        # re-activate an older version (one trained at or before this scoring date)
        row = pd.DataFrame([chosen]).reindex(columns=ML_MODELS_COLUMNS)
        row["trained_at"] = trained_at
        return typed_registry(row)
    labeled, test_window = labeled_snapshots(mart, scoring_at, config)
    try:
        result = train_and_evaluate(
            labeled,
            config,
            rules=rules,
            trained_at=trained_at,
            scoring_at=scoring_at,
            test_frame=test_window,
            distributed_fit=distributed_fit(mart, resolved, scoring_at),
        )
    except InsufficientHistoryError as exc:
        reason = str(exc)
        logger.warning(
            "ml_models: not enough labeled history to train (%s); "
            "writing the rule-based fallback registry row",
            reason,
        )
        print(f"ml_models: InsufficientHistoryError: {reason} -- using the rule-based fallback")
        del labeled
        registry_row = fallback_row(relation_to_pandas(mart), rules, config, trained_at, reason)
    else:
        registry_row = result.registry.copy()
        for table in EVALUATION_TABLES.values():
            registry_row[table.json_column] = pack_table(table, getattr(result, table.attribute))
        registry_row = typed_registry(registry_row)
    if (
        incremental
        and len(registry)
        and active_model(registry)["model_version"] == registry_row["model_version"].iloc[0]
    ):
        return registry_row.iloc[0:0]  # same data, config and code: the active row stays as it is
    return registry_row


# ---------------------------------------------------------------- ml_scores

FLOAT_SCORE_COLUMNS = (
    "conversion_probability",
    "conversion_probability_7d",
    "conversion_probability_30d",
    "conversion_probability_90d",
    "score_confidence",
    "base_rate",
)
INT_SCORE_COLUMNS = ("lead_score", "fit_score", "engagement_score", "rule_points")
# ml_scores: the scores, then the rule seed's points of every lead (the A/B test's rules arm)
ML_SCORES_COLUMNS = [*SCORE_COLUMNS, "rule_points"]
# open leads scored at a time by open_lead_scores (features, SHAP matrix and reasons of a bucket)
SCORING_CHUNK_ROWS = 100_000
STRING_SCORE_COLUMNS = (
    "lead_id",
    "score_band",
    "top_factors",
    "top_factors_json",
    "reasons_for",
    "reasons_against",
    "model_version",
)


def open_lead_scores(
    mart,
    registry: pd.DataFrame,
    rules: pd.DataFrame,
    pinned=None,
    reasons_per_side: int | None = None,
    chunk_rows: int = SCORING_CHUNK_ROWS,
) -> pd.DataFrame:
    """One row per lead open at the scoring date (``is_scoring_snapshot``), typed for the
    ``scored_leads`` contract. A trained row -> :func:`~.scoring.score_open_leads`; the rule
    fallback -> :func:`~.scoring.rule_based_scores`, its points mapped on the labeled history.
    Either way the columns :data:`ML_SCORES_COLUMNS`: the scores, then ``rule_points``, the
    rule seed's total points of the lead (:func:`~.scoring.lead_rule_points`), which rank the
    leads of the A/B test's rules arm. ``reasons_per_side``: reasons listed for and against
    (default :data:`~.scoring.REASONS_PER_SIDE`). The open leads are scored ``chunk_rows`` at a
    time (:func:`scoring_buckets`)."""
    k = int(reasons_per_side) if reasons_per_side not in (None, "", "None") else REASONS_PER_SIDE
    chosen = active_model(registry, pinned)
    if chosen["model_name"] == "rule_points":
        # the rule fallback maps points to probabilities on the history: the whole mart
        features = relation_to_pandas(mart)
        labeled = features[features["label_converted_in_horizon"].notna()]
        return scores_of_features(features, chosen, None, rules, k, labeled)
    # only the scoring snapshots leave DuckDB (one row per open lead, not the whole grid), a
    # bucket of leads at a time: the frames, the SHAP matrix and the reasons of a million open
    # leads at once would hold many GB next to DuckDB's buffer (each lead is scored alone)
    bundle = deserialize_bundle(chosen)
    open_rows = mart.filter("is_scoring_snapshot")
    buckets = scoring_buckets(aggregate_row(open_rows, "count(*)")[0], chunk_rows)
    if buckets == 1:
        return scores_of_features(relation_to_pandas(open_rows), chosen, bundle, rules, k)
    parts = [
        scores_of_features(
            relation_to_pandas(open_rows.filter(lead_bucket_predicate(buckets, bucket))),
            chosen,
            bundle,
            rules,
            k,
        )
        for bucket in range(buckets)
    ]
    return pd.concat([p for p in parts if len(p)] or parts[:1], ignore_index=True)


def scoring_buckets(open_leads: int, chunk_rows: int = SCORING_CHUNK_ROWS) -> int:
    """How many buckets of leads :func:`open_lead_scores` scores one after another: one per
    ``chunk_rows`` open leads, at least one."""
    return max(1, -(-int(open_leads) // max(1, int(chunk_rows))))


def scores_of_features(
    features: pd.DataFrame,
    chosen: dict,
    bundle,
    rules: pd.DataFrame,
    reasons_per_side: int,
    labeled: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """:data:`ML_SCORES_COLUMNS` of the scoring snapshots in ``features`` (rows of the feature
    mart), typed: the one scoring step of ``ml_scores`` and of the real-time API
    (:mod:`lead_scoring.serve`). ``chosen`` is the ml_models row, ``bundle`` its deserialized
    model (None for the rule fallback, whose points are mapped on ``labeled``, the labeled
    history of the mart)."""
    k = reasons_per_side
    if chosen["model_name"] == "rule_points":
        config = json.loads(chosen["params_json"] or "{}")  # the ml config of the fallback run
        scores = rule_based_scores(features, rules, config, history=labeled, reasons_per_side=k)
        # the registry row is the source of truth (the mapping hash can differ in the last bits)
        scores["model_version"] = chosen["model_version"]
    else:
        scores = score_open_leads(bundle, features, reasons_per_side=k)
    scores = scores[SCORE_COLUMNS].merge(
        lead_rule_points(features, rules), on="lead_id", how="left", validate="one_to_one"
    )[ML_SCORES_COLUMNS]
    scores["scored_at"] = pd.to_datetime(scores["scored_at"])
    for c in FLOAT_SCORE_COLUMNS:
        scores[c] = scores[c].astype("float64")
    for c in INT_SCORE_COLUMNS:
        scores[c] = scores[c].astype("Int64")
    for c in STRING_SCORE_COLUMNS:
        scores[c] = scores[c].astype("string")
    return scores
