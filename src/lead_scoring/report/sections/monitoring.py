"""The monitoring sections: drift of the latest scoring run, the backtest, the health check.

Their tables are optional and may be named slightly differently by older builds (``pick``
tolerates that); a missing or empty table renders a "not available yet" note saying why.
"""

from __future__ import annotations

import pandas as pd
from markupsafe import Markup

from lead_scoring.report import plots
from lead_scoring.report.formatting import (
    cell_text,
    fmt_num,
    fmt_pct2,
    fmt_time,
    is_missing,
    need,
    pick,
    present,
    table,
)
from lead_scoring.report.load import Warehouse
from lead_scoring.report.rendering import render
from lead_scoring.report.sections.common import WHEN_COLUMNS, latest, optional

TOP_DRIFTED = 15  # features drawn
DRIFT_ROWS = 30  # features listed
BACKTEST_ROWS = 50
HEALTH_ROWS = 50


def section_drift(wh: Warehouse, model: pd.Series) -> Markup:
    """PSI of the scores and of the features that moved most, in the latest scoring run."""
    frame, note = optional(wh, "ml_drift")
    if frame is None:
        return note
    psi = need(frame, "ml_drift", "psi", "population_stability_index")
    scope = pick(frame, "drift_scope", "scope")
    feature = pick(frame, "feature", "feature_name", "column_name")
    level = pick(frame, "drift_level", "level")
    ks = pick(frame, "ks_statistic", "ks", "ks_stat")
    rows, stamp = latest(frame)
    is_score = (rows[scope].astype(str) == "score") if scope else pd.Series(False, rows.index)
    score_rows = rows[is_score]
    features = rows[~is_score].sort_values(psi, ascending=False)
    context: dict[str, object] = {
        "stamp": None if stamp is None else fmt_time(stamp),
        "score": None if score_rows.empty else _score_drift(score_rows.iloc[0], psi, ks, level),
        "png": None,
        "levels": None,
        "features": None,
    }
    if not features.empty and feature:
        top = features.head(TOP_DRIFTED)
        levels = top[level] if level else ["stable"] * len(top)
        figure = plots.drift(top[psi].astype(float), top[feature].astype(str), levels)
        counts = features[level].astype(str).value_counts() if level else pd.Series(dtype=int)
        columns = present(
            feature, psi, ks, level, pick(frame, "reference_rows"), pick(frame, "current_rows")
        )
        context |= {
            "png": plots.png_base64(figure),
            "levels": ", ".join(f"{k} {v}" for k, v in counts.items()),
            "features": table(
                features[columns].head(DRIFT_ROWS),
                {c: fmt_num for c in present(psi, ks)},
                row_class=lambda r: str(r[level]) if level else "",
            ),
        }
    return render("sections/drift.html.j2", **context)


def _score_drift(row: pd.Series, psi: str, ks: str | None, level: str | None) -> str:
    """'Score distribution: PSI 0.031, KS 0.020 (stable).'"""
    text = f"Score distribution: PSI {fmt_num(row[psi], 3)}"
    if ks:
        text += f", KS {fmt_num(row[ks], 3)}"
    if level:
        text += f" ({row[level]})"
    return text + "."


def section_backtest(wh: Warehouse, model: pd.Series) -> Markup:
    """Matured cohorts: predicted against observed conversion per band, the AUC over time."""
    frame, note = optional(wh, "ml_backtest")
    if frame is None:
        return note
    band = pick(frame, "score_band", "band")
    when = pick(frame, "scored_at", "scoring_date", "cohort_scored_at")
    rate = need(frame, "ml_backtest", "conversion_rate", "observed_rate")
    mean_p = pick(frame, "mean_probability", "mean_predicted")
    auc = pick(frame, "auc")
    figures = []
    if band and mean_p:  # the latest cohort that has rows per band
        rows, stamp = latest(frame[frame[band].astype(str) != "all"])
        rows = rows.sort_values(band)
        if not rows.empty:
            figure = plots.backtest_bands(
                rows[band].astype(str).tolist(),
                rows[mean_p].astype(float),
                rows[rate].astype(float),
                f"Cohort scored {fmt_time(stamp)}: predicted vs what happened",
            )
            figures.append((figure, "Backtest: predicted and observed conversion by band"))
    if auc and when and band:
        overall = frame[frame[band].astype(str) == "all"].sort_values(when)
        if overall[when].nunique() >= 2:
            figure = plots.backtest_auc(overall[when], overall[auc].astype(float))
            figures.append((figure, "Backtest AUC over scored cohorts"))
    order = present(when, band)
    shown = frame.sort_values(order, ascending=[False, True][: len(order)])
    formats = {c: fmt_pct2 for c in present(rate, mean_p)} | {c: fmt_num for c in present(auc)}
    return render(
        "sections/backtest.html.j2",
        figures=[(plots.png_base64(figure), alt) for figure, alt in figures],
        cohorts=table(shown.head(BACKTEST_ROWS), formats),
    )


def section_health(wh: Warehouse, model: pd.Series) -> Markup:
    """The latest health check (retrain or not, and why), its values, the earlier checks."""
    frame, note = optional(wh, "ml_model_health")
    if frame is None:
        return note
    rows, stamp = latest(frame)
    row = rows.iloc[0]
    flag = pick(frame, "requires_retraining", "needs_retraining", "retrain")
    reasons = pick(frame, "reasons", "reason")
    verdict = None
    if flag is not None:
        retrain = bool(row[flag]) if not is_missing(row[flag]) else False
        why = None
        if reasons and not is_missing(row[reasons]) and str(row[reasons]).strip():
            why = str(row[reasons])
        verdict = {"retrain": retrain, "why": why}
    history = None
    if len(frame) > 1:
        when = pick(frame, *WHEN_COLUMNS)
        ordered = frame.sort_values(when, ascending=False) if when else frame
        history = table(ordered.head(HEALTH_ROWS))
    return render(
        "sections/health.html.j2",
        verdict=verdict,
        facts=[(c, cell_text(row[c])) for c in frame.columns if c not in (flag, reasons)],
        history=history,
        n_checks=len(frame),
        stamp=None if stamp is None else fmt_time(stamp),
    )
