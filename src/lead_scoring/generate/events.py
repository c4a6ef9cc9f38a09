"""Events: what leads do, in and out of web sessions, and when they convert.

:func:`expand_sessions` turns sessions into page views and on-page events (ad and email clicks,
downloads, forms, demo requests, chats, webinar registrations and attendance);
:func:`offsite_events` adds nurture email opens and trade-show attendance; :func:`convert` draws
each lead's first conversion from a hazard per high-intent touch. :func:`simulate_events` runs
them for a chunk, including the change of behaviour after converting (onboarding).
An event frame holds the clean integer codes; :mod:`.mess` writes them out.
"""

from __future__ import annotations

import numpy as np

from lead_scoring.generate.catalogues import (
    CH,
    ET,
    FAM,
    FUNNEL_STAGE,
    HAZARD_CHAT,
    HAZARD_CONTACT,
    HAZARD_DEMO,
    HAZARD_EVENT,
    HAZARD_PAGE,
    HAZARD_WEBINAR,
    HIGH_INTENT_PAGES,
    K_BASE,
    K_BUY,
    K_ONBOARD,
    MED,
    PAGE_TYPES,
    PR,
    PROFILE_DOWNLOAD,
    PROFILE_PAGES,
    PROFILES,
    PT,
    SRC,
    SRC_EVENT,
    SRC_OUTBOUND,
    WEB_EVENT_TYPES,
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
    group_min,
    sigmoid,
)
from lead_scoring.generate.sessions import (
    email_campaign,
    finish_sessions,
    onboarding_sessions,
    plan_sessions,
)
from lead_scoring.generate.world import World


def expand_sessions(w: World, rng: np.random.Generator, L: dict, S: dict) -> dict:
    """Events of the sessions: page views and on-page/ad/email events, plus webinar attendance."""
    n_s = len(S["t"])
    npages = S["npages"]
    starts = np.cumsum(npages) - npages
    P = int(npages.sum())
    sess = np.repeat(np.arange(n_s), npages)
    pos = np.arange(P) - starts[sess]
    first = pos == 0
    prof = S["profile"][sess]
    page_cum = cum_rows(
        np.array([[PROFILE_PAGES[p].get(t, 0.0) for t in PAGE_TYPES] for p in PROFILES])
    )
    ptype = categorical(rng, page_cum, prof)
    landed = first & (S["landing"][sess] >= 0)
    ptype = np.where(landed, S["landing"][sess], ptype)
    # inside a visit pages follow the funnel (content -> product -> pricing -> demo), noisily
    buying = (prof == PR["buy_low"]) | (prof == PR["buy_high"])
    key = FUNNEL_STAGE[ptype] + rng.normal(0.0, 1.0, P) * np.where(buying, 0.8, 1.2)
    key = np.where(landed, -1e9, key)
    ptype = ptype[np.lexsort((key, sess))]
    # URLs: static pages by weight; webinar pages by date (mostly the next webinar)
    url = np.empty(P, dtype=np.int64)
    for ti in range(len(PAGE_TYPES)):
        m = np.flatnonzero(ptype == ti)
        if ti == PT["webinar"] or len(m) == 0:
            continue
        cand = np.flatnonzero(w.url_type[: w.n_static_urls] == ti)
        url[m] = cand[choice(rng, w.url_weight[cand], len(m))]
    # page times: time on page (duration) and gaps
    dur = np.clip(np.exp(rng.normal(np.log(40.0), 1.0, P)), 2, 1800).astype(np.int64)
    gap = dur + rng.integers(1, 15, P)
    csum = np.cumsum(gap) - gap
    t = S["t"][sess] + csum - csum[starts][sess]
    m = np.flatnonzero(ptype == PT["webinar"])
    nxt = np.searchsorted(w.webinar_t, t[m], side="right")
    upcoming = rng.random(len(m)) < 0.65
    past = (rng.random(len(m)) * nxt).astype(np.int64)  # an earlier webinar, on demand
    web = np.where(upcoming | (nxt == 0), np.minimum(nxt, len(w.webinar_t) - 1), past)
    url[m] = w.webinar_url[web]
    last = np.append(pos[1:] == 0, True)
    page_dur = np.where(last & (rng.random(P) < 0.5), NULL, dur)

    lead = S["lead"][sess]
    fit = L["fit"][lead]
    intent = S["intent"][sess]
    js, st = L["job_seeker"][lead], L["student"][lead]
    form = np.where(first, S["form"][sess], -1)
    ch = S["channel"][sess]
    u = rng.random((6, P))

    pages = dict(sess=sess, t=t, etype=np.full(P, ET["page_view"]), url=url, ptype=ptype,
                 asset=np.full(P, -1), dur=page_dur, land=first)  # fmt: skip
    extras = []

    def extra(mask, etype, dt_s, asset=None, dur=None, land=False):
        idx = np.flatnonzero(mask)
        extras.append(dict(
            sess=sess[idx], t=t[idx] + np.asarray(dt_s)[idx] if np.ndim(dt_s) else t[idx] + dt_s,
            etype=np.full(len(idx), etype), url=url[idx], ptype=ptype[idx],
            asset=np.full(len(idx), -1) if asset is None else asset[idx],
            dur=np.full(len(idx), NULL) if dur is None else dur[idx],
            land=np.full(len(idx), land),
        ))  # fmt: skip

    # ad and email clicks bring the visitor to the landing page
    paid_click = (ch == CH["paid_search"]) | (ch == CH["paid_social"]) | (ch == CH["display"])
    extra(first & paid_click & (S["campaign"][sess] >= 0), ET["ad_click"], -2)
    extra(first & (ch == CH["email"]) & (S["source"][sess] >= 0), ET["email_click"], -2)
    half = np.minimum(dur // 2, 60)
    is_res = ptype == PT["resources"]
    download = is_res & ((form == 0) | (u[0] < PROFILE_DOWNLOAD[prof]))
    gated = download & ((form == 0) | (u[1] < 0.5))
    extra(gated, ET["form_submit"], half - 1)
    extra(download, ET["content_download"], half, asset=w.url_asset[url])
    p_demo = sigmoid(-3.6 + 3.2 * intent + 2.2 * (fit - 0.5)) * ~(js | st)
    demo = (ptype == PT["demo"]) & ((form == 2) | (u[2] < p_demo))
    extra(demo, ET["demo_request"], half)
    p_contact = sigmoid(-3.8 + 3.0 * intent + 1.5 * (fit - 0.5)) * ~js
    contact = (ptype == PT["contact"]) & ((form == 3) | (u[3] < p_contact))
    extra(contact, ET["form_submit"], half)
    chat_page = np.isin(ptype, [PT["pricing"], PT["product"], PT["demo"], PT["integrations"]])
    extra(chat_page & (u[4] < 0.01 + 0.05 * intent), ET["chat_started"], half + 5)
    is_web = ptype == PT["webinar"]
    register = is_web & ((form == 1) | (u[5] < 0.2 + 0.2 * intent))
    extra(register, ET["form_submit"], half)
    extra(rng.random(P) < 0.002, -1, 7)  # unknown event types (type drawn at output)

    # webinar attendance of the registered: live at the webinar or on demand
    r = np.flatnonzero(register)
    web_of = np.searchsorted(w.webinar_url, url[r])
    live = w.webinar_t[web_of] > t[r]
    attend = rng.random(len(r)) < np.where(live, 0.45 + 0.2 * intent[r], 0.3)
    r, web_of, live = r[attend], web_of[attend], live[attend]
    t_att = np.where(live, w.webinar_t[web_of] + rng.integers(0, 600, len(r)),
                     t[r] + rng.integers(60, 1800, len(r)))  # fmt: skip
    att = dict(sess=sess[r], t=t_att, etype=np.full(len(r), ET["webinar_attended"]),
               url=np.full(len(r), -1), ptype=np.full(len(r), -1), asset=w.webinar_asset[web_of],
               dur=rng.integers(600, 3600, len(r)), land=np.zeros(len(r), dtype=bool))  # fmt: skip

    ev = frame_concat([pages, *extras])
    # non-page events carry no URL except the on-page ones (downloads, forms, demo, chat)
    no_url = (ev["etype"] == ET["ad_click"]) | (ev["etype"] == ET["email_click"])
    ev["url"] = np.where(no_url, -1, ev["url"])
    ev["ptype"] = np.where(no_url, -1, ev["ptype"])
    ev["web"] = np.isin(ev["etype"], WEB_EVENT_TYPES)
    s = ev["sess"]
    ev.update(
        lead=S["lead"][s], channel=S["channel"][s], source=S["source"][s], medium=S["medium"][s],
        campaign=S["campaign"][s], referrer=S["referrer"][s], intent=S["intent"][s],
        kind=S["kind"][s], anon=S["anon"][s], unknown=S["unknown"][s],
    )  # fmt: skip
    # attendance: the webinar platform's own tags; known lead, no session
    att.update(
        lead=S["lead"][att["sess"]], channel=np.full(len(r), CH["events"]),
        source=np.where(rng.random(len(r)) < 0.7, SRC["zoom"], SRC["on24"]),
        medium=np.full(len(r), MED["webinar"]), campaign=w.webinar_campaign[web_of],
        referrer=np.full(len(r), -1), intent=S["intent"][att["sess"]],
        kind=S["kind"][att["sess"]], anon=np.zeros(len(r), dtype=bool),
        unknown=np.zeros(len(r), dtype=bool), web=np.zeros(len(r), dtype=bool),
    )  # fmt: skip
    ev = frame_concat([ev, att])
    return frame_take(ev, ev["t"] < w.t_end)


def offsite_events(w: World, rng: np.random.Generator, L: dict) -> dict:
    """Nurture email opens and trade-show attendance (no session)."""
    opens = _nurture_opens(w, rng, L)
    if not len(w.show_t):
        return opens
    return frame_concat([opens, _trade_show_attendance(w, rng, L)])


def _nurture_opens(w: World, rng: np.random.Generator, L: dict) -> dict:
    """Weekly nurture emails opened at the lead's open rate, plus extra opens of the sales
    sequence during the buying phase."""
    n, c = L["n"], L["created"]
    life_w = (w.t_end - c) / (7 * DAY)
    k = rng.poisson(L["open_rate"] * life_w)
    lead = np.repeat(np.arange(n), k)
    week = np.floor(rng.random(len(lead)) * life_w[lead]).astype(np.int64)
    send_day = (c[lead] + 2 * DAY) // DAY + 7 * week
    t = send_day * DAY + 14 * HOUR + rng.exponential(8 * HOUR, len(lead)).astype(np.int64)
    kind = np.where((t >= L["buy_start"][lead]) & (t < L["buy_end"][lead]), K_BUY, K_BASE)
    # the sales sequence during the buying phase
    bs, be = L["buy_start"], np.minimum(L["buy_end"], w.t_end)
    span = np.where(L["in_market"] & (bs < w.t_end), be - bs, 0)
    kb = rng.poisson(1.0 * span / (7 * DAY))
    lead_b = np.repeat(np.arange(n), kb)
    t_b = bs[lead_b] + (rng.random(len(lead_b)) * span[lead_b]).astype(np.int64)
    lead = np.concatenate([lead, lead_b])
    t = np.concatenate([t, t_b])
    kind = np.concatenate([kind, np.full(len(lead_b), K_BUY)])
    return email_opens(w, rng, L, lead, t, kind)


def _trade_show_attendance(w: World, rng: np.random.Generator, L: dict) -> dict:
    """Trade-show visits: attendance rises with fit and with being in a buying phase; a lead
    created from a badge scan has its show's attendance as its creation touch."""
    c = L["created"]
    ts = w.show_t[None, :]
    eligible = (ts >= c[:, None]) & (ts < w.t_end)
    buying = (ts >= L["buy_start"][:, None]) & (ts < L["buy_end"][:, None])
    p = 0.003 + 0.015 * L["fit"][:, None] + 0.04 * buying
    li, si = np.nonzero(eligible & (rng.random(eligible.shape) < p))
    t_s = w.show_t[si] + 9 * HOUR + rng.integers(0, 8 * HOUR, len(li))
    scanned = np.flatnonzero(L["source"] == SRC_EVENT)
    li = np.concatenate([li, scanned])
    si = np.concatenate([si, L["last_show"][scanned]])
    t_s = np.concatenate([t_s, c[scanned]])
    m = len(li)
    att = dict(
        lead=li, t=t_s, etype=np.full(m, ET["event_attended"]), url=np.full(m, -1),
        ptype=np.full(m, -1), asset=w.show_asset[si], dur=np.full(m, NULL),
        channel=np.full(m, CH["events"]),
        source=np.where(rng.random(m) < 0.5, SRC["booth"], SRC["event_app"]),
        medium=np.array([MED["event"], MED["events"], MED["conference"]])[
            choice(rng, (.5, .3, .2), m)],
        campaign=w.show_campaign[si], referrer=np.full(m, -1),
        intent=np.where((t_s >= L["buy_start"][li]) & (t_s < L["buy_end"][li]),
                        L["intent"][li], 0.1),
        kind=np.full(m, K_BASE),
    )  # fmt: skip
    return _offsite_frame(att, rng)


def email_opens(w: World, rng, L: dict, lead, t, kind) -> dict:
    """Email-open events of ``lead`` at ``t`` (kept if the lead exists then and before the end)."""
    c = L["created"]
    keep = (t < w.t_end) & (t >= c[lead])
    lead, t, kind = lead[keep], t[keep], kind[keep]
    m = len(lead)
    day = w.day_index(t)
    camp = email_campaign(w, rng, (t - c[lead]) / (7 * DAY), kind, t, day)
    newsletter = w.campaign_family[camp] == FAM["em_newsletter"]
    ev = dict(
        lead=lead, t=t, etype=np.full(m, ET["email_open"]), url=np.full(m, -1),
        ptype=np.full(m, -1), asset=np.full(m, -1), dur=np.full(m, NULL),
        channel=np.full(m, CH["email"]),
        source=np.where(rng.random(m) < 0.7, SRC["hubspot"], SRC["marketo"]),
        medium=np.where(newsletter, MED["newsletter"], MED["email"]), campaign=camp,
        referrer=np.full(m, -1), intent=np.where(kind == K_BUY, 0.5, 0.1), kind=kind,
    )  # fmt: skip
    return _offsite_frame(ev, rng)


def _offsite_frame(ev: dict, rng) -> dict:
    """Complete offsite events with the session columns: no session, not on the site."""
    m = len(ev["lead"])
    ev.update(
        sess=np.full(m, -1), land=np.zeros(m, dtype=bool), web=np.zeros(m, dtype=bool),
        anon=np.zeros(m, dtype=bool), unknown=rng.random(m) < 0.005,
    )  # fmt: skip
    return ev


def convert(w: World, rng: np.random.Generator, L: dict, ev: dict) -> np.ndarray:
    """First conversion time per lead (NULL if none before the end): a hazard per high-intent
    touch, driven by fit x intent x recent high-intent activity, plus outbound and background."""
    n, c = L["n"], L["created"]
    etype, ptype, lead, t = ev["etype"], ev["ptype"], ev["lead"], ev["t"]
    a = np.full(len(t), -np.inf)
    a[etype == ET["demo_request"]] = HAZARD_DEMO
    a[(etype == ET["form_submit"]) & (ptype == PT["contact"])] = HAZARD_CONTACT
    a[etype == ET["chat_started"]] = HAZARD_CHAT
    pv = etype == ET["page_view"]
    for name, v in HAZARD_PAGE.items():
        a[pv & (ptype == PT[name])] = v
    a[etype == ET["webinar_attended"]] = HAZARD_WEBINAR
    a[etype == ET["event_attended"]] = HAZARD_EVENT
    cand = np.flatnonzero(np.isfinite(a) & (t >= c[lead]))

    # high-intent page views of the same lead in the 7 days up to each candidate touch
    hi = np.flatnonzero(pv & np.isin(ptype, HIGH_INTENT_PAGES))
    span = np.int64(1 << 36)
    keys = np.sort(lead[hi].astype(np.int64) * span + (t[hi] - w.t0))
    ck = lead[cand].astype(np.int64) * span + (t[cand] - w.t0)
    recent = np.searchsorted(keys, ck, side="right") - np.searchsorted(keys, ck - 7 * DAY)

    lc = lead[cand]
    fit = L["fit"][lc]
    z = (
        a[cand]
        + 3.0 * (fit - 0.5)
        + 3.0 * ev["intent"][cand] * (fit - 0.25)
        + 0.45 * np.log1p(recent)
        - 5.0 * L["job_seeker"][lc]
        - 4.0 * L["student"][lc]
    )
    success = rng.random(len(cand)) < sigmoid(z)
    quick = np.isin(etype[cand], [ET["demo_request"], ET["form_submit"], ET["chat_started"]])
    lag = rng.gamma(2.0, np.where(quick, 1.5, 4.0) * DAY).astype(np.int64)
    conv = group_min(lc[success], (t[cand] + lag)[success], n, np.iinfo(np.int64).max)

    # outbound: sales-driven, little digital trace
    p_out = sigmoid(-4.0 + 5.0 * (L["fit"] - 0.5)) * (L["source"] == SRC_OUTBOUND)
    t_out = c + rng.gamma(2.0, 15.0 * DAY, n).astype(np.int64)
    conv = np.where(rng.random(n) < p_out, np.minimum(conv, t_out), conv)
    # unexplained background conversions (noise no model can learn)
    t_bg = c + (rng.random(n) * (w.t_end - c)).astype(np.int64)
    conv = np.where(rng.random(n) < 0.004, np.minimum(conv, t_bg), conv)
    return np.where(conv < w.t_end, conv, NULL)


def simulate_events(w: World, rng: np.random.Generator, L: dict) -> tuple[dict, np.ndarray, int]:
    """All events of a chunk's leads (unsorted), each lead's first conversion time (NULL: none)
    and the number of sessions (session numbers in the events are below it)."""
    S1 = finish_sessions(w, rng, L, plan_sessions(w, rng, L))
    ev = frame_concat([expand_sessions(w, rng, L, S1), offsite_events(w, rng, L)])
    conv = convert(w, rng, L, ev)
    ev = _stop_shopping(rng, ev, conv, len(S1["t"]))
    # then onboarding starts: docs, product, onboarding emails
    S2 = finish_sessions(w, rng, L, onboarding_sessions(w, rng, L, conv))
    ev2 = expand_sessions(w, rng, L, S2)
    ev2["sess"] = np.where(ev2["sess"] >= 0, ev2["sess"].astype(np.int64) + len(S1["t"]), -1)
    opens = _onboarding_emails(w, rng, L, conv)
    has_sid = np.concatenate([S1["has_sid"], S2["has_sid"]])
    ev = frame_concat([ev, ev2, opens])
    ev["has_sid"] = np.where(ev["sess"] >= 0, has_sid[np.maximum(ev["sess"], 0)], False)
    return ev, conv, len(has_sid)


def _stop_shopping(rng: np.random.Generator, ev: dict, conv: np.ndarray, n_sessions: int) -> dict:
    """After converting, the shopping mostly stops (but some pricing checks stay): 60% of the
    buying-phase sessions after the conversion, and of such offsite events, are dropped."""
    lead_conv = conv[ev["lead"]]
    after = (lead_conv != NULL) & (ev["t"] > lead_conv) & (ev["kind"] == K_BUY)
    drop_sess = rng.random(n_sessions) < 0.6
    drop = after & np.where(
        ev["sess"] >= 0, drop_sess[np.maximum(ev["sess"], 0)], rng.random(len(after)) < 0.6
    )
    return frame_take(ev, ~drop)


def _onboarding_emails(w: World, rng: np.random.Generator, L: dict, conv: np.ndarray) -> dict:
    """Opens of the onboarding emails: ~5 per converted lead in the 60 days after converting."""
    lead_o = np.flatnonzero(conv != NULL)
    ko = rng.poisson(5, len(lead_o))
    lead = np.repeat(lead_o, ko)
    t = conv[lead] + (rng.random(len(lead)) * 60 * DAY).astype(np.int64)
    return email_opens(w, rng, L, lead, t, np.full(len(lead), K_ONBOARD))
