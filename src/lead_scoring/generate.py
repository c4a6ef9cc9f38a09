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
"""

from __future__ import annotations

import datetime as dt
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

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

DAY = 86_400
HOUR = 3_600
HISTORY_DAYS = 540
NULL = np.iinfo(np.int64).min  # "no value" in integer code arrays

LEADS_SCHEMA = pa.schema(
    [
        ("lead_id", pa.string()),
        ("created_at", pa.timestamp("us")),
        ("email", pa.string()),
        ("company_name", pa.string()),
        ("job_title", pa.string()),
        ("company_size", pa.string()),
        ("industry", pa.string()),
        ("country", pa.string()),
        ("lead_source", pa.string()),
        ("tech_stack", pa.string()),
    ]
)
TOUCHPOINTS_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("lead_id", pa.string()),
        ("occurred_at", pa.timestamp("us")),
        ("event_type", pa.string()),
        ("channel", pa.string()),
        ("utm_source", pa.string()),
        ("utm_medium", pa.string()),
        ("utm_campaign", pa.string()),
        ("referrer_domain", pa.string()),
        ("page_url", pa.string()),
        ("asset_name", pa.string()),
        ("session_id", pa.string()),
        ("duration_seconds", pa.int32()),
    ]
)
CONVERSIONS_SCHEMA = pa.schema(
    [
        ("lead_id", pa.string()),
        ("converted_at", pa.timestamp("us")),
        ("conversion_type", pa.string()),
        ("amount", pa.float64()),
    ]
)
AD_SPEND_SCHEMA = pa.schema(
    [
        ("spend_date", pa.date32()),
        ("channel", pa.string()),
        ("utm_campaign", pa.string()),
        ("spend", pa.float64()),
    ]
)
FILES = {
    "leads": LEADS_SCHEMA,
    "touchpoints": TOUCHPOINTS_SCHEMA,
    "conversions": CONVERSIONS_SCHEMA,
    "ad_spend": AD_SPEND_SCHEMA,
}

# --------------------------------------------------------------------------------------------
# Catalogues. Values are chosen so that the seeds (channel_rules, job_title_keywords,
# page_types, country_regions) classify them; tests/python/test_generate.py checks it.
# --------------------------------------------------------------------------------------------

# time of day (UTC) of human activity: EMEA and North-American business hours overlap
HOUR_WEIGHTS = np.array(
    [0.25, 0.18, 0.12, 0.10, 0.10, 0.15, 0.30, 0.55, 0.85, 1.00, 1.00, 0.95,
     0.95, 1.05, 1.15, 1.20, 1.15, 1.00, 0.90, 0.75, 0.60, 0.50, 0.40, 0.32]
)  # fmt: skip

COMPANY_SIZES = ("1-10", "11-50", "51-200", "201-500", "501-1000", "1001-5000", "5001+")
SIZE_WEIGHTS = (0.14, 0.22, 0.24, 0.14, 0.09, 0.10, 0.07)
SIZE_FIT = np.array([-1.3, -0.4, 0.3, 0.6, 0.7, 0.6, 0.3, -0.3])  # last: unknown size
SIZE_LEAD_WEIGHT = np.array([1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0])  # big accounts have more leads
SIZE_AMOUNT = np.array([0.45, 0.6, 0.85, 1.0, 1.25, 1.6, 2.1, 1.0])

# industry: (name, weight, fit effect, company-name cores)
INDUSTRIES = (
    ("Software", 0.22, 0.6, ("Labs", "Systems", "Software", "Cloud", "Data", "Analytics", "Works",
                             "Metrics", "Digital", "Security")),
    ("Financial Services", 0.11, 0.4, ("Capital", "Bank", "Insurance", "Pay", "Financial",
                                       "Ventures", "Wealth")),
    ("Healthcare", 0.08, 0.0, ("Health", "Bio", "Pharma", "Care", "Medical", "Clinics")),
    ("Manufacturing", 0.08, -0.1, ("Industries", "Robotics", "Motors", "Foundry", "Materials")),
    ("Retail", 0.06, 0.1, ("Retail", "Apparel", "Markets", "Foods", "Outfitters")),
    ("E-commerce", 0.06, 0.3, ("Commerce", "Shop", "Goods", "Direct")),
    ("Professional Services", 0.08, 0.0, ("Partners", "Consulting", "Advisors", "Group")),
    ("Media", 0.05, 0.1, ("Media", "Studio", "Games", "Publishing")),
    ("Telecommunications", 0.04, 0.1, ("Telecom", "Networks", "Mobile", "Connect")),
    ("Logistics", 0.04, -0.1, ("Logistics", "Freight", "Mobility", "Shipping")),
    ("Education", 0.05, -0.7, ("Learning", "Academy", "Education", "Schools")),
    ("Government", 0.03, -0.9, ("Public Services", "Agency", "Council")),
    ("Energy", 0.03, -0.2, ("Energy", "Power", "Solar", "Utilities")),
    ("Non-profit", 0.03, -0.9, ("Foundation", "Alliance", "Trust")),
    ("Real Estate", 0.04, -0.3, ("Realty", "Properties", "Homes", "Estates")),
)  # fmt: skip

NAME_PREFIXES = (
    "Acme", "Blue", "Bright", "Cedar", "Cobalt", "Crest", "Delta", "Echo", "Ember", "Falcon",
    "Granite", "Harbor", "Helix", "Horizon", "Iron", "Juniper", "Keystone", "Lumen", "Maple",
    "Meridian", "Nimbus", "North", "Nova", "Oak", "Orbit", "Peak", "Pine", "Pioneer", "Polar",
    "Prism", "Quantum", "Quartz", "Radiant", "Red", "River", "Sage", "Silver", "Sky", "Solar",
    "Stone", "Summit", "Swift", "Terra", "Tidal", "True", "Vast", "Vector", "Vertex", "West",
    "Willow", "Zenith", "Apex", "Atlas", "Beacon", "Bold", "Clear", "Core", "Fusion", "Lake",
    "Signal", "Alpine", "Arrow", "Birch", "Canyon", "Copper", "Evergreen", "Frontier", "Golden",
    "Highland", "Indigo",
)  # fmt: skip
NAME_SUFFIXES = ("", " Inc", " Inc.", " LLC", " Ltd", " Group", " Co.", " Corp")
SUFFIX_WEIGHTS = (0.42, 0.2, 0.08, 0.1, 0.06, 0.06, 0.04, 0.04)

# (code, region, weight); codes from seeds/country_regions.csv
COUNTRIES = (
    ("US", "north_america", 0.36), ("CA", "north_america", 0.05), ("MX", "latam", 0.01),
    ("BR", "latam", 0.02), ("AR", "latam", 0.004), ("CL", "latam", 0.004), ("CO", "latam", 0.004),
    ("PE", "latam", 0.002), ("GB", "emea", 0.09), ("IE", "emea", 0.01), ("DE", "emea", 0.06),
    ("FR", "emea", 0.04), ("NL", "emea", 0.03), ("BE", "emea", 0.008), ("LU", "emea", 0.002),
    ("CH", "emea", 0.01), ("AT", "emea", 0.006), ("ES", "emea", 0.015), ("PT", "emea", 0.006),
    ("IT", "emea", 0.012), ("SE", "emea", 0.012), ("NO", "emea", 0.006), ("DK", "emea", 0.008),
    ("FI", "emea", 0.005), ("PL", "emea", 0.01), ("CZ", "emea", 0.004), ("RO", "emea", 0.004),
    ("GR", "emea", 0.002), ("IL", "emea", 0.01), ("AE", "emea", 0.006), ("SA", "emea", 0.003),
    ("TR", "emea", 0.004), ("ZA", "emea", 0.005), ("NG", "emea", 0.003), ("KE", "emea", 0.002),
    ("EG", "emea", 0.002), ("IN", "apac", 0.05), ("SG", "apac", 0.012), ("AU", "apac", 0.03),
    ("NZ", "apac", 0.005), ("JP", "apac", 0.01), ("KR", "apac", 0.005), ("CN", "apac", 0.004),
    ("HK", "apac", 0.004), ("TW", "apac", 0.003), ("ID", "apac", 0.004), ("MY", "apac", 0.003),
    ("PH", "apac", 0.004), ("TH", "apac", 0.002),
)  # fmt: skip
REGION_FIT = {"north_america": 0.3, "emea": 0.1, "apac": -0.2, "latam": -0.4}
INVALID_COUNTRIES = ("USA", "xx", "UK", "Deutschland", "N/A", "usa ")
COUNTRY_TLD = {"DE": ".de", "GB": ".co.uk", "FR": ".fr", "NL": ".nl", "AU": ".com.au"}

# tech: (token, prevalence, fit effect, is a modern data-stack tool)
TECHS = (
    ("salesforce", 0.35, 0.2, False), ("hubspot", 0.30, 0.2, False), ("marketo", 0.10, 0.1, False),
    ("snowflake", 0.18, 0.4, True), ("bigquery", 0.12, 0.3, True), ("redshift", 0.06, 0.2, True),
    ("databricks", 0.07, 0.2, True), ("dbt", 0.10, 0.4, True), ("segment", 0.08, 0.3, True),
    ("google_analytics", 0.50, 0.0, False), ("looker", 0.08, 0.1, False),
    ("tableau", 0.15, 0.0, False), ("zendesk", 0.15, 0.0, False), ("intercom", 0.10, 0.0, False),
    ("slack", 0.55, 0.0, False), ("jira", 0.35, 0.0, False), ("shopify", 0.06, -0.1, False),
    ("wordpress", 0.20, -0.2, False), ("aws", 0.40, 0.0, False), ("azure", 0.20, 0.0, False),
)  # fmt: skip
TECH_SIZE_FACTOR = np.array([0.5, 0.7, 0.9, 1.1, 1.25, 1.35, 1.4])
TECH_PRETTY = {"hubspot": "HubSpot", "bigquery": "BigQuery", "google_analytics": "Google_Analytics"}

# seniority classes: name, fit effect (c-level depends on company size, see _fit)
SENIORITIES = ("entry", "ic", "manager", "director", "vp", "c_level", "assistant",
               "chief_of_staff", "unknown")  # fmt: skip
SENIORITY_FIT = np.array([-3.0, -0.4, 0.3, 0.8, 1.0, 0.0, -1.0, 0.2, -0.5])
# P(seniority | company size); rows: sizes then unknown size
SENIORITY_BY_SIZE = np.array(
    [
        # entry   ic   mgr   dir   vp   clvl  asst  cos  unknown
        [0.05, 0.24, 0.14, 0.08, 0.04, 0.30, 0.02, 0.01, 0.12],
        [0.05, 0.30, 0.20, 0.12, 0.07, 0.14, 0.02, 0.01, 0.09],
        [0.05, 0.33, 0.23, 0.15, 0.08, 0.06, 0.02, 0.01, 0.07],
        [0.05, 0.34, 0.24, 0.16, 0.08, 0.04, 0.02, 0.01, 0.06],
        [0.05, 0.35, 0.25, 0.16, 0.08, 0.03, 0.02, 0.01, 0.05],
        [0.05, 0.36, 0.25, 0.16, 0.08, 0.02, 0.02, 0.01, 0.05],
        [0.05, 0.37, 0.25, 0.16, 0.07, 0.02, 0.02, 0.01, 0.05],
        [0.06, 0.32, 0.22, 0.13, 0.07, 0.08, 0.02, 0.01, 0.09],
    ]
)
TITLE_TEMPLATES = (
    ("{f} Intern", "Marketing intern", "Student", "MBA Student", "Working Student",
     "Graduate Trainee", "Summer Internship"),
    ("{f} Analyst", "{f} Specialist", "Senior {f} Analyst", "{f} Associate", "{f} Consultant",
     "Software Engineer", "Data Engineer", "Data Scientist", "Account Executive",
     "Marketing Coordinator", "Sales Development Representative", "Solutions Architect"),
    ("{f} Manager", "Sr. Mgr, {f}", "Senior {f} Manager", "{f} Team Lead", "{f} Lead"),
    ("Director of {f}", "{f} Director", "Head of {f}", "Sr. Director, {f}", "Dir. {f}"),
    ("VP of {f}", "VP {f}", "Vice President, {f}", "SVP {f}", "EVP, {f}"),
    ("CEO", "CEO & Co-Founder", "Founder & CEO", "Co-Founder", "CMO", "Chief Marketing Officer",
     "CTO", "Chief Revenue Officer", "CRO", "CFO", "COO", "Chief Data Officer", "President",
     "Owner", "Managing Partner"),
    ("Executive Assistant to the CEO", "Administrative Assistant", "Personal Assistant"),
    ("Chief of Staff", "Chief of Staff to the CEO"),
    ("Freelancer", "Self-employed", "Marketing", "Growth Hacker", "Other", "n/a"),
)  # fmt: skip
# fit effect of the function implied by a non-templated title
TITLE_FIXED_FUNCTION_FIT = {
    "Marketing intern": 0.5, "Data Engineer": 0.3, "Data Scientist": 0.3,
    "Marketing Coordinator": 0.5, "Sales Development Representative": 0.3, "CMO": 0.6,
    "Chief Marketing Officer": 0.6, "Chief Revenue Officer": 0.6, "CRO": 0.6,
    "Chief Data Officer": 0.5, "CFO": -0.4, "Marketing": 0.3, "Growth Hacker": 0.3,
}  # fmt: skip
# function: (name, weight, fit effect)
FUNCTIONS = (
    ("Marketing", 0.18, 0.5), ("Sales", 0.13, 0.3), ("Revenue Operations", 0.07, 0.6),
    ("Marketing Operations", 0.05, 0.6), ("Growth", 0.05, 0.5), ("Demand Generation", 0.05, 0.5),
    ("Data", 0.09, 0.4), ("Analytics", 0.06, 0.4), ("Engineering", 0.09, 0.0),
    ("Product", 0.07, 0.0), ("Finance", 0.04, -0.4), ("Operations", 0.04, 0.0),
    ("IT", 0.04, -0.3), ("Customer Success", 0.02, 0.0), ("People", 0.02, -0.6),
)  # fmt: skip
TITLE_VARIANT_WEIGHTS = (0.72, 0.08, 0.04, 0.04, 0.04, 0.05, 0.03)

FIRST_NAMES = (
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
    "Chris", "Karen", "Daniel", "Lisa", "Matthew", "Nancy", "Anthony", "Sandra", "Mark", "Ashley",
    "Paul", "Emily", "Steven", "Michelle", "Andrew", "Amanda", "Kevin", "Melissa", "Brian",
    "Stephanie", "Priya", "Rahul", "Wei", "Mei", "Hiroshi", "Yuki", "Lukas", "Anna", "Jonas",
    "Sophie", "Lucas", "Camille", "Mateo", "Sofia", "Oliver", "Amelia", "Noah", "Olivia", "Liam",
    "Emma", "Arjun", "Fatima", "Omar", "Leila", "Sven", "Ingrid", "Pedro", "Ana", "Chen", "Kenji",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson",
    "Martin", "Lee", "Thompson", "White", "Harris", "Clark", "Lewis", "Robinson", "Walker", "Young",
    "Allen", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Hill", "Campbell",
    "Mitchell", "Roberts", "Patel", "Shah", "Kumar", "Singh", "Wang", "Li", "Zhang", "Chen", "Kim",
    "Park", "Tanaka", "Sato", "Muller", "Schmidt", "Schneider", "Fischer", "Weber", "Dubois",
    "Laurent", "Bernard", "Rossi", "Russo", "Silva", "Santos", "Jansen", "de Vries", "Nielsen",
    "Hansen", "Johansson", "Novak", "Kowalski", "Cohen", "Haddad", "Okafor", "Murphy", "O'Brien",
)  # fmt: skip
PERSONAL_DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "hotmail.com")
PERSONAL_DOMAIN_WEIGHTS = (0.62, 0.12, 0.16, 0.10)

LEAD_SOURCES = ("Organic Search", "Paid Search", "Paid Social", "Content Download", "Webinar",
                "Referral", "Event", "Outbound", "Direct")  # fmt: skip
LEAD_SOURCE_BASE = np.array([0.26, 0.13, 0.09, 0.16, 0.08, 0.07, 0.0, 0.0, 0.06])
SRC_EVENT, SRC_OUTBOUND = 6, 7

CHANNELS = ("organic_search", "paid_search", "paid_social", "organic_social", "email", "direct",
            "referral", "display", "events", "other")  # fmt: skip
CH = {name: i for i, name in enumerate(CHANNELS)}
PAID_CHANNELS = ("paid_search", "paid_social", "display", "events")
# observed spellings that are not canonical but that staging maps back (normalised, or read as a
# medium by seeds/channel_rules.csv)
CHANNEL_SPELLINGS = {
    "organic_search": ("Organic Search", "SEO"), "paid_search": ("Paid Search", "cpc"),
    "paid_social": ("Paid Social", "paid-social"), "organic_social": ("Organic Social", "social"),
    "email": ("Email", "newsletter"), "direct": ("Direct", "Direct "),
    "referral": ("Referral", "partner"), "display": ("Display", "banner"),
    "events": ("Events", "webinar"), "other": ("Other", "Other"),
}  # fmt: skip

PAGE_TYPES = ("home", "pricing", "demo", "contact", "comparison", "case_study", "docs", "careers",
              "blog", "product", "integrations", "webinar", "resources", "about")  # fmt: skip
PT = {name: i for i, name in enumerate(PAGE_TYPES)}
HIGH_INTENT_PAGES = np.array([PT["pricing"], PT["demo"], PT["contact"], PT["comparison"]])
FUNNEL_STAGE = np.array([0.0, 3.0, 4.0, 4.0, 2.2, 2.0, 1.0, 0.0, 0.0, 1.0, 1.2, 1.0, 1.0, 0.2])

PROFILES = ("base", "buy_low", "buy_high", "job_seeker", "student", "onboarding")
PR = {name: i for i, name in enumerate(PROFILES)}
PROFILE_PAGES = {
    "base": dict(home=.11, pricing=.035, demo=.004, contact=.004, comparison=.012, case_study=.05,
                 docs=.11, careers=.0008, blog=.32, product=.12, integrations=.04, webinar=.05,
                 resources=.08, about=.045),
    "buy_low": dict(home=.08, pricing=.10, demo=.03, contact=.02, comparison=.06, case_study=.10,
                    docs=.07, blog=.155, product=.17, integrations=.08, webinar=.03,
                    resources=.08, about=.025),
    "buy_high": dict(home=.06, pricing=.18, demo=.07, contact=.04, comparison=.10, case_study=.10,
                     docs=.05, blog=.06, product=.15, integrations=.08, webinar=.02, resources=.06,
                     about=.01),
    "job_seeker": dict(home=.10, careers=.55, about=.15, blog=.10, product=.05, docs=.02,
                       case_study=.02, pricing=.01),
    "student": dict(blog=.40, docs=.20, resources=.15, careers=.08, home=.07, product=.05,
                    webinar=.04, about=.01),
    "onboarding": dict(docs=.55, product=.14, integrations=.12, blog=.07, home=.05, pricing=.03,
                       webinar=.02, about=.02),
}  # fmt: skip
PROFILE_CHANNELS = {  # order of CHANNELS
    "base": (.30, .07, .06, .07, .14, .21, .06, .05, .03, .01),
    "buy_low": (.22, .15, .07, .04, .12, .22, .07, .07, .03, .01),
    "buy_high": (.16, .18, .07, .03, .10, .28, .07, .08, .02, .01),
    "job_seeker": (.40, 0, 0, .30, 0, .20, .10, 0, 0, 0),
    "student": (.50, .02, .02, .15, .03, .20, .08, 0, 0, 0),
    "onboarding": (.12, 0, 0, 0, .25, .55, .06, 0, 0, .02),
}  # fmt: skip
PROFILE_EXTRA_PAGES = np.array([1.5, 2.6, 3.5, 1.3, 1.8, 2.5])  # mean pages after the first
PROFILE_DOWNLOAD = np.array([0.25, 0.35, 0.40, 0.05, 0.30, 0.10])

EVENT_TYPES = (
    "page_view", "content_download", "email_open", "email_click", "form_submit",
    "webinar_attended", "demo_request", "ad_click", "chat_started", "event_attended",
)  # fmt: skip
ET = {name: i for i, name in enumerate(EVENT_TYPES)}
UNKNOWN_EVENT_TYPES = ("video_play", "scroll_depth", "Video_Play ", "file_share")
WEB_EVENT_TYPES = np.array(
    [ET["page_view"], ET["content_download"], ET["form_submit"], ET["demo_request"],
     ET["chat_started"]]
)  # fmt: skip
EVENT_TYPE_VARIANT_WEIGHTS = (0.94, 0.02, 0.02, 0.01, 0.01)

SESSION_KINDS = ("create", "base", "buy", "pre", "onboard")
K_CREATE, K_BASE, K_BUY, K_PRE, K_ONBOARD = range(5)
FORMS = ("resource", "webinar", "demo", "contact")

# conversion hazard: intercept per high-intent touch
HAZARD_DEMO, HAZARD_CONTACT, HAZARD_CHAT = -2.6, -3.2, -4.1
HAZARD_PAGE = {"pricing": -6.0, "comparison": -6.0, "demo": -5.4}
HAZARD_WEBINAR, HAZARD_EVENT = -5.5, -5.1

UTM_SOURCES = ("google", "bing", "linkedin", "facebook", "doubleclick", "criteo", "hubspot",
               "marketo", "booth", "event_app", "zoom", "on24", "twitter", "g2", "partner",
               "podcast", "print")  # fmt: skip
UTM_MEDIUMS = ("cpc", "ppc", "paid-search", "paid_social", "paidsocial", "paid-social", "display",
               "banner", "retargeting", "email", "newsletter", "event", "events", "conference",
               "webinar", "social", "referral", "partner", "audio", "qr")  # fmt: skip
REFERRERS = ("www.google.com", "www.bing.com", "duckduckgo.com", "www.google.co.uk",
             "www.ecosia.org", "www.linkedin.com", "lnkd.in", "t.co", "www.reddit.com",
             "www.youtube.com", "m.facebook.com", "googleads.g.doubleclick.net", "mail.google.com",
             "outlook.office.com", "www.g2.com", "www.capterra.com", "partners.snowflake.com",
             "www.getdbt.com", "medium.com", "news.ycombinator.com", "stackoverflow.com",
             "www.producthunt.com")  # fmt: skip
SRC = {v: i for i, v in enumerate(UTM_SOURCES)}
MED = {v: i for i, v in enumerate(UTM_MEDIUMS)}
REF = {v: i for i, v in enumerate(REFERRERS)}

COMPETITORS = ("hubspot", "marketo", "salesforce-pardot", "bizible", "dreamdata", "hockeystack",
               "segment", "amplitude")  # fmt: skip
CUSTOMERS = (
    "northwind", "globex", "initech", "umbrella-health", "stark-logistics", "wayne-capital",
    "hooli", "pied-piper",
)  # fmt: skip
DOC_TOPICS = ("getting-started", "installation", "data-model", "lead-scoring", "attribution",
              "api", "integrations/salesforce", "integrations/hubspot", "sso", "permissions",
              "webhooks", "faq")  # fmt: skip
JOBS = (
    "senior-data-engineer", "account-executive", "product-designer", "sdr-emea",
    "customer-success-manager", "marketing-intern", "backend-engineer", "recruiter",
)  # fmt: skip
BLOG_SLUGS = tuple(
    f"{a}-{b}"
    for a in ("what-is", "guide-to", "how-we-built", "5-tips-for", "the-state-of")
    for b in ("multi-touch-attribution", "lead-scoring", "b2b-funnels", "revops",
              "intent-data", "data-warehouses")
)  # fmt: skip
FEATURES = ("lead-scoring", "attribution", "dashboards", "alerts", "audiences", "forecasting",
            "data-quality", "reverse-etl")  # fmt: skip
INTEGRATIONS = ("salesforce", "hubspot", "marketo", "snowflake", "bigquery", "dbt", "segment",
                "slack", "linkedin-ads", "google-ads")  # fmt: skip
EBOOKS = (
    ("b2b-attribution-guide", "The B2B Attribution Guide"),
    ("lead-scoring-playbook", "The Lead Scoring Playbook"),
    ("state-of-revops-report", "State of RevOps Report"),
    ("pipeline-benchmarks", "B2B Pipeline Benchmarks"),
    ("marketing-roi-calculator", "Marketing ROI Calculator"),
    ("abm-checklist", "ABM Checklist"),
    ("data-stack-for-marketers", "The Modern Data Stack for Marketers"),
    ("intent-signals-ebook", "Buying Intent Signals eBook"),
    ("cmo-dashboard-template", "CMO Dashboard Template"),
    ("demand-gen-handbook", "Demand Generation Handbook"),
)
WEBINAR_TOPICS = (
    ("attribution-101", "Attribution 101"),
    ("lead-scoring-in-dbt", "Lead Scoring in dbt"),
    ("pipeline-forecasting", "Pipeline Forecasting for RevOps"),
    ("abm-that-works", "ABM That Works"),
    ("intent-data-deep-dive", "Intent Data Deep Dive"),
    ("marketing-mix-vs-mta", "Marketing Mix vs Multi-Touch"),
    ("cmo-roundtable", "CMO Roundtable"),
    ("product-tour-live", "Live Product Tour"),
    ("data-quality-for-marketers", "Data Quality for Marketers"),
    ("from-mql-to-pql", "From MQL to PQL"),
    ("revops-tech-stack", "The RevOps Tech Stack"),
    ("closing-the-loop", "Closing the Loop with Sales"),
)
TRADE_SHOWS = (  # (slug, name, month, day)
    ("b2bmx", "B2B Marketing Exchange", 2, 26),
    ("revops_summit", "RevOps Summit", 4, 15),
    ("snowflake_summit", "Snowflake Summit", 6, 3),
    ("saastr", "SaaStr Annual", 9, 10),
    ("dreamforce", "Dreamforce", 9, 17),
    ("coalesce", "dbt Coalesce", 10, 7),
    ("web_summit", "Web Summit", 11, 12),
)

# campaign families: (name, channel, weight when low intent, weight when high intent, cost per
# click, landing page mix)
FAMILIES = (
    (
        "ps_brand",
        "paid_search",
        0.35,
        0.45,
        2.6,
        dict(home=0.4, pricing=0.3, demo=0.1, product=0.2),
    ),
    ("ps_generic", "paid_search", 0.45, 0.25, 7.5, dict(product=0.45, resources=0.3, blog=0.25)),
    ("ps_competitor", "paid_search", 0.20, 0.30, 12.0, dict(comparison=1.0)),
    ("li_abm", "paid_social", 0.45, 0.45, 11.0, dict(resources=0.5, case_study=0.3, demo=0.2)),
    ("li_leadgen", "paid_social", 0.40, 0.20, 8.5, dict(resources=0.6, webinar=0.4)),
    ("fb_retargeting", "paid_social", 0.15, 0.35, 3.2, dict(pricing=0.4, demo=0.2, resources=0.4)),
    ("dsp_retargeting", "display", 0.40, 0.70, 1.9, dict(pricing=0.5, demo=0.2, case_study=0.3)),
    ("dsp_prospecting", "display", 0.60, 0.30, 1.2, dict(home=0.4, blog=0.3, resources=0.3)),
    ("ev", "events", 1.0, 1.0, 60.0, dict(home=0.4, demo=0.3, product=0.3)),
    ("wb", "events", 1.0, 1.0, 8.0, dict(webinar=1.0)),
    ("em_welcome", "email", 0, 0, 0, dict(resources=0.5, blog=0.3, product=0.2)),
    ("em_nurture", "email", 0, 0, 0, dict(blog=0.4, webinar=0.2, resources=0.2, product=0.2)),
    ("em_newsletter", "email", 0, 0, 0, dict(blog=0.7, webinar=0.3)),
    ("em_product", "email", 0, 0, 0, dict(product=0.6, integrations=0.2, blog=0.2)),
    ("em_sales", "email", 0, 0, 0, dict(pricing=0.3, demo=0.3, case_study=0.4)),
    ("em_onboarding", "email", 0, 0, 0, dict(docs=0.7, product=0.3)),
)
FAM = {f[0]: i for i, f in enumerate(FAMILIES)}


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GeneratorConfig:
    """What to generate. The files are a pure function of the whole config (chunk_size included:
    chunk ``k`` has its own random stream, so another chunk size gives other, equally valid data).

    n_leads: number of distinct leads (>= 1).
    seed: random seed (>= 0).
    end_date: last day of activity (UTC, ``YYYY-MM-DD``); leads are created over the
        ``HISTORY_DAYS`` (540) days that end on it.
    chunk_size: leads simulated and written at a time; bounds memory (peak ~4.5 GB RSS at
        50,000: the oldest leads have the longest history, ~135 touchpoints each).
    """

    n_leads: int
    seed: int = 42
    end_date: str = "2025-06-30"
    chunk_size: int = 50_000

    def __post_init__(self) -> None:
        for name in ("n_leads", "seed", "chunk_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise ValueError(f"GeneratorConfig.{name} must be an integer, got {value!r}")
        if self.n_leads < 1:
            raise ValueError(f"GeneratorConfig.n_leads must be >= 1, got {self.n_leads}")
        if self.n_leads > 50_000_000:
            raise ValueError(f"GeneratorConfig.n_leads must be <= 50,000,000, got {self.n_leads}")
        if self.seed < 0:
            raise ValueError(f"GeneratorConfig.seed must be >= 0, got {self.seed}")
        if self.chunk_size < 1:
            raise ValueError(f"GeneratorConfig.chunk_size must be >= 1, got {self.chunk_size}")
        if self.chunk_size > 1_000_000:
            raise ValueError(
                f"GeneratorConfig.chunk_size must be <= 1,000,000 (memory), got {self.chunk_size}"
            )
        try:
            end = dt.date.fromisoformat(str(self.end_date))
        except ValueError:
            raise ValueError(
                f"GeneratorConfig.end_date must be a date like 2025-06-30, got {self.end_date!r}"
            ) from None
        if not dt.date(2000, 1, 1) <= end <= dt.date(2090, 12, 31):
            raise ValueError(
                f"GeneratorConfig.end_date must be between 2000-01-01 and 2090-12-31, got {end}"
            )

    @property
    def n_chunks(self) -> int:
        return math.ceil(self.n_leads / self.chunk_size)


# --------------------------------------------------------------------------------------------
# Small vectorised helpers
# --------------------------------------------------------------------------------------------


def _norm(p) -> np.ndarray:
    p = np.asarray(p, dtype=np.float64)
    return p / p.sum()


def _choice(rng: np.random.Generator, p, size: int) -> np.ndarray:
    """Categorical draws from one distribution (indices into p)."""
    cum = np.cumsum(_norm(p))
    return np.minimum(np.searchsorted(cum, rng.random(size), side="right"), len(cum) - 1)


def _cum_rows(weights: np.ndarray) -> np.ndarray:
    """Row-normalised cumulative probabilities of a (rows x categories) weight matrix."""
    w = np.asarray(weights, dtype=np.float64)
    total = w.sum(axis=1, keepdims=True)
    w = np.where(total > 0, w / np.where(total > 0, total, 1.0), 1.0 / w.shape[1])
    cum = np.cumsum(w, axis=1)
    cum[:, -1] = 1.0
    return cum


def _categorical(rng: np.random.Generator, cum_rows: np.ndarray, row: np.ndarray) -> np.ndarray:
    """One categorical draw per item, from the distribution in row ``row[i]`` of ``cum_rows``.

    Vectorised without an (items x categories) matrix: row r's cumulative values are shifted by
    r so that one searchsorted over the flattened table finds every item's category.
    """
    n_rows, k = cum_rows.shape
    flat = (cum_rows + np.arange(n_rows)[:, None]).ravel()
    row = np.asarray(row, dtype=np.int64)
    pos = np.searchsorted(flat, row + rng.random(len(row)), side="right")
    return np.clip(pos - row * k, 0, k - 1)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _take(dictionary: pa.Array, codes: np.ndarray) -> pa.Array:
    """Strings from a dictionary by code; negative codes give nulls."""
    codes = np.asarray(codes)
    idx = pa.array(np.where(codes < 0, 0, codes).astype(np.int32), mask=codes < 0)
    return pc.take(dictionary, idx)


def _string_array(chars: np.ndarray) -> pa.Array:
    """A pyarrow string array from an (n x width) uint8 matrix of ASCII characters."""
    n, width = chars.shape
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int64)
    arr = pa.LargeStringArray.from_buffers(
        n, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(chars))
    )
    return arr.cast(pa.string())


def _decimal_ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Fixed-width ids like 'L0000042' built directly as an arrow buffer."""
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    chars = np.empty((len(numbers), len(head) + width), dtype=np.uint8)
    chars[:, : len(head)] = head
    x = np.asarray(numbers, dtype=np.int64).copy()
    for j in range(width - 1, -1, -1):  # loop over digit positions
        chars[:, len(head) + j] = 48 + x % 10
        x //= 10
    return _string_array(chars)


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def _scramble(x: np.ndarray, bits: int, salt: int) -> np.ndarray:
    """A bijection of [0, 2**bits): distinct inputs give distinct, random-looking outputs."""
    mask = np.uint64((1 << bits) - 1)
    y = np.asarray(x, dtype=np.uint64)
    y = (y * np.uint64(0x9E3779B97F4A7C15)) & mask  # odd multiplier: invertible mod 2**bits
    y ^= np.uint64(salt & ((1 << bits) - 1))
    y ^= y >> np.uint64(bits // 2)  # xorshift: invertible
    y = (y * np.uint64(0xBF58476D1CE4E5B9)) & mask
    y ^= y >> np.uint64(bits // 3)
    return y


def _hex_ids(prefix: str, numbers: np.ndarray, width: int, salt: int) -> pa.Array:
    """Unique opaque ids like 'ev_3fa9c01b27de' from distinct non-negative numbers."""
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    y = _scramble(numbers, 4 * width, salt)
    chars = np.empty((len(y), len(head) + width), dtype=np.uint8)
    chars[:, : len(head)] = head
    for j in range(width):  # loop over digit positions
        shift = np.uint64(4 * (width - 1 - j))
        chars[:, len(head) + j] = _HEX[((y >> shift) & np.uint64(15)).astype(np.int64)]
    return _string_array(chars)


def _timestamps(seconds: np.ndarray, millis: np.ndarray | None = None) -> pa.Array:
    us = np.asarray(seconds, dtype=np.int64) * 1_000_000
    if millis is not None:
        us = us + np.asarray(millis, dtype=np.int64) * 1_000
    return pa.array(us, type=pa.timestamp("us"))


def _group_min(keys: np.ndarray, values: np.ndarray, n: int, fill) -> np.ndarray:
    """min(values) per key in [0, n); ``fill`` where a key has no value."""
    out = np.full(n, fill, dtype=np.asarray(values).dtype)
    if len(keys):
        np.minimum.at(out, keys, values)
    return out


def _frame_take(frame: dict[str, np.ndarray], idx) -> dict[str, np.ndarray]:
    return {k: v[idx] for k, v in frame.items()}


# compact dtypes of the event columns: memory and copy time scale with them
EVENT_DTYPES = {
    "t": np.int64, "dur": np.int64, "lead": np.int32, "sess": np.int32, "etype": np.int8,
    "url": np.int32, "ptype": np.int8, "asset": np.int32, "channel": np.int8,
    "source": np.int16, "medium": np.int16, "campaign": np.int32, "referrer": np.int16,
    "intent": np.float32, "kind": np.int8, "land": bool, "web": bool, "anon": bool,
    "unknown": bool, "has_sid": bool,
}  # fmt: skip


def _frame_concat(frames: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    frames = [f for f in frames if f is not None]
    keys = frames[0].keys()
    return {
        k: np.concatenate([f[k] for f in frames], dtype=EVENT_DTYPES.get(k), casting="unsafe")
        for k in keys
    }


# --------------------------------------------------------------------------------------------
# The world shared by all chunks: calendar, catalogues, companies, campaigns
# --------------------------------------------------------------------------------------------


def _epoch_seconds(day: dt.date) -> int:
    return (day - dt.date(1970, 1, 1)).days * DAY


class _World:
    def __init__(self, config: GeneratorConfig) -> None:
        self.config = config
        self.end_date = dt.date.fromisoformat(str(config.end_date))
        self.start_date = self.end_date - dt.timedelta(days=HISTORY_DAYS - 1)
        self.t0 = _epoch_seconds(self.start_date)
        self.t_end = _epoch_seconds(self.end_date) + DAY  # exclusive: end_date 23:59:59 is last
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
        self.hour_cum = np.cumsum(_norm(HOUR_WEIGHTS))

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
            self.paid_choice[CH[ch]] = (ids, _cum_rows(weights))
        # landing page-type mix per campaign family
        land = np.zeros((len(FAMILIES), len(PAGE_TYPES)))
        for f, fam in enumerate(FAMILIES):
            for ptype, w in fam[5].items():
                land[f, PT[ptype]] = w
        self.family_landing = _cum_rows(land)

    def _build_dictionaries(self) -> None:
        # strings for the touchpoints (codes index these)
        variants = []
        for u in self.urls:
            query = "/?ref=nav" if u == "/" else u + "?ref=nav"
            variants += [u, u if u == "/" else u + "/", u.upper(), query, u + "?utm_content=cta"]
        self.url_dict = pa.array(variants, type=pa.string())
        self.url_variant_p = (0.93, 0.03, 0.01, 0.02, 0.01)
        ev = []
        for name in EVENT_TYPES:
            ev += [name, name.upper(), name.title(), name.title() + " ", " " + name]
        self.event_type_dict = pa.array(ev + list(UNKNOWN_EVENT_TYPES), type=pa.string())
        chans = list(CHANNELS)
        self.channel_spelling_code = np.zeros((len(CHANNELS), 2), dtype=np.int64)
        for c, name in enumerate(CHANNELS):
            for j, spelling in enumerate(CHANNEL_SPELLINGS[name]):
                if spelling not in chans:
                    chans.append(spelling)
                self.channel_spelling_code[c, j] = chans.index(spelling)
        self.channel_dict = pa.array(chans, type=pa.string())
        self.source_dict = pa.array(UTM_SOURCES, type=pa.string())
        self.medium_dict = pa.array(UTM_MEDIUMS, type=pa.string())
        self.referrer_dict = pa.array(REFERRERS, type=pa.string())
        self.campaign_dict = pa.array(self.campaign_names, type=pa.string())
        self.asset_dict = pa.array(self.assets, type=pa.string())
        # lead-level dictionaries
        ind = []
        for name, *_ in INDUSTRIES:
            ind += [name, name.lower(), name.upper(), " " + name, name + "  "]
        self.industry_dict = pa.array(ind, type=pa.string())
        ctry = []
        for code, _, _ in COUNTRIES:
            ctry += [code, code.lower(), " " + code, code + " "]
        self.n_country_variants = len(ctry)
        self.country_dict = pa.array(ctry + list(INVALID_COUNTRIES), type=pa.string())
        srcs = []
        for s in LEAD_SOURCES:
            snake = s.lower().replace(" ", "_")
            srcs += [s, " " + snake, s.lower(), s.upper(), s + " ", snake]
        self.lead_source_dict = pa.array(srcs, type=pa.string())
        self.size_dict = pa.array(COMPANY_SIZES, type=pa.string())

    # ---- companies ---------------------------------------------------------------------------
    def _build_companies(self, rng: np.random.Generator) -> None:
        n = max(20, math.ceil(self.config.n_leads / 2.5))
        size = _choice(rng, SIZE_WEIGHTS, n)
        industry = _choice(rng, [i[1] for i in INDUSTRIES], n)
        country = _choice(rng, [c[2] for c in COUNTRIES], n)
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
        self.co_lead_weight = np.cumsum(_norm(SIZE_LEAD_WEIGHT[size]))
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
        suffix = _choice(rng, SUFFIX_WEIGHTS, n)
        prefixes = pa.array(NAME_PREFIXES, type=pa.string())
        cores = pa.array(core_flat, type=pa.string())
        p_arr, c_arr = _take(prefixes, prefix), _take(cores, core)
        self.co_name = pc.binary_join_element_wise(p_arr, " ", c_arr, "")
        self.co_name = pc.binary_join_element_wise(
            self.co_name, _take(pa.array(NAME_SUFFIXES, type=pa.string()), suffix), ""
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
            stem, _take(pa.array(tld_options, type=pa.string()), tld), ""
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
                    variants += [title, title.lower(), title.upper(), "  " + mixed,
                                 title + " ", mixed, title.replace(" ", "  ", 1)]  # fmt: skip
        self.title_dict = pa.array(variants, type=pa.string())
        self.n_title_variants = 7
        self.title_func_fit = np.array(func_fit)
        self.tmpl_offset = np.array(tmpl_offset)
        self.tmpl_templated = np.array(tmpl_templated)
        counts = np.zeros((len(TITLE_TEMPLATES), max(len(t) for t in TITLE_TEMPLATES)))
        self.tmpl_first = np.cumsum([0] + [len(t) for t in TITLE_TEMPLATES])[:-1]
        for cls, templates in enumerate(TITLE_TEMPLATES):
            counts[cls, : len(templates)] = 1.0
        self.tmpl_cum = _cum_rows(counts)
        self.seniority_cum = _cum_rows(SENIORITY_BY_SIZE)

    # ---- shared samplers ------------------------------------------------------------------------
    def day_index(self, t: np.ndarray) -> np.ndarray:
        return np.clip((np.asarray(t) - self.t0) // DAY, 0, self.n_days - 1)

    def time_of_day(self, rng: np.random.Generator, n: int) -> np.ndarray:
        hour = np.minimum(np.searchsorted(self.hour_cum, rng.random(n), side="right"), 23)
        return hour * HOUR + rng.integers(0, HOUR, n)


# --------------------------------------------------------------------------------------------
# One chunk of leads
# --------------------------------------------------------------------------------------------


def _simulate_leads(w: _World, rng: np.random.Generator, lo: int, hi: int) -> dict:
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

    seniority = _categorical(rng, w.seniority_cum, size_obs)
    tmpl = w.tmpl_first[seniority] + _categorical(rng, w.tmpl_cum, seniority)
    func = _choice(rng, [f[1] for f in FUNCTIONS], n)
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
    fit = _sigmoid(fit_logit)

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
    source = _categorical(rng, _cum_rows(src_w), np.arange(n))
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


def _session_profile(L: dict, lead: np.ndarray, default: np.ndarray, rng) -> np.ndarray:
    prof = default.copy()
    js = L["job_seeker"][lead] & (rng.random(len(lead)) < 0.7)
    st = L["student"][lead] & (rng.random(len(lead)) < 0.6)
    prof = np.where(st, PR["student"], prof)
    return np.where(js, PR["job_seeker"], prof)


def _plan_sessions(w: _World, rng: np.random.Generator, L: dict) -> dict:
    """Sessions before any conversion: creation, baseline, buying-phase bursts, pre-creation."""
    n, c = L["n"], L["created"]
    parts = []

    # creation: the visit in which the lead filled a form (not for events / outbound leads)
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
                       CH["paid_search"]])[_choice(rng, (.35, .25, .2, .2), len(lead))]  # fmt: skip
    mix_wb = np.array([CH["paid_social"], CH["organic_social"], CH["direct"],
                       CH["events"]])[_choice(rng, (.35, .3, .15, .2), len(lead))]  # fmt: skip
    ch = np.where(s == 3, mix_cd, np.where(s == 4, mix_wb, ch))
    fit, imm = L["fit"][lead], L["immediate"][lead]
    form_w = np.stack(
        [np.full(len(lead), 0.55), np.full(len(lead), 0.15), 0.04 + 0.45 * fit * imm,
         np.full(len(lead), 0.06) + 0.1 * imm],
        axis=1,
    )  # fmt: skip
    form = _categorical(rng, _cum_rows(form_w), np.arange(len(lead)))
    form = np.where(s == 3, 0, np.where(s == 4, 1, form))
    form_page = np.array([PT["resources"], PT["webinar"], PT["demo"], PT["contact"]])[form]
    prof = np.where(imm, PR["buy_high"], PR["base"])
    parts.append(dict(lead=lead, t=c[lead] + 3, kind=np.full(len(lead), K_CREATE),
                      profile=_session_profile(L, lead, prof, rng),
                      intent=np.where(imm, 0.6 * L["intent"][lead], 0.15), channel=ch,
                      landing=form_page, form=form))  # fmt: skip

    # baseline: a decaying-then-steady rate over the lead's whole life
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
    parts.append(dict(lead=lead, t=t, kind=np.full(len(lead), K_BASE), profile=prof,
                      intent=np.where(prof == PR["base"], 0.1, 0.0), channel=np.full(len(lead), -1),
                      landing=np.full(len(lead), -1), form=np.full(len(lead), -1)))  # fmt: skip

    # buying phase: bursts of visits (several within 48 hours)
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
    parts.append(dict(lead=lead, t=t, kind=np.full(len(lead), K_BUY), profile=prof,
                      intent=s_int, channel=np.full(len(lead), -1),
                      landing=np.full(len(lead), -1), form=np.full(len(lead), -1)))  # fmt: skip

    # a few leads browsed (cookie later stitched) before they were created
    pre = rng.random(n) < 0.015
    k = np.where(pre, 1 + rng.poisson(0.5, n), 0)
    lead = np.repeat(np.arange(n), k)
    t = c[lead] - (HOUR + rng.random(len(lead)) * 10 * DAY).astype(np.int64)
    parts.append(dict(lead=lead, t=t, kind=np.full(len(lead), K_PRE),
                      profile=np.full(len(lead), PR["base"]), intent=np.full(len(lead), 0.1),
                      channel=np.full(len(lead), -1), landing=np.full(len(lead), -1),
                      form=np.full(len(lead), -1)))  # fmt: skip
    return _frame_concat(parts)


def _finish_sessions(w: _World, rng: np.random.Generator, L: dict, S: dict) -> dict:
    """Weekends, time of day, channel, campaign, UTMs, referrer, pages, tracking flags."""
    c = L["created"]
    kind = S["kind"]
    free = (kind == K_BASE) | (kind == K_BUY) | (kind == K_ONBOARD)
    # fewer visits on weekends and holidays
    day = w.day_index(S["t"])
    keep_p = np.where(kind == K_BUY, np.sqrt(w.day_activity[day]), w.day_activity[day])
    keep = ~free | (rng.random(len(kind)) < keep_p)
    S = _frame_take(S, keep)
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
    S = _frame_take(S, ok)
    S["t"] = t[ok]
    S.pop("t_min", None)
    n_s = len(S["t"])
    lead, kind, prof = S["lead"], S["kind"], S["profile"]

    # channel
    ch_cum = _cum_rows(np.array([PROFILE_CHANNELS[p] for p in PROFILES]))
    ch = _categorical(rng, ch_cum, prof)
    ch = np.where(S["channel"] >= 0, S["channel"], ch)
    S["channel"] = ch
    day = w.day_index(S["t"])
    hi = prof == PR["buy_high"]

    # campaign
    camp = np.full(n_s, -1)
    for c_code, (ids, cum) in w.paid_choice.items():
        m = ch == c_code
        camp[m] = ids[_categorical(rng, cum, day[m] + w.n_days * hi[m])]
    m = ch == CH["email"]
    weeks = (S["t"][m] - c[lead[m]]) / (7 * DAY)
    camp[m] = _email_campaign(w, rng, weeks, kind[m], S["t"][m], day[m])
    # landing page from the campaign (paid, email) or from the form (creation visits)
    fam = np.where(camp >= 0, w.campaign_family[np.maximum(camp, 0)], -1)
    landing = np.full(n_s, -1)
    has_fam = fam >= 0
    landing[has_fam] = _categorical(rng, w.family_landing, fam[has_fam])
    S["landing"] = np.where(S["landing"] >= 0, S["landing"], landing)

    # UTMs and referrer, coherent with the channel (seeds/channel_rules.csv)
    src, med, ref = np.full(n_s, -1), np.full(n_s, -1), np.full(n_s, -1)

    def pick(options, p, size):
        return np.array(options)[_choice(rng, p, size)]

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
    S.update(campaign=camp, source=src, medium=med, referrer=ref)

    # pages per session (heavy-tailed), tracking flags
    mean = PROFILE_EXTRA_PAGES[prof] * np.where(kind == K_CREATE, 0.6, 1.0)
    r = 1.1
    S["npages"] = 1 + rng.negative_binomial(r, r / (r + mean))
    S["has_sid"] = rng.random(n_s) < 0.6
    creation = kind == K_CREATE
    S["anon"] = ~creation & (rng.random(n_s) < 0.062)
    S["unknown"] = ~creation & ~S["anon"] & (rng.random(n_s) < 0.005)
    return S


def _email_campaign(w: _World, rng, weeks, kind, t, day) -> np.ndarray:
    """Nurture programme of an email (open or click) by lead age and state."""
    k = len(weeks)
    year = w.year[day]
    nurture = np.array([w.nurture_by_year[y] for y in sorted(w.nurture_by_year)])
    years = np.array(sorted(w.nurture_by_year))
    nurture_y = nurture[np.clip(np.searchsorted(years, year), 0, len(years) - 1)]
    ec = w.email_campaign
    general = np.array([0, ec["em_newsletter"], ec["em_product"]])[_choice(rng, (0.5, 0.3, 0.2), k)]
    general = np.where(general == 0, nurture_y, general)
    camp = np.where(weeks < 4, ec["em_welcome"], general)
    sales = (kind == K_BUY) & (rng.random(k) < 0.6)
    camp = np.where(sales, ec["em_sales"], camp)
    return np.where(kind == K_ONBOARD, ec["em_onboarding"], camp)


def _expand_sessions(w: _World, rng: np.random.Generator, L: dict, S: dict) -> dict:
    """Events of the sessions: page views and on-page/ad/email events, plus webinar attendance."""
    n_s = len(S["t"])
    npages = S["npages"]
    starts = np.cumsum(npages) - npages
    P = int(npages.sum())
    sess = np.repeat(np.arange(n_s), npages)
    pos = np.arange(P) - starts[sess]
    first = pos == 0
    prof = S["profile"][sess]
    page_cum = _cum_rows(
        np.array([[PROFILE_PAGES[p].get(t, 0.0) for t in PAGE_TYPES] for p in PROFILES])
    )
    ptype = _categorical(rng, page_cum, prof)
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
        url[m] = cand[_choice(rng, w.url_weight[cand], len(m))]
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
    p_demo = _sigmoid(-3.6 + 3.2 * intent + 2.2 * (fit - 0.5)) * ~(js | st)
    demo = (ptype == PT["demo"]) & ((form == 2) | (u[2] < p_demo))
    extra(demo, ET["demo_request"], half)
    p_contact = _sigmoid(-3.8 + 3.0 * intent + 1.5 * (fit - 0.5)) * ~js
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

    ev = _frame_concat([pages, *extras])
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
    ev = _frame_concat([ev, att])
    return _frame_take(ev, ev["t"] < w.t_end)


def _offsite_events(w: _World, rng: np.random.Generator, L: dict) -> dict:
    """Nurture email opens and trade-show attendance (no session)."""
    n, c = L["n"], L["created"]
    life_w = (w.t_end - c) / (7 * DAY)
    k = rng.poisson(L["open_rate"] * life_w)
    lead = np.repeat(np.arange(n), k)
    week = np.floor(rng.random(len(lead)) * life_w[lead]).astype(np.int64)
    send_day = (c[lead] + 2 * DAY) // DAY + 7 * week
    t = send_day * DAY + 14 * HOUR + rng.exponential(8 * HOUR, len(lead)).astype(np.int64)
    kind = np.where((t >= L["buy_start"][lead]) & (t < L["buy_end"][lead]), K_BUY, K_BASE)
    # extra opens of the sales sequence during the buying phase
    bs, be = L["buy_start"], np.minimum(L["buy_end"], w.t_end)
    span = np.where(L["in_market"] & (bs < w.t_end), be - bs, 0)
    kb = rng.poisson(1.0 * span / (7 * DAY))
    lead_b = np.repeat(np.arange(n), kb)
    t_b = bs[lead_b] + (rng.random(len(lead_b)) * span[lead_b]).astype(np.int64)
    lead = np.concatenate([lead, lead_b])
    t = np.concatenate([t, t_b])
    kind = np.concatenate([kind, np.full(len(lead_b), K_BUY)])
    opens = _email_opens(w, rng, L, lead, t, kind)

    # trade shows: attendance rises with fit and with being in a buying phase
    shows = []
    if len(w.show_t):
        ts = w.show_t[None, :]
        eligible = (ts >= c[:, None]) & (ts < w.t_end)
        buying = (ts >= L["buy_start"][:, None]) & (ts < L["buy_end"][:, None])
        p = 0.003 + 0.015 * L["fit"][:, None] + 0.04 * buying
        li, si = np.nonzero(eligible & (rng.random(eligible.shape) < p))
        t_s = w.show_t[si] + 9 * HOUR + rng.integers(0, 8 * HOUR, len(li))
        shows.append((li, si, t_s))
        # leads created from a badge scan: the attendance is the creation touch
        ev_lead = np.flatnonzero(L["source"] == SRC_EVENT)
        shows.append((ev_lead, L["last_show"][ev_lead], c[ev_lead]))
    if shows:
        li = np.concatenate([s[0] for s in shows])
        si = np.concatenate([s[1] for s in shows])
        t_s = np.concatenate([s[2] for s in shows])
        m = len(li)
        att = dict(
            lead=li, t=t_s, etype=np.full(m, ET["event_attended"]), url=np.full(m, -1),
            ptype=np.full(m, -1), asset=w.show_asset[si], dur=np.full(m, NULL),
            channel=np.full(m, CH["events"]),
            source=np.where(rng.random(m) < 0.5, SRC["booth"], SRC["event_app"]),
            medium=np.array([MED["event"], MED["events"], MED["conference"]])[
                _choice(rng, (.5, .3, .2), m)],
            campaign=w.show_campaign[si], referrer=np.full(m, -1),
            intent=np.where((t_s >= L["buy_start"][li]) & (t_s < L["buy_end"][li]),
                            L["intent"][li], 0.1),
            kind=np.full(m, K_BASE),
        )  # fmt: skip
        att = _offsite_frame(att, rng)
        return _frame_concat([opens, att])
    return opens


def _email_opens(w: _World, rng, L: dict, lead, t, kind) -> dict:
    c = L["created"]
    keep = (t < w.t_end) & (t >= c[lead])
    lead, t, kind = lead[keep], t[keep], kind[keep]
    m = len(lead)
    day = w.day_index(t)
    camp = _email_campaign(w, rng, (t - c[lead]) / (7 * DAY), kind, t, day)
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
    m = len(ev["lead"])
    ev.update(
        sess=np.full(m, -1), land=np.zeros(m, dtype=bool), web=np.zeros(m, dtype=bool),
        anon=np.zeros(m, dtype=bool), unknown=rng.random(m) < 0.005,
    )  # fmt: skip
    return ev


def _convert(w: _World, rng: np.random.Generator, L: dict, ev: dict) -> np.ndarray:
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
    success = rng.random(len(cand)) < _sigmoid(z)
    quick = np.isin(etype[cand], [ET["demo_request"], ET["form_submit"], ET["chat_started"]])
    lag = rng.gamma(2.0, np.where(quick, 1.5, 4.0) * DAY).astype(np.int64)
    conv = _group_min(lc[success], (t[cand] + lag)[success], n, np.iinfo(np.int64).max)

    # outbound: sales-driven, little digital trace
    p_out = _sigmoid(-4.0 + 5.0 * (L["fit"] - 0.5)) * (L["source"] == SRC_OUTBOUND)
    t_out = c + rng.gamma(2.0, 15.0 * DAY, n).astype(np.int64)
    conv = np.where(rng.random(n) < p_out, np.minimum(conv, t_out), conv)
    # unexplained background conversions (noise no model can learn)
    t_bg = c + (rng.random(n) * (w.t_end - c)).astype(np.int64)
    conv = np.where(rng.random(n) < 0.004, np.minimum(conv, t_bg), conv)
    return np.where(conv < w.t_end, conv, NULL)


def _onboarding_sessions(w: _World, rng, L: dict, conv: np.ndarray) -> dict:
    lead = np.flatnonzero(conv != NULL)
    span = np.minimum(90 * DAY, w.t_end - conv[lead])
    k = rng.poisson(0.2 * span / DAY)
    lead_s = np.repeat(lead, k)
    t = np.repeat(conv[lead], k) + (rng.random(len(lead_s)) * np.repeat(span, k)).astype(np.int64)
    m = len(lead_s)
    return dict(lead=lead_s, t=t, kind=np.full(m, K_ONBOARD),
                profile=np.full(m, PR["onboarding"]), intent=np.zeros(m),
                channel=np.full(m, -1), landing=np.full(m, -1), form=np.full(m, -1),
                t_min=np.repeat(conv[lead], k))  # fmt: skip


def _conversion_rows(
    w: _World, rng, L: dict, conv: np.ndarray, unknown_ids: pa.Array, first_chunk: bool
) -> dict:
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


def _leads_table(w: _World, rng, L: dict, lead_ids: pa.Array) -> pa.Table:
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
    tv = _choice(rng, TITLE_VARIANT_WEIGHTS, m)
    title = L["title"][idx] * w.n_title_variants + tv
    title = np.where(L["title_null"][idx] | (is_dup & (rng.random(m) < 0.3)), -1, title)
    size = np.where(L["size_obs"][idx] == 7, -1, L["size_obs"][idx])
    size = np.where(is_dup & (rng.random(m) < 0.5), -1, size)
    industry = L["industry"][idx] * 5 + _choice(rng, (0.85, 0.06, 0.03, 0.03, 0.03), m)
    industry = np.where(rng.random(m) < 0.05, -1, industry)
    country = L["country"][idx] * 4 + _choice(rng, (0.9, 0.05, 0.025, 0.025), m)
    u = rng.random(m)
    invalid = w.n_country_variants + rng.integers(0, len(INVALID_COUNTRIES), m)
    country = np.where(u < 0.012, invalid, np.where(u < 0.037, -1, country))
    source = L["source"][idx] * 6 + _choice(rng, (0.75, 0.06, 0.06, 0.04, 0.04, 0.05), m)
    source = np.where(rng.random(m) < 0.01, -1, source)
    company = L["company"][idx]
    tech = pc.take(w.co_tech, pa.array(company))

    # emails: first.last@company-domain (or a personal address)
    first = rng.integers(0, len(FIRST_NAMES), n)[idx]
    last = rng.integers(0, len(LAST_NAMES), n)[idx]
    fn = pc.utf8_lower(_take(pa.array(FIRST_NAMES), first))
    ln = pc.replace_substring(pc.utf8_lower(_take(pa.array(LAST_NAMES), last)), " ", "")
    ln = pc.replace_substring(ln, "'", "")
    pattern = _choice(rng, (0.55, 0.2, 0.1, 0.1, 0.05), n)[idx]
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
    pdomain = _take(pa.array(PERSONAL_DOMAINS), _choice(rng, PERSONAL_DOMAIN_WEIGHTS, n)[idx])
    domain = pc.if_else(pa.array(personal), pdomain, pc.take(w.co_domain, pa.array(company)))
    email = pc.binary_join_element_wise(local, domain, "@")
    email = pc.if_else(pa.array(rng.random(m) < 0.03), pc.utf8_capitalize(email), email)

    order = np.argsort(created, kind="stable")
    cols = [
        pc.take(lead_ids, pa.array(idx)),
        _timestamps(created),
        email,
        pc.take(w.co_name, pa.array(company)),
        _take(w.title_dict, title),
        _take(w.size_dict, size),
        _take(w.industry_dict, industry),
        _take(w.country_dict, country),
        _take(w.lead_source_dict, source),
        tech,
    ]
    table = pa.Table.from_arrays(cols, schema=LEADS_SCHEMA)
    return table.take(pa.array(order))


def _touchpoints_table(w: _World, rng, L: dict, ev: dict, lead_ids: pa.Array,
                       counters: dict) -> tuple[pa.Table, np.ndarray]:  # fmt: skip
    n = L["n"]
    N = len(ev["t"])
    ms = rng.integers(0, 1000, N)
    order = np.lexsort((ms, ev["t"]))
    ev = _frame_take(ev, order)
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
    future_base = _epoch_seconds(dt.date(2099, 1, 1))
    t = np.where(future, future_base + (t - w.t0) % (365 * DAY), t)
    etype = ev["etype"]
    et_code = np.where(
        etype < 0,  # unknown event types
        len(EVENT_TYPES) * 5 + rng.integers(0, len(UNKNOWN_EVENT_TYPES), N),
        np.maximum(etype, 0).astype(np.int64) * 5 + _choice(rng, EVENT_TYPE_VARIANT_WEIGHTS, N),
    )
    # observed channel: canonical, null (~20%, derive from UTMs) or another spelling (~2%)
    ch = ev["channel"]
    u = rng.random(N)
    spelled = w.channel_spelling_code[ch, (rng.random(N) < 0.5).astype(np.int64)]
    ch_code = np.where(u < 0.2, -1, np.where(u < 0.22, spelled, ch))
    url = ev["url"]
    url_code = np.where(url >= 0, url.astype(np.int64) * 5 + _choice(rng, w.url_variant_p, N), -1)
    dur = ev["dur"]
    dur = np.where((dur != NULL) & (rng.random(N) < 0.0005), -dur, dur)

    # ~1% duplicate deliveries, right after the original
    dup = np.flatnonzero(rng.random(N) < 0.01)
    idx = np.sort(np.concatenate([np.arange(N), dup]), kind="stable")
    dur = dur[idx]
    lead_dict = pa.concat_arrays([lead_ids, counters["unknown_ids"]])
    cols = [
        _hex_ids("ev_", event_no[idx], 12, salt=w.config.seed * 2 + 1),
        _take(lead_dict, code[idx]),
        _timestamps(t[idx], ms[idx]),
        _take(w.event_type_dict, et_code[idx]),
        _take(w.channel_dict, ch_code[idx]),
        _take(w.source_dict, ev["source"][idx]),
        _take(w.medium_dict, ev["medium"][idx]),
        _take(w.campaign_dict, ev["campaign"][idx]),
        _take(w.referrer_dict, ev["referrer"][idx]),
        _take(w.url_dict, url_code[idx]),
        _take(w.asset_dict, ev["asset"][idx]),
        _hex_ids_masked("ss_", sid[idx], 10, salt=w.config.seed * 2 + 2),
        pa.array(np.where(dur == NULL, 0, dur).astype(np.int32), mask=dur == NULL),
    ]
    counters["events"] += N
    # paid clicks per (day, campaign) for the ad spend
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
    return pa.Table.from_arrays(cols, schema=TOUCHPOINTS_SCHEMA), clicks


def _hex_ids_masked(prefix: str, numbers: np.ndarray, width: int, salt: int) -> pa.Array:
    mask = numbers < 0
    ids = _hex_ids(prefix, np.where(mask, 0, numbers), width, salt)
    return pc.if_else(pa.array(mask), pa.scalar(None, pa.string()), ids)


def _simulate_chunk(w: _World, k: int, lo: int, hi: int, counters: dict):
    rng = np.random.default_rng(np.random.SeedSequence(w.config.seed, spawn_key=(1, k)))
    L = _simulate_leads(w, rng, lo, hi)
    S1 = _finish_sessions(w, rng, L, _plan_sessions(w, rng, L))
    ev1 = _expand_sessions(w, rng, L, S1)
    off = _offsite_events(w, rng, L)
    ev = _frame_concat([ev1, off])
    conv = _convert(w, rng, L, ev)
    # after converting, the shopping mostly stops (but some pricing checks stay) ...
    lead_conv = conv[ev["lead"]]
    after = (lead_conv != NULL) & (ev["t"] > lead_conv) & (ev["kind"] == K_BUY)
    drop_sess = rng.random(len(S1["t"])) < 0.6
    drop = after & np.where(
        ev["sess"] >= 0, drop_sess[np.maximum(ev["sess"], 0)], rng.random(len(after)) < 0.6
    )
    ev = _frame_take(ev, ~drop)
    # ... and onboarding starts: docs, product, onboarding emails
    S2 = _finish_sessions(w, rng, L, _onboarding_sessions(w, rng, L, conv))
    ev2 = _expand_sessions(w, rng, L, S2)
    ev2["sess"] = np.where(ev2["sess"] >= 0, ev2["sess"].astype(np.int64) + len(S1["t"]), -1)
    lead_o = np.flatnonzero(conv != NULL)
    ko = rng.poisson(5, len(lead_o))
    lo_ = np.repeat(lead_o, ko)
    t_o = conv[lo_] + (rng.random(len(lo_)) * 60 * DAY).astype(np.int64)
    opens = _email_opens(w, rng, L, lo_, t_o, np.full(len(lo_), K_ONBOARD))
    has_sid = np.concatenate([S1["has_sid"], S2["has_sid"]])
    ev = _frame_concat([ev, ev2, opens])
    ev["has_sid"] = np.where(ev["sess"] >= 0, has_sid[np.maximum(ev["sess"], 0)], False)

    lead_ids = _decimal_ids("L", np.arange(lo, hi) + 1, w.id_width)
    leads = _leads_table(w, rng, L, lead_ids)
    touch, clicks = _touchpoints_table(w, rng, L, ev, lead_ids, counters)
    counters["sessions"] += len(has_sid)
    rows = _conversion_rows(w, rng, L, conv, counters["unknown_ids"], k == 0)
    lead_dict = pa.concat_arrays([lead_ids, counters["unknown_ids"]])
    conversions = pa.Table.from_arrays(
        [
            _take(lead_dict, rows["code"]),
            _timestamps(rows["t"]),
            _take(pa.array(["opportunity", "closed_won"]), rows["type"]),
            pa.array(rows["amount"], type=pa.float64(), from_pandas=True),
        ],
        schema=CONVERSIONS_SCHEMA,
    )
    return leads, touch, conversions, clicks


# --------------------------------------------------------------------------------------------
# Ad spend
# --------------------------------------------------------------------------------------------


def _ad_spend_table(w: _World, clicks: np.ndarray) -> pa.Table:
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
            _take(pa.array(CHANNELS), channel),
            _take(w.campaign_dict, camp),
            pa.array(spend, type=pa.float64()),
        ],
        schema=AD_SPEND_SCHEMA,
    )


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def generate_dataset(
    config: GeneratorConfig, out_dir: Path, progress: bool = True
) -> dict[str, int]:
    """Write leads/touchpoints/conversions/ad_spend .parquet into out_dir; return row counts per
    file. The same config gives the same rows in the same order (see the module docstring)."""
    if not isinstance(config, GeneratorConfig):
        raise ValueError(f"config must be a GeneratorConfig, got {type(config).__name__}")
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"output folder {out_dir} exists and is not a folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    w = _World(config)
    counters = dict(
        events=0, sessions=0, n_unknown=w.unknown_pool,
        unknown_ids=_decimal_ids(
            "L", config.n_leads + 1 + np.arange(w.unknown_pool), w.id_width
        ),
    )  # fmt: skip
    tmp = {name: out_dir / f".{name}.parquet.tmp" for name in FILES}
    counts = dict.fromkeys(FILES, 0)
    writers = {
        name: pq.ParquetWriter(tmp[name], FILES[name], compression="zstd")
        for name in ("leads", "conversions")
    }
    # occurred_at is sorted within a chunk: delta encoding stores it in ~3.5 instead of 8 bytes
    writers["touchpoints"] = pq.ParquetWriter(
        tmp["touchpoints"],
        TOUCHPOINTS_SCHEMA,
        compression="zstd",
        use_dictionary=[c for c in TOUCHPOINTS_SCHEMA.names if c != "occurred_at"],
        column_encoding={"occurred_at": "DELTA_BINARY_PACKED"},
    )
    clicks = np.zeros(w.n_days * len(w.campaign_names), dtype=np.int64)
    try:
        for k in range(config.n_chunks):
            lo = k * config.chunk_size
            hi = min(config.n_leads, lo + config.chunk_size)
            leads, touch, conversions, c = _simulate_chunk(w, k, lo, hi, counters)
            clicks += c
            for name, table in (("leads", leads), ("touchpoints", touch),
                                ("conversions", conversions)):  # fmt: skip
                writers[name].write_table(table, row_group_size=1_000_000)
                counts[name] += table.num_rows
            if progress:
                print(
                    f"generate: chunk {k + 1}/{config.n_chunks}: leads {hi:,}/{config.n_leads:,}, "
                    f"touchpoints {counts['touchpoints']:,}, "
                    f"{time.perf_counter() - started:.1f} s",
                    file=sys.stderr,
                    flush=True,
                )
        for writer in writers.values():
            writer.close()
        ad_spend = _ad_spend_table(w, clicks)
        pq.write_table(ad_spend, tmp["ad_spend"], compression="zstd")
        counts["ad_spend"] = ad_spend.num_rows
        for name in FILES:
            os.replace(tmp[name], out_dir / f"{name}.parquet")
    except BaseException:
        for writer in writers.values():
            writer.close()
        for path in tmp.values():
            path.unlink(missing_ok=True)
        raise
    if progress:
        print(
            f"generate: done in {time.perf_counter() - started:.1f} s -> {out_dir}",
            file=sys.stderr,
            flush=True,
        )
    return counts
