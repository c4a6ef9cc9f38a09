"""The vocabularies and parameters of the synthetic world: one named constant per list.

Company sizes, industries, countries, tools, job titles, lead sources, channels, page types,
event types, UTM sources/mediums, referrers, site content and campaign families, with the
weights and fit effects the simulation draws from. The string values are chosen so that the
dbt seeds (channel_rules, job_title_keywords, page_types, country_regions) classify them;
tests/unit/test_generate.py checks it. The contract's vocabularies (event types, which of them
are web events, channels, company-size bands) are not repeated here: they are read from the
seeds through ``lead_scoring.vocabulary``, their one home. The parameters drawn per value
(``SIZE_WEIGHTS``...) follow those lists by position; ``_check_parallel`` stops at import if a
seed's length no longer matches them. The small ``{name: index}`` maps (``CH``, ``PT``,
``ET``...) give the integer codes the vectorised simulation works with.
"""

from __future__ import annotations

import numpy as np

from lead_scoring import vocabulary


def _check_parallel(name: str, values: tuple, **parameters) -> None:
    """Every parameter array drawn per value of a vocabulary has one entry per value (``extra``
    entries allowed for an 'unknown' slot are passed with their count)."""
    for param, (array, extra) in parameters.items():
        if len(array) != len(values) + extra:
            raise ValueError(
                f"generator parameter {param} has {len(array)} entries for the {len(values)} "
                f"{name} of the seed (+{extra}): update lead_scoring/generate/catalogues.py"
            )

HOUR_WEIGHTS = np.array(
    [0.25, 0.18, 0.12, 0.10, 0.10, 0.15, 0.30, 0.55, 0.85, 1.00, 1.00, 0.95,
     0.95, 1.05, 1.15, 1.20, 1.15, 1.00, 0.90, 0.75, 0.60, 0.50, 0.40, 0.32]
)  # fmt: skip

COMPANY_SIZES = vocabulary.company_size_bands()
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

# seniority classes: name, fit effect (c-level depends on company size, see world.simulate_leads)
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

CHANNELS = tuple(vocabulary.channels())
CH = {name: i for i, name in enumerate(CHANNELS)}
PAID_CHANNELS = ("paid_search", "paid_social", "display", "events")

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

EVENT_TYPES = vocabulary.raw_event_types()
ET = {name: i for i, name in enumerate(EVENT_TYPES)}
WEB_EVENT_TYPES = np.array([ET[name] for name in vocabulary.event_type_names("is_web_event")])

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

_check_parallel(
    "company-size bands",
    COMPANY_SIZES,
    SIZE_WEIGHTS=(SIZE_WEIGHTS, 0),
    SIZE_FIT=(SIZE_FIT, 1),
    SIZE_LEAD_WEIGHT=(SIZE_LEAD_WEIGHT, 0),
    SIZE_AMOUNT=(SIZE_AMOUNT, 1),
    TECH_SIZE_FACTOR=(TECH_SIZE_FACTOR, 0),
    SENIORITY_BY_SIZE=(SENIORITY_BY_SIZE, 1),
)
