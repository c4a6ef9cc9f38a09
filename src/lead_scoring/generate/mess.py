"""Raw mess: the deliberate dirt of the exports, and the three chunk files that carry it.

The simulation works with clean integer codes; this module writes them the way a CRM, a web
tracker and a sales tool would: every value in several spellings (case, whitespace, trailing
slashes, snake case...), non-canonical channel names, unknown event types, invalid countries,
nulls, ~1% duplicated lead rows and event deliveries, anonymous and unknown-lead events,
far-future timestamps, negative durations and amounts, backdated and repeated conversions,
and conversions of leads that are not in the leads file. The staging layer must undo all of it.

Spellings: a value with code ``v`` and spelling ``j`` (of ``k``) has dictionary code
``v * k + j``; spelling 0 is the canonical one. Each ``*_SPELLING_WEIGHTS`` gives how often
each spelling is written, in the order of its ``*_dictionary`` function.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lead_scoring.generate.catalogues import (
    CHANNELS,
    COUNTRIES,
    EVENT_TYPES,
    FIRST_NAMES,
    INDUSTRIES,
    LAST_NAMES,
    LEAD_SOURCES,
    PERSONAL_DOMAIN_WEIGHTS,
    PERSONAL_DOMAINS,
    SIZE_AMOUNT,
)
from lead_scoring.generate.helpers import (
    DAY,
    NULL,
    choice,
    epoch_seconds,
    frame_take,
    hex_ids,
    hex_ids_masked,
    take,
    timestamps,
)
from lead_scoring.generate.schema import CONVERSIONS_SCHEMA, LEADS_SCHEMA, TOUCHPOINTS_SCHEMA

if TYPE_CHECKING:
    from lead_scoring.generate.world import World

INVALID_COUNTRIES = ("USA", "xx", "UK", "Deutschland", "N/A", "usa ")
UNKNOWN_EVENT_TYPES = ("video_play", "scroll_depth", "Video_Play ", "file_share")
# observed channel spellings that are not canonical but that staging maps back (normalised, or
# read as a medium by seeds/channel_rules.csv)
CHANNEL_SPELLINGS = {
    "organic_search": ("Organic Search", "SEO"), "paid_search": ("Paid Search", "cpc"),
    "paid_social": ("Paid Social", "paid-social"), "organic_social": ("Organic Social", "social"),
    "email": ("Email", "newsletter"), "direct": ("Direct", "Direct "),
    "referral": ("Referral", "partner"), "display": ("Display", "banner"),
    "events": ("Events", "webinar"), "other": ("Other", "Other"),
}  # fmt: skip

URL_SPELLING_WEIGHTS = (0.93, 0.03, 0.01, 0.02, 0.01)
EVENT_TYPE_SPELLING_WEIGHTS = (0.94, 0.02, 0.02, 0.01, 0.01)
TITLE_SPELLING_WEIGHTS = (0.72, 0.08, 0.04, 0.04, 0.04, 0.05, 0.03)
INDUSTRY_SPELLING_WEIGHTS = (0.85, 0.06, 0.03, 0.03, 0.03)
COUNTRY_SPELLING_WEIGHTS = (0.9, 0.05, 0.025, 0.025)
LEAD_SOURCE_SPELLING_WEIGHTS = (0.75, 0.06, 0.06, 0.04, 0.04, 0.05)


# --------------------------------------------------------------------------------------------
# Spellings: the string dictionaries the exported codes index
# --------------------------------------------------------------------------------------------


def spelled(values: Iterable[str], *spellings: Callable[[str], str]) -> list[str]:
    """Every value written every way, value-major: entry ``v * len(spellings) + j``."""
    return [spell(value) for value in values for spell in spellings]


def _strings(values: Iterable[str]) -> pa.Array:
    return pa.array(list(values), type=pa.string())


def url_dictionary(urls: Iterable[str]) -> pa.Array:
    """Page URLs: as is, trailing slash, upper case, with a ``ref`` or a ``utm_content`` query."""
    return _strings(
        spelled(
            urls,
            str,
            lambda u: u if u == "/" else u + "/",
            str.upper,
            lambda u: "/?ref=nav" if u == "/" else u + "?ref=nav",
            lambda u: u + "?utm_content=cta",
        )
    )


def event_type_dictionary() -> pa.Array:
    """Event types in five spellings, then the unknown event types (``UNKNOWN_EVENT_TYPES``)."""
    known = spelled(
        EVENT_TYPES, str, str.upper, str.title, lambda s: s.title() + " ", lambda s: " " + s
    )
    return _strings(known + list(UNKNOWN_EVENT_TYPES))


def channel_dictionary() -> tuple[pa.Array, np.ndarray]:
    """Canonical channel names followed by the other spellings of ``CHANNEL_SPELLINGS``, and per
    channel (rows, in ``CHANNELS`` order) the codes of its two other spellings."""
    names = list(CHANNELS)
    codes = np.zeros((len(CHANNELS), 2), dtype=np.int64)
    for c, name in enumerate(CHANNELS):
        for j, spelling in enumerate(CHANNEL_SPELLINGS[name]):
            if spelling not in names:
                names.append(spelling)
            codes[c, j] = names.index(spelling)
    return _strings(names), codes


def industry_dictionary() -> pa.Array:
    """Industries in five spellings (case, leading or trailing whitespace)."""
    return _strings(
        spelled(
            (name for name, *_ in INDUSTRIES),
            str,
            str.lower,
            str.upper,
            lambda s: " " + s,
            lambda s: s + "  ",
        )
    )


def country_dictionary() -> pa.Array:
    """Country codes in four spellings, then the invalid values (``INVALID_COUNTRIES``)."""
    codes = spelled(
        (code for code, *_ in COUNTRIES), str, str.lower, lambda s: " " + s, lambda s: s + " "
    )
    return _strings(codes + list(INVALID_COUNTRIES))


def _snake(s: str) -> str:
    return s.lower().replace(" ", "_")


def lead_source_dictionary() -> pa.Array:
    """Lead sources in six spellings (case, whitespace, snake case)."""
    return _strings(
        spelled(
            LEAD_SOURCES,
            str,
            lambda s: " " + _snake(s),
            str.lower,
            str.upper,
            lambda s: s + " ",
            _snake,
        )
    )


def title_spellings(title: str, mixed: str) -> list[str]:
    """A job title in seven spellings; ``mixed`` is its odd-case form (e.g. 'vp MARKETING')."""
    return [
        title,
        title.lower(),
        title.upper(),
        "  " + mixed,
        title + " ",
        mixed,
        title.replace(" ", "  ", 1),
    ]


# --------------------------------------------------------------------------------------------
# The chunk files
# --------------------------------------------------------------------------------------------


def leads_table(w: World, rng, L: dict, lead_ids: pa.Array) -> pa.Table:
    """The leads file of a chunk: ~1% older duplicate rows, messy spellings, nulls, invalid
    countries; sorted by created_at."""
    n = L["n"]
    # ~1% duplicated rows: an older version (earlier created_at, slightly different fields)
    dup = np.flatnonzero(rng.random(n) < 0.01)
    idx = np.concatenate([np.arange(n), dup])
    is_dup = np.arange(len(idx)) >= n
    m = len(idx)
    created = L["created"][idx] - np.where(
        is_dup, 60 + (rng.random(m) * 3 * DAY).astype(np.int64), 0
    )
    # job title: free text with case/whitespace variants
    tv = choice(rng, TITLE_SPELLING_WEIGHTS, m)
    title = L["title"][idx] * len(TITLE_SPELLING_WEIGHTS) + tv
    title = np.where(L["title_null"][idx] | (is_dup & (rng.random(m) < 0.3)), -1, title)
    size = np.where(L["size_obs"][idx] == 7, -1, L["size_obs"][idx])
    size = np.where(is_dup & (rng.random(m) < 0.5), -1, size)
    industry = L["industry"][idx] * len(INDUSTRY_SPELLING_WEIGHTS) + choice(
        rng, INDUSTRY_SPELLING_WEIGHTS, m
    )
    industry = np.where(rng.random(m) < 0.05, -1, industry)
    country = L["country"][idx] * len(COUNTRY_SPELLING_WEIGHTS) + choice(
        rng, COUNTRY_SPELLING_WEIGHTS, m
    )
    u = rng.random(m)
    invalid = len(COUNTRIES) * len(COUNTRY_SPELLING_WEIGHTS) + rng.integers(
        0, len(INVALID_COUNTRIES), m
    )
    country = np.where(u < 0.012, invalid, np.where(u < 0.037, -1, country))
    source = L["source"][idx] * len(LEAD_SOURCE_SPELLING_WEIGHTS) + choice(
        rng, LEAD_SOURCE_SPELLING_WEIGHTS, m
    )
    source = np.where(rng.random(m) < 0.01, -1, source)
    company = L["company"][idx]
    tech = pc.take(w.co_tech, pa.array(company))

    email = _emails(w, rng, L, idx, company)

    order = np.argsort(created, kind="stable")
    cols = [
        pc.take(lead_ids, pa.array(idx)),
        timestamps(created),
        email,
        pc.take(w.co_name, pa.array(company)),
        take(w.title_dict, title),
        take(w.size_dict, size),
        take(w.industry_dict, industry),
        take(w.country_dict, country),
        take(w.lead_source_dict, source),
        tech,
    ]
    table = pa.Table.from_arrays(cols, schema=LEADS_SCHEMA)
    return table.take(pa.array(order))


def _emails(w: World, rng, L: dict, idx: np.ndarray, company: np.ndarray) -> pa.Array:
    """first.last@company-domain (or a personal address with digits) of the rows ``idx``, a few
    capitalised. Name and pattern are drawn per lead, so a duplicated row keeps its address."""
    n, m = L["n"], len(idx)
    first = rng.integers(0, len(FIRST_NAMES), n)[idx]
    last = rng.integers(0, len(LAST_NAMES), n)[idx]
    fn = pc.utf8_lower(take(pa.array(FIRST_NAMES), first))
    ln = pc.replace_substring(pc.utf8_lower(take(pa.array(LAST_NAMES), last)), " ", "")
    ln = pc.replace_substring(ln, "'", "")
    pattern = choice(rng, (0.55, 0.2, 0.1, 0.1, 0.05), n)[idx]
    local = pc.choose(
        pa.array(pattern),
        pc.binary_join_element_wise(fn, ln, "."),
        pc.binary_join_element_wise(pc.utf8_slice_codeunits(fn, 0, 1), ln, ""),
        fn,
        pc.binary_join_element_wise(fn, ln, "_"),
        pc.binary_join_element_wise(ln, fn, "."),
    )
    personal = L["personal"][idx]
    digits = pa.array(np.where(personal, rng.integers(1, 99, m), 0).astype(str))
    local = pc.if_else(pa.array(personal), pc.binary_join_element_wise(local, digits, ""), local)
    pdomain = take(pa.array(PERSONAL_DOMAINS), choice(rng, PERSONAL_DOMAIN_WEIGHTS, n)[idx])
    domain = pc.if_else(pa.array(personal), pdomain, pc.take(w.co_domain, pa.array(company)))
    email = pc.binary_join_element_wise(local, domain, "@")
    return pc.if_else(pa.array(rng.random(m) < 0.03), pc.utf8_capitalize(email), email)


def touchpoints_table(
    w: World, rng, L: dict, ev: dict, lead_ids: pa.Array, counters: dict
) -> pa.Table:
    """The touchpoints file of a chunk, sorted by time: anonymous and unknown-lead events,
    untracked sessions, far-future timestamps, messy spellings, null channels, negative
    durations and ~1% duplicate deliveries. Advances ``counters["events"]``."""
    n = L["n"]
    N = len(ev["t"])
    ms = rng.integers(0, 1000, N)
    order = np.lexsort((ms, ev["t"]))
    ev = frame_take(ev, order)
    ms = ms[order]
    # lead reference as exported: anonymous visits, unknown (deleted) leads
    code = ev["lead"].astype(np.int64)
    scatter = ev["lead"].astype(np.int64) * 7919 + ev["sess"]
    code = np.where(ev["unknown"], n + scatter % counters["n_unknown"], code)
    code = np.where(ev["anon"], -1, code)
    # session ids: ~60% of sessions are tracked; only on-site events carry them
    sid = np.where(ev["web"] & (ev["sess"] >= 0), ev["sess"].astype(np.int64), -1)
    tracked = np.where(sid >= 0, ev["has_sid"], False)
    sid = np.where(tracked, sid + counters["sessions"], -1)
    event_no = counters["events"] + np.arange(N)

    # export noise, drawn once per event (a redelivered event is the same row)
    t = ev["t"].copy()
    future = rng.random(N) < 5e-5  # a tiny number of far-future (year 2099) timestamps
    future_base = epoch_seconds(dt.date(2099, 1, 1))
    t = np.where(future, future_base + (t - w.t0) % (365 * DAY), t)
    etype = ev["etype"]
    n_spellings = len(EVENT_TYPE_SPELLING_WEIGHTS)
    et_code = np.where(
        etype < 0,  # unknown event types
        len(EVENT_TYPES) * n_spellings + rng.integers(0, len(UNKNOWN_EVENT_TYPES), N),
        np.maximum(etype, 0).astype(np.int64) * n_spellings
        + choice(rng, EVENT_TYPE_SPELLING_WEIGHTS, N),
    )
    # observed channel: canonical, null (~20%, derive from UTMs) or another spelling (~2%)
    ch = ev["channel"]
    u = rng.random(N)
    spelled = w.channel_spelling_code[ch, (rng.random(N) < 0.5).astype(np.int64)]
    ch_code = np.where(u < 0.2, -1, np.where(u < 0.22, spelled, ch))
    url = ev["url"]
    url_spelling = choice(rng, URL_SPELLING_WEIGHTS, N)
    url_code = np.where(
        url >= 0, url.astype(np.int64) * len(URL_SPELLING_WEIGHTS) + url_spelling, -1
    )
    dur = ev["dur"]
    dur = np.where((dur != NULL) & (rng.random(N) < 0.0005), -dur, dur)

    # ~1% duplicate deliveries, right after the original
    dup = np.flatnonzero(rng.random(N) < 0.01)
    idx = np.sort(np.concatenate([np.arange(N), dup]), kind="stable")
    dur = dur[idx]
    lead_dict = pa.concat_arrays([lead_ids, counters["unknown_ids"]])
    cols = [
        hex_ids("ev_", event_no[idx], 12, salt=w.config.seed * 2 + 1),
        take(lead_dict, code[idx]),
        timestamps(t[idx], ms[idx]),
        take(w.event_type_dict, et_code[idx]),
        take(w.channel_dict, ch_code[idx]),
        take(w.source_dict, ev["source"][idx]),
        take(w.medium_dict, ev["medium"][idx]),
        take(w.campaign_dict, ev["campaign"][idx]),
        take(w.referrer_dict, ev["referrer"][idx]),
        take(w.url_dict, url_code[idx]),
        take(w.asset_dict, ev["asset"][idx]),
        hex_ids_masked("ss_", sid[idx], 10, salt=w.config.seed * 2 + 2),
        pa.array(np.where(dur == NULL, 0, dur).astype(np.int32), mask=dur == NULL),
    ]
    counters["events"] += N
    return pa.Table.from_arrays(cols, schema=TOUCHPOINTS_SCHEMA)


def _conversion_rows(
    w: World, rng, L: dict, conv: np.ndarray, unknown_ids: pa.Array, first_chunk: bool
) -> dict:
    """Conversion rows (lead code, time, type, amount) of a chunk, sorted by time: the first
    conversions plus backdated ones, repeats, null and negative amounts, unknown leads."""
    lead = np.flatnonzero(conv != NULL)
    m = len(lead)
    t = conv[lead]
    ctype = np.where(rng.random(m) < 0.1, 1, 0)  # 0 opportunity, 1 closed_won
    amount = np.exp(rng.normal(np.log(32_000.0), 0.5, m)) * SIZE_AMOUNT[L["size_obs"][lead]]
    amount = np.round(amount, 2)
    # a few conversions dated before their lead was created (CRM backdating)
    early = rng.random(m) < 0.005
    t = np.where(early, L["created"][lead] - (rng.random(m) * 20 * DAY).astype(np.int64) - 1, t)
    # ~3% of converters convert again later
    again = rng.random(m) < 0.04
    t2 = t + ((14 + rng.random(m) * 76) * DAY).astype(np.int64)
    again &= t2 < w.t_end
    rows_lead = np.concatenate([lead, lead[again]])
    rows_t = np.concatenate([t, t2[again]])
    rows_type = np.concatenate([ctype, np.ones(again.sum(), dtype=np.int64)])
    rows_amount = np.concatenate(
        [amount, np.round(amount[again] * rng.uniform(0.7, 1.1, again.sum()), 2)]
    )
    k = len(rows_lead)
    rows_amount = np.where(rng.random(k) < 0.07, np.nan, rows_amount)
    rows_amount = np.where(rng.random(k) < 0.003, -rows_amount, rows_amount)
    code = rows_lead.copy()
    # conversions of leads that are not in the leads file
    n_unknown = rng.poisson(L["n"] / 2500) + (1 if first_chunk else 0)
    code = np.concatenate([code, L["n"] + rng.integers(0, len(unknown_ids), n_unknown)])
    rows_t = np.concatenate(
        [rows_t, w.t0 + (rng.random(n_unknown) * (w.t_end - w.t0)).astype(np.int64)]
    )
    rows_type = np.concatenate([rows_type, np.zeros(n_unknown, dtype=np.int64)])
    rows_amount = np.concatenate(
        [rows_amount, np.round(np.exp(rng.normal(np.log(30_000.0), 0.5, n_unknown)), 2)]
    )
    order = np.argsort(rows_t, kind="stable")
    return dict(code=code[order], t=rows_t[order], type=rows_type[order], amount=rows_amount[order])


def conversions_table(
    w: World,
    rng,
    L: dict,
    conv: np.ndarray,
    lead_ids: pa.Array,
    unknown_ids: pa.Array,
    first_chunk: bool,
) -> pa.Table:
    """The conversions file of a chunk (see :func:`_conversion_rows`)."""
    rows = _conversion_rows(w, rng, L, conv, unknown_ids, first_chunk)
    lead_dict = pa.concat_arrays([lead_ids, unknown_ids])
    return pa.Table.from_arrays(
        [
            take(lead_dict, rows["code"]),
            timestamps(rows["t"]),
            take(pa.array(["opportunity", "closed_won"]), rows["type"]),
            pa.array(rows["amount"], type=pa.float64(), from_pandas=True),
        ],
        schema=CONVERSIONS_SCHEMA,
    )
