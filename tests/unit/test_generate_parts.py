"""Unit tests of the generator package's parts (src/lead_scoring/generate/): the vectorised
helpers, the messy spellings, the UTM tagging, the post-conversion thinning, the paid clicks,
the package layout (docstrings, no import cycle), and byte-for-byte determinism of the files.

The statistical and contract checks of the generated funnel are in test_generate.py.
"""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

import lead_scoring.generate as generate
from lead_scoring.generate import mess
from lead_scoring.generate.ad_spend import paid_clicks
from lead_scoring.generate.catalogues import (
    CH,
    CHANNELS,
    COUNTRIES,
    ET,
    EVENT_TYPES,
    INDUSTRIES,
    K_BASE,
    K_BUY,
    LEAD_SOURCES,
    MED,
    REF,
    SRC,
)
from lead_scoring.generate.config import GeneratorConfig
from lead_scoring.generate.events import _stop_shopping
from lead_scoring.generate.helpers import (
    DAY,
    EVENT_DTYPES,
    NULL,
    categorical,
    choice,
    cum_rows,
    decimal_ids,
    epoch_seconds,
    frame_concat,
    frame_take,
    group_min,
    hex_ids,
    hex_ids_masked,
    take,
    timestamps,
)
from lead_scoring.generate.sessions import _utm_tags
from lead_scoring.generate.world import World

PACKAGE = Path(generate.__file__).parent


# ------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------


def test_choice_draws_indices_with_the_given_weights():
    rng = np.random.default_rng(0)
    draws = choice(rng, (1, 0, 3), 20_000)
    assert set(np.unique(draws)) == {0, 2}
    assert 0.72 < (draws == 2).mean() < 0.78


def test_categorical_draws_from_each_items_own_row():
    rng = np.random.default_rng(0)
    table = cum_rows(np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 2.0], [0.0, 0.0, 0.0]]))
    assert table[2].tolist() == pytest.approx([1 / 3, 2 / 3, 1.0])  # no weight: uniform
    rows = np.array([0, 1, 0, 1, 1])
    assert categorical(rng, table, rows).tolist() == [0, 2, 0, 2, 2]
    uniform = categorical(rng, table, np.full(9_000, 2))
    assert set(np.unique(uniform)) == {0, 1, 2}


def test_take_gives_null_for_negative_codes():
    out = take(pa.array(["a", "b"]), np.array([1, -1, 0]))
    assert out.to_pylist() == ["b", None, "a"]


def test_decimal_ids_are_fixed_width():
    assert decimal_ids("L", np.array([1, 42, 1234567]), 7).to_pylist() == [
        "L0000001", "L0000042", "L1234567",
    ]  # fmt: skip


def test_hex_ids_are_unique_opaque_and_salted():
    numbers = np.arange(50_000)
    ids = hex_ids("ev_", numbers, 12, salt=3).to_pylist()
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 15 and i.startswith("ev_") for i in ids[:100])
    assert int(ids[1][3:], 16) != 1  # scrambled, not the counter
    assert hex_ids("ev_", numbers[:5], 12, salt=4).to_pylist() != ids[:5]
    masked = hex_ids_masked("ss_", np.array([5, -1, 5]), 10, salt=3).to_pylist()
    assert masked[1] is None and masked[0] == masked[2]


def test_timestamps_and_epoch_seconds():
    day = dt.date(2025, 6, 30)
    out = timestamps(np.array([epoch_seconds(day) + 61]), np.array([250]))
    assert out.type == pa.timestamp("us")
    assert out.to_pylist() == [dt.datetime(2025, 6, 30, 0, 1, 1, 250_000)]
    assert epoch_seconds(dt.date(1970, 1, 2)) == DAY


def test_group_min_per_key_with_fill():
    out = group_min(np.array([2, 0, 2]), np.array([7, 5, 3]), 4, fill=99)
    assert out.tolist() == [5, 99, 3, 99]


def test_frames_take_and_concat_with_compact_dtypes():
    a = dict(lead=np.array([1, 2]), t=np.array([10, 20]))
    b = dict(lead=np.array([3]), t=np.array([30]))
    both = frame_concat([a, None, b])
    assert both["lead"].tolist() == [1, 2, 3] and both["lead"].dtype == EVENT_DTYPES["lead"]
    assert frame_take(both, both["t"] > 15)["lead"].tolist() == [2, 3]


# ------------------------------------------------------------------------------------------
# raw mess: spellings
# ------------------------------------------------------------------------------------------


def test_spelled_is_value_major():
    assert mess.spelled(["a", "b"], str, str.upper) == ["a", "A", "b", "B"]


@pytest.mark.parametrize(
    ("dictionary", "canonical", "weights", "extra"),
    [
        (mess.event_type_dictionary, EVENT_TYPES, mess.EVENT_TYPE_SPELLING_WEIGHTS,
         mess.UNKNOWN_EVENT_TYPES),
        (mess.industry_dictionary, [i[0] for i in INDUSTRIES], mess.INDUSTRY_SPELLING_WEIGHTS, ()),
        (mess.country_dictionary, [c[0] for c in COUNTRIES], mess.COUNTRY_SPELLING_WEIGHTS,
         mess.INVALID_COUNTRIES),
        (mess.lead_source_dictionary, LEAD_SOURCES, mess.LEAD_SOURCE_SPELLING_WEIGHTS, ()),
    ],
)  # fmt: skip
def test_each_dictionary_has_one_spelling_per_weight_canonical_first(
    dictionary, canonical, weights, extra
):
    values = dictionary().to_pylist()
    k = len(weights)
    assert len(values) == len(canonical) * k + len(extra)
    assert values[::k][: len(canonical)] == list(canonical)
    assert values[len(canonical) * k :] == list(extra)
    for v, name in enumerate(canonical):  # every spelling normalises back
        spellings = values[v * k : (v + 1) * k]
        assert {s.strip().lower().replace("_", " ") for s in spellings} == {
            name.lower().replace("_", " ")
        }


def test_url_and_title_spellings():
    urls = mess.url_dictionary(["/", "/pricing"]).to_pylist()
    assert len(urls) == 2 * len(mess.URL_SPELLING_WEIGHTS)
    assert urls[5:] == ["/pricing", "/pricing/", "/PRICING", "/pricing?ref=nav",
                        "/pricing?utm_content=cta"]  # fmt: skip
    assert urls[:5] == ["/", "/", "/", "/?ref=nav", "/?utm_content=cta"]
    titles = mess.title_spellings("VP of Sales", "vp of SALES")
    assert len(titles) == len(mess.TITLE_SPELLING_WEIGHTS)
    assert titles[0] == "VP of Sales"
    assert {" ".join(t.lower().split()) for t in titles} == {"vp of sales"}


def test_channel_dictionary_codes_point_at_each_channels_spellings():
    names, codes = mess.channel_dictionary()
    names = names.to_pylist()
    assert names[: len(CHANNELS)] == list(CHANNELS)
    assert len(names) == len(set(names))
    for c, channel in enumerate(CHANNELS):
        assert [names[i] for i in codes[c]] == list(mess.CHANNEL_SPELLINGS[channel])


# ------------------------------------------------------------------------------------------
# sessions and events
# ------------------------------------------------------------------------------------------


def test_utm_tags_follow_the_channel():
    rng = np.random.default_rng(1)
    n = 400
    ch = np.repeat([CH["paid_search"], CH["direct"], CH["organic_search"], CH["email"]], n)
    fam = np.full(len(ch), -1)
    camp = np.full(len(ch), 7)
    tags = _utm_tags(rng, ch, fam, camp)
    paid, direct, organic, email = (slice(i * n, (i + 1) * n) for i in range(4))
    assert set(tags["source"][paid]) <= {SRC["google"], SRC["bing"]}
    assert set(tags["medium"][paid]) <= {MED["cpc"], MED["ppc"], MED["paid-search"]}
    for column in ("source", "medium", "referrer"):
        assert (tags[column][direct] == -1).all()
    assert (tags["source"][organic] == -1).all() and (tags["referrer"][organic] >= 0).all()
    # an email without UTMs keeps no campaign and comes from a webmail referrer
    untagged = tags["source"][email] == -1
    assert 0 < untagged.mean() < 0.3
    assert (tags["campaign"][email][untagged] == -1).all()
    webmail = {REF["mail.google.com"], REF["outlook.office.com"]}
    assert set(tags["referrer"][email][untagged]) <= webmail


def test_stop_shopping_drops_only_buying_events_after_the_conversion():
    rng = np.random.default_rng(2)
    n = 8_000
    t = np.arange(n, dtype=np.int64)
    # session s holds events 8s, 8s+1, 8s+4, 8s+5 (buying: the even ones); others are offsite
    ev = dict(
        lead=np.zeros(n, dtype=np.int64),
        t=t,
        kind=np.where(t % 2 == 0, K_BUY, K_BASE),
        sess=np.where(t % 4 < 2, t // 8, -1),
    )
    kept = _stop_shopping(rng, ev, np.array([1_000]), n_sessions=n // 8)
    dropped = np.setdiff1d(t, kept["t"])
    assert (dropped > 1_000).all()
    assert (ev["kind"][dropped] == K_BUY).all()
    shopping = (t > 1_000) & (ev["kind"] == K_BUY)
    assert 0.5 < len(dropped) / shopping.sum() < 0.7
    # one decision per session: its two buying events go (or stay) together
    in_session = dropped[ev["sess"][dropped] >= 0]
    assert len(in_session) and np.isin(in_session ^ 4, dropped).all()
    nothing = _stop_shopping(rng, ev, np.array([NULL]), n_sessions=n // 8)
    assert len(nothing["t"]) == n


def test_paid_clicks_count_paid_touches_per_day_and_campaign():
    w = World(GeneratorConfig(n_leads=20, seed=1))
    camp = len(w.campaign_names) - 1
    t = w.t0 + np.array([0, 10, DAY + 5, DAY + 6, 2 * DAY, -DAY])
    ev = dict(
        t=t,
        etype=np.array([ET["ad_click"], ET["ad_click"], ET["event_attended"], ET["page_view"],
                        ET["page_view"], ET["ad_click"]]),
        land=np.array([False, False, False, True, False, False]),
        channel=np.full(6, CH["events"]),
        campaign=np.array([camp, -1, camp, camp, camp, camp]),
    )  # fmt: skip
    clicks = paid_clicks(w, ev).reshape(w.n_days, len(w.campaign_names))
    assert clicks.sum() == 3  # no campaign, not a click, before the start: not counted
    assert clicks[0, camp] == 1 and clicks[1, camp] == 2


# ------------------------------------------------------------------------------------------
# package layout and determinism
# ------------------------------------------------------------------------------------------


def _runtime_imports(path: Path) -> set[str]:
    """lead_scoring.generate modules imported at import time (not under TYPE_CHECKING)."""
    found = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "lead_scoring.generate":
                found |= {alias.name for alias in node.names}
            elif node.module.startswith("lead_scoring.generate."):
                found.add(node.module.rsplit(".", 1)[1])
    return found


def test_every_module_has_a_docstring_and_no_import_cycle():
    modules = {p.stem: p for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    assert {"world", "sessions", "events", "mess", "writer", "helpers"} <= set(modules)
    for name, path in modules.items():
        assert ast.get_docstring(ast.parse(path.read_text())), name
    graph = {name: _runtime_imports(path) & set(modules) for name, path in modules.items()}
    done: set[str] = set()
    while len(done) < len(graph):  # topological order exists <=> no cycle
        ready = {m for m, deps in graph.items() if m not in done and deps <= done}
        assert ready, f"import cycle among {sorted(set(graph) - done)}"
        done |= ready


def test_public_api_is_reexported():
    assert sorted(generate.__all__) == [
        "AD_SPEND_SCHEMA", "CONVERSIONS_SCHEMA", "FILES", "GeneratorConfig", "HISTORY_DAYS",
        "LEADS_SCHEMA", "TOUCHPOINTS_SCHEMA", "generate_dataset",
    ]  # fmt: skip
    for name in generate.__all__:
        assert getattr(generate, name) is not None


def test_same_config_gives_the_same_bytes(tmp_path):
    config = GeneratorConfig(n_leads=150, seed=5, chunk_size=60)
    generate.generate_dataset(config, tmp_path / "a", progress=False)
    generate.generate_dataset(config, tmp_path / "b", progress=False)
    for name in generate.FILES:
        a = (tmp_path / "a" / f"{name}.parquet").read_bytes()
        assert a == (tmp_path / "b" / f"{name}.parquet").read_bytes(), name
    other = GeneratorConfig(n_leads=150, seed=5, chunk_size=50)
    generate.generate_dataset(other, tmp_path / "c", progress=False)
    touch = "touchpoints.parquet"
    assert (tmp_path / "a" / touch).read_bytes() != (tmp_path / "c" / touch).read_bytes()


def test_the_generator_speaks_the_seeds_vocabulary():
    """The generator's own webmail domains are ones staging flags as personal, its channels with
    ad spend are channels of the seed, and a seed that no longer matches a
    parameter array drawn per value stops the import with the parameter's name."""
    from lead_scoring import vocabulary
    from lead_scoring.generate import catalogues

    assert set(catalogues.PERSONAL_DOMAINS) <= vocabulary.personal_email_domains()
    assert set(catalogues.PAID_CHANNELS) <= set(vocabulary.channels())  # channels with ad spend
    with pytest.raises(ValueError, match="SIZE_WEIGHTS has 7 entries for the 8 company-size"):
        catalogues._check_parallel(
            "company-size bands", (*catalogues.COMPANY_SIZES, "10000+"),
            SIZE_WEIGHTS=(catalogues.SIZE_WEIGHTS, 0),
        )  # fmt: skip
