"""Reasons a rep can read: plain-words feature labels and the score's reasons split by sign.

``top_factors`` (:mod:`.explain`) mixes signs and shows column-like labels
(``'Pricing page views (30d)=4 (+)'``). For the people who act on a score, ``reasons_for`` and
``reasons_against`` list the strongest contributions that *raise* and that *lower* the score,
separately, each as plain words with the lead's value:
``'Pricing page views in the last 30 days: 4; Seniority: c level'``.

Plain labels (:func:`plain_label`) come from explicit overrides (:data:`PLAIN_LABEL_OVERRIDES`)
first, then from rules over the naming scheme of ``fct_lead_features``:

* windowed counts ``<measure>_<window>`` (windows ``1d``, ``3d``, ``7d``, ``14d``, ``30d``,
  ``90d``, ``total``, ``prev_7d``): ``'<Measure> in the last 30 days'``, ``'... since the lead was
  created'``; the measure's noun from :data:`MEASURE_NOUNS`, else its words;
* recencies ``hours_since_last_<x>`` / ``days_since_last_<x>`` / ``days_since_first_<x>``:
  ``'Hours since the last <x>'``;
* ratios ``<a>_vs_baseline`` / ``<a>_vs_max_burst``: the label of ``a`` against the lead's usual
  level / strongest burst;
* flags ``is_<x>`` / ``has_<x>``, shares ``<x>_share[_<window>]``, rates ``<x>_per_<y>``.

A feature that no rule or override covers gets ``None`` from :func:`plain_label` (a pytest over
the mart's columns fails on it); :func:`plain_labels` then falls back to the humanised name so
scoring never stops. No label contains an underscore.

What a rep reads (:func:`reason_labels`, :func:`reason_values`, used by :func:`reasons_split`):

* recencies read as a time ago: ``'Last pricing page view: 4 days ago'`` (``'14 hours ago'``
  under two days, ``'never'`` when it never happened), ``'Lead created: 221 days ago'``;
* shares and rates between 0 and 1 as percentages (``'5%'``), other numbers rounded to what a
  person reads (whole numbers from 10 up, one decimal below, two below 1);
* one reason per idea and side (:func:`reason_concept`): the 14- and 30-day counts of the same
  measure, the hours and the days since the same event, a size and its rank, or the high-intent
  page views and the high-intent actions are never listed together: the strongest one stays.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from lead_scoring.ml.explain import display_strings, format_factors

__all__ = [
    "MEASURE_NOUNS",
    "PLAIN_LABEL_OVERRIDES",
    "REASON_COLUMNS",
    "missing_value_text",
    "plain_label",
    "plain_labels",
    "reason_concept",
    "reason_labels",
    "reason_values",
    "reasons_split",
]

REASON_COLUMNS = ["reasons_for", "reasons_against"]

# explicit labels: categoricals, flags and derived features whose name says too little
PLAIN_LABEL_OVERRIDES: dict[str, str] = {
    "seniority_level": "Seniority",
    "seniority_rank": "Seniority rank (higher is more senior)",
    "job_function": "Job function",
    "company_size": "Company size",
    "company_size_ordinal": "Company size rank (higher is larger)",
    "industry": "Industry",
    "region": "Region",
    "country_code": "Country",
    "lead_source": "Lead source",
    "is_student": "Student",
    "is_job_seeker": "Job seeker",
    "is_retired": "Retired",
    "is_self_employed": "Self-employed",
    "has_non_buyer_title": "Job title of a non-buyer",
    "is_personal_email": "Personal email address",
    "has_salesforce": "Uses Salesforce",
    "has_hubspot": "Uses HubSpot",
    "has_marketo": "Uses Marketo",
    "data_stack_tool_count": "Marketing and sales tools in use",
    "tech_stack_count": "Technologies in use",
    "lead_age_days": "Days since the lead was created",
    "max_burst_engaged_events_3d": "Most engaged activities in any 3 days",
    "days_since_max_burst": "Days since the busiest burst of activity",
    "events_per_week": "Activities per week since the lead was created",
    "email_click_to_open_rate_30d": "Share of opened emails clicked in the last 30 days",
    "activity_trend_7d": "Activity trend of the last 7 days (from -1 stopped to 1 started)",
    "pages_per_session": "Pages viewed per website visit",
    "seconds_per_session": "Seconds spent per website visit",
    "has_viewed_pricing_before_download": "Viewed pricing before downloading content",
    "has_revisited_within_48h": "Came back to the website within 48 hours",
    "has_rapid_progression": "Moved quickly from first visit to high-intent pages",
    "first_touch_channel": "First marketing channel",
    "last_touch_channel": "Latest marketing channel",
    "touch_span_days": "Days between the first and the latest marketing touch",
    "days_since_last_touch": "Days since the latest marketing touch",
    "has_paid_and_organic_touches": "Reached by both paid and organic channels",
    "seniority_x_company_size": "Seniority rank times company size rank",
    "engagement_recency_score": "Recent engagement score",
    "sessions_per_week_90d": "Website visits per week over the last 90 days",
    "weekend_event_share": "Share of activities on weekends",
    "business_hours_event_share": "Share of activities in business hours",
    "high_intent_page_share": "Share of page views on pricing, demo or contact pages",
    "high_intent_page_share_30d": (
        "Share of page views on pricing, demo or contact pages in the last 30 days"
    ),
}

# nouns of the measures of the windowed counts (``<measure>_<window>``)
MEASURE_NOUNS: dict[str, str] = {
    "events": "Activities",
    "engaged_events": "Engaged activities",
    "page_views": "Page views",
    "sessions": "Website visits",
    "time_on_site_seconds": "Seconds on the website",
    "content_downloads": "Content downloads",
    "email_opens": "Marketing emails opened",
    "email_clicks": "Marketing email clicks",
    "webinars_attended": "Webinars attended",
    "demo_requests": "Demo requests",
    "form_submits": "Forms submitted",
    "pricing_page_views": "Pricing page views",
    "demo_page_views": "Demo page views",
    "contact_page_views": "Contact page views",
    "comparison_page_views": "Comparison page views",
    "high_intent_page_views": "Pricing, demo or contact page views",
    "high_intent_events": "High-intent actions (pricing, demo, chat)",
    "case_study_page_views": "Case study page views",
    "careers_page_views": "Careers page views",
    "weekend_events": "Weekend activities",
    "business_hours_events": "Activities in business hours",
    "active_days": "Active days",
    "marketing_touches": "Marketing touches",
    "distinct_assets_downloaded": "Different assets downloaded",
    "distinct_case_studies_viewed": "Different case studies viewed",
    "distinct_channels": "Different marketing channels",
}

# objects of the recencies (``hours_since_last_<x>``)
_RECENCY_OBJECTS: dict[str, str] = {
    "demo_request": "demo request",
    "high_intent_form": "high-intent form",
    "pricing_view": "pricing page view",
    "comparison_view": "comparison page view",
    "case_study_view": "case study page view",
    "webinar": "webinar",
    "chat": "chat",
    "engaged_event": "engaged activity",
    "high_intent_event": "high-intent action",
    "activity": "activity",
    "touch": "marketing touch",
}

_WINDOW = re.compile(r"^(?P<measure>[a-z0-9_]+?)_(?P<window>\d+d|total|prev_7d)$")
_RECENCY = re.compile(r"^(?P<unit>hours|days)_since_(?P<which>last|first)_(?P<what>[a-z0-9_]+)$")
_VERSUS = re.compile(r"^(?P<a>[a-z0-9_]+)_vs_(?P<b>baseline|max_burst)$")
_SHARE = re.compile(r"^(?P<what>[a-z0-9_]+)_share(?:_(?P<window>\d+d))?$")
_PER = re.compile(r"^(?P<what>[a-z0-9_]+)_per_(?P<unit>[a-z0-9_]+)$")
_FLAG = re.compile(r"^(?P<kind>is|has)_(?P<what>[a-z0-9_]+)$")


def _words(name: str) -> str:
    return name.replace("_", " ").strip()


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _window_words(window: str) -> str:
    if window == "total":
        return "since the lead was created"
    if window == "prev_7d":
        return "in the 7 days before the last 7"
    days = int(window[:-1])
    return "in the last day" if days == 1 else f"in the last {days} days"


def _measure_noun(measure: str) -> str:
    return MEASURE_NOUNS.get(measure) or _capitalise(_words(measure))


def _rule_label(name: str) -> str | None:
    if m := _VERSUS.fullmatch(name):
        base = plain_label(m["a"]) or _capitalise(_words(m["a"]))
        against = "the lead's usual level" if m["b"] == "baseline" else "its busiest 3 days"
        return f"{base} compared with {against}"
    if m := _RECENCY.fullmatch(name):
        what = _RECENCY_OBJECTS.get(m["what"], _words(m["what"]))
        return f"{_capitalise(m['unit'])} since the {m['which']} {what}"
    if m := _WINDOW.fullmatch(name):
        return f"{_measure_noun(m['measure'])} {_window_words(m['window'])}"
    if m := _SHARE.fullmatch(name):
        what = _measure_noun(m["what"]).lower()
        window = f" {_window_words(m['window'])}" if m["window"] else ""
        return f"Share of activities that are {what}{window}"
    if m := _PER.fullmatch(name):
        return f"{_measure_noun(m['what'])} per {_words(m['unit'])}"
    if m := _FLAG.fullmatch(name):
        what = _words(m["what"])
        return _capitalise(what) if m["kind"] == "is" else f"Has {what}"
    return None


def plain_label(name: str, overrides: Mapping[str, str] | None = None) -> str | None:
    """The plain-words label of feature ``name``: ``overrides``, then
    :data:`PLAIN_LABEL_OVERRIDES`, then the naming rules (module doc); None when nothing covers
    it."""
    for table in (overrides or {}, PLAIN_LABEL_OVERRIDES):
        if name in table:
            return str(table[name])
    label = _rule_label(name)
    return None if label is None else label.replace("_", " ")


def plain_labels(
    names: Sequence[str], overrides: Mapping[str, str] | None = None
) -> list[str]:
    """:func:`plain_label` of every name, the humanised name where no rule covers it."""
    return [plain_label(n, overrides) or _capitalise(_words(n)) for n in names]


def missing_value_text(name: str) -> str:
    """What a missing value reads as: 'never' for a recency (nothing happened yet), else
    'unknown'."""
    return "never" if _RECENCY.fullmatch(name) or name.startswith("days_since_") else "unknown"


# features that say the same thing to a rep: one concept (see reason_concept)
CONCEPT_ALIASES: dict[str, str] = {
    "company_size_ordinal": "company_size",
    "seniority_rank": "seniority_level",
    "country_code": "region",
    "high_intent_events": "high_intent_page_views",
    "high_intent_page_share_30d": "high_intent_page_share",
    "lead_age_days": "lead_age",
    "days_since_first_activity": "lead_age",
}


def reason_concept(name: str) -> str:
    """The idea a feature tells a rep: windowed counts of one measure share it (whatever the
    window), recencies of one event share it (hours or days), plus :data:`CONCEPT_ALIASES`."""
    if name in CONCEPT_ALIASES:
        return CONCEPT_ALIASES[name]
    if m := _RECENCY.fullmatch(name):
        return f"{m['which']} {m['what']}"
    if (m := _WINDOW.fullmatch(name)) and not name.endswith("_vs_baseline"):
        return CONCEPT_ALIASES.get(m["measure"], m["measure"])
    if m := _SHARE.fullmatch(name):
        return CONCEPT_ALIASES.get(f"{m['what']}_share", f"{m['what']}_share")
    return name


def reason_labels(names: Sequence[str]) -> list[str]:
    """Labels for reasons: recencies as 'Last <event>' / 'First <event>' (their value reads
    '4 days ago'), the lead's age as 'Lead created' (and the other durations of
    ``_AGO_LABELS``); else :func:`plain_labels`."""
    out = []
    for name, label in zip(names, plain_labels(names), strict=True):
        if m := _RECENCY.fullmatch(name):
            what = _RECENCY_OBJECTS.get(m["what"], _words(m["what"]))
            label = f"{'Last' if m['which'] == 'last' else 'First'} {what}"
        elif name in _AGO_LABELS:
            label = _AGO_LABELS[name]
        out.append(label)
    return out


# durations that read as a time ago, with their reason label
_AGO_LABELS = {"lead_age_days": "Lead created", "days_since_max_burst": "Busiest burst of activity"}


def _is_share(name: str) -> bool:
    return bool(_SHARE.fullmatch(name)) or bool(re.search(r"_rate(_\d+d)?$", name))


def _ago(days: np.ndarray) -> np.ndarray:
    """'less than an hour ago', '1 hour ago', 'N hours ago' under two days, else 'N days ago'."""
    hours = np.round(days * 24.0).astype(np.int64)
    whole = np.round(days).astype(np.int64)
    text = np.where(
        days < 2.0, hours.astype(str).astype(object) + " hours ago",
        whole.astype(str).astype(object) + " days ago",
    )
    text = np.where(hours == 1, "1 hour ago", text)
    return np.where(hours == 0, "less than an hour ago", text)


def _rounded(v: np.ndarray) -> np.ndarray:
    """Whole numbers from 10 up, one decimal from 1, two below; no trailing zeros."""
    a = np.abs(v)
    r = np.where(a >= 10, np.round(v), np.where(a >= 1, np.round(v, 1), np.round(v, 2))) + 0.0
    integral = r == np.round(r)
    as_int = np.where(integral, r, 0.0).astype(np.int64).astype(str).astype(object)
    return np.where(integral, as_int, r.astype(str).astype(object))


def _is_plain_number(s: pd.Series, flagged: bool) -> bool:
    return not (
        flagged
        or isinstance(s.dtype, pd.CategoricalDtype)
        or not pd.api.types.is_numeric_dtype(s.dtype)
        or pd.api.types.is_bool_dtype(s.dtype)
    )


def _as_percent(col: str, s: pd.Series) -> bool:
    """A share or rate column whose values (all rows, not only the ones shown) lie in [0, 1]."""
    if not _is_share(col):
        return False
    v = s.to_numpy(dtype=np.float64, na_value=np.nan)
    present = v[~np.isnan(v)]
    return bool((present >= 0).all() and (present <= 1).all())


def _reason_text(col: str, v: np.ndarray, as_percent: bool) -> np.ndarray:
    """The text of the numbers ``v`` of column ``col`` (module doc); NaN -> None."""
    present = ~np.isnan(v)
    safe = np.where(present, v, 0.0)
    if m := _RECENCY.fullmatch(col):
        text = _ago(np.maximum(safe, 0.0) / (24.0 if m["unit"] == "hours" else 1.0))
    elif col in _AGO_LABELS:
        text = _ago(np.maximum(safe, 0.0))
    elif as_percent:
        pct = np.round(safe * 100.0)
        text = np.where(
            (safe > 0) & (pct == 0), "under 1%", pct.astype(np.int64).astype(str) + "%"
        ).astype(object)
    else:
        text = _rounded(safe)
    return np.where(present, text, None)


def reason_values(
    values: pd.DataFrame, columns: Sequence[str], boolean: Sequence[str] = ()
) -> pd.DataFrame:
    """``values[columns]`` with every numeric, non-boolean column as the text a rep reads
    (module doc); missing stays missing. Vectorised per column."""
    out = {}
    flags = set(boolean)
    for col in dict.fromkeys(columns):
        s = values[col]
        if not _is_plain_number(s, col in flags):
            out[col] = s
            continue
        v = s.to_numpy(dtype=np.float64, na_value=np.nan)
        text = _reason_text(col, v, _as_percent(col, s))
        out[col] = pd.Series(text, index=values.index, dtype=object)
    return pd.DataFrame(out, index=values.index)


def _reason_strings(values: pd.DataFrame, value_columns: Sequence[str], boolean: Sequence[str]):
    """``format_factors``' ``value_strings`` for :func:`reasons_split`: the text of
    :func:`reason_values` of only the rows listed (a few per lead, not every column)."""
    flags = set(boolean)
    percent: dict[str, bool] = {}

    def strings(j: int, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        col = value_columns[j]
        s = values[col]
        if _is_plain_number(s, col in flags):
            if col not in percent:
                percent[col] = _as_percent(col, s)
            v = s.iloc[rows].to_numpy(dtype=np.float64, na_value=np.nan)
            s = pd.Series(_reason_text(col, v, percent[col]), dtype=object)
            rows = np.arange(len(rows))
        return display_strings(s, rows, col in flags)

    return strings


def _one_reason_per_concept(c: np.ndarray, value_columns: Sequence[str]) -> np.ndarray:
    """Zero every contribution but the strongest of each concept (per row; the caller splits
    by sign first, so this is per side)."""
    groups: dict[str, list[int]] = {}
    for j, col in enumerate(value_columns):
        groups.setdefault(reason_concept(col), []).append(j)
    out = c.copy()
    for idx in groups.values():
        if len(idx) < 2:
            continue
        sub = np.abs(c[:, idx])
        keep = np.argmax(sub, axis=1)
        drop = np.ones_like(sub, dtype=bool)
        drop[np.arange(len(c)), keep] = False
        block = out[:, idx]
        block[drop] = 0.0
        out[:, idx] = block
    return out


def reasons_split(
    contribs: np.ndarray,
    values: pd.DataFrame,
    value_columns: Sequence[str],
    labels: Sequence[str],
    k: int = 3,
    boolean: Sequence[str] = (),
    suffixes: Sequence[str] | None = None,
    readable: bool = True,
) -> pd.DataFrame:
    """``reasons_for`` / ``reasons_against``: the ``k`` strongest positive and the ``k`` strongest
    negative contributions of each row as ``'<label>: <value><suffix>'``, '; '-separated, null
    when a side has none. A contribution of one sign is never listed on the other side.

    ``contribs`` is ``n x m`` (log-odds or points), column j shown as ``labels[j]`` with the
    row's value of ``values[value_columns[j]]`` (booleans as yes / no, missing as 'never' or
    'unknown', categorical levels with spaces for underscores). ``readable`` (default): numbers
    as a rep reads them (:func:`reason_values`) and one reason per idea and side
    (:func:`reason_concept`). Vectorised by :func:`~.explain.format_factors`.
    """
    c = np.asarray(contribs, dtype=np.float64)
    missing = [missing_value_text(col) for col in value_columns]
    strings = _reason_strings(values, value_columns, boolean) if readable else None
    out = {}
    for column, part in (
        ("reasons_for", np.where(c > 0, c, 0.0)),
        ("reasons_against", np.where(c < 0, c, 0.0)),
    ):
        if readable:
            part = _one_reason_per_concept(part, value_columns)
        text = format_factors(
            part,
            values,
            value_columns=value_columns,
            keys=value_columns,
            labels=labels,
            k=k,
            style="plain",
            boolean=boolean,
            suffixes=suffixes,
            missing_texts=missing,
            value_strings=strings,
            with_json=False,
        )["top_factors"]
        raw = text.to_numpy(dtype=object)
        out[column] = np.where(raw == "", None, raw)
    return pd.DataFrame(out, index=values.index)
