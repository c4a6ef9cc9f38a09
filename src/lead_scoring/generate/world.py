"""The world shared by all chunks, and the leads of one chunk with their latent traits.

:class:`World` is built once per config: the calendar (activity by day and hour, lead growth),
the site's pages, the webinar and trade-show calendar, the campaigns and their choice
probabilities, the companies (size, industry, country, tech stack, name, domain), the job titles,
and the string dictionaries the exported codes index. :func:`simulate_leads` draws a chunk of
leads: creation time, company, title and seniority, latent fit, buying phase and lead source.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lead_scoring.generate import mess
from lead_scoring.generate.catalogues import (
    BLOG_SLUGS,
    CH,
    COMPANY_SIZES,
    COMPETITORS,
    COUNTRIES,
    COUNTRY_TLD,
    CUSTOMERS,
    DOC_TOPICS,
    EBOOKS,
    FAM,
    FAMILIES,
    FEATURES,
    FUNCTIONS,
    HOUR_WEIGHTS,
    INDUSTRIES,
    INTEGRATIONS,
    JOBS,
    LEAD_SOURCE_BASE,
    NAME_PREFIXES,
    NAME_SUFFIXES,
    PAGE_TYPES,
    PAID_CHANNELS,
    PT,
    REFERRERS,
    REGION_FIT,
    SENIORITY_BY_SIZE,
    SENIORITY_FIT,
    SIZE_FIT,
    SIZE_LEAD_WEIGHT,
    SIZE_WEIGHTS,
    SRC_EVENT,
    SRC_OUTBOUND,
    SUFFIX_WEIGHTS,
    TECH_PRETTY,
    TECH_SIZE_FACTOR,
    TECHS,
    TITLE_FIXED_FUNCTION_FIT,
    TITLE_TEMPLATES,
    TRADE_SHOWS,
    UTM_MEDIUMS,
    UTM_SOURCES,
    WEBINAR_TOPICS,
)
from lead_scoring.generate.config import HISTORY_DAYS, GeneratorConfig
from lead_scoring.generate.helpers import (
    DAY,
    HOUR,
    categorical,
    choice,
    cum_rows,
    epoch_seconds,
    norm,
    sigmoid,
    take,
)


class World:
    """Calendar, catalogues, companies and campaigns of one config (seeded stream ``(0, 0)``)."""

    def __init__(self, config: GeneratorConfig) -> None:
        self.config = config
        self.end_date = dt.date.fromisoformat(str(config.end_date))
        self.start_date = self.end_date - dt.timedelta(days=HISTORY_DAYS - 1)
        self.t0 = epoch_seconds(self.start_date)
        self.t_end = epoch_seconds(self.end_date) + DAY  # exclusive: end_date 23:59:59 is last
        self.n_days = HISTORY_DAYS
        self.unknown_pool = max(100, config.n_leads // 20)
        self.id_width = max(7, len(str(config.n_leads + self.unknown_pool + 1)))
        days = np.arange(self.n_days)
        dates = np.datetime64(self.start_date) + days.astype("timedelta64[D]")
        self.weekday = (days + self.start_date.weekday()) % 7  # Monday = 0
        month = (dates.astype("datetime64[M]").astype(np.int64) % 12) + 1
        dom = (dates - dates.astype("datetime64[M]")).astype(np.int64) + 1
        self.quarter = (month - 1) // 3  # 0..3
        self.year = dates.astype("datetime64[Y]").astype(np.int64) + 1970
        holiday = ((month == 12) & (dom >= 22)) | ((month == 1) & (dom <= 2))
        weekend = self.weekday >= 5
        self.day_activity = np.where(weekend, 0.3, 1.0) * np.where(holiday, 0.5, 1.0)
        # leads created: growth over the period x weekly x holidays x hour of day
        growth = 1.0 + 1.2 * days / self.n_days
        cell = (growth * self.day_activity)[:, None] * HOUR_WEIGHTS[None, :]
        cdf = np.concatenate([[0.0], np.cumsum(cell.ravel())])
        self.created_cdf = cdf / cdf[-1]
        self.hour_cum = np.cumsum(norm(HOUR_WEIGHTS))

        self._build_pages()
        self._build_events_calendar()
        self._build_campaigns()
        self._build_dictionaries()
        self._build_companies(
            np.random.default_rng(np.random.SeedSequence(config.seed, spawn_key=(0, 0)))
        )
        self._build_titles()

    # ---- web pages -------------------------------------------------------------------------
    def _build_pages(self) -> None:
        urls: list[str] = []
        url_type: list[int] = []
        url_weight: list[float] = []
        url_asset: list[int] = []
        self.assets: list[str] = []

        def add(path: str, ptype: str, weight: float = 1.0, asset: str | None = None) -> None:
            urls.append(path)
            url_type.append(PT[ptype])
            url_weight.append(weight)
            if asset is not None:
                self.assets.append(asset)
                url_asset.append(len(self.assets) - 1)
            else:
                url_asset.append(-1)

        add("/", "home")
        add("/pricing", "pricing", 0.7)
        add("/pricing/enterprise", "pricing", 0.2)
        add("/pricing/teams", "pricing", 0.1)
        for p, w in (("/demo", 0.5), ("/request-demo", 0.35), ("/book-demo", 0.15)):
            add(p, "demo", w)
        for p, w in (("/contact-sales", 0.6), ("/contact", 0.25), ("/talk-to-sales", 0.15)):
            add(p, "contact", w)
        for i, c in enumerate(COMPETITORS):
            add(f"/compare/{c}", "comparison", 1.0 / (i + 1))
            add(f"/vs/{c}", "comparison", 0.6 / (i + 1))
        for c in CUSTOMERS:
            add(f"/customers/{c}", "case_study")
            add(f"/case-studies/{c}", "case_study", 0.5)
        add("/docs", "docs", 2.0)
        for t in DOC_TOPICS:
            add(f"/docs/{t}", "docs")
        add("/careers", "careers", 4.0)
        for j in JOBS:
            add(f"/careers/{j}", "careers", 1.0)
            add(f"/jobs/{j}", "careers", 0.2)
        for i, s in enumerate(BLOG_SLUGS):
            add(f"/blog/{s}", "blog", 1.0 / (1 + i) ** 0.7)
        for f in FEATURES:
            add(f"/product/{f}", "product")
        add("/platform", "product", 1.5)
        add("/security", "product", 0.5)
        for x in INTEGRATIONS:
            add(f"/integrations/{x}", "integrations")
        for slug, title in EBOOKS:
            add(f"/resources/{slug}", "resources", 1.0, asset=title)
        for p, w in (("/about", 0.5), ("/company", 0.2), ("/team", 0.2), ("/partners", 0.1)):
            add(p, "about", w)
        self.n_static_urls = len(urls)
        # webinar pages: one per webinar instance (built in _build_events_calendar)
        self._urls, self._url_type, self._url_asset = urls, url_type, url_asset
        self.url_weight = np.array(url_weight)

    def _build_events_calendar(self) -> None:
        # monthly webinars from 10 days after the start to ~7 weeks after the end
        n_web = math.ceil((self.n_days + 50) / 30.4)
        day = np.floor(10 + 30.4 * np.arange(n_web)).astype(np.int64)
        self.webinar_t = self.t0 + day * DAY + 16 * HOUR
        self.webinar_day = day
        self.webinar_url = np.empty(n_web, dtype=np.int64)
        self.webinar_asset = np.empty(n_web, dtype=np.int64)
        self.webinar_slug = []
        for w in range(n_web):
            slug, title = WEBINAR_TOPICS[w % len(WEBINAR_TOPICS)]
            date = self.start_date + dt.timedelta(days=int(day[w]))
            if w >= len(WEBINAR_TOPICS):
                slug, title = f"{slug}-{date.year}", f"{title} ({date:%B %Y})"
            self.webinar_slug.append(slug)
            self.assets.append(title)
            self.webinar_asset[w] = len(self.assets) - 1
            self._urls.append(f"/webinars/{slug}")
            self._url_type.append(PT["webinar"])
            self._url_asset.append(len(self.assets) - 1)
            self.webinar_url[w] = len(self._urls) - 1
        self.urls = tuple(self._urls)
        self.url_type = np.array(self._url_type)
        self.url_asset = np.array(self._url_asset)
        # trade shows within the period
        shows = []
        for year in range(self.start_date.year, self.end_date.year + 1):
            for slug, name, month, dom in TRADE_SHOWS:
                date = dt.date(year, month, dom)
                if self.start_date <= date <= self.end_date:
                    shows.append((date, slug, name))
        shows.sort()
        self.show_day = np.array([(d - self.start_date).days for d, _, _ in shows], dtype=np.int64)
        self.show_t = self.t0 + self.show_day * DAY
        self.show_asset = np.empty(len(shows), dtype=np.int64)
        self.show_names = []
        for i, (date, slug, name) in enumerate(shows):
            self.assets.append(f"{name} {date.year}")
            self.show_asset[i] = len(self.assets) - 1
            self.show_names.append(f"ev_{slug}_{date.year}")

    def _build_campaigns(self) -> None:
        names: list[str] = []
        family: list[int] = []
        active: list[np.ndarray] = []
        years = sorted(set(self.year.tolist()))
        all_days = np.ones(self.n_days, dtype=bool)

        def add(name: str, fam: str, mask: np.ndarray) -> None:
            names.append(name)
            family.append(FAM[fam])
            active.append(mask)

        for q in range(4):
            add(f"ps_brand_q{q + 1}", "ps_brand", self.quarter == q)
        for fam, stem in (("ps_generic", "ps_generic"), ("ps_competitor", "ps_competitor"),
                          ("li_abm", "li_abm"), ("li_leadgen", "li_leadgen"),
                          ("fb_retargeting", "fb_retargeting"),
                          ("dsp_retargeting", "dsp_retargeting"),
                          ("dsp_prospecting", "dsp_prospecting")):  # fmt: skip
            for y in years:
                add(f"{stem}_{y}", fam, self.year == y)
        days = np.arange(self.n_days)
        self.show_campaign = np.empty(len(self.show_day), dtype=np.int64)
        for i, name in enumerate(self.show_names):
            d = self.show_day[i]
            self.show_campaign[i] = len(names)
            add(name, "ev", (days >= d - 14) & (days <= d + 2))
        self.webinar_campaign = np.empty(len(self.webinar_day), dtype=np.int64)
        for w, slug in enumerate(self.webinar_slug):
            d = self.webinar_day[w]
            self.webinar_campaign[w] = len(names)
            add("wb_" + slug.replace("-", "_"), "wb", (days >= d - 31) & (days <= d))
        self.email_campaign = {}
        for fam, name in (("em_welcome", "em_welcome_series"), ("em_newsletter", "em_newsletter"),
                          ("em_product", "em_product_updates"), ("em_sales", "em_sales_sequence"),
                          ("em_onboarding", "em_customer_onboarding")):  # fmt: skip
            self.email_campaign[fam] = len(names)
            add(name, fam, all_days)
        self.nurture_by_year = {}
        for y in years:
            self.nurture_by_year[y] = len(names)
            add(f"em_nurture_{y}", "em_nurture", self.year == y)
        self.campaign_names = tuple(names)
        self.campaign_family = np.array(family)
        self.campaign_active = np.array(active)  # (campaigns x days)
        self.campaign_channel = np.array([CH[FAMILIES[f][1]] for f in family])
        self.campaign_cpc = np.array([FAMILIES[f][4] for f in family])
        # per paid channel: campaigns and their choice probabilities per (intent group, day)
        self.paid_choice = {}
        for ch in PAID_CHANNELS:
            ids = np.flatnonzero(self.campaign_channel == CH[ch])
            act = self.campaign_active[ids].T.astype(np.float64)  # days x k
            lo = np.array([FAMILIES[family[i]][2] for i in ids])
            hi = np.array([FAMILIES[family[i]][3] for i in ids])
            if ch == "events":  # trade shows weigh more than webinars while they run
                boost = np.where(self.campaign_family[ids] == FAM["ev"], 3.0, 1.0)
                lo, hi = lo * boost, hi * boost
            weights = np.concatenate([act * lo, act * hi])
            self.paid_choice[CH[ch]] = (ids, cum_rows(weights))
        # landing page-type mix per campaign family
        land = np.zeros((len(FAMILIES), len(PAGE_TYPES)))
        for f, fam in enumerate(FAMILIES):
            for ptype, w in fam[5].items():
                land[f, PT[ptype]] = w
        self.family_landing = cum_rows(land)

    def _build_dictionaries(self) -> None:
        """The strings the exported codes index (the messy spellings come from :mod:`.mess`)."""
        self.url_dict = mess.url_dictionary(self.urls)
        self.event_type_dict = mess.event_type_dictionary()
        self.channel_dict, self.channel_spelling_code = mess.channel_dictionary()
        self.source_dict = pa.array(UTM_SOURCES, type=pa.string())
        self.medium_dict = pa.array(UTM_MEDIUMS, type=pa.string())
        self.referrer_dict = pa.array(REFERRERS, type=pa.string())
        self.campaign_dict = pa.array(self.campaign_names, type=pa.string())
        self.asset_dict = pa.array(self.assets, type=pa.string())
        # lead-level dictionaries
        self.industry_dict = mess.industry_dictionary()
        self.country_dict = mess.country_dictionary()
        self.lead_source_dict = mess.lead_source_dictionary()
        self.size_dict = pa.array(COMPANY_SIZES, type=pa.string())

    # ---- companies ---------------------------------------------------------------------------
    def _build_companies(self, rng: np.random.Generator) -> None:
        n = max(20, math.ceil(self.config.n_leads / 2.5))
        size = choice(rng, SIZE_WEIGHTS, n)
        industry = choice(rng, [i[1] for i in INDUSTRIES], n)
        country = choice(rng, [c[2] for c in COUNTRIES], n)
        # tech stack: prevalence grows with size; software companies use more data tools
        prev = np.array([t[1] for t in TECHS])
        is_data = np.array([t[3] for t in TECHS])
        p = prev[None, :] * TECH_SIZE_FACTOR[size][:, None]
        p = p * np.where(is_data[None, :] & (industry == 0)[:, None], 1.6, 1.0)
        techs = rng.random((n, len(TECHS))) < np.minimum(p, 0.95)
        techs &= (rng.random(n) >= 0.15)[:, None]  # 15% of companies: stack unknown
        fit_tech = techs.astype(np.float64) @ np.array([t[2] for t in TECHS])
        n_data = techs[:, is_data].sum(axis=1)
        self.co_size = size
        self.co_industry = industry
        self.co_country = country
        self.co_tech_fit = fit_tech + 0.3 * (n_data >= 2)
        self.co_lead_weight = np.cumsum(norm(SIZE_LEAD_WEIGHT[size]))
        # tech_stack strings: one vectorised join per tool
        pretty = rng.random(n) < 0.1  # some CRMs store the tools' display names
        acc = pa.array([""] * n, type=pa.string())
        for j, (token, *_) in enumerate(TECHS):
            shown = TECH_PRETTY.get(token, token.capitalize())
            sep = "; " if j % 3 == 0 else ";"
            piece = pc.if_else(
                pa.array(techs[:, j]),
                pc.if_else(pa.array(pretty), shown + sep, token + ";"),
                "",
            )
            acc = pc.binary_join_element_wise(acc, piece, "")
        acc = pc.utf8_rtrim(acc, characters="; ")
        self.co_tech = pc.if_else(pc.equal(acc, ""), pa.scalar(None, pa.string()), acc)
        # names and domains, coherent with the industry
        prefix = rng.integers(0, len(NAME_PREFIXES), n)
        core_lists = [i[3] for i in INDUSTRIES]
        core_flat = [c for cores in core_lists for c in cores]
        core_off = np.cumsum([0] + [len(c) for c in core_lists])[:-1]
        core_len = np.array([len(c) for c in core_lists])
        core = core_off[industry] + (rng.random(n) * core_len[industry]).astype(np.int64)
        suffix = choice(rng, SUFFIX_WEIGHTS, n)
        prefixes = pa.array(NAME_PREFIXES, type=pa.string())
        cores = pa.array(core_flat, type=pa.string())
        p_arr, c_arr = take(prefixes, prefix), take(cores, core)
        self.co_name = pc.binary_join_element_wise(p_arr, " ", c_arr, "")
        self.co_name = pc.binary_join_element_wise(
            self.co_name, take(pa.array(NAME_SUFFIXES, type=pa.string()), suffix), ""
        )
        codes = [c[0] for c in COUNTRIES]
        tld_options = [".com", ".io"] + sorted(set(COUNTRY_TLD.values()))
        tld_of_country = np.array([tld_options.index(COUNTRY_TLD.get(c, ".com")) for c in codes])
        tld = np.where(rng.random(n) < 0.5, tld_of_country[country], 0)
        tld = np.where((industry == 0) & (rng.random(n) < 0.25), 1, tld)
        stem = pc.replace_substring(
            pc.utf8_lower(pc.binary_join_element_wise(p_arr, c_arr, "")), " ", ""
        )
        self.co_domain = pc.binary_join_element_wise(
            stem, take(pa.array(tld_options, type=pa.string()), tld), ""
        )

    # ---- job titles ---------------------------------------------------------------------------
    def _build_titles(self) -> None:
        titles: list[str] = []
        variants: list[str] = []
        func_fit: list[float] = []
        tmpl_offset, tmpl_templated, tmpl_class = [], [], []
        for cls, templates in enumerate(TITLE_TEMPLATES):
            for tmpl in templates:
                tmpl_offset.append(len(titles))
                tmpl_templated.append("{f}" in tmpl)
                tmpl_class.append(cls)
                combos = (
                    [(tmpl.format(f=f), tmpl.lower().format(f=f.upper()), ff)
                     for f, _, ff in FUNCTIONS]
                    if "{f}" in tmpl
                    else [(tmpl, tmpl.title(), TITLE_FIXED_FUNCTION_FIT.get(tmpl, 0.0))]
                )  # fmt: skip
                for title, mixed, ff in combos:
                    titles.append(title)
                    func_fit.append(ff)
                    variants += mess.title_spellings(title, mixed)
        self.title_dict = pa.array(variants, type=pa.string())
        self.title_func_fit = np.array(func_fit)
        self.tmpl_offset = np.array(tmpl_offset)
        self.tmpl_templated = np.array(tmpl_templated)
        counts = np.zeros((len(TITLE_TEMPLATES), max(len(t) for t in TITLE_TEMPLATES)))
        self.tmpl_first = np.cumsum([0] + [len(t) for t in TITLE_TEMPLATES])[:-1]
        for cls, templates in enumerate(TITLE_TEMPLATES):
            counts[cls, : len(templates)] = 1.0
        self.tmpl_cum = cum_rows(counts)
        self.seniority_cum = cum_rows(SENIORITY_BY_SIZE)

    # ---- shared samplers ------------------------------------------------------------------------
    def day_index(self, t: np.ndarray) -> np.ndarray:
        return np.clip((np.asarray(t) - self.t0) // DAY, 0, self.n_days - 1)

    def time_of_day(self, rng: np.random.Generator, n: int) -> np.ndarray:
        hour = np.minimum(np.searchsorted(self.hour_cum, rng.random(n), side="right"), 23)
        return hour * HOUR + rng.integers(0, HOUR, n)


def simulate_leads(w: World, rng: np.random.Generator, lo: int, hi: int) -> dict:
    """Leads ``lo`` to ``hi - 1`` as a frame of their traits (``n`` and ``lo`` as scalars)."""
    n = hi - lo
    cfg = w.config
    # created_at: stratified quantiles of the global creation density, so ids are chronological
    q = (np.arange(lo, hi) + rng.random(n)) / cfg.n_leads
    cell = np.clip(np.searchsorted(w.created_cdf, q, side="right") - 1, 0, len(w.created_cdf) - 2)
    frac = (q - w.created_cdf[cell]) / np.maximum(
        w.created_cdf[cell + 1] - w.created_cdf[cell], 1e-18
    )
    created = w.t0 + cell * HOUR + np.floor(np.clip(frac, 0, 0.9999) * HOUR).astype(np.int64)
    created = np.minimum(created, w.t_end - 1)

    company = np.minimum(
        np.searchsorted(w.co_lead_weight, rng.random(n), side="right"), len(w.co_size) - 1
    )
    size = w.co_size[company]
    size_obs = np.where(rng.random(n) < 0.08, 7, size)  # 7 = not filled in
    industry = w.co_industry[company]
    country = w.co_country[company]
    region = np.array([REGION_FIT[c[1]] for c in COUNTRIES])[country]

    seniority = categorical(rng, w.seniority_cum, size_obs)
    tmpl = w.tmpl_first[seniority] + categorical(rng, w.tmpl_cum, seniority)
    func = choice(rng, [f[1] for f in FUNCTIONS], n)
    title = w.tmpl_offset[tmpl] + np.where(w.tmpl_templated[tmpl], func, 0)
    title_null = rng.random(n) < 0.05
    entry = seniority == 0
    personal = rng.random(n) < 0.07 + 0.30 * entry + 0.08 * (size == 0)
    job_seeker = rng.random(n) < 0.025 + 0.25 * entry + 0.06 * personal + 0.02 * (seniority == 1)
    student = entry & ~job_seeker

    # latent fit
    sen_fit = SENIORITY_FIT[seniority] + np.where(
        seniority == 5, np.where(size <= 2, 0.9, 0.2), 0.0
    )
    ind_fit = np.array([i[2] for i in INDUSTRIES])[industry]
    fit_logit = (
        sen_fit
        + w.title_func_fit[title]
        + SIZE_FIT[size_obs]
        + ind_fit
        + w.co_tech_fit[company]
        + region
        - 0.7 * personal
        - 1.5 * job_seeker
        + rng.normal(0.0, 0.6, n)
        - 0.6
    )
    fit = sigmoid(fit_logit)

    # buying phase
    p_market = np.clip(0.05 + 0.5 * fit**1.5, 0, 0.9) * np.where(entry | job_seeker, 0.1, 1.0)
    in_market = rng.random(n) < p_market
    immediate = in_market & (rng.random(n) < 0.3)
    wait = np.where(immediate, rng.random(n) * DAY, rng.exponential(75 * DAY, n))
    buy_start = np.where(in_market, created + wait.astype(np.int64), w.t_end)
    buy_end = buy_start + ((rng.gamma(2.0, 10.0, n) + 3.0) * DAY).astype(np.int64)
    intent = rng.uniform(0.45, 1.0, n)

    # lead source: outbound targets good fits; 'Event' right after a trade show
    since_show = np.full(n, 10**9)
    if len(w.show_t):
        k = np.searchsorted(w.show_t, created, side="right") - 1
        since_show = np.where(k >= 0, created - w.show_t[np.maximum(k, 0)], 10**9)
        last_show = np.maximum(k, 0)
    else:
        last_show = np.zeros(n, dtype=np.int64)
    near_show = (since_show >= 0) & (since_show <= 10 * DAY)
    src_w = np.tile(LEAD_SOURCE_BASE, (n, 1))
    src_w[:, SRC_EVENT] = 0.5 * near_show
    src_w[:, SRC_OUTBOUND] = 0.03 + 0.12 * fit
    source = categorical(rng, cum_rows(src_w), np.arange(n))
    source = np.where((source == SRC_EVENT) & ~near_show, 0, source)

    return dict(
        n=n, lo=lo, created=created, company=company, size=size, size_obs=size_obs,
        industry=industry, country=country, seniority=seniority, title=title,
        title_null=title_null, personal=personal, job_seeker=job_seeker, student=student,
        fit=fit, in_market=in_market, immediate=immediate, buy_start=buy_start,
        buy_end=buy_end, intent=intent, source=source, last_show=last_show,
        base_rate=np.exp(rng.normal(np.log(0.05), 0.85, n)) * np.where(job_seeker, 0.6, 1.0),
        open_rate=0.55 * rng.beta(2.0, 2.5, n) * (0.5 + fit),
    )  # fmt: skip
