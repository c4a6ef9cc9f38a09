"""Ad spend: what the ad platforms bill per day, paid channel and campaign.

The spend follows the paid clicks of the touchpoints (:func:`paid_clicks`, summed over the
chunks) at each campaign's cost per click, smoothed and with noise, plus some spend that no
campaign claims (agency fees, untagged ads). It has its own random stream ``(2, 0)``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from lead_scoring.generate.catalogues import CH, CHANNELS, ET, PAID_CHANNELS
from lead_scoring.generate.helpers import take
from lead_scoring.generate.schema import AD_SPEND_SCHEMA
from lead_scoring.generate.world import World


def paid_clicks(w: World, ev: dict) -> np.ndarray:
    """Paid clicks (ad clicks, event and webinar attendance, event landings) per day x campaign,
    flattened day-major, from an event frame."""
    click = (
        (
            (ev["etype"] == ET["ad_click"])
            | (ev["etype"] == ET["event_attended"])
            | (ev["etype"] == ET["webinar_attended"])
            | (ev["land"] & (ev["channel"] == CH["events"]) & (ev["etype"] == ET["page_view"]))
        )
        & (ev["campaign"] >= 0)
        & (ev["t"] >= w.t0)
    )
    flat = w.day_index(ev["t"][click]) * len(w.campaign_names) + ev["campaign"][click]
    clicks = np.bincount(flat, minlength=w.n_days * len(w.campaign_names))
    return clicks


def ad_spend_table(w: World, clicks: np.ndarray) -> pa.Table:
    """The ad_spend file from the total :func:`paid_clicks`, sorted by day, channel, campaign."""
    rng = np.random.default_rng(np.random.SeedSequence(w.config.seed, spawn_key=(2, 0)))
    n_c = len(w.campaign_names)
    clicks = clicks.reshape(w.n_days, n_c).astype(np.float64)
    paid = np.isin(w.campaign_channel, [CH[c] for c in PAID_CHANNELS])
    touched = clicks.sum(axis=0) > 0
    kernel = np.ones(7) / 7.0
    days_out, camp_out, spend_out = [], [], []
    for ci in np.flatnonzero(paid & touched):  # loop over campaigns (a few dozen)
        act = w.campaign_active[ci]
        obs = clicks[:, ci]
        smooth = np.convolve(obs, kernel, mode="same")
        floor = 0.15 * obs[act].mean() if act.any() else 0.0
        base = 0.5 * obs + 0.5 * smooth + floor
        spend = w.campaign_cpc[ci] * base * np.exp(rng.normal(0.0, 0.15, w.n_days))
        d = np.flatnonzero(act | (obs > 0))
        days_out.append(d)
        camp_out.append(np.full(len(d), ci))
        spend_out.append(spend[d])
    if days_out:
        days = np.concatenate(days_out)
        camp = np.concatenate(camp_out)
        spend = np.concatenate(spend_out)
    else:
        days = camp = np.zeros(0, dtype=np.int64)
        spend = np.zeros(0)
    channel = w.campaign_channel[camp] if len(camp) else np.zeros(0, dtype=np.int64)
    # unallocated spend (no campaign): agency fees, untagged ads
    n_ch = len(CHANNELS)
    per_day = np.zeros((w.n_days, n_ch))
    np.add.at(per_day, (days, channel), spend)
    ud, uc = np.nonzero(per_day > 0)
    pick = rng.random(len(ud)) < 0.5
    ud, uc = ud[pick], uc[pick]
    u_spend = 0.05 * per_day[ud, uc] * np.exp(rng.normal(0.0, 0.3, len(ud)))
    days = np.concatenate([days, ud])
    channel = np.concatenate([channel, uc])
    camp = np.concatenate([camp, np.full(len(ud), -1)])
    spend = np.round(np.concatenate([spend, u_spend]), 2)
    order = np.lexsort((np.where(camp < 0, n_c, camp), channel, days))
    days, channel, camp, spend = days[order], channel[order], camp[order], spend[order]
    start = (w.start_date - dt.date(1970, 1, 1)).days
    return pa.Table.from_arrays(
        [
            pa.array((start + days).astype(np.int32), type=pa.date32()),
            take(pa.array(CHANNELS), channel),
            take(w.campaign_dict, camp),
            pa.array(spend, type=pa.float64()),
        ],
        schema=AD_SPEND_SCHEMA,
    )
