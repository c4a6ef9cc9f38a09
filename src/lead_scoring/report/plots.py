"""The report's figures, drawn with matplotlib's object API (Agg, no pyplot state).

Each function takes the frames a section prepared and returns a :class:`Figure`;
:func:`png_base64` encodes one for an embedded ``<img>`` (no file next to the page, nothing
fetched). The PNGs carry no software or date metadata, so the same data draws the same bytes.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from lead_scoring.report.formatting import is_missing, model_label

MODEL_COLORS = {"xgboost": "#1f5fa8", "logistic_regression": "#e07b00", "rule_points": "#7a7a7a"}
ARM_COLORS = {"model": MODEL_COLORS["xgboost"], "rules": MODEL_COLORS["rule_points"]}
BAND_COLORS = {"A": "#1a7f37", "B": "#74c476", "C": "#f2b134", "D": "#b8b8b8"}
DRIFT_COLORS = {"major": "#d62728", "moderate": "#f2b134"}  # else stable
CURVE_MODELS = ("xgboost", "logistic_regression", "rule_points")
PALETTE = ("#6a3d9a", "#17becf", "#bcbd22", "#8c564b", "#e377c2", "#2ca02c", "#d62728")
ATTRIBUTION_PALETTE = (
    "#1f5fa8",
    "#e07b00",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#17becf",
    "#7a7a7a",
    "#bcbd22",
)


def png_base64(fig: Figure) -> str:
    """The figure as a base64 PNG (100 dpi, tight bounding box, no metadata)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight", metadata={"Software": None})
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def model_color(model: str, index: int) -> str:
    """The fixed colour of a known model, else the ``index``-th colour of the palette."""
    return MODEL_COLORS.get(model, PALETTE[index % len(PALETTE)])


def _model_line(ax: Axes, x, y, model: str, index: int, markersize: float) -> None:
    """One model's curve: dots joined by a line, in the model's colour, labelled."""
    ax.plot(
        x,
        y,
        "o-",
        color=model_color(model, index),
        label=model_label(model),
        markersize=markersize,
    )


def _unit_square(ax: Axes, diagonal: str, top: float, **text: str) -> None:
    """Axes from 0 to 1 (y to ``top``) with the dotted diagonal labelled ``diagonal``."""
    ax.plot([0, 1], [0, 1], ":", color="black", linewidth=1, label=diagonal)
    ax.set(xlim=(0, 1), ylim=(0, top), **text)


def _percent_axis(axis, digits: int = 0) -> None:
    axis.set_major_formatter(lambda v, _: f"{100 * v:.{digits}f}%")


# ---------------------------------------------------------------- evaluation


def reliability(bins: pd.DataFrame, lift: pd.DataFrame) -> Figure:
    """Left: equal-width probability bins per model; right: the score deciles on log axes."""
    fig = Figure(figsize=(11, 4.6))
    left, right = fig.subplots(1, 2)
    models = [m for m in CURVE_MODELS if m in set(bins.get("model_name", []))]
    for i, name in enumerate(models):
        rows = bins[(bins["model_name"] == name) & (bins["count"] > 0)].sort_values(
            "mean_predicted"
        )
        sizes = 12 + 200 * (rows["count"] / max(float(bins["count"].max()), 1.0)) ** 0.5
        left.plot(
            rows["mean_predicted"],
            rows["observed_rate"],
            "-",
            color=model_color(name, i),
            alpha=0.7,
            label=model_label(name),
        )
        left.scatter(
            rows["mean_predicted"],
            rows["observed_rate"],
            s=sizes,
            color=model_color(name, i),
            alpha=0.8,
            edgecolor="white",
            linewidth=0.5,
        )
        if name == "xgboost":  # how many leads stand behind each point
            for x, y, n in zip(
                rows["mean_predicted"], rows["observed_rate"], rows["count"], strict=True
            ):
                left.annotate(
                    f"n={int(n):,}",
                    (x, y),
                    textcoords="offset points",
                    xytext=(4, 4),
                    fontsize=7,
                    color=model_color(name, i),
                )
    _unit_square(
        left,
        "perfect calibration",
        1.06,
        xlabel="predicted probability (bin mean)",
        ylabel="observed conversion rate",
        title="Equal-width probability bins (dot area ~ leads)",
    )
    left.legend(loc="upper left", fontsize=8)
    _decile_reliability(right, lift)
    fig.tight_layout()
    return fig


def _decile_reliability(ax: Axes, lift: pd.DataFrame) -> None:
    needed = {"mean_probability", "conversion_rate"}
    if lift.empty or not needed <= set(lift.columns):
        ax.text(0.5, 0.5, "no decile data", ha="center", va="center")
        ax.set_axis_off()
        return
    values = []
    models = [m for m in CURVE_MODELS if m in set(lift["model_name"])]
    for i, name in enumerate(models):
        rows = lift[lift["model_name"] == name].sort_values("mean_probability")
        _model_line(ax, rows["mean_probability"], rows["conversion_rate"], name, i, 5)
        values.extend(rows["mean_probability"].tolist() + rows["conversion_rate"].tolist())
    positive = [v for v in values if not is_missing(v) and v > 0]
    low = max(min(positive) / 2, 1e-5) if positive else 1e-3
    high = min(max(positive) * 2, 1.0) if positive else 1.0
    ax.plot([low, high], [low, high], ":", color="black", linewidth=1)
    ax.set_xscale("log")
    ax.set_yscale("symlog", linthresh=low)  # symlog: a decile without conversions shows at 0
    ax.set(
        xlim=(low, high),
        ylim=(0, high),
        xlabel="mean predicted probability of the decile (log)",
        ylabel="observed conversion rate (0, then log)",
        title="Score deciles (equal-sized groups)",
    )
    ax.legend(loc="upper left", fontsize=8)


def gains(lift: pd.DataFrame, models: Sequence[str]) -> Figure:
    """Left: cumulative gains per model; right: lift by decile, one bar per model."""
    fig = Figure(figsize=(11, 4.4))
    gains_ax, lift_ax = fig.subplots(1, 2)
    width = 0.8 / len(models)
    for i, name in enumerate(models):
        rows = lift[lift["model_name"] == name].sort_values("decile")
        share = rows["decile"] / rows["decile"].max()
        _model_line(gains_ax, [0, *share], [0, *rows["cumulative_recall"]], name, i, 4)
        lift_ax.bar(
            rows["decile"] + (i - (len(models) - 1) / 2) * width,
            rows["lift"],
            width=width,
            color=model_color(name, i),
            label=model_label(name),
        )
    _unit_square(
        gains_ax,
        "random order",
        1.02,
        xlabel="share of leads contacted, best scores first",
        ylabel="share of all conversions reached",
        title="Cumulative gains",
    )
    _percent_axis(gains_ax.xaxis)
    _percent_axis(gains_ax.yaxis)
    gains_ax.legend(loc="lower right", fontsize=8)
    lift_ax.axhline(1, color="black", linestyle=":", linewidth=1)
    lift_ax.set(
        xlabel="score decile (1 = top 10% of scores)",
        ylabel="lift (× average rate)",
        title="Lift by decile",
        xticks=range(1, 11),
    )
    lift_ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    return fig


def score_histogram(grid: pd.DataFrame, bands: Sequence[str]) -> Figure:
    """Open leads per lead_score (rows of ``grid``), stacked by band (its columns), log scale."""
    fig = Figure(figsize=(11, 4))
    ax = fig.subplots()
    bottom = pd.Series(0.0, index=grid.index)
    for band in bands:
        ax.bar(
            grid.index,
            grid[band],
            bottom=bottom,
            width=0.9,
            color=BAND_COLORS.get(band, "#999999"),
            label=f"band {band}",
        )
        bottom = bottom + grid[band]
    ax.set_yscale("log")
    ax.set_ylim(bottom=0.5)  # a single lead still shows as a bar
    ax.set(
        xlabel="lead_score (0–100 = probability in %)",
        ylabel="leads (log scale)",
        title="Open leads by score, coloured by band",
    )
    ax.set_xlim(-1, max(10, int(grid.index.max()) + 2))
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def feature_importance(values: pd.Series, labels: pd.Series) -> Figure:
    """Horizontal bars of mean |SHAP|, the largest at the top."""
    fig = Figure(figsize=(9, 0.32 * len(values) + 1.2))
    ax = fig.subplots()
    ax.barh(range(len(values))[::-1], values, color=MODEL_COLORS["xgboost"])
    ax.set_yticks(range(len(values))[::-1], labels)
    ax.set(xlabel="mean |SHAP| (log-odds)", title=f"Top {len(values)} features by mean |SHAP|")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- business


def attribution(conversions: pd.DataFrame, models: Sequence[str]) -> Figure:
    """Attributed conversions per channel (rows), one bar per attribution model (columns)."""
    fig = Figure(figsize=(12, 4.6))
    ax = fig.subplots()
    width = 0.85 / len(models)
    for i, name in enumerate(models):
        ax.bar(
            [x + (i - (len(models) - 1) / 2) * width for x in range(len(conversions))],
            conversions[name],
            width=width,
            label=name,
            color=ATTRIBUTION_PALETTE[i % len(ATTRIBUTION_PALETTE)],
        )
    ax.set_xticks(range(len(conversions)), conversions.index.astype(str), rotation=20)
    ax.set(
        ylabel="attributed conversions",
        title="Conversions credited to each channel, by attribution model",
    )
    ax.legend(fontsize=8, ncols=min(len(models), 4))
    fig.tight_layout()
    return fig


def channel_mix(lift: pd.Series, labels: Sequence[str], pooled: Sequence[bool]) -> Figure:
    """Lift per channel mix: green above the base rate, grey below, light blue when pooled."""
    fig = Figure(figsize=(9, 0.34 * len(lift) + 1.4))
    ax = fig.subplots()
    y = range(len(lift))[::-1]
    ax.barh(
        y,
        lift,
        color=[
            "#9ecae1" if was_pooled else ("#1a7f37" if v >= 1 else "#b8b8b8")
            for v, was_pooled in zip(lift, pooled, strict=True)
        ],
    )
    ax.set_yticks(list(y), labels, fontsize=8)
    ax.axvline(1.0, color="black", linestyle=":", linewidth=1)
    ax.set(
        xlabel="lift (conversion rate / base rate; 1 = the average scored lead)",
        title="Conversion within the horizon by channel mix (scored leads)",
    )
    fig.tight_layout()
    return fig


def experiment(
    labels: Sequence[str],
    rates: dict[str, pd.Series],
    difference: pd.Series,
    lower: pd.Series,
    upper: pd.Series,
) -> Figure:
    """Left: conversion rate per segment and arm (``rates`` by arm); right: model − rules in
    percentage points with its 95% interval."""
    fig = Figure(figsize=(11, 3.6))
    rate_ax, diff_ax = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    x = range(len(labels))
    for offset, arm in ((-0.2, "model"), (0.2, "rules")):
        rate_ax.bar(
            [i + offset for i in x],
            rates[arm],
            width=0.4,
            color=ARM_COLORS[arm],
            label=f"{arm} arm",
        )
    rate_ax.set_xticks(list(x), labels)
    _percent_axis(rate_ax.yaxis, 1)
    rate_ax.set(title="Conversion rate within the horizon, by arm")
    rate_ax.legend(fontsize=8)
    y = list(range(len(labels)))[::-1]
    shown = difference.notna().to_numpy()
    diff_ax.errorbar(
        100 * difference[shown],
        [v for v, ok in zip(y, shown, strict=True) if ok],
        xerr=[
            100 * (difference - lower)[shown].clip(lower=0),
            100 * (upper - difference)[shown].clip(lower=0),
        ],
        fmt="o",
        color=ARM_COLORS["model"],
        ecolor="#444444",
        capsize=3,
    )
    diff_ax.axvline(0, color="black", linestyle=":", linewidth=1)
    diff_ax.set_yticks(y, labels)
    diff_ax.set(
        xlabel="model − rules, percentage points (95% interval)",
        title="Difference",
    )
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- monitoring


def drift(psi: pd.Series, features: Sequence[str], levels: Sequence[object]) -> Figure:
    """PSI of the features that moved most, coloured by drift level, with the two limits."""
    fig = Figure(figsize=(9, 0.32 * len(psi) + 1.3))
    ax = fig.subplots()
    colors = [DRIFT_COLORS.get(str(v), "#74c476") for v in levels]
    ax.barh(range(len(psi))[::-1], psi, color=colors)
    ax.set_yticks(range(len(psi))[::-1], features)
    for limit in (0.1, 0.25):
        ax.axvline(limit, color="black", linestyle=":", linewidth=1)
    ax.set(xlabel="PSI (0.1 moderate, 0.25 major)", title="Features that moved most")
    fig.tight_layout()
    return fig


def backtest_bands(
    bands: Sequence[str], predicted: pd.Series, observed: pd.Series, title: str
) -> Figure:
    """Predicted (mean probability) next to observed conversion rate, per band."""
    fig = Figure(figsize=(8, 3.8))
    ax = fig.subplots()
    x = range(len(bands))
    ax.bar(
        [i - 0.2 for i in x],
        predicted,
        width=0.4,
        color="#9ecae1",
        label="predicted (mean probability)",
    )
    ax.bar(
        [i + 0.2 for i in x],
        observed,
        width=0.4,
        color=MODEL_COLORS["xgboost"],
        label="observed conversion rate",
    )
    ax.set_xticks(list(x), [f"band {b}" for b in bands])
    _percent_axis(ax.yaxis, 1)
    ax.set(title=title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def backtest_auc(when: pd.Series, auc: pd.Series) -> Figure:
    """The backtest AUC of each scored cohort over time."""
    fig = Figure(figsize=(8, 3.2))
    ax = fig.subplots()
    ax.plot(pd.to_datetime(when), auc, "o-", color=MODEL_COLORS["xgboost"])
    ax.set(ylabel="AUC", title="Backtest AUC by scored cohort")
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig
