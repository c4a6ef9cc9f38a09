"""Synthetic B2B funnel: the four raw files of the project (leads, touchpoints, conversions,
ad_spend) as a CRM, a web/marketing tracker and the ad platforms would export them.

Data-generating process (everything vectorised with numpy/pyarrow, chunk by chunk of leads):

* Leads are created over the ``HISTORY_DAYS`` days ending at ``end_date`` with growth over time,
  fewer on weekends and in the Christmas week, and a business-hours time of day. Lead ids are
  chronological (``L0000001`` is the oldest).
* Each lead works at a company (shared by several leads) with a size, industry, country and tech
  stack; has a job title (free text, with a seniority and a function) and an email. These give a
  latent FIT in (0, 1): seniority x company size (founders matter in small companies, not in large
  ones), function, industry, data-stack tools (a bonus for >= 2 of them), region, personal email.
  Students, interns and job seekers are poor fits.
* Buying INTENT is latent and time-varying: a share of leads (rising with fit) enters one buying
  phase (often right at creation, else after an exponential wait) lasting ~3 weeks. In it,
  sessions come in bursts (several visits within 48 hours) whose pages shift towards pricing,
  comparison, case studies and demo/contact pages; inside a session pages follow the funnel
  (content -> product -> pricing -> demo) with noise. Outside it, leads read blog, docs and
  product pages; job seekers (and students) read careers pages.
* Touches: web sessions (channel and campaign per session, UTMs and referrer coherent with the
  channel), page views with time on page, content downloads (gated forms), webinar registrations
  and attendance, demo requests, contact forms, chats, ad and email clicks, nurture email opens,
  trade-show attendance.
* Conversion (an opportunity) is driven by a hazard per high-intent touch (demo request, contact
  form, chat, pricing/comparison view, webinar/event attendance):
  logit = a[touch] + 3.0 (fit - .5) + 3.0 intent (fit - .25) + .45 log1p(high-intent touches in
  the last 7 days) - 5 [job seeker] - 4 [student]; the opportunity opens after a sales lag. Plus
  outbound conversions for outbound leads and a small unexplained background rate. After it,
  shopping mostly stops and onboarding activity (docs, product, onboarding emails) starts.
* Ad spend per day x paid channel x campaign follows the paid clicks at a cost per click.
* Raw mess: messy case/whitespace in titles, industries, countries, sources, event types; null and
  invalid values; non-canonical channel spellings and null channels with UTMs set; duplicated
  event deliveries and lead rows; anonymous and unknown-lead events; events before their lead was
  created; a few year-2099 timestamps; negative durations and amounts; repeat conversions,
  conversions of unknown leads and a few dated before their lead was created.

Determinism: the output is a function of the whole ``GeneratorConfig``. Chunk ``k`` draws from
``default_rng(SeedSequence(seed, spawn_key=(1, k)))``; the shared world (companies, campaigns)
and the ad spend have their own streams. Changing ``chunk_size`` therefore changes the data
(it is part of the config); the same config always gives the same rows in the same order.

Modules, by job:

* :mod:`.config` — :class:`GeneratorConfig` (what to generate); :mod:`.schema` — the raw files'
  Arrow schemas (the contract with dbt's sources).
* :mod:`.catalogues` — the vocabularies and parameters (one named constant per list).
* :mod:`.world` — the shared world (calendar, pages, campaigns, companies, titles) and the leads
  of a chunk with their latent traits.
* :mod:`.sessions` — web sessions: when, channel, campaign, UTMs, referrer.
* :mod:`.events` — sessions expanded into events, offsite events, conversion, onboarding.
* :mod:`.mess` — the raw mess and the chunk files that carry it.
* :mod:`.ad_spend` — the ad platforms' spend, from the paid clicks.
* :mod:`.writer` — :func:`generate_dataset`: chunk by chunk into parquet.
* :mod:`.helpers` — vectorised numpy/pyarrow utilities.
"""

from lead_scoring.generate.config import HISTORY_DAYS, GeneratorConfig
from lead_scoring.generate.schema import (
    AD_SPEND_SCHEMA,
    CONVERSIONS_SCHEMA,
    FILES,
    LEADS_SCHEMA,
    TOUCHPOINTS_SCHEMA,
)
from lead_scoring.generate.writer import generate_dataset

__all__ = [
    "AD_SPEND_SCHEMA",
    "CONVERSIONS_SCHEMA",
    "FILES",
    "GeneratorConfig",
    "HISTORY_DAYS",
    "LEADS_SCHEMA",
    "TOUCHPOINTS_SCHEMA",
    "generate_dataset",
]
