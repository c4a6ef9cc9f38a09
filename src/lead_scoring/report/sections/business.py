"""The sections for marketing and sales: attribution, channel mixes, the A/B test, the CRM.

Each ``section_*`` takes the warehouse and the active model's registry row and renders
``templates/sections/<name>.html.j2``; the optional ones say why when their table is absent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd
from markupsafe import Markup

from lead_scoring.report import plots
from lead_scoring.report.formatting import (
    Formatter,
    Table,
    fmt_int,
    fmt_num,
    fmt_pct2,
    fmt_points,
    fmt_signed,
    fmt_time,
    fmt_times,
    is_missing,
    need,
    pick,
    present,
    table,
)
from lead_scoring.report.load import Warehouse
from lead_scoring.report.rendering import not_available, render
from lead_scoring.report.sections.common import optional

EXPERIMENT_SEGMENTS = ("top_10pct", "top_20pct", "A", "B", "C", "D")
EXPERIMENT_LABELS = {"top_10pct": "top 10%", "top_20pct": "top 20%"}
ARMS = ("model", "rules")
ARM_MEASURES = ("leads", "conversions", "conversion_rate")  # per arm: <arm>_<measure>
EXPERIMENT_COLUMNS = (  # the columns of ml_experiment_results the section reads
    *(f"{arm}_{measure}" for arm in ARMS for measure in ARM_MEASURES),
    "rate_difference",
    "ci_lower",
    "ci_upper",
    "is_significant",
)
CHANNEL_MIX_CHART_ROWS = 15  # mixes drawn (the largest); the table lists every row
CHANNEL_MIX_UNFOLDED = 30  # more mixes: the first ones, all of them folded below


# ---------------------------------------------------------------- attribution


def section_attribution(wh: Warehouse, model: pd.Series) -> Markup:
    """Conversions credited to each channel by each attribution model; ROAS and CPA."""
    attr = wh.get("fct_channel_attribution")
    if attr is None or attr.empty:
        return not_available(
            "main.fct_channel_attribution is empty: no conversion with a "
            "touch path in the report window"
        )
    order = attribution_models(attr)
    conv = attr.pivot_table(
        index="channel", columns="attribution_model", values="attributed_conversions", aggfunc="sum"
    ).reindex(columns=order)
    conv = conv.loc[conv.sum(axis=1).sort_values(ascending=False).index]
    png = plots.png_base64(plots.attribution(conv, order))
    spend = attr.groupby("channel")["spend"].max().reindex(conv.index)
    paid = spend[spend.notna() & (spend > 0)].index  # ROAS and CPA exist only where spend does

    def by_paid_channel(column: str) -> pd.DataFrame:
        return attr.pivot_table(
            index="channel",
            columns="attribution_model",
            values=column,
            aggfunc="first",
            dropna=False,
        ).reindex(index=paid, columns=order)

    return render(
        "sections/attribution.html.j2",
        png=png,
        window=_report_window(attr),
        paths=_path_counts(attr),
        conversions=channel_table(conv, order, lambda v: fmt_num(v, 1)),
        roas=channel_table(by_paid_channel("roas"), order, lambda v: fmt_num(v, 2), spend),
        cpa=channel_table(by_paid_channel("cost_per_conversion"), order, fmt_int, spend),
        unpaid=", ".join(str(c) for c in conv.index if c not in set(paid)),
    )


def attribution_models(attr: pd.DataFrame) -> list[str]:
    """The attribution models in the build's order (attribution_model_order), else by name."""
    if "attribution_model_order" in attr.columns:
        return (
            attr.groupby("attribution_model")["attribution_model_order"]
            .min()
            .sort_values()
            .index.tolist()
        )
    return sorted(attr["attribution_model"].astype(str).unique())


def channel_table(
    values: pd.DataFrame,
    models: Sequence[str],
    fmt: Formatter,
    spend: pd.Series | None = None,
) -> Table:
    """A channel x attribution model table (and the channel's spend when given)."""
    frame = values.copy()
    frame.columns = [str(c) for c in frame.columns]
    frame.insert(0, "channel", frame.index.astype(str))
    if spend is not None:
        frame.insert(1, "spend", spend.reindex(frame.index).values)
    formats = {c: fmt for c in models}
    formats["spend"] = fmt_int
    return table(frame.reset_index(drop=True), formats)


def _report_window(attr: pd.DataFrame) -> str | None:
    if not {"window_start_date", "window_end_date"} <= set(attr.columns):
        return None
    start, end = attr["window_start_date"].min(), attr["window_end_date"].max()
    return f"{fmt_time(start)} → {fmt_time(end)}"


def _path_counts(attr: pd.DataFrame) -> tuple[str, str] | None:
    if not {"conversions_with_path", "conversions_without_path"} <= set(attr.columns):
        return None
    return (
        fmt_int(attr["conversions_with_path"].max()),
        fmt_int(attr["conversions_without_path"].max()),
    )


# ---------------------------------------------------------------- channel mixes


def short_mix(name: str, width: int = 48) -> str:
    """A chart label for a channel mix: whole when short, else its size and first channels
    ('9 channels: direct + display + email + …'); the table below shows it whole."""
    if len(name) <= width:
        return name
    channels = name.split(" + ")
    head = f"{len(channels)} channels: "
    shown: list[str] = []
    for channel in channels:
        if len(head + " + ".join([*shown, channel])) + 4 > width:
            break
        shown.append(channel)
    return head + " + ".join(shown) + " + …"


def section_channel_mix(wh: Warehouse, model: pd.Series) -> Markup:
    """Which journeys make good leads (fct_channel_mix_performance): lift per channel mix."""
    frame, note = optional(wh, "fct_channel_mix_performance")
    if frame is None:
        return note
    mix = need(frame, "fct_channel_mix_performance", "channel_mix")
    leads = need(frame, "fct_channel_mix_performance", "n_leads")
    rate = need(frame, "fct_channel_mix_performance", "conversion_rate")
    lift = pick(frame, "lift")
    pooled = pick(frame, "is_pooled")
    is_pooled = (
        frame[pooled].fillna(False).astype(bool) if pooled else pd.Series(False, frame.index)
    )
    ordered = pd.concat(
        [
            frame[~is_pooled].sort_values([leads, mix], ascending=[False, True]),
            frame[is_pooled],
        ]
    )
    summary = None
    if pick(frame, "base_conversion_rate"):
        summary = _mix_summary(frame, leads, is_pooled)
    png = None
    if lift:
        drawn = ordered.head(CHANNEL_MIX_CHART_ROWS)
        drawn = drawn[drawn[lift].notna()]
        if not drawn.empty:
            labels = [
                f"{short_mix(name)} ({fmt_int(n)})"
                for name, n in zip(drawn[mix].astype(str), drawn[leads], strict=True)
            ]
            pooled_drawn = is_pooled.reindex(drawn.index).to_numpy()
            figure = plots.channel_mix(drawn[lift].astype(float), labels, pooled_drawn)
            png = plots.png_base64(figure)
    shown = ordered.reset_index(drop=True)
    return render(
        "sections/channel_mix.html.j2",
        summary=summary,
        png=png,
        mixes=mix_table(shown, mix, leads, rate),
        first=(
            None
            if len(ordered) <= CHANNEL_MIX_UNFOLDED
            else mix_table(shown.head(CHANNEL_MIX_UNFOLDED), mix, leads, rate)
        ),
        n_mixes=len(ordered),
    )


def _mix_summary(frame: pd.DataFrame, leads: str, is_pooled: pd.Series) -> str:
    """'N scored leads … convert at x% …; k channel mixes stand alone, m leads are pooled'."""
    base = pick(frame, "base_conversion_rate")
    text = (
        f"{fmt_int(int(frame[leads].sum()))} scored leads of the matured runs convert at "
        f"{fmt_pct2(frame[base].max())} within the horizon (the base rate); "
        f"{len(frame) - int(is_pooled.sum())} channel mixes stand alone"
    )
    if is_pooled.any():
        pooled_leads = fmt_int(frame.loc[is_pooled, leads].sum())
        return text + f", {pooled_leads} leads are pooled into 'other combinations'."
    return text + "."


def mix_table(frame: pd.DataFrame, mix: str, leads: str, rate: str) -> Table:
    """The channel mixes: size, leads, conversions, rate, mean prediction, lift, runs."""
    converted = pick(frame, "n_converted")
    combinations = pick(frame, "combination_count")
    mean_p = pick(frame, "mean_conversion_probability")
    lift = pick(frame, "lift")
    columns = present(
        mix,
        pick(frame, "channel_count"),
        combinations,
        leads,
        converted,
        rate,
        mean_p,
        lift,
        pick(frame, "matured_run_count"),
    )
    formats: dict[str, Formatter] = {c: fmt_int for c in present(leads, converted, combinations)}
    formats[rate] = fmt_pct2
    if mean_p:
        formats[mean_p] = fmt_pct2
    if lift:
        formats[lift] = fmt_times(2)
    headers = {
        mix: "channel mix",
        "channel_count": "channels",
        "combination_count": "mixes",
        leads: "scored leads",
        "n_converted": "converted",
        rate: "conversion rate",
        "mean_conversion_probability": "mean predicted",
        "matured_run_count": "matured runs",
    }
    return table(frame[columns], formats, headers)


# ---------------------------------------------------------------- A/B test


def section_experiment(wh: Warehouse, model: pd.Series) -> Markup:
    """The A/B test of the model against the rule points (ml_experiment_results)."""
    frame, note = optional(wh, "ml_experiment_results")
    rules_leads = _rules_arm_leads(wh.get("experiment_arms"))
    if frame is None and rules_leads and wh.get("ml_experiment_results") is not None:
        return not_available(
            f"an experiment is running ({fmt_int(rules_leads)} open leads in the rules arm of "
            "the latest scoring run), but none of its scoring runs has matured yet: its results "
            "appear one prediction horizon after its first run."
        )
    if frame is None:
        return note
    name = need(frame, "ml_experiment_results", "experiment_name")
    segment = need(frame, "ml_experiment_results", "segment")
    for column in EXPERIMENT_COLUMNS:
        need(frame, "ml_experiment_results", column)
    experiments = [
        experiment_view(experiment, frame[frame[name].astype(str) == experiment], segment)
        for experiment in sorted(frame[name].astype(str).unique())
    ]
    return render("sections/experiment.html.j2", experiments=experiments)


def _rules_arm_leads(arms: pd.DataFrame | None) -> int:
    if arms is None or arms.empty:
        return 0
    return int(arms.loc[arms["experiment_arm"] == "rules", "n_leads"].sum())


def experiment_view(experiment: str, rows: pd.DataFrame, segment: str) -> dict[str, object]:
    """One experiment as its template shows it: title, facts, figure and segment table."""
    order = {s: i for i, s in enumerate(EXPERIMENT_SEGMENTS)}
    rows = rows.assign(_order=rows[segment].map(order).fillna(len(order))).sort_values("_order")
    runs = pick(rows, "matured_runs")
    bands = rows[rows[segment].astype(str).isin(["A", "B", "C", "D"])]
    facts = [
        f"{fmt_int(bands['model_leads'].sum())} leads in the model arm, "
        f"{fmt_int(bands['rules_leads'].sum())} in the rules arm"
    ]
    if runs:
        facts.insert(0, f"{fmt_int(rows[runs].max())} matured scoring run(s)")
    labels = [EXPERIMENT_LABELS.get(str(s), f"band {s}") for s in rows[segment]]
    figure = plots.experiment(
        labels,
        {arm: rows[f"{arm}_conversion_rate"].astype(float).fillna(0.0) for arm in ARMS},
        rows["rate_difference"].astype(float),
        rows["ci_lower"].astype(float),
        rows["ci_upper"].astype(float),
    )
    return {
        "title": f"Experiment {experiment!r}",
        "facts": ", ".join(facts) + ".",
        "name": experiment,
        "png": plots.png_base64(figure),
        "segments": experiment_table(rows, labels),
    }


def experiment_table(rows: pd.DataFrame, labels: list[str]) -> Table:
    """Per segment: each arm's converted / leads = rate, the difference and its interval;
    significant segments in bold."""
    shown = pd.DataFrame(
        {
            "segment": labels,
            **{f"{arm} arm": list(_arm_rates(rows, arm)) for arm in ARMS},
            "difference": [fmt_points(v) for v in rows["rate_difference"]],
            "95% interval": [
                _interval(lo, hi) for lo, hi in zip(rows["ci_lower"], rows["ci_upper"], strict=True)
            ],
            "significant": [
                bool(v) if not is_missing(v) else False for v in rows["is_significant"]
            ],
        }
    )
    return table(shown, row_class=lambda r: "main" if r["significant"] else "")


def _arm_rates(rows: pd.DataFrame, arm: str) -> Iterable[str]:
    """'9 / 100 = 9.00%' per segment: the arm's conversions, leads and rate."""
    leads, converted, rate = (rows[f"{arm}_{measure}"] for measure in ARM_MEASURES)
    for n, c, r in zip(leads, converted, rate, strict=True):
        yield f"{fmt_int(c)} / {fmt_int(n)} = {fmt_pct2(r)}"


def _interval(lower: object, upper: object) -> str:
    if is_missing(lower) or is_missing(upper):
        return "–"
    return f"{fmt_signed(100 * float(lower), 2)} to {fmt_signed(100 * float(upper), 2)} pt"  # type: ignore[arg-type]


# ---------------------------------------------------------------- CRM


def section_crm_delivery(wh: Warehouse, model: pd.Series) -> Markup:
    """The CRM sync's outbox: what was delivered, what waits, what failed or went to the dead
    letter (a lead whose same payload failed --max-failures times: not resent until its score
    changes)."""
    frame = wh.get("crm_delivery")
    if frame is None or frame.empty:
        return not_available(
            "the CRM sync has not run against this warehouse (`lead-scoring sync-crm "
            "--endpoint URL` creates schema crm_sync)."
        )
    counts = dict(zip(frame["status"], frame["leads"], strict=True))
    return render(
        "sections/crm.html.j2",
        dead=fmt_int(int(counts.get("dead_letter", 0))),
        failed=fmt_int(int(counts.get("failed", 0))),
        pending=fmt_int(int(counts.get("pending", 0))),
        all_delivered=not any(int(counts.get(s, 0)) for s in ("dead_letter", "failed", "pending")),
        # pandas escapes every value (escape=True): its table is safe markup
        outbox=Markup(frame.to_html(index=False, na_rep="–", classes="crm", border=0, escape=True)),
    )
