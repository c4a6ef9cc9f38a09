"""Tests for lead_scoring.attribution: exact Markov removal effects and Shapley values.

The exact results are compared with independent computations written here from scratch in
plain Python (dict-of-dicts chains, value iteration, explicit enumeration of trajectories,
Monte Carlo walks, Shapley values over all n! orderings), never with the module's internals.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest

from lead_scoring.attribution import (
    MARKOV_COLUMNS,
    SHAPLEY_COLUMNS,
    build_markov_chain,
    markov_attribution,
    shapley_attribution,
    shapley_values,
    touch_credit_weights,
)

START, CONV, NULL = "(start)", "(conversion)", "(null)"


def make_paths(rows: list[tuple[str, float, float]], value_per_conv: float = 100.0):
    """rows of (path, conversions, nulls) -> a fct_conversion_paths-like frame."""
    frame = pd.DataFrame(rows, columns=["path", "total_conversions", "total_null"])
    frame["total_conversion_value"] = frame["total_conversions"] * value_per_conv
    return frame


def by_channel(result: pd.DataFrame, column: str) -> dict[str, float]:
    return dict(zip(result["channel"], result[column], strict=True))


# --------------------------------------------------------------------------------------------
# Independent reference implementation of the Markov model (pure Python, no linear algebra)
# --------------------------------------------------------------------------------------------


def split_path(path: str, collapse: bool) -> list[str]:
    channels = [c.strip() for c in path.split(">") if c.strip()]
    if collapse:
        channels = [c for i, c in enumerate(channels) if i == 0 or c != channels[i - 1]]
    return channels


def naive_chain(frame: pd.DataFrame, order: int = 1, collapse: bool = True):
    """Transition probabilities {from: {to: p}} with tuple states, built with Python loops."""
    counts: dict = defaultdict(lambda: defaultdict(float))
    for path, conv, null in zip(
        frame["path"], frame["total_conversions"], frame["total_null"], strict=True
    ):
        channels = split_path(path, collapse)
        if not channels or conv + null == 0:
            continue
        prev = START
        for i in range(len(channels)):
            state = tuple(channels[max(0, i - order + 1) : i + 1])
            counts[prev][state] += conv + null
            prev = state
        counts[prev][CONV] += conv
        counts[prev][NULL] += null
    chain = {}
    for s, row in counts.items():
        total = sum(row.values())
        chain[s] = {t: c / total for t, c in row.items() if c > 0}
    return chain


def is_removed(state, removed: set[str]) -> bool:
    return isinstance(state, tuple) and any(c in removed for c in state)


def value_iteration(chain, removed: set[str] = frozenset(), tol: float = 1e-15) -> float:
    """P(conversion) by iterating x = P x with x(conv) = 1, x(null) = x(removed) = 0."""
    x = defaultdict(float)
    x[CONV] = 1.0
    for _ in range(100_000):
        delta = 0.0
        for s, row in chain.items():
            if is_removed(s, removed):
                continue
            new = sum(p * (0.0 if is_removed(t, removed) else x[t]) for t, p in row.items())
            delta = max(delta, abs(new - x[s]))
            x[s] = new
        if delta < tol:
            break
    return x[START]


def enumerate_trajectories(chain, removed: set[str], depth: int) -> tuple[float, float]:
    """Sum the probabilities of every trajectory start -> ... -> (conversion) of at most
    ``depth`` channel steps, one trajectory at a time. Returns (converted mass, mass of the
    trajectories still running after ``depth`` steps): the exact P(conv) lies in
    [converted, converted + running]."""
    converted = running = 0.0
    stack = [(START, 1.0, 0)]
    while stack:
        state, prob, steps = stack.pop()
        if steps == depth:
            running += prob
            continue
        for target, p in chain[state].items():
            if target == CONV:
                converted += prob * p
            elif target != NULL and not is_removed(target, removed):
                stack.append((target, prob * p, steps + 1))
    return converted, running


def monte_carlo(chain, removed: set[str], n_walkers: int, rng: np.random.Generator) -> float:
    """Simulate n_walkers walks of the chain (vectorised over walkers); fraction converted."""
    states = list(chain) + [CONV, NULL]
    index = {s: i for i, s in enumerate(states)}
    P = np.zeros((len(states), len(states)))
    for s, row in chain.items():
        if is_removed(s, removed):
            P[index[s], index[NULL]] = 1.0
            continue
        for t, p in row.items():
            P[index[s], index[t]] = p
    P[index[CONV], index[CONV]] = P[index[NULL], index[NULL]] = 1.0
    cum = np.cumsum(P, axis=1)
    cum[:, -1] = 1.0
    pos = np.full(n_walkers, index[START])
    absorbing = np.array([index[CONV], index[NULL]])
    for _ in range(10_000):
        active = ~np.isin(pos, absorbing)
        if not active.any():
            break
        u = rng.random(int(active.sum()))
        pos[active] = (cum[pos[active]] <= u[:, None]).sum(axis=1)
    return float(np.mean(pos == index[CONV]))


def naive_attribution(frame, order=1, collapse=True):
    chain = naive_chain(frame, order, collapse)
    channels = sorted({c for s in chain if isinstance(s, tuple) for c in s})
    p = value_iteration(chain)
    re = {c: 1 - value_iteration(chain, {c}) / p for c in channels}
    total = sum(re.values())
    conv = frame["total_conversions"].sum()
    return p, re, {c: conv * r / total for c, r in re.items()}


def random_journeys(seed: int, n_channels: int = 4, n_journeys: int = 400, stop: float = 0.5):
    """Journeys drawn from a random 'true' chain (with self-loops, so repeats occur)."""
    rng = np.random.default_rng(seed)
    names = [f"ch{i}" for i in range(n_channels)]
    first = rng.dirichlet(np.ones(n_channels))
    move = rng.dirichlet(np.ones(n_channels), size=n_channels)
    conv_rate = rng.uniform(0.1, 0.6, n_channels)
    counts: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for _ in range(n_journeys):
        cur = rng.choice(n_channels, p=first)
        path = [names[cur]]
        while rng.random() > stop and len(path) < 12:
            cur = rng.choice(n_channels, p=move[cur])
            path.append(names[cur])
        row = counts[" > ".join(path)]
        if rng.random() < conv_rate[cur]:
            row[0] += 1
            row[1] += float(rng.gamma(2.0, 50.0))
        else:
            row[2] += 1
    return pd.DataFrame(
        [(p, c, v, n) for p, (c, v, n) in counts.items()],
        columns=["path", "total_conversions", "total_conversion_value", "total_null"],
    )


# --------------------------------------------------------------------------------------------
# Markov: worked examples computed by hand
# --------------------------------------------------------------------------------------------


def test_markov_classic_three_path_example():
    # The classic example (S. Bryl, "Marketing multi-channel attribution model with R", 2016;
    # the same graph illustrates Anderl et al. 2016):
    #   c1 > c2 > c3 -> conversion, c1 -> null, c2 > c3 -> null
    # Transition counts: start->c1 2, start->c2 1; c1->c2 1, c1->null 1; c2->c3 2;
    #                    c3->conv 1, c3->null 1.
    # P(conv) = P(s->c1) P(c1->c2) P(c2->c3) P(c3->conv) + P(s->c2) P(c2->c3) P(c3->conv)
    #         = 2/3 * 1/2 * 1 * 1/2 + 1/3 * 1 * 1/2 = 1/6 + 1/6 = 1/3
    # Remove c1: only start->c2->c3->conv is left: 1/3 * 1/2 = 1/6 -> RE(c1) = 1 - (1/6)/(1/3)
    #            = 1/2. Remove c2 or c3: every conversion passes both -> P = 0, RE = 1.
    # Sum of RE = 2.5, one conversion: c1 = 0.5/2.5 = 0.2, c2 = c3 = 1/2.5 = 0.4.
    frame = make_paths([("c1 > c2 > c3", 1, 0), ("c1", 0, 1), ("c2 > c3", 0, 1)])
    result = markov_attribution(frame)
    assert list(result.columns) == MARKOV_COLUMNS
    assert result.attrs["p_conversion"] == pytest.approx(1 / 3, abs=1e-12)
    assert by_channel(result, "removal_effect") == pytest.approx(
        {"c1": 0.5, "c2": 1.0, "c3": 1.0}, abs=1e-12
    )
    assert by_channel(result, "attributed_conversions") == pytest.approx(
        {"c1": 0.2, "c2": 0.4, "c3": 0.4}, abs=1e-12
    )
    assert by_channel(result, "attributed_revenue") == pytest.approx(
        {"c1": 20.0, "c2": 40.0, "c3": 40.0}, abs=1e-9
    )
    assert result["share"].sum() == pytest.approx(1.0)


def test_markov_three_path_variant_with_two_conversions():
    # c1 > c2 > c3 -> conv, c1 -> null, c2 > c3 -> conv. Now c3->conv has probability 1:
    # P(conv) = 2/3 * 1/2 + 1/3 = 2/3. Remove c1: 1/3 -> RE 1/2; remove c2 or c3: 0 -> RE 1.
    # Two conversions split 0.5 : 1 : 1 -> c1 0.4, c2 0.8, c3 0.8.
    frame = make_paths([("c1 > c2 > c3", 1, 0), ("c1", 0, 1), ("c2 > c3", 1, 0)])
    result = markov_attribution(frame)
    assert result.attrs["p_conversion"] == pytest.approx(2 / 3)
    assert by_channel(result, "attributed_conversions") == pytest.approx(
        {"c1": 0.4, "c2": 0.8, "c3": 0.8}
    )


def test_markov_loop_example_by_hand():
    # a > b > a -> conv (1), a -> null (1), b -> conv (1). Counts (weight 1 each path):
    # start->a 2, start->b 1; a->b 1, a->conv 1, a->null 1; b->a 1, b->conv 1.
    # x_a = 1/3 x_b + 1/3, x_b = 1/2 x_a + 1/2  ->  x_a = 3/5, x_b = 4/5
    # P = 2/3 * 3/5 + 1/3 * 4/5 = 2/3.  Remove a: P = 1/3 * 1/2 = 1/6 -> RE(a) = 3/4.
    # Remove b: P = 2/3 * 1/3 = 2/9 -> RE(b) = 2/3.
    frame = make_paths([("a > b > a", 1, 0), ("a", 0, 1), ("b", 1, 0)])
    result = markov_attribution(frame)
    assert result.attrs["p_conversion"] == pytest.approx(2 / 3)
    assert by_channel(result, "removal_effect") == pytest.approx({"a": 3 / 4, "b": 2 / 3})
    chain = build_markov_chain(frame)
    assert chain.conversion_probability(["a"]) == pytest.approx(1 / 6)
    assert chain.conversion_probability(["a", "b"]) == pytest.approx(0.0)


# --------------------------------------------------------------------------------------------
# Markov: against independent computations on random graphs
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("order", [1, 2])
def test_markov_matches_value_iteration(seed, order):
    frame = random_journeys(seed, n_channels=3 + seed % 3)
    result = markov_attribution(frame, order=order)
    p, re, attributed = naive_attribution(frame, order=order)
    assert result.attrs["p_conversion"] == pytest.approx(p, rel=1e-10)
    assert by_channel(result, "removal_effect") == pytest.approx(re, rel=1e-9, abs=1e-12)
    assert by_channel(result, "attributed_conversions") == pytest.approx(attributed, rel=1e-9)
    assert result["attributed_conversions"].sum() == pytest.approx(frame["total_conversions"].sum())
    assert result["attributed_revenue"].sum() == pytest.approx(
        frame["total_conversion_value"].sum()
    )


@pytest.mark.parametrize("seed", range(3))
def test_markov_order2_without_collapse_matches_value_iteration(seed):
    frame = random_journeys(100 + seed, n_channels=3)
    result = markov_attribution(frame, order=2, collapse_repeats=False)
    p, re, _ = naive_attribution(frame, order=2, collapse=False)
    assert result.attrs["p_conversion"] == pytest.approx(p, rel=1e-10)
    assert by_channel(result, "removal_effect") == pytest.approx(re, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_markov_matches_enumeration_of_trajectories(seed):
    # 3 channels, no self-loops after collapsing: 2 channel successors per state, so the
    # 2**16 trajectories of up to 16 steps are enumerated explicitly; the exact value must lie
    # inside the enumeration's bracket, which is narrow since journeys stop often.
    frame = random_journeys(200 + seed, n_channels=3, stop=0.6)
    chain = naive_chain(frame)
    exact = build_markov_chain(frame)
    for removed in [set(), {"ch0"}, {"ch1"}, {"ch2"}, {"ch0", "ch2"}]:
        converted, running = enumerate_trajectories(chain, removed, depth=16)
        p = exact.conversion_probability(removed)
        assert running < 1e-3
        assert converted - 1e-12 <= p <= converted + running + 1e-12


@pytest.mark.parametrize("seed", range(2))
def test_markov_matches_monte_carlo(seed):
    frame = random_journeys(300 + seed, n_channels=4)
    chain = naive_chain(frame)
    exact = build_markov_chain(frame)
    result = markov_attribution(frame)
    rng = np.random.default_rng(seed)
    n = 200_000
    p_mc = monte_carlo(chain, set(), n, rng)
    p = exact.conversion_probability()
    assert abs(p_mc - p) < 5 * math.sqrt(p * (1 - p) / n)
    for channel, removal_effect in by_channel(result, "removal_effect").items():
        p_c = exact.conversion_probability([channel])
        p_c_mc = monte_carlo(chain, {channel}, n, rng)
        assert abs(p_c_mc - p_c) < 5 * math.sqrt(max(p_c * (1 - p_c), 1e-6) / n)
        assert 1 - p_c_mc / p_mc == pytest.approx(removal_effect, abs=0.02)


def test_transition_rows_are_stochastic():
    frame = random_journeys(7, n_channels=5)
    for order in (1, 2, 3):
        transitions = build_markov_chain(frame, order=order).transition_frame()
        assert (transitions["probability"] > 0).all()
        row_sums = transitions.groupby("from_state")["probability"].sum()
        np.testing.assert_allclose(row_sums.to_numpy(), 1.0, rtol=1e-12)
        assert "(start)" in row_sums.index


# --------------------------------------------------------------------------------------------
# Markov: repeats, order, separators
# --------------------------------------------------------------------------------------------


def test_repeats_are_collapsed():
    repeated = make_paths([("a > a > b", 2, 1), ("b > b", 0, 3), ("a > c > c > a", 1, 1)])
    collapsed = make_paths([("a > b", 2, 1), ("b", 0, 3), ("a > c > a", 1, 1)])
    for order in (1, 2):
        pd.testing.assert_frame_equal(
            markov_attribution(repeated, order=order), markov_attribution(collapsed, order=order)
        )
    states = build_markov_chain(repeated, order=2).states
    assert ("a", "a") not in states


def test_order1_does_not_depend_on_collapsing():
    # A self-loop does not change absorption probabilities, so order 1 is the same either way.
    frame = random_journeys(11, n_channels=4)
    assert any(split_path(p, False) != split_path(p, True) for p in frame["path"])
    a = markov_attribution(frame, collapse_repeats=True)
    b = markov_attribution(frame, collapse_repeats=False)
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-10)


def test_higher_order_with_full_history_reproduces_the_paths():
    # With order >= the longest path, every state encodes the whole history, the chain is a
    # tree and reproduces the data exactly: P(conv) = conversions / journeys, and removing c
    # kills exactly the paths that contain c: RE(c) = conversions on paths with c / all.
    frame = make_paths(
        [
            ("a", 3, 7),
            ("b", 1, 9),
            ("a > b", 4, 2),
            ("b > a", 1, 5),
            ("c > a", 2, 2),
            ("a > c", 0, 4),
        ]
    )
    result = markov_attribution(frame, order=2)
    total = frame["total_conversions"].sum()
    assert result.attrs["p_conversion"] == pytest.approx(
        total / (total + frame["total_null"].sum())
    )
    expected = {
        c: frame.loc[frame["path"].str.contains(c), "total_conversions"].sum() / total
        for c in "abc"
    }
    assert by_channel(result, "removal_effect") == pytest.approx(expected)
    # ...while order 1 mixes histories (b > a and c > a share the state a): same P(conv)
    # (see test_fitted_chain_reproduces_the_conversion_rate), different removal effects.
    order1 = by_channel(markov_attribution(frame, order=1), "removal_effect")
    assert order1 != pytest.approx(expected)


@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("collapse", [True, False])
def test_fitted_chain_reproduces_the_conversion_rate(order, collapse):
    # The fitted (maximum-likelihood) chain conserves flow: expected visits of every state
    # equal its observed visits, so P(conv) = conversions / journeys for any order.
    frame = random_journeys(31, n_channels=5)
    result = markov_attribution(frame, order=order, collapse_repeats=collapse)
    conv = frame["total_conversions"].sum()
    assert result.attrs["p_conversion"] == pytest.approx(
        conv / (conv + frame["total_null"].sum()), rel=1e-10
    )


def test_order2_states_are_tuples_of_last_two_channels():
    frame = make_paths([("a > b > c", 1, 0), ("b > c", 0, 1)])
    chain = build_markov_chain(frame, order=2)
    assert set(chain.states) == {("a",), ("a", "b"), ("b", "c"), ("b",)}
    result = markov_attribution(frame, order=2)
    # start->(a) 1/2, start->(b) 1/2; (a)->(a,b)->(b,c); (b)->(b,c); (b,c)->conv 1/2, null 1/2.
    # The two paths meet in the state (b,c), so P(conv) = 1/2 (not 1 for a > b > c, 0 for
    # b > c). Remove a: only start->(b)->(b,c)->conv = 1/4 -> RE(a) = 1/2; remove b or c: 0.
    assert result.attrs["p_conversion"] == pytest.approx(0.5)
    assert by_channel(result, "removal_effect") == pytest.approx({"a": 0.5, "b": 1, "c": 1})


def test_separator_whitespace_and_custom_channel_names():
    spaced = make_paths([("Paid Search > e-mail > direct", 1, 2), ("e-mail", 1, 0)])
    tight = make_paths([("Paid Search>e-mail>  direct", 1, 2), (" e-mail ", 1, 0)])
    pd.testing.assert_frame_equal(markov_attribution(spaced), markov_attribution(tight))
    assert set(markov_attribution(spaced)["channel"]) == {"Paid Search", "e-mail", "direct"}
    piped = spaced.assign(path=spaced["path"].str.replace(" > ", "|"))
    pd.testing.assert_frame_equal(markov_attribution(spaced), markov_attribution(piped, sep="|"))


# --------------------------------------------------------------------------------------------
# Degenerate and bad input (both models)
# --------------------------------------------------------------------------------------------

MODELS = [(markov_attribution, MARKOV_COLUMNS), (shapley_attribution, SHAPLEY_COLUMNS)]


@pytest.mark.parametrize(("model", "columns"), MODELS)
def test_empty_input(model, columns, caplog):
    empty = make_paths([]).astype({"path": object})
    with caplog.at_level(logging.WARNING, logger="lead_scoring.attribution"):
        result = model(empty)
    assert result.empty
    assert list(result.columns) == columns
    assert "empty result" in caplog.text


@pytest.mark.parametrize(("model", "columns"), MODELS)
def test_only_empty_paths(model, columns, caplog):
    frame = make_paths([("", 1, 1), (" > ", 0, 2)])
    frame.loc[len(frame)] = [None, 1, 0, 5.0]
    with caplog.at_level(logging.WARNING, logger="lead_scoring.attribution"):
        result = model(frame)
    assert result.empty
    assert "without any channel" in caplog.text


@pytest.mark.parametrize(("model", "columns"), MODELS)
def test_no_conversions(model, columns, caplog):
    frame = make_paths([("a > b", 0, 5), ("b", 0, 2)])
    with caplog.at_level(logging.WARNING, logger="lead_scoring.attribution"):
        result = model(frame)
    assert list(result.columns) == columns
    assert sorted(result["channel"]) == ["a", "b"]
    assert (result.drop(columns="channel") == 0).all().all()
    assert "no conversions" in caplog.text


@pytest.mark.parametrize(("model", "columns"), MODELS)
def test_single_channel_gets_everything(model, columns, caplog):
    frame = make_paths([("email", 3, 5), ("email > email", 1, 0)])
    with caplog.at_level(logging.INFO, logger="lead_scoring.attribution"):
        result = model(frame)
    assert len(result) == 1
    row = result.iloc[0]
    assert row["channel"] == "email"
    assert row["share"] == pytest.approx(1.0)
    assert row["attributed_conversions"] == pytest.approx(4.0)
    assert row["attributed_revenue"] == pytest.approx(400.0)
    assert "single channel" in caplog.text


@pytest.mark.parametrize(("model", "columns"), MODELS)
@pytest.mark.parametrize("missing", ["path", "total_conversions", "total_null"])
def test_missing_column_is_named(model, columns, missing):
    frame = make_paths([("a > b", 1, 1)]).drop(columns=missing)
    with pytest.raises(ValueError, match=missing):
        model(frame)


@pytest.mark.parametrize(("model", "columns"), MODELS)
def test_bad_values(model, columns):
    with pytest.raises(ValueError, match="negative"):
        model(make_paths([("a", -1, 1)]))
    with pytest.raises(ValueError, match="NaN"):
        model(make_paths([("a", float("nan"), 1)]))
    with pytest.raises(ValueError, match="numeric"):
        model(make_paths([("a", 1, 1)]).assign(total_null="many"))
    with pytest.raises(TypeError, match="DataFrame"):
        model([("a", 1, 0, 1.0)])


def test_bad_order_and_max_channels():
    frame = make_paths([("a", 1, 1)])
    with pytest.raises(ValueError, match="order"):
        markov_attribution(frame, order=0)
    with pytest.raises(ValueError, match="max_channels"):
        shapley_attribution(frame, max_channels=30)
    with pytest.raises(ValueError, match="unknown channel"):
        build_markov_chain(frame).conversion_probability(["zzz"])


# --------------------------------------------------------------------------------------------
# Shapley
# --------------------------------------------------------------------------------------------


def shapley_by_permutations(players: list[str], v) -> dict[str, float]:
    """Average marginal contribution over all n! orderings (the definition)."""
    phi = dict.fromkeys(players, 0.0)
    orderings = list(itertools.permutations(players))
    for ordering in orderings:
        coalition: frozenset[str] = frozenset()
        for player in ordering:
            phi[player] += v(coalition | {player}) - v(coalition)
            coalition = coalition | {player}
    return {p: x / len(orderings) for p, x in phi.items()}


def conversions_game(frame: pd.DataFrame, column: str = "total_conversions"):
    sets = [frozenset(split_path(p, True)) for p in frame["path"]]
    worth = frame[column].to_numpy()
    cache: dict[frozenset, float] = {}

    def v(coalition: frozenset) -> float:
        if coalition not in cache:
            cache[coalition] = float(
                sum(w for s, w in zip(sets, worth, strict=True) if s <= coalition)
            )
        return cache[coalition]

    return v


@pytest.mark.parametrize("seed", range(5))
def test_shapley_matches_permutation_enumeration(seed):
    frame = random_journeys(400 + seed, n_channels=3 + seed % 4, n_journeys=300)
    result = shapley_attribution(frame)
    players = sorted(result["channel"])
    expected = shapley_by_permutations(players, conversions_game(frame))
    assert by_channel(result, "shapley_value") == pytest.approx(expected, rel=1e-10)
    assert by_channel(result, "attributed_conversions") == pytest.approx(expected, rel=1e-10)
    revenue = shapley_by_permutations(players, conversions_game(frame, "total_conversion_value"))
    assert by_channel(result, "attributed_revenue") == pytest.approx(revenue, rel=1e-10)


@pytest.mark.parametrize("seed", range(4))
def test_shapley_values_of_arbitrary_games(seed):
    # Any game (not only the additive conversions game): random worths, v(empty) = 0.
    rng = np.random.default_rng(seed)
    n = 5
    worth = rng.normal(size=1 << n)
    worth[0] = 0.0
    players = list(range(n))

    def v(coalition):
        return worth[sum(1 << i for i in coalition)]

    expected = shapley_by_permutations(players, v)
    np.testing.assert_allclose(shapley_values(worth, n), [expected[i] for i in players])


def test_shapley_equals_equal_split_closed_form():
    # Zhao et al.'s simplified formula: each path's conversions shared by its distinct channels.
    frame = random_journeys(9, n_channels=6, n_journeys=500)
    expected: dict[str, float] = defaultdict(float)
    for path, conv in zip(frame["path"], frame["total_conversions"], strict=True):
        channels = set(split_path(path, True))
        for c in channels:
            expected[c] += conv / len(channels)
    result = shapley_attribution(frame)
    assert by_channel(result, "attributed_conversions") == pytest.approx(dict(expected))


def test_shapley_axioms():
    frame = make_paths(
        [
            ("a > c", 3, 1),
            ("b > c", 3, 1),
            ("a > b", 2, 0),
            ("b > a", 0, 4),
            ("c", 5, 5),
            ("z > c", 0, 10),  # z never on a converting path: null player
            ("z", 0, 3),
        ]
    )
    result = shapley_attribution(frame)
    phi = by_channel(result, "shapley_value")
    # efficiency: sum = v(N) = all conversions; revenue likewise
    assert sum(phi.values()) == pytest.approx(13.0)
    assert result["attributed_conversions"].sum() == frame["total_conversions"].sum()
    assert result["attributed_revenue"].sum() == pytest.approx(1300.0)
    assert result["share"].sum() == pytest.approx(1.0)
    # symmetry: a and b are interchangeable in v
    assert phi["a"] == pytest.approx(phi["b"])
    # null player
    assert phi["z"] == 0.0
    assert phi == pytest.approx({"a": 2.5, "b": 2.5, "c": 8.0, "z": 0.0})


def test_shapley_merges_rare_channels_into_other(caplog):
    # 17 channels; ch{i} has i+1 conversions; an existing 'other' channel joins the merge.
    rows = [(f"ch{i:02d} > x", i + 1, 1) for i in range(16)] + [("other", 1, 0)]
    frame = make_paths(rows)
    with caplog.at_level(logging.WARNING, logger="lead_scoring.attribution"):
        result = shapley_attribution(frame, max_channels=5)
    assert "merged" in caplog.text and "max_channels=5" in caplog.text
    # x is on 136 conversions, then ch15 (16), ch14 (15), ch13 (14); everything else -> other
    assert set(result["channel"]) == {"x", "ch15", "ch14", "ch13", "other"}
    assert result["attributed_conversions"].sum() == pytest.approx(137.0)
    # paths 'chNN > x' with NN merged become 'other > x': half of their conversions each
    merged = sum(i + 1 for i in range(13))
    assert by_channel(result, "attributed_conversions")["other"] == pytest.approx(merged / 2 + 1)
    assert len(shapley_attribution(frame)) == 15  # 18 channels: 14 kept + other


def test_shapley_exact_total_with_fractional_counts():
    frame = random_journeys(21, n_channels=8, n_journeys=2000)
    result = shapley_attribution(frame)
    assert math.isclose(
        result["attributed_conversions"].sum(), frame["total_conversions"].sum(), rel_tol=1e-14
    )


# --------------------------------------------------------------------------------------------
# Touch credit
# --------------------------------------------------------------------------------------------


def test_touch_credit_weights():
    touches = pd.DataFrame(
        {
            "conversion_id": [1, 1, 1, 2, 2, 3],
            "channel": ["email", "paid_search", "email", "direct", "unknown", "unknown"],
        }
    )
    weights = pd.DataFrame(
        {"channel": ["email", "paid_search", "direct"], "share": [0.2, 0.6, 0.2]}
    )
    credit = touch_credit_weights(touches, weights)
    # conversion 1: email 0.2, paid_search 0.6 -> 0.25 / 0.75; email's 0.25 over its 2 touches
    # conversion 2: unknown channel has weight 0 -> direct gets everything
    # conversion 3: only zero weights -> equal split (one touch -> 1)
    np.testing.assert_allclose(credit.to_numpy(), [0.125, 0.75, 0.125, 1.0, 0.0, 1.0])
    assert credit.groupby(touches["conversion_id"]).sum().to_numpy() == pytest.approx(1.0)
    mapping = {"email": 0.2, "paid_search": 0.6, "direct": 0.2}
    pd.testing.assert_series_equal(credit, touch_credit_weights(touches, mapping))
    with pytest.raises(ValueError, match="conversion_id"):
        touch_credit_weights(touches.drop(columns="conversion_id"), mapping)


def test_touch_credit_sql_mirror_agrees():
    duckdb = pytest.importorskip("duckdb")
    rng = np.random.default_rng(3)
    touches = pd.DataFrame(
        {
            "touch_id": np.arange(300),
            "conversion_id": rng.integers(0, 60, 300),
            "channel": rng.choice(["a", "b", "c", "d"], 300),
        }
    )
    channel_weights = pd.DataFrame({"channel": ["a", "b", "c"], "share": [0.5, 0.3, 0.2]})
    con = duckdb.connect()
    con.register("touches", touches)
    con.register("channel_weights", channel_weights)
    sql = """
        with t as (
            select t.*, coalesce(w.share, 0) / count(*) over (partition by conversion_id,
                   t.channel) as w_touch,
                   count(*) over (partition by conversion_id) as n_touches
            from touches t left join channel_weights w using (channel))
        select touch_id, case when sum(w_touch) over (partition by conversion_id) > 0
                       then w_touch / sum(w_touch) over (partition by conversion_id)
                       else 1.0 / n_touches end as credit
        from t order by touch_id
    """
    from_sql = con.sql(sql).df()["credit"].to_numpy()
    np.testing.assert_allclose(touch_credit_weights(touches, channel_weights), from_sql)


# --------------------------------------------------------------------------------------------
# Performance smoke (timing printed, only correctness asserted)
# --------------------------------------------------------------------------------------------


def test_markov_100k_paths_smoke():
    rng = np.random.default_rng(0)
    channels = np.array(
        [
            "organic_search",
            "paid_search",
            "paid_social",
            "organic_social",
            "email",
            "direct",
            "referral",
            "display",
            "events",
            "other",
        ]
    )
    lengths = rng.integers(1, 11, 200_000)
    parts = np.split(channels[rng.integers(0, 10, lengths.sum())], np.cumsum(lengths)[:-1])
    paths = pd.Series([" > ".join(p) for p in parts]).drop_duplicates().iloc[:100_000]
    n = len(paths)
    assert n == 100_000
    frame = pd.DataFrame(
        {
            "path": paths.to_numpy(),
            "total_conversions": rng.poisson(1.0, n),
            "total_null": rng.poisson(5.0, n),
        }
    )
    frame["total_conversion_value"] = frame["total_conversions"] * rng.gamma(2.0, 500.0, n)
    markov_attribution(frame.head(10))  # warm-up (imports)
    started = time.perf_counter()
    result = markov_attribution(frame)
    elapsed = time.perf_counter() - started
    print(f"\nmarkov_attribution order=1 on {n:,} distinct paths: {elapsed:.3f} s")
    started = time.perf_counter()
    shapley = shapley_attribution(frame)
    print(f"shapley_attribution on {n:,} distinct paths: {time.perf_counter() - started:.3f} s")

    assert len(result) == 10
    assert result["attributed_conversions"].sum() == pytest.approx(frame["total_conversions"].sum())
    assert shapley["attributed_conversions"].sum() == pytest.approx(
        frame["total_conversions"].sum()
    )
    assert result["removal_effect"].between(0, 1).all()
    # the 100k-path chain against the pure-Python reference (value iteration)
    p, re, _ = naive_attribution(frame)
    assert result.attrs["p_conversion"] == pytest.approx(p, rel=1e-10)
    assert by_channel(result, "removal_effect") == pytest.approx(re, rel=1e-8)
