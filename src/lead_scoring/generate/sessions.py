"""Web sessions: when a lead visits, through which channel and campaign, with which tags.

A session frame holds one row per visit (lead, time, kind, profile, intent, channel, landing
page, form). :func:`plan_sessions` draws the visits before any conversion (creation visit,
baseline browsing, buying-phase bursts, pre-creation visits), :func:`onboarding_sessions` those
after one; :func:`finish_sessions` places them in time and gives them a channel, a campaign,
UTMs, a referrer, a page count and tracking flags. :mod:`.events` expands them into events.
"""

from __future__ import annotations

import numpy as np

from lead_scoring.generate.catalogues import (
    CH,
    CHANNELS,
    FAM,
    K_BASE,
    K_BUY,
    K_CREATE,
    K_ONBOARD,
    K_PRE,
    MED,
    PR,
    PROFILE_CHANNELS,
    PROFILE_EXTRA_PAGES,
    PROFILES,
    PT,
    REF,
    REFERRERS,
    SRC,
    SRC_EVENT,
    SRC_OUTBOUND,
)
from lead_scoring.generate.helpers import (
    DAY,
    HOUR,
    NULL,
    categorical,
    choice,
    cum_rows,
    frame_concat,
    frame_take,
)
from lead_scoring.generate.world import World


def _session_profile(L: dict, lead: np.ndarray, default: np.ndarray, rng) -> np.ndarray:
    """The default page profile, or (often) job seeker / student for such leads."""
    prof = default.copy()
    js = L["job_seeker"][lead] & (rng.random(len(lead)) < 0.7)
    st = L["student"][lead] & (rng.random(len(lead)) < 0.6)
    prof = np.where(st, PR["student"], prof)
    return np.where(js, PR["job_seeker"], prof)


def plan_sessions(w: World, rng: np.random.Generator, L: dict) -> dict:
    """Sessions before any conversion: creation, baseline, buying-phase bursts, pre-creation."""
    creation = _creation_visits(rng, L)
    baseline = _baseline_visits(w, rng, L)
    buying = _buying_bursts(w, rng, L)
    return frame_concat([creation, baseline, buying, _pre_creation_visits(rng, L)])


def _visits(
    lead: np.ndarray, t: np.ndarray, kind: int, profile, intent, channel=-1, landing=-1, form=-1
) -> dict:
    """A session frame; a scalar column is the same for every visit (-1: channel, landing page
    or form not fixed by the plan)."""

    def column(x) -> np.ndarray:
        return np.full(len(lead), x) if np.ndim(x) == 0 else x

    return dict(
        lead=lead, t=t, kind=column(kind), profile=column(profile), intent=column(intent),
        channel=column(channel), landing=column(landing), form=column(form),
    )  # fmt: skip


def _creation_visits(rng: np.random.Generator, L: dict) -> dict:
    """The visit in which the lead filled a form (not for event or outbound leads)."""
    c = L["created"]
    src = L["source"]
    has = (src != SRC_EVENT) & (src != SRC_OUTBOUND)
    lead = np.flatnonzero(has)
    s = src[lead]
    ch = np.select(
        [s == 0, s == 1, s == 2, s == 5, s == 8],
        [CH["organic_search"], CH["paid_search"], CH["paid_social"], CH["referral"], CH["direct"]],
        -1,
    )
    mix_cd = np.array([CH["organic_search"], CH["paid_social"], CH["organic_social"],
                       CH["paid_search"]])[choice(rng, (.35, .25, .2, .2), len(lead))]  # fmt: skip
    mix_wb = np.array([CH["paid_social"], CH["organic_social"], CH["direct"],
                       CH["events"]])[choice(rng, (.35, .3, .15, .2), len(lead))]  # fmt: skip
    ch = np.where(s == 3, mix_cd, np.where(s == 4, mix_wb, ch))
    fit, imm = L["fit"][lead], L["immediate"][lead]
    form_w = np.stack(
        [np.full(len(lead), 0.55), np.full(len(lead), 0.15), 0.04 + 0.45 * fit * imm,
         np.full(len(lead), 0.06) + 0.1 * imm],
        axis=1,
    )  # fmt: skip
    form = categorical(rng, cum_rows(form_w), np.arange(len(lead)))
    form = np.where(s == 3, 0, np.where(s == 4, 1, form))
    form_page = np.array([PT["resources"], PT["webinar"], PT["demo"], PT["contact"]])[form]
    prof = np.where(imm, PR["buy_high"], PR["base"])
    profile = _session_profile(L, lead, prof, rng)
    intent = np.where(imm, 0.6 * L["intent"][lead], 0.15)
    return _visits(lead, c[lead] + 3, K_CREATE, profile, intent, ch, form_page, form)


def _baseline_visits(w: World, rng: np.random.Generator, L: dict) -> dict:
    """Baseline browsing: a decaying-then-steady rate over the lead's whole life."""
    n = L["n"]
    c = L["created"]
    life = (w.t_end - c).astype(np.float64)
    k = rng.poisson(L["base_rate"] * life / DAY)
    lead = np.repeat(np.arange(n), k)
    life_l = life[lead]
    tau = 25.0 * DAY
    u = rng.random(len(lead))
    decay = -tau * np.log1p(-u * (1.0 - np.exp(-life_l / tau)))
    uniform = rng.random(len(lead)) * life_l
    offset = np.where(rng.random(len(lead)) < 0.4, decay, uniform)
    t = c[lead] + offset.astype(np.int64)
    prof = _session_profile(L, lead, np.full(len(lead), PR["base"]), rng)
    return _visits(lead, t, K_BASE, prof, np.where(prof == PR["base"], 0.1, 0.0))


def _buying_bursts(w: World, rng: np.random.Generator, L: dict) -> dict:
    """Buying phase: bursts of visits (several within 48 hours), intent rising through the phase."""
    n = L["n"]
    bs, be = L["buy_start"], np.minimum(L["buy_end"], w.t_end)
    active = L["in_market"] & (bs < w.t_end)
    dur = np.where(active, be - bs, 0)
    n_bursts = np.where(active, 1 + rng.poisson(dur / (5.0 * DAY)), 0)
    b_lead = np.repeat(np.arange(n), n_bursts)
    b_start = bs[b_lead] + (rng.random(len(b_lead)) * dur[b_lead]).astype(np.int64)
    first_burst = np.arange(len(b_lead)) == np.repeat(np.cumsum(n_bursts) - n_bursts, n_bursts)
    b_start = np.where(first_burst, bs[b_lead], b_start)  # the phase opens with a burst
    b_pos = (b_start - bs[b_lead]) / np.maximum(dur[b_lead], 1)
    b_int = L["intent"][b_lead] * (0.55 + 0.45 * b_pos)
    per = 1 + rng.poisson(1.6 * (0.5 + L["intent"][b_lead]))
    lead = np.repeat(b_lead, per)
    first = np.repeat(np.cumsum(per) - per, per) == np.arange(len(lead))
    t = np.repeat(b_start, per) + np.where(first, 0, rng.random(len(lead)) * 48 * HOUR).astype(
        np.int64
    )
    s_int = np.repeat(b_int, per)
    prof = np.where(s_int >= 0.65, PR["buy_high"], PR["buy_low"])
    prof = _session_profile(L, lead, prof, rng)
    return _visits(lead, t, K_BUY, prof, s_int)


def _pre_creation_visits(rng: np.random.Generator, L: dict) -> dict:
    """A few leads browsed (cookie later stitched) before they were created."""
    n = L["n"]
    c = L["created"]
    pre = rng.random(n) < 0.015
    k = np.where(pre, 1 + rng.poisson(0.5, n), 0)
    lead = np.repeat(np.arange(n), k)
    t = c[lead] - (HOUR + rng.random(len(lead)) * 10 * DAY).astype(np.int64)
    return _visits(lead, t, K_PRE, PR["base"], 0.1)


def finish_sessions(w: World, rng: np.random.Generator, L: dict, S: dict) -> dict:
    """Weekends, time of day, channel, campaign, UTMs, referrer, pages, tracking flags."""
    S = _place_in_time(w, rng, L, S)
    camp, fam = _channel_and_campaign(w, rng, L, S)
    S.update(_utm_tags(rng, S["channel"], fam, camp))
    _pages_and_tracking(rng, S)
    return S


def _place_in_time(w: World, rng: np.random.Generator, L: dict, S: dict) -> dict:
    """Sessions thinned on weekends and holidays, moved to a business-hours time of day, and
    dropped if after the end or (except pre-creation visits) before their lead exists."""
    c = L["created"]
    kind = S["kind"]
    free = (kind == K_BASE) | (kind == K_BUY) | (kind == K_ONBOARD)
    # fewer visits on weekends and holidays
    day = w.day_index(S["t"])
    keep_p = np.where(kind == K_BUY, np.sqrt(w.day_activity[day]), w.day_activity[day])
    keep = ~free | (rng.random(len(kind)) < keep_p)
    S = frame_take(S, keep)
    kind, free = S["kind"], free[keep]
    lead = S["lead"]
    # business-hours time of day
    t = S["t"]
    tod = w.time_of_day(rng, len(t))
    t_new = (t // DAY) * DAY + tod
    floor = np.where(kind == K_ONBOARD, S["t_min"] if "t_min" in S else c[lead], c[lead])
    too_early = t_new < floor
    room = np.maximum(np.minimum(6 * HOUR, w.t_end - 1 - floor), 1)
    t_new = np.where(too_early, floor + (rng.random(len(t)) * room).astype(np.int64), t_new)
    t = np.where(free, t_new, t)
    ok = (t < w.t_end) & ((kind == K_PRE) | (t >= c[lead]))
    S = frame_take(S, ok)
    S["t"] = t[ok]
    S.pop("t_min", None)
    return S


def _channel_and_campaign(
    w: World, rng: np.random.Generator, L: dict, S: dict
) -> tuple[np.ndarray, np.ndarray]:
    """Set each session's channel (by profile, unless fixed) and landing page (from its campaign
    or its form); return the campaign and campaign-family codes (-1: none)."""
    n_s = len(S["t"])
    c = L["created"]
    lead, kind, prof = S["lead"], S["kind"], S["profile"]

    # channel
    ch_cum = cum_rows(np.array([PROFILE_CHANNELS[p] for p in PROFILES]))
    ch = categorical(rng, ch_cum, prof)
    ch = np.where(S["channel"] >= 0, S["channel"], ch)
    S["channel"] = ch
    day = w.day_index(S["t"])
    hi = prof == PR["buy_high"]

    # campaign
    camp = np.full(n_s, -1)
    for c_code, (ids, cum) in w.paid_choice.items():
        m = ch == c_code
        camp[m] = ids[categorical(rng, cum, day[m] + w.n_days * hi[m])]
    m = ch == CH["email"]
    weeks = (S["t"][m] - c[lead[m]]) / (7 * DAY)
    camp[m] = email_campaign(w, rng, weeks, kind[m], S["t"][m], day[m])
    # landing page from the campaign (paid, email) or from the form (creation visits)
    fam = np.where(camp >= 0, w.campaign_family[np.maximum(camp, 0)], -1)
    landing = np.full(n_s, -1)
    has_fam = fam >= 0
    landing[has_fam] = categorical(rng, w.family_landing, fam[has_fam])
    S["landing"] = np.where(S["landing"] >= 0, S["landing"], landing)
    return camp, fam


def _utm_tags(
    rng: np.random.Generator, ch: np.ndarray, fam: np.ndarray, camp: np.ndarray
) -> dict[str, np.ndarray]:
    """UTM source, medium and referrer per session, coherent with its channel
    (seeds/channel_rules.csv), and its campaign (emails without UTMs lose theirs)."""
    n_s = len(ch)
    src, med, ref = np.full(n_s, -1), np.full(n_s, -1), np.full(n_s, -1)

    def pick(options, p, size):
        return np.array(options)[choice(rng, p, size)]

    for name in CHANNELS:
        m = np.flatnonzero(ch == CH[name])
        k = len(m)
        if k == 0:
            continue
        f = fam[m]
        if name == "paid_search":
            src[m] = pick([SRC["google"], SRC["bing"]], (0.8, 0.2), k)
            med[m] = pick([MED["cpc"], MED["ppc"], MED["paid-search"]], (0.7, 0.2, 0.1), k)
            engine = np.where(src[m] == SRC["google"], REF["www.google.com"], REF["www.bing.com"])
            ref[m] = np.where(rng.random(k) < 0.5, engine, -1)
        elif name == "paid_social":
            li = f != FAM["fb_retargeting"]
            src[m] = np.where(li, SRC["linkedin"], SRC["facebook"])
            med[m] = pick([MED["paid_social"], MED["paidsocial"], MED["paid-social"]],
                          (0.6, 0.3, 0.1), k)  # fmt: skip
            site = np.where(li, REF["www.linkedin.com"], REF["m.facebook.com"])
            ref[m] = np.where(rng.random(k) < 0.5, site, -1)
        elif name == "display":
            src[m] = pick([SRC["doubleclick"], SRC["criteo"]], (0.6, 0.4), k)
            retarget = f == FAM["dsp_retargeting"]
            med[m] = np.where(
                retarget,
                pick([MED["retargeting"], MED["display"], MED["banner"]], (0.5, 0.3, 0.2), k),
                pick([MED["display"], MED["banner"]], (0.6, 0.4), k),
            )
            ref[m] = np.where(rng.random(k) < 0.3, REF["googleads.g.doubleclick.net"], -1)
        elif name == "email":
            tagged = rng.random(k) < 0.85
            src[m] = np.where(tagged, pick([SRC["hubspot"], SRC["marketo"]], (0.7, 0.3), k), -1)
            newsletter = f == FAM["em_newsletter"]
            med[m] = np.where(tagged, np.where(newsletter, MED["newsletter"], MED["email"]), -1)
            camp[m] = np.where(tagged, camp[m], -1)
            webmail = pick([REF["mail.google.com"], REF["outlook.office.com"]], (0.6, 0.4), k)
            ref[m] = np.where(~tagged | (rng.random(k) < 0.1), webmail, -1)
        elif name == "organic_search":
            ref[m] = pick([REF[r] for r in REFERRERS[:5]], (0.75, 0.12, 0.06, 0.04, 0.03), k)
        elif name == "organic_social":
            ref[m] = pick([REF[r] for r in REFERRERS[5:10]], (0.5, 0.1, 0.2, 0.1, 0.1), k)
            tagged = rng.random(k) < 0.3
            src[m] = np.where(tagged, pick([SRC["linkedin"], SRC["twitter"]], (0.7, 0.3), k), -1)
            med[m] = np.where(tagged, MED["social"], -1)
        elif name == "referral":
            ref[m] = pick(
                [REF[r] for r in REFERRERS[14:]], (0.3, 0.15, 0.1, 0.1, 0.1, 0.1, 0.1, 0.05), k
            )
            tagged = rng.random(k) < 0.2
            src[m] = np.where(tagged, pick([SRC["g2"], SRC["partner"]], (0.6, 0.4), k), -1)
            med[m] = np.where(tagged, pick([MED["referral"], MED["partner"]], (0.6, 0.4), k), -1)
        elif name == "events":
            show = f == FAM["ev"]
            src[m] = np.where(show, pick([SRC["booth"], SRC["event_app"]], (0.5, 0.5), k),
                              pick([SRC["zoom"], SRC["on24"]], (0.7, 0.3), k))  # fmt: skip
            med[m] = np.where(show, pick([MED["event"], MED["events"], MED["conference"]],
                                         (0.5, 0.3, 0.2), k), MED["webinar"])  # fmt: skip
        elif name == "other":
            src[m] = pick([SRC["podcast"], SRC["print"]], (0.6, 0.4), k)
            med[m] = np.where(src[m] == SRC["podcast"], MED["audio"], MED["qr"])
        # direct: nothing
    return dict(campaign=camp, source=src, medium=med, referrer=ref)


def _pages_and_tracking(rng: np.random.Generator, S: dict) -> None:
    """Set the number of pages (heavy-tailed), tracked-session, anonymous and unknown flags."""
    n_s = len(S["t"])
    kind, prof = S["kind"], S["profile"]
    mean = PROFILE_EXTRA_PAGES[prof] * np.where(kind == K_CREATE, 0.6, 1.0)
    r = 1.1
    S["npages"] = 1 + rng.negative_binomial(r, r / (r + mean))
    S["has_sid"] = rng.random(n_s) < 0.6
    creation = kind == K_CREATE
    S["anon"] = ~creation & (rng.random(n_s) < 0.062)
    S["unknown"] = ~creation & ~S["anon"] & (rng.random(n_s) < 0.005)


def email_campaign(w: World, rng, weeks, kind, t, day) -> np.ndarray:
    """Nurture programme of an email (open or click) by lead age and state."""
    k = len(weeks)
    year = w.year[day]
    nurture = np.array([w.nurture_by_year[y] for y in sorted(w.nurture_by_year)])
    years = np.array(sorted(w.nurture_by_year))
    nurture_y = nurture[np.clip(np.searchsorted(years, year), 0, len(years) - 1)]
    ec = w.email_campaign
    general = np.array([0, ec["em_newsletter"], ec["em_product"]])[choice(rng, (0.5, 0.3, 0.2), k)]
    general = np.where(general == 0, nurture_y, general)
    camp = np.where(weeks < 4, ec["em_welcome"], general)
    sales = (kind == K_BUY) & (rng.random(k) < 0.6)
    camp = np.where(sales, ec["em_sales"], camp)
    return np.where(kind == K_ONBOARD, ec["em_onboarding"], camp)


def onboarding_sessions(w: World, rng, L: dict, conv: np.ndarray) -> dict:
    """Visits of converted leads in the 90 days after converting (docs, product)."""
    lead = np.flatnonzero(conv != NULL)
    span = np.minimum(90 * DAY, w.t_end - conv[lead])
    k = rng.poisson(0.2 * span / DAY)
    lead_s = np.repeat(lead, k)
    t = np.repeat(conv[lead], k) + (rng.random(len(lead_s)) * np.repeat(span, k)).astype(np.int64)
    S = _visits(lead_s, t, K_ONBOARD, PR["onboarding"], 0.0)
    S["t_min"] = np.repeat(conv[lead], k)  # not before the conversion
    return S
