"""The model card proper: what was trained, how well it ranks and is calibrated, what it scored.

Each ``section_*`` takes the warehouse and the active model's registry row, computes the rows
its template shows (formatted strings) and its figures, and renders
``templates/sections/<name>.html.j2``.
"""

from __future__ import annotations

import math

import pandas as pd
from markupsafe import Markup

from lead_scoring.ml.metrics import SEGMENT_COLUMNS
from lead_scoring.report import plots
from lead_scoring.report.formatting import (
    BASELINES,
    Cell,
    Row,
    Table,
    fmt_int,
    fmt_num,
    fmt_pct,
    fmt_pct2,
    fmt_points,
    fmt_signed,
    fmt_time,
    fmt_times,
    is_missing,
    model_label,
    model_order,
    table,
)
from lead_scoring.report.load import Warehouse
from lead_scoring.report.rendering import not_available, render
from lead_scoring.report.sections.common import (
    empty_eval_reason,
    for_version,
    metadata,
)

HEADLINE_METRICS = (  # metric, label, digits, higher is better (None: closer to 1 is better)
    ("auc", "AUC", 3, True),
    ("pr_auc", "PR-AUC", 3, True),
    ("brier", "Brier", 4, False),
    ("ece_equal_mass", "ECE (equal-mass)", 4, False),
    ("observed_to_expected", "Observed / expected", 2, None),
    ("log_loss", "Log loss", 4, False),
)
SPLIT_LABELS = {
    "train": "production fit (every matured label)",
    "test": "test fold (all metrics below)",
}
CALIBRATION_SOURCES = {
    "oof": "out-of-fold predictions of every fold",
    "in_sample_recent": "its own predictions on the latest labeled window (in sample)",
}
TOP_FEATURES = 15
DECILE_COLUMNS = (
    "decile",
    "n_rows",
    "n_positives",
    "conversion_rate",
    "lift",
    "cumulative_recall",
    "min_probability",
    "max_probability",
)
# ml_segment_metrics as shown: the build's columns, without the overall AUC and the flag (the
# flag highlights the row); auc_gap is the segment AUC minus the overall AUC
SEGMENT_SHOWN = tuple(c for c in SEGMENT_COLUMNS if c not in ("overall_auc", "is_flagged"))
SEGMENTS_UNFOLDED = 40  # more segments: the flagged ones, all of them folded below


# ---------------------------------------------------------------- model


def section_header(wh: Warehouse, model: pd.Series) -> Markup:
    """The banner of a fallback or unvalidated model, the model's facts and its folds."""
    version, name = str(model["model_version"]), str(model["model_name"])
    meta = metadata(model)
    validation = meta.get("validation") or {}
    facts = model_facts(model, meta)
    scored_versions = _scored_facts(wh, facts)
    mismatch = scored_versions is not None and scored_versions != [version]
    if mismatch:
        facts.append(("scored_leads model_version", ", ".join(scored_versions)))
    return render(
        "sections/header.html.j2",
        fallback_reason=(
            meta.get("fallback_reason") or "too little labeled history to train the model"
            if name == "rule_points"
            else None
        ),
        facts=facts,
        mismatch=mismatch,
        unvalidated_reason=(
            validation.get("reason", "")
            if name != "rule_points" and model.get("validation_method") == "none"
            else None
        ),
        splits=split_table(wh, model),
    )


def model_facts(model: pd.Series, meta: dict) -> list[tuple[str, str]]:
    """Label / value pairs of the registry row: version, training, validation, calibration."""
    name = str(model["model_name"])
    facts = [
        ("Model version", str(model["model_version"])),
        ("Model", model_label(name)),
        ("Trained at (UTC)", fmt_time(model.get("trained_at"))),
        ("Prediction horizon", f"{fmt_int(model.get('horizon_days'))} days"),
        (
            "Training rows / converted",
            f"{fmt_int(model.get('n_train_rows'))} / {fmt_int(model.get('n_train_positives'))}",
        ),
    ]
    validation = meta.get("validation") or {}
    method = model.get("validation_method")
    if name != "rule_points" and not is_missing(method):
        facts.append(
            (
                "Validation",
                f"rolling-origin cross-validation, {fmt_int(validation.get('n_folds'))} folds "
                "purged by the horizon (the newest is the test fold)"
                if method == "rolling_origin_cv"
                else "none: too little history for a purged fold",
            )
        )
    if validation.get("chosen_candidate"):
        facts.append(("Chosen by cross-validation", str(validation["chosen_candidate"])))
    if not is_missing(model.get("chosen_calibrator")):
        raw = model.get("calibration_source")
        source = CALIBRATION_SOURCES.get(str(raw), str(raw or ""))
        facts.append(("Calibrator", f"{model.get('chosen_calibrator')} ({source})".strip()))
    if not is_missing(model.get("best_iteration")):
        facts.append(
            ("Boosting rounds (cross-validated)", fmt_int(model.get("best_iteration") + 1))
        )
    start, end = model.get("train_start"), model.get("train_end")
    if not is_missing(start) or not is_missing(end):
        facts.append(("Data window (labeled snapshots)", f"{fmt_time(start)} → {fmt_time(end)}"))
    return facts


def _scored_facts(wh: Warehouse, facts: list[tuple[str, str]]) -> list[str] | None:
    """Add the leads scored and when to ``facts``; the model versions that scored them."""
    hist = wh.get("score_histogram")
    if hist is None or hist.empty:
        return None
    facts.append(("Leads scored (open at the scoring date)", fmt_int(hist["n_leads"].sum())))
    facts.append(("Scored at (UTC)", fmt_time(hist["scored_at"].max())))
    return sorted(hist["model_version"].astype(str).unique())


def split_table(wh: Warehouse, model: pd.Series) -> Table | None:
    """One row per fold (and the production fit) from ml_split_boundaries; without it, the
    registry's train and test windows; None when neither is known."""
    boundaries = for_version(wh.get("ml_split_boundaries"), str(model["model_version"]))
    if not boundaries.empty and {"split", "start", "end"} <= set(boundaries.columns):
        rows = [_fold_row(r) for r in boundaries.itertuples(index=False)]
        return table(pd.DataFrame(rows).fillna(""))
    rows = []
    for split in ("train", "test"):
        start, end = model.get(f"{split}_start"), model.get(f"{split}_end")
        if is_missing(start) and is_missing(end):
            continue
        rows.append({"Split": SPLIT_LABELS[split], "From": fmt_time(start), "To": fmt_time(end)})
    return table(pd.DataFrame(rows)) if rows else None


def _fold_row(r) -> dict[str, str]:
    split = str(r.split)
    used = getattr(r, "is_used", True)
    label = SPLIT_LABELS.get(split, f"validation window {split.removeprefix('fold_')}")
    if used is False or (not is_missing(used) and not bool(used)):
        label += " (not used: " + str(getattr(r, "dropped_reason", "")) + ")"
    row = {"Split": label, "From": fmt_time(r.start), "To": fmt_time(r.end)}
    if split != "train":
        row["Trained on labels up to"] = fmt_time(getattr(r, "purge_cutoff", None))
    row["Rows"] = fmt_int(getattr(r, "n_rows", None))
    row["Converted leads"] = fmt_int(getattr(r, "n_positive_leads", None))
    row["Conversion rate"] = fmt_pct2(getattr(r, "positive_rate", None))
    return row


# ---------------------------------------------------------------- headline


def metrics_on_test_split(wh: Warehouse, version: str) -> pd.DataFrame:
    """The test-split metrics of ``version``: one row per model, one column per metric."""
    metrics = for_version(wh.get("ml_model_metrics"), version)
    if metrics.empty:
        return pd.DataFrame()
    test = metrics[metrics["split"].astype(str) == "test"]
    return test.pivot_table(index="model_name", columns="metric", values="value", aggfunc="first")


def section_headline(wh: Warehouse, model: pd.Series) -> Markup:
    """The test metrics of every model, the margin of XGBoost over the baselines."""
    metrics = metrics_on_test_split(wh, str(model["model_version"]))
    if metrics.empty:
        return not_available(
            "the rule-based fallback is not evaluated on a test split"
            if model["model_name"] == "rule_points"
            else "main.ml_model_metrics holds no test-split rows for this model version"
        )
    xgb = metrics.loc["xgboost"] if "xgboost" in metrics.index else None
    baselines = [b for b in BASELINES if b in metrics.index] if xgb is not None else []
    return render(
        "sections/headline.html.j2",
        metrics=headline_table(metrics),
        margins=margin_table(metrics, baselines) if baselines else None,
        verdicts=[v for base in baselines if (v := auc_verdict(xgb, metrics.loc[base], base))],
        top_decile=top_decile_sentence(xgb) if xgb is not None else None,
    )


def headline_table(metrics: pd.DataFrame) -> Table:
    """One row per model (XGBoost first, bold), the cells tagged data-model / data-metric."""
    rows = [
        Row(
            [Cell(model_label(name))]
            + [
                Cell(
                    fmt_num(metrics.loc[name].get(metric), digits),
                    "num",
                    (("model", name), ("metric", metric)),
                )
                for metric, _, digits, _ in HEADLINE_METRICS
            ],
            "main" if name == "xgboost" else "",
        )
        for name in model_order(metrics.index)
    ]
    headers = [f"{label} {arrow(up)}" for _, label, _, up in HEADLINE_METRICS]
    return Table(["Model", *headers], rows)


def is_better(mine: float, theirs: float, up: bool | None) -> bool:
    """Higher (up), lower (not up) or, for a ratio (None), closer to 1."""
    if up is None:
        return abs(mine - 1) < abs(theirs - 1)
    return mine > theirs if up else mine < theirs


def arrow(up: bool | None) -> str:
    """↑ higher is better, ↓ lower is better, →1 closer to 1 is better."""
    return "→1" if up is None else ("↑" if up else "↓")


def margin_table(metrics: pd.DataFrame, baselines: list[str]) -> Table:
    """XGBoost minus each baseline, per headline metric, coloured better / worse."""
    xgb = metrics.loc["xgboost"]
    rows = []
    for base in baselines:
        cells = [Cell(model_label(base))]
        for metric, _, digits, up in HEADLINE_METRICS:
            mine, theirs = xgb.get(metric, math.nan), metrics.loc[base].get(metric, math.nan)
            diff = mine - theirs
            verdict = "better" if is_better(mine, theirs, up) else "worse"
            css = "num" if is_missing(diff) or diff == 0 else f"num {verdict}"
            data = (("margin", base), ("metric", metric))
            cells.append(Cell(fmt_signed(diff, digits), css, data))
        rows.append(Row(cells))
    return Table(["XGBoost minus", *(label for _, label, _, _ in HEADLINE_METRICS)], rows)


def auc_verdict(xgb: pd.Series, base: pd.Series, name: str) -> str | None:
    """'ranks better than rule points (+0.120 AUC)': the AUC margin in words (±0.005: about
    as well); None when either AUC is missing."""
    diff = xgb.get("auc", math.nan) - base.get("auc", math.nan)
    if is_missing(diff):
        return None
    verdict = (
        "ranks better than"
        if diff > 0.005
        else ("ranks worse than" if diff < -0.005 else "ranks about as well as")
    )
    return f"{verdict} {model_label(name).lower()} ({fmt_signed(diff)} AUC)"


def top_decile_sentence(xgb: pd.Series) -> str | None:
    """What the top 10% of scores hold, for sales; None without recall or lift at 10%."""
    recall, lift = xgb.get("recall_at_10"), xgb.get("lift_at_10")
    rate, n_rows = xgb.get("positive_rate"), xgb.get("n_rows")
    if is_missing(recall) or is_missing(lift):
        return None
    context = ""
    if not is_missing(rate) and not is_missing(n_rows):
        context = (
            f" (test split: {fmt_int(n_rows)} lead snapshots, of which "
            f"{fmt_pct2(rate)} converted within the horizon)"
        )
    return (
        f"For sales: the 10% of leads with the highest scores hold {fmt_pct(recall, 0)} of the "
        f"conversions, {fmt_num(lift, 1)}× the rate of a random 10%{context}."
    )


# ---------------------------------------------------------------- curves


def section_reliability(wh: Warehouse, model: pd.Series) -> Markup:
    """Predicted probability against observed conversion rate (bins and deciles)."""
    version = str(model["model_version"])
    bins = for_version(wh.get("ml_calibration_bins"), version)
    lift = for_version(wh.get("ml_lift_by_decile"), version)
    if bins.empty and lift.empty:
        return not_available(empty_eval_reason(model))
    png = plots.png_base64(plots.reliability(bins, lift))
    return render("sections/reliability.html.j2", png=png)


def section_gains(wh: Warehouse, model: pd.Series) -> Markup:
    """Cumulative gains and lift by decile of the curve models; XGBoost's deciles in numbers."""
    lift = for_version(wh.get("ml_lift_by_decile"), str(model["model_version"]))
    if lift.empty:
        return not_available(empty_eval_reason(model))
    models = model_order(lift["model_name"])
    models = [m for m in models if m in plots.CURVE_MODELS] or models[:3]
    png = plots.png_base64(plots.gains(lift, models))
    xgb = lift[lift["model_name"] == "xgboost"].sort_values("decile")
    return render(
        "sections/gains.html.j2", png=png, deciles=None if xgb.empty else decile_table(xgb)
    )


def decile_table(deciles: pd.DataFrame) -> Table:
    """The deciles of one model: leads, conversions, rate, lift, reach, probability range."""
    return table(
        deciles[[c for c in DECILE_COLUMNS if c in deciles.columns]],
        formats={
            "conversion_rate": fmt_pct2,
            "lift": lambda v: fmt_num(v, 2),
            "cumulative_recall": fmt_pct,
            "min_probability": fmt_pct2,
            "max_probability": fmt_pct2,
            "decile": fmt_int,
            "n_rows": fmt_int,
            "n_positives": fmt_int,
        },
        headers={
            "n_rows": "leads",
            "n_positives": "converted",
            "conversion_rate": "conversion rate",
            "cumulative_recall": "conversions reached (cumulative)",
            "min_probability": "lowest probability",
            "max_probability": "highest probability",
        },
    )


# ---------------------------------------------------------------- scores


def section_scores(wh: Warehouse, model: pd.Series) -> Markup:
    """Open leads by lead_score and band; per band its rule, share and expected conversions."""
    hist = wh.get("score_histogram")
    if hist is None or hist.empty:
        return not_available("main.scored_leads is empty: no lead was open at the scoring date")
    bands = sorted(hist["score_band"].astype(str).unique())
    grid = hist.pivot_table(
        index="lead_score", columns="score_band", values="n_leads", aggfunc="sum", fill_value=0
    )
    grid.columns = grid.columns.astype(str)
    meta = metadata(model)
    base_rate = meta.get("base_rate")
    return render(
        "sections/scores.html.j2",
        png=plots.png_base64(plots.score_histogram(grid, bands)),
        bands=band_table(band_summary(hist, bands, meta.get("band_thresholds") or {})),
        fallback=model["model_name"] == "rule_points",
        base_rate=None if is_missing(base_rate) else fmt_pct2(base_rate),
    )


def band_summary(hist: pd.DataFrame, bands: list[str], thresholds: dict) -> pd.DataFrame:
    """Per band of the score histogram: its rule, leads, share, score range, mean probability
    and expected conversions (the sum of the probabilities)."""
    summary = (
        hist.groupby(hist["score_band"].astype(str))
        .agg(
            leads=("n_leads", "sum"),
            sum_probability=("sum_probability", "sum"),
            min_score=("lead_score", "min"),
            max_score=("lead_score", "max"),
        )
        .reindex(bands)
    )
    summary["share"] = summary["leads"] / summary["leads"].sum()
    summary["mean_probability"] = summary["sum_probability"] / summary["leads"]
    summary["expected"] = summary["sum_probability"]
    summary["rule"] = [
        f"probability ≥ {fmt_pct2(thresholds[b])}"
        if b in thresholds
        else ("below band C" if thresholds else "–")
        for b in bands
    ]
    columns = ["rule", "leads", "share", "min_score", "max_score", "mean_probability", "expected"]
    return summary.reset_index()[["score_band", *columns]]


def band_table(summary: pd.DataFrame) -> Table:
    return table(
        summary,
        formats={
            "leads": fmt_int,
            "share": fmt_pct,
            "min_score": fmt_int,
            "max_score": fmt_int,
            "mean_probability": fmt_pct2,
            "expected": lambda v: fmt_num(v, 1),
        },
        headers={
            "score_band": "band",
            "rule": "band rule",
            "min_score": "lowest score",
            "max_score": "highest score",
            "mean_probability": "mean probability",
            "expected": "expected conversions",
        },
    )


def section_top_leads(wh: Warehouse, model: pd.Series) -> Markup:
    """The open leads a rep would call first, with the reasons for and against."""
    top = wh.get("top_leads")
    if top is None:
        return not_available(
            "main.scored_leads has no lead_priority or reasons columns (an older build): "
            "run dbt build"
        )
    if top.empty:
        return not_available("main.scored_leads is empty: no lead was open at the scoring date")
    frame = top.copy()
    for column in ("reasons_for", "reasons_against"):
        frame[column] = frame[column].astype(object).where(frame[column].notna(), "–")
    leads = table(
        frame,
        formats={
            "lead_priority": fmt_int,
            "conversion_probability": fmt_pct,
            "lift": fmt_times(1),
        },
        headers={
            "lead_id": "lead",
            "lead_priority": "priority",
            "score_band": "band",
            "conversion_probability": "probability",
            "reasons_for": "reasons for",
            "reasons_against": "reasons against",
        },
    )
    return render("sections/top_leads.html.j2", leads=leads)


# ---------------------------------------------------------------- explanations


def section_importance(wh: Warehouse, model: pd.Series) -> Markup:
    """The features that move the scores most (mean |SHAP|)."""
    imp = for_version(wh.get("ml_feature_importance"), str(model["model_version"]))
    if imp.empty:
        return not_available(empty_eval_reason(model))
    label = "feature_label" if "feature_label" in imp.columns else "feature"
    top = imp.sort_values("mean_abs_shap", ascending=False).head(TOP_FEATURES)
    labels = top[label].where(top[label].notna(), top["feature"]).astype(str)
    png = plots.png_base64(plots.feature_importance(top["mean_abs_shap"], labels))
    share = fmt_pct(top["share"].sum(), 0) if "share" in top.columns else None
    return render("sections/importance.html.j2", png=png, share=share)


def section_segments(wh: Warehouse, model: pd.Series) -> Markup:
    """Calibration and ranking per segment, the flagged segments first and highlighted."""
    seg = for_version(wh.get("ml_segment_metrics"), str(model["model_version"]))
    if seg.empty:
        return not_available(empty_eval_reason(model))
    columns = [c for c in SEGMENT_SHOWN if c in seg.columns]
    seg = seg.assign(_flag=seg["is_flagged"].fillna(False).astype(bool))
    seg = seg.sort_values(["_flag", "segment_column", "n_rows"], ascending=[False, True, False])
    flagged = seg[seg["_flag"]]
    flagged_rows = set(flagged.index)
    every = segment_table(seg[columns], lambda row: "flag" if row.name in flagged_rows else "")
    return render(
        "sections/segments.html.j2",
        n_flagged=len(flagged),
        n_segments=len(seg),
        segments=every,
        flagged=(
            None
            if len(seg) <= SEGMENTS_UNFOLDED
            else segment_table(flagged[columns], lambda row: "flag")
        ),
    )


def segment_table(frame: pd.DataFrame, row_class) -> Table:
    return table(
        frame,
        formats={
            "n_rows": fmt_int,
            "n_positives": fmt_int,
            "positive_rate": fmt_pct2,
            "mean_predicted": fmt_pct2,
            "calibration_gap": fmt_points,
            "auc": fmt_num,
            "auc_gap": fmt_signed,
        },
        headers={
            "segment_column": "segment",
            "segment_value": "value",
            "n_rows": "rows",
            "n_positives": "converted",
            "positive_rate": "observed rate",
            "mean_predicted": "predicted rate",
            "calibration_gap": "predicted − observed",
            "auc": "segment AUC",
            "auc_gap": "segment AUC − overall AUC",
            "flag_reason": "flag",
        },
        row_class=row_class,
    )
