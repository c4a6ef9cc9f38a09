"""The body of the ``ml_drift`` dbt model, as a plain function pytest can call: drift of the
current scoring run against the recent labeled history of the model that scores it, like for like.

* current = the scoring snapshots of fct_lead_features (``is_scoring_snapshot``: one row per open
  lead; above ``max_current_rows`` a seeded sample of them), scored here with the model
  ml_scores scores with (the active ml_models row, or var ``ml_model_version``): the same
  calibrated probability, without the reasons, so ml_drift does not wait for ml_scores and the
  two run side by side (the sample bounds the memory the two hold at once);
* reference = the labeled grid snapshots in the test window of that model, or, for a model
  without one (``validation_method = 'none'``), the last ``reference_days``
  (28) days of labeled snapshots (``lead_scoring.monitoring.reference``); above
  ``max_reference_rows`` a seeded sample of whole leads. It is scored with the registered booster
  and calibrator (no retraining);
* ``age_weighted_drift_table``: the reference re-weighted to the current lead-age mix, PSI / KS /
  chi-square p-value per feature and for the score, Benjamini-Hochberg over all rows (q = var
  ``drift_fdr``), features that grow with time out of the verdict (var
  ``drift_time_growing_features``), ``counts_for_verdict`` = in the verdict, PSI above var
  ``drift_psi_major`` and significant.

With the rule-based fallback there is no trained model and no test split: the table is empty (and
the log says so; ml_model_health has its own reason for the fallback).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from lead_scoring.ml.registry import active_model, deserialize_bundle
from lead_scoring.ml.sampling import lead_sample_predicate
from lead_scoring.ml.scoring import score
from lead_scoring.monitoring.drift import DRIFT_COLUMNS, age_weighted_drift_table
from lead_scoring.monitoring.reference import LABELED_SNAPSHOTS, reference_window
from lead_scoring.monitoring.verdict import resolve_patterns
from lead_scoring.warehouse import aggregate_row, relation_to_pandas, select_columns

KEYS = ["model_version", "scored_at", "reference_source", "reference_start", "reference_end"]
STRINGS = ("model_version", "reference_source", "drift_scope", "feature", "drift_level",
           "verdict_note")  # fmt: skip
BOOLEANS = ("is_significant", "in_verdict", "counts_for_verdict")
INTEGERS = ("reference_rows", "current_rows")
AGE_COLUMN = "lead_age_days"
LEAD_COLUMN = "lead_id"


def typed_drift(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.reindex(columns=KEYS + DRIFT_COLUMNS)
    for c in frame.columns:
        if c in STRINGS:
            frame[c] = frame[c].astype("string")
        elif c in BOOLEANS:
            frame[c] = frame[c].astype("boolean")
        elif c in INTEGERS:
            frame[c] = frame[c].astype("int64")
        elif c in ("scored_at", "reference_start", "reference_end"):
            frame[c] = pd.to_datetime(frame[c]).astype("datetime64[us]")
        else:
            frame[c] = frame[c].astype("float64")
    return frame


def _scalar(relation, expression: str):
    return aggregate_row(relation, expression)[0]


def drift_rows(mart, registry: pd.DataFrame, config: Mapping, pinned=None) -> pd.DataFrame:
    """What the ``ml_drift`` dbt model writes (module doc). ``mart``: the DuckDB relation of
    fct_lead_features; ``registry``: ml_models; ``config``: the dbt model's config
    (``psi_moderate``, ``psi_major``, ``fdr``, ``time_growing_features``, ``reference_days``,
    ``age_bins``, ``weight_cap``, ``max_reference_rows``, ``max_current_rows``); ``pinned``:
    var ``ml_model_version``, the version ml_scores scores with
    (:func:`~lead_scoring.ml.registry.active_model`)."""
    moderate = float(config["psi_moderate"])
    major = float(config["psi_major"])
    fdr = float(config.get("fdr") or 0.05)
    patterns = resolve_patterns(config.get("time_growing_features"))
    reference_days = int(float(config.get("reference_days") or 28))
    age_bins = int(float(config.get("age_bins") or 10))
    weight_cap = float(config.get("weight_cap") or 20)
    max_rows = int(float(config.get("max_reference_rows") or 200_000))
    max_current = int(float(config.get("max_current_rows") or 200_000))

    row = active_model(registry, pinned)
    if row["model_name"] != "xgboost":
        print("ml_drift: no trained model scores the leads (rule-based fallback): no drift rows")
        return typed_drift(pd.DataFrame())
    bundle = deserialize_bundle(row)
    wanted = [LEAD_COLUMN, "snapshot_at", AGE_COLUMN, *bundle.spec.columns]
    open_leads = mart.filter("is_scoring_snapshot")
    n_open = int(_scalar(open_leads, "count(*)") or 0)
    if n_open == 0:
        print("ml_drift: no open lead to score: no drift rows")
        return typed_drift(pd.DataFrame())
    if n_open > max_current:
        rate = max_current / n_open
        print(f"ml_drift: {n_open:,} open leads: a {rate:.3f} sample of them")
        open_leads = open_leads.filter(lead_sample_predicate(rate, rate, LEAD_COLUMN))
    current = relation_to_pandas(select_columns(open_leads, wanted))
    window = reference_window(
        row,
        _scalar(mart.filter(LABELED_SNAPSHOTS), "max(snapshot_at)"),
        reference_days,
    )
    labeled = mart.filter(window.predicate)
    n_rows = int(_scalar(labeled, "count(*)") or 0)
    if n_rows > max_rows:
        rate = max_rows / n_rows
        print(f"ml_drift: {n_rows:,} reference snapshots: a {rate:.3f} sample of whole leads")
        labeled = labeled.filter(lead_sample_predicate(rate, rate, LEAD_COLUMN))
    reference = relation_to_pandas(select_columns(labeled, wanted))
    print(
        f"ml_drift: {len(current):,} open leads against {len(reference):,} labeled snapshots "
        f"({window.source}, {window.start} .. {window.end})"
    )
    table = age_weighted_drift_table(
        reference,
        current,
        features=list(bundle.spec.columns),
        categorical=list(bundle.spec.categorical),
        reference_scores=score(bundle, reference) if len(reference) else [],
        current_scores=score(bundle, current),
        moderate=moderate,
        major=major,
        age_column=AGE_COLUMN,
        lead_column=LEAD_COLUMN,
        n_age_bins=age_bins,
        weight_cap=weight_cap,
        fdr=fdr,
        time_growing_patterns=patterns,
    )
    table.insert(0, "reference_end", window.end)
    table.insert(0, "reference_start", window.start)
    table.insert(0, "reference_source", window.source)
    table.insert(0, "scored_at", pd.to_datetime(current["snapshot_at"]).max())
    table.insert(0, "model_version", row["model_version"])
    return typed_drift(table)
