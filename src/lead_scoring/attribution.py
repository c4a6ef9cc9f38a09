"""Data-driven multi-touch attribution: exact Markov removal effects and Shapley values.

Every public function takes the table ``fct_conversion_paths`` as a pandas DataFrame, in the
input format of the standard Markov attribution tools (R ``ChannelAttribution`` and its
Python port): one row per distinct path with the columns

* ``path`` -- channels joined by ``' > '`` in time order, e.g. ``'paid_search > email > direct'``,
* ``total_conversions`` -- number of journeys with this path that converted,
* ``total_conversion_value`` -- summed value (revenue) of those conversions,
* ``total_null`` -- number of journeys with this path that did not convert.

Channel names are arbitrary strings; the separator is ``'>'`` with surrounding whitespace
ignored, so ``'a>b'`` and ``'a > b'`` are the same path. Duplicate paths (also those that become
identical after repeat collapsing) are simply added up.

Models
------
:func:`markov_attribution`
    Absorbing Markov chain of order k (Anderl, Becker, von Wangenheim & Schumann 2016),
    solved exactly with one sparse linear solve per removed channel.
:func:`shapley_attribution`
    Exact Shapley values over channel coalitions (Zhao, Mahboobi & Bagheri 2018), enumerated
    with bitmasks.
:func:`touch_credit_weights`
    Splits each conversion's credit over its individual touches using a model's channel weights.

All functions are pure (no I/O) and log, through :mod:`logging`, whenever an input is degenerate
(empty, no conversions, a single channel, dropped rows); they raise ``ValueError`` with a plain
message for malformed input (missing column, negative or missing counts).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve

logger = logging.getLogger(__name__)

__all__ = [
    "MARKOV_COLUMNS",
    "REQUIRED_COLUMNS",
    "SHAPLEY_COLUMNS",
    "MarkovChain",
    "build_markov_chain",
    "markov_attribution",
    "shapley_attribution",
    "shapley_values",
    "touch_credit_weights",
]

REQUIRED_COLUMNS: tuple[str, ...] = (
    "path",
    "total_conversions",
    "total_conversion_value",
    "total_null",
)
MARKOV_COLUMNS: list[str] = [
    "channel",
    "removal_effect",
    "attributed_conversions",
    "attributed_revenue",
    "share",
]
SHAPLEY_COLUMNS: list[str] = [
    "channel",
    "shapley_value",
    "attributed_conversions",
    "attributed_revenue",
    "share",
]
OTHER_CHANNEL = "other"
#: Hard ceiling for exact Shapley enumeration: 2**22 coalitions is ~32 MB per float vector.
SHAPLEY_HARD_LIMIT = 22


# --------------------------------------------------------------------------------------------
# Input handling
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Touches:
    """Paths exploded into touches, as flat integer arrays (one element per touch).

    Paths are renumbered 0..n_paths-1 and only paths with at least one channel and a positive
    weight (conversions + nulls) are kept. Touches of one path are contiguous and in time order.
    """

    channels: np.ndarray  # (n_channels,) object array of channel names, sorted
    code: np.ndarray  # (n_touches,) int64 channel index into ``channels``
    parent: np.ndarray  # (n_touches,) int64 path index, non-decreasing
    conversions: np.ndarray  # (n_paths,) float64
    nulls: np.ndarray  # (n_paths,) float64
    values: np.ndarray  # (n_paths,) float64

    @property
    def n_channels(self) -> int:
        return len(self.channels)

    @property
    def path_starts(self) -> np.ndarray:
        """Index of the first touch of each path."""
        n = len(self.parent)
        if n == 0:
            return np.zeros(0, dtype=np.int64)
        return np.flatnonzero(np.r_[True, self.parent[1:] != self.parent[:-1]])


def _validate(paths: pd.DataFrame) -> pd.DataFrame:
    """Check columns and value ranges; return a clean copy with float count columns."""
    if not isinstance(paths, pd.DataFrame):
        raise TypeError(f"paths must be a pandas DataFrame, got {type(paths).__name__}")
    missing = [c for c in REQUIRED_COLUMNS if c not in paths.columns]
    if missing:
        raise ValueError(
            f"paths is missing required column(s) {missing}; expected the columns of "
            f"fct_conversion_paths: {list(REQUIRED_COLUMNS)} (got {list(paths.columns)})"
        )
    out = pd.DataFrame({"path": paths["path"].to_numpy(dtype=object)})
    for col in ("total_conversions", "total_conversion_value", "total_null"):
        try:
            values = pd.to_numeric(paths[col], errors="raise").to_numpy(dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"column {col!r} must be numeric: {exc}") from exc
        if col == "total_conversion_value":
            n_nan = int(np.isnan(values).sum())
            if n_nan:
                logger.warning("%d path(s) have a NULL total_conversion_value; using 0", n_nan)
                values = np.nan_to_num(values, nan=0.0)
        elif np.isnan(values).any():
            raise ValueError(f"column {col!r} has NULL/NaN values; counts must be given")
        if not np.isfinite(values).all():
            raise ValueError(f"column {col!r} has infinite values")
        if (values < 0).any():
            raise ValueError(f"column {col!r} has negative values; counts must be >= 0")
        out[col] = values
    return out


def _explode(paths: pd.DataFrame, sep: str, collapse_repeats: bool) -> _Touches:
    """Validate ``paths`` and split them into touches (vectorised with pyarrow)."""
    if not sep:
        raise ValueError("sep must be a non-empty string")
    df = _validate(paths)
    weight = df["total_conversions"].to_numpy() + df["total_null"].to_numpy()
    n_zero = int((weight <= 0).sum())
    if n_zero:
        logger.info("ignoring %d path(s) with zero conversions and zero nulls", n_zero)
        df = df.loc[weight > 0].reset_index(drop=True)

    try:
        arr = pa.array(df["path"].to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError) as exc:
        raise ValueError(f"column 'path' must hold strings: {exc}") from exc
    lists = pc.split_pattern(arr, pattern=sep)
    parent = np.asarray(pc.list_parent_indices(lists).to_numpy(zero_copy_only=False), np.int64)
    tokens = pc.utf8_trim_whitespace(pc.list_flatten(lists))
    nonempty = np.asarray(pc.greater(pc.utf8_length(tokens), 0).to_numpy(zero_copy_only=False))
    tokens = tokens.filter(pa.array(nonempty))
    parent = parent[nonempty]

    encoded = tokens.dictionary_encode()
    names = np.asarray(encoded.dictionary.to_pylist(), dtype=object)
    order = np.argsort(names, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    code = rank[np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)]
    names = names[order]

    if collapse_repeats and len(code) > 1:
        repeat = (parent[1:] == parent[:-1]) & (code[1:] == code[:-1])
        keep = np.r_[True, ~repeat]
        code, parent = code[keep], parent[keep]

    # Drop paths without any channel (empty or NULL path strings) and renumber the rest.
    present = np.zeros(len(df), dtype=bool)
    present[parent] = True
    if not present.all():
        lost = df.loc[~present]
        logger.warning(
            "ignoring %d path(s) without any channel (%.0f conversions, %.0f nulls)",
            len(lost),
            lost["total_conversions"].sum(),
            lost["total_null"].sum(),
        )
    new_index = np.cumsum(present) - 1
    parent = new_index[parent]
    df = df.loc[present]

    return _Touches(
        channels=names,
        code=code,
        parent=parent,
        conversions=df["total_conversions"].to_numpy(dtype=np.float64),
        nulls=df["total_null"].to_numpy(dtype=np.float64),
        values=df["total_conversion_value"].to_numpy(dtype=np.float64),
    )


def _empty_frame(columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=np.float64) for c in columns})
    frame["channel"] = pd.Series(dtype=object)
    return frame[columns]


def _finish(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(
        ["attributed_conversions", "channel"], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Markov chain attribution
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MarkovChain:
    """An absorbing Markov chain fitted to conversion paths.

    Transient states are ``0..n_states-1`` (each a tuple of the last ``order`` channels, or
    fewer at the start of a path) plus the ``(start)`` state at index ``start == n_states``.
    The absorbing states ``(conversion)`` and ``(null)`` are kept as the vectors
    ``to_conversion`` and ``to_null``; ``transient`` holds the transient-to-transient
    probabilities, so each row of ``[transient | to_conversion | to_null]`` sums to 1.
    """

    channels: tuple[str, ...]
    states: tuple[tuple[str, ...], ...]
    transient: sp.csr_matrix
    to_conversion: np.ndarray
    to_null: np.ndarray
    membership: np.ndarray  # (n_states + 1, n_channels) bool: state contains channel
    order: int

    @property
    def start(self) -> int:
        return len(self.states)

    def conversion_probability(self, removed: Iterable[str] = ()) -> float:
        """P(reach (conversion) from (start)), optionally with channels removed.

        Removing a channel turns every state that contains it into (null): transitions into
        such a state are redirected to (null). Solved exactly as the linear system
        ``(I - Q_kept) x = r_kept`` of the absorbing chain restricted to the kept states.
        """
        removed = list(removed)
        keep = np.ones(self.start + 1, dtype=bool)
        if removed:
            index = {c: i for i, c in enumerate(self.channels)}
            unknown = [c for c in removed if c not in index]
            if unknown:
                raise ValueError(f"unknown channel(s) {unknown}; chain has {list(self.channels)}")
            keep &= ~self.membership[:, [index[c] for c in removed]].any(axis=1)
        return self._solve(keep)

    def _solve(self, keep: np.ndarray) -> float:
        idx = np.flatnonzero(keep)
        position_of_start = int(np.searchsorted(idx, self.start))
        sub = self.transient[idx][:, idx]
        A = (sp.identity(len(idx), format="csc") - sub).tocsc()
        x = np.atleast_1d(spsolve(A, self.to_conversion[idx]))
        return float(x[position_of_start])

    def transition_frame(self) -> pd.DataFrame:
        """Long table of the non-zero transition probabilities (for docs and inspection).

        Columns ``from_state``, ``to_state``, ``probability``; states are rendered as the
        channels joined by ``' > '`` and the special states as ``(start)``, ``(conversion)``,
        ``(null)``.
        """
        labels = [" > ".join(s) for s in self.states] + ["(start)"]
        coo = self.transient.tocoo()
        frames = [
            pd.DataFrame(
                {
                    "from_state": np.asarray(labels, dtype=object)[coo.row],
                    "to_state": np.asarray(labels, dtype=object)[coo.col],
                    "probability": coo.data,
                }
            )
        ]
        for name, vec in (("(conversion)", self.to_conversion), ("(null)", self.to_null)):
            nz = np.flatnonzero(vec)
            frames.append(
                pd.DataFrame(
                    {
                        "from_state": np.asarray(labels, dtype=object)[nz],
                        "to_state": name,
                        "probability": vec[nz],
                    }
                )
            )
        return pd.concat(frames, ignore_index=True)


def _chain_from_touches(t: _Touches, order: int) -> MarkovChain:
    n = t.n_channels
    base = n + 1  # digit 0 = "no channel" (before the start of the path)
    if order < 1:
        raise ValueError(f"order must be >= 1, got {order}")
    if order * math.log2(base) > 62:
        raise ValueError(f"order={order} with {n} channels overflows the state encoding")
    m = len(t.code)
    starts = t.path_starts
    lengths = np.diff(np.r_[starts, m])
    pos = np.arange(m, dtype=np.int64) - np.repeat(starts, lengths)

    # State of touch i = (channel[i-order+1], ..., channel[i]), truncated at the path start,
    # encoded as a base-(n+1) integer whose digit j is (channel[i-j] + 1) or 0.
    key = np.zeros(m, dtype=np.int64)
    for j in range(order):
        valid = pos >= j
        digit = np.zeros(m, dtype=np.int64)
        digit[valid] = t.code[np.flatnonzero(valid) - j] + 1
        key += digit * base**j
    unique_keys, state = np.unique(key, return_inverse=True)
    state = state.astype(np.int64)
    n_states = len(unique_keys)
    start = n_states

    membership = np.zeros((n_states + 1, n), dtype=bool)
    state_tuples = []
    digits = np.stack([(unique_keys // base**j) % base for j in range(order)], axis=1)
    for j in range(order):
        has = digits[:, j] > 0
        membership[np.flatnonzero(has), digits[has, j] - 1] = True
    for row in digits:
        state_tuples.append(tuple(str(t.channels[d - 1]) for d in row[::-1] if d > 0))

    weight = (t.conversions + t.nulls)[t.parent]
    is_first = pos == 0
    is_last = np.r_[t.parent[1:] != t.parent[:-1], True] if m else np.zeros(0, dtype=bool)
    prev_state = np.r_[start, state[:-1]] if m else state
    from_state = np.where(is_first, start, prev_state)
    counts = sp.coo_matrix(
        (weight, (from_state, state)), shape=(n_states + 1, n_states + 1)
    ).tocsr()
    counts.sum_duplicates()
    last_state = state[is_last]
    last_parent = t.parent[is_last]
    conv = np.bincount(last_state, weights=t.conversions[last_parent], minlength=n_states + 1)
    null = np.bincount(last_state, weights=t.nulls[last_parent], minlength=n_states + 1)
    out = np.asarray(counts.sum(axis=1)).ravel() + conv + null
    inv = np.divide(1.0, out, out=np.zeros_like(out), where=out > 0)
    transient = sp.diags(inv) @ counts
    return MarkovChain(
        channels=tuple(str(c) for c in t.channels),
        states=tuple(state_tuples),
        transient=sp.csr_matrix(transient),
        to_conversion=conv * inv,
        to_null=null * inv,
        membership=membership,
        order=order,
    )


def build_markov_chain(
    paths: pd.DataFrame, order: int = 1, collapse_repeats: bool = True, sep: str = ">"
) -> MarkovChain:
    """Fit the absorbing Markov chain of order ``order`` to ``paths``.

    Every path ``c1 > ... > cm`` with ``w = total_conversions + total_null`` contributes ``w``
    to the transition counts ``(start)->s1``, ``s1->s2``, ..., and ``total_conversions`` to
    ``sm->(conversion)`` and ``total_null`` to ``sm->(null)``, where ``si`` is the state
    after touch i: the tuple of the last ``order`` channels up to touch i (shorter at the
    start of a path, so ``(a,)`` and ``(x, a)`` are different order-2 states). Each row of
    counts is divided by its total. Paths with no channel or zero weight are ignored.
    """
    return _chain_from_touches(_explode(paths, sep, collapse_repeats), order)


def markov_attribution(
    paths: pd.DataFrame, order: int = 1, collapse_repeats: bool = True, sep: str = ">"
) -> pd.DataFrame:
    """Exact Markov-chain removal-effect attribution (Anderl et al. 2016).

    Formulation
        States: ``(start)``, the channel states (single channels for ``order=1``, tuples of
        the last ``order`` channels otherwise; see :func:`build_markov_chain`),
        ``(conversion)`` and ``(null)``. Transition probabilities are the path counts weighted
        by ``total_conversions + total_null``. With ``collapse_repeats`` consecutive repeats
        are collapsed first (``a > a > b`` -> ``a > b``), as ChannelAttribution does; for
        ``order=1`` this does not change any result (a self-loop does not change absorption
        probabilities), for higher orders it does.

        ``P(conv)`` is the probability of absorption in ``(conversion)`` from ``(start)``,
        computed exactly: with ``Q`` the transient-to-transient block and ``r`` the vector of
        probabilities into ``(conversion)``, ``x = (I - Q)^-1 r`` (one ``scipy.sparse``
        ``spsolve``) and ``P(conv) = x[start]``.

        Removal effect of channel c: ``RE_c = 1 - P(conv | c removed) / P(conv)``, where
        removing c makes every state containing c lead to ``(null)`` (transitions into it are
        redirected to ``(null)``); one sparse solve per channel. For ``order > 1`` the states
        containing c are removed together, so the attribution is per channel, not per tuple.

        ``attributed_conversions_c = total_conversions * RE_c / sum(RE)``, and likewise
        ``attributed_revenue_c`` with ``total_conversion_value``; ``share_c = RE_c / sum(RE)``.

    Returns
        One row per channel, sorted by attributed conversions: ``channel``, ``removal_effect``
        (in [0, 1]), ``attributed_conversions``, ``attributed_revenue``, ``share`` (sums to 1).
        ``frame.attrs`` holds ``p_conversion``, ``n_states`` and ``order``.

    Degenerate input (logged, never an exception): an empty frame gives an empty frame with
    these columns; no conversions gives one row per channel with zeros everywhere; a single
    channel gets removal effect 1 and 100 % of the credit.

    Raises
        ValueError: a required column is missing, counts are negative/NaN, ``order < 1``.
    """
    touches = _explode(paths, sep, collapse_repeats)
    if touches.n_channels == 0:
        logger.warning("markov_attribution: no paths with channels and counts; empty result")
        frame = _empty_frame(MARKOV_COLUMNS)
        frame.attrs.update(p_conversion=float("nan"), n_states=0, order=order)
        return frame
    chain = _chain_from_touches(touches, order)
    total_conv = float(touches.conversions.sum())
    total_value = float(touches.values.sum())
    p_conv = chain._solve(np.ones(chain.start + 1, dtype=bool))

    n = touches.n_channels
    removal = np.zeros(n)
    if total_conv <= 0 or p_conv <= 0:
        logger.warning(
            "markov_attribution: the paths have no conversions; all removal effects are 0"
        )
        shares = np.zeros(n)
    else:
        for c in range(n):
            keep = ~chain.membership[:, c]
            p_without = chain._solve(keep)
            removal[c] = 1.0 - p_without / p_conv
        removal = np.clip(removal, 0.0, 1.0)
        shares = removal / removal.sum()
        if n == 1:
            logger.info("markov_attribution: a single channel (%s) gets 100%%", chain.channels[0])
    frame = pd.DataFrame(
        {
            "channel": np.asarray(chain.channels, dtype=object),
            "removal_effect": removal,
            "attributed_conversions": total_conv * shares,
            "attributed_revenue": total_value * shares,
            "share": shares,
        }
    )
    frame = _finish(frame)
    frame.attrs.update(p_conversion=p_conv, n_states=len(chain.states), order=order)
    return frame


# --------------------------------------------------------------------------------------------
# Shapley attribution
# --------------------------------------------------------------------------------------------


def _subset_sums(a: np.ndarray, n: int) -> np.ndarray:
    """Zeta transform: ``f[S] = sum(a[T] for T subset of S)`` over bitmask indices."""
    f = np.array(a, dtype=np.float64, copy=True)
    for i in range(n):
        view = f.reshape(-1, 2, 1 << i)
        view[:, 1, :] += view[:, 0, :]
    return f


def shapley_values(worth: np.ndarray, n_players: int) -> np.ndarray:
    """Exact Shapley values of a cooperative game given by its worth on every coalition.

    ``worth[S]`` is ``v(S)`` for the coalition whose members are the set bits of the integer
    ``S`` (length ``2**n_players``; ``worth[0]`` should be 0). Uses the standard formula
    ``phi_i = sum_{S not containing i} |S|! (n-|S|-1)! / n! * (v(S + i) - v(S))``,
    vectorised over all ``2**(n-1)`` coalitions per player: ``O(n 2^n)`` time.
    """
    n = int(n_players)
    worth = np.asarray(worth, dtype=np.float64)
    if n < 0 or worth.shape != (1 << n,):
        raise ValueError(f"worth must have length 2**n_players = {1 << max(n, 0)}")
    if n == 0:
        return np.zeros(0)
    masks = np.arange(1 << n, dtype=np.int64)
    size = np.bitwise_count(masks).astype(np.int64)
    # |S|! (n-|S|-1)! / n!  ==  1 / (n * C(n-1, |S|))
    weight = np.array([1.0 / (n * math.comb(n - 1, s)) for s in range(n)])
    phi = np.empty(n)
    for i in range(n):
        bit = 1 << i
        without = masks[(masks & bit) == 0]
        phi[i] = np.dot(weight[size[without]], worth[without | bit] - worth[without])
    return phi


def _merge_rare(t: _Touches, max_channels: int) -> tuple[np.ndarray, np.ndarray]:
    """Keep the top ``max_channels - 1`` channels, map the rest to 'other'.

    Ranking: conversions of the paths containing the channel, then their weight
    (conversions + nulls), then the name. Returns (new channel names, new code per touch).
    """
    n = t.n_channels
    # conversions / weight of paths containing each channel (count each path once per channel)
    pair = np.unique(t.parent * n + t.code)
    p, c = pair // n, pair % n
    conv = np.bincount(c, weights=t.conversions[p], minlength=n)
    weight = np.bincount(c, weights=(t.conversions + t.nulls)[p], minlength=n)
    names = t.channels
    candidates = [i for i in range(n) if names[i] != OTHER_CHANNEL]
    candidates.sort(key=lambda i: (-conv[i], -weight[i], str(names[i])))
    kept = sorted(candidates[: max_channels - 1], key=lambda i: str(names[i]))
    new_names = [str(names[i]) for i in kept] + [OTHER_CHANNEL]
    mapping = np.full(n, len(kept), dtype=np.int64)
    mapping[kept] = np.arange(len(kept))
    kept_set = set(kept)
    merged = sorted(str(names[i]) for i in range(n) if i not in kept_set)
    logger.warning(
        "shapley_attribution: %d channels exceed max_channels=%d; merged %d channel(s) into "
        "'%s': %s",
        n,
        max_channels,
        len(merged),
        OTHER_CHANNEL,
        merged,
    )
    return np.asarray(new_names, dtype=object), mapping[t.code]


def shapley_attribution(
    paths: pd.DataFrame, max_channels: int = 15, sep: str = ">"
) -> pd.DataFrame:
    """Exact Shapley-value attribution over channel coalitions (Zhao et al. 2018).

    Characteristic function
        ``v(S)`` = conversions of the paths whose set of distinct channels is a subset of
        ``S`` (order and repeats of touches are ignored; ``v(empty) = 0``). For revenue the
        same game is played with ``total_conversion_value`` as the worth.

        Why conversions and not the conversion rate ``v(S) = conv(S) / (conv + null)(S)``:
        the count game is monotone and a sum of unanimity games with non-negative dividends
        (``a(T)`` = conversions of paths with channel set exactly ``T``), so every Shapley
        value is >= 0 and, by efficiency, they add up exactly to the total conversions
        (``v(N)``) with no rescaling. The rate game is not monotone (adding a channel to a
        coalition can lower its rate), gives negative credits, its ``v(N)`` is a rate that
        has to be rescaled to conversions, and small channel sets with a few lucky journeys
        get unstable, inflated worths. The price of the count game: non-converting journeys
        do not affect the credit (like ChannelAttribution's heuristic models, unlike Markov).

        For this game Zhao et al.'s "simplified Shapley value" has the closed form
        ``phi_c = sum_{T containing c} a(T) / |T|``: each converting path's conversions are
        shared equally by its distinct channels. We nevertheless enumerate all coalitions
        (aggregating paths by channel-set bitmask, a subset-sum transform for ``v`` and the
        standard weights; ``O(n 2^n)``), which is exact for any worth and cross-checks that.

    Too many channels
        Exact enumeration needs ``2**n`` coalitions. With more than ``max_channels`` distinct
        channels, the top ``max_channels - 1`` channels by conversions of the paths containing
        them (ties: journeys, then name) are kept and all others are merged into
        ``'other'`` (together with an existing ``'other'`` channel); a WARNING lists them.
        ``max_channels`` may be at most 22.

    Returns
        One row per channel, sorted by attributed conversions: ``channel``, ``shapley_value``
        (in conversions, equal to ``attributed_conversions`` for this game),
        ``attributed_conversions`` (sums exactly to the total conversions),
        ``attributed_revenue`` (sums to the total conversion value), ``share`` (sums to 1).

    Degenerate input (logged): empty -> empty frame; no conversions -> zeros per channel.

    Raises
        ValueError: missing column, negative/NaN counts, ``max_channels`` outside 1..22.
    """
    if not 1 <= max_channels <= SHAPLEY_HARD_LIMIT:
        raise ValueError(
            f"max_channels must be between 1 and {SHAPLEY_HARD_LIMIT}, got {max_channels}"
        )
    touches = _explode(paths, sep, collapse_repeats=True)
    if touches.n_channels == 0:
        logger.warning("shapley_attribution: no paths with channels and counts; empty result")
        return _empty_frame(SHAPLEY_COLUMNS)
    names, code = touches.channels, touches.code
    if len(names) > max_channels:
        names, code = _merge_rare(touches, max_channels)
    n = len(names)
    starts = touches.path_starts
    path_mask = np.bitwise_or.reduceat(np.left_shift(np.int64(1), code), starts)
    size = 1 << n
    total_conv = float(touches.conversions.sum())
    total_value = float(touches.values.sum())

    phi_conv = shapley_values(
        _subset_sums(np.bincount(path_mask, weights=touches.conversions, minlength=size), n), n
    )
    phi_value = shapley_values(
        _subset_sums(np.bincount(path_mask, weights=touches.values, minlength=size), n), n
    )
    if total_conv <= 0:
        logger.warning("shapley_attribution: the paths have no conversions; all values are 0")
        attributed = np.zeros(n)
        shares = np.zeros(n)
    else:
        # Efficiency makes sum(phi) == total up to rounding; rescale so it holds exactly.
        attributed = phi_conv * (total_conv / phi_conv.sum())
        shares = attributed / total_conv
    if total_value > 0 and phi_value.sum() > 0:
        revenue = phi_value * (total_value / phi_value.sum())
    else:
        revenue = np.zeros(n)
    if n == 1:
        logger.info("shapley_attribution: a single channel (%s) gets 100%%", names[0])
    frame = pd.DataFrame(
        {
            "channel": np.asarray(names, dtype=object),
            "shapley_value": phi_conv,
            "attributed_conversions": attributed,
            "attributed_revenue": revenue,
            "share": shares,
        }
    )
    return _finish(frame)


# --------------------------------------------------------------------------------------------
# From channel credit to touch credit
# --------------------------------------------------------------------------------------------


def touch_credit_weights(
    touches: pd.DataFrame,
    channel_weights: Mapping[str, float] | pd.DataFrame,
    *,
    group_col: str = "conversion_id",
    channel_col: str = "channel",
    weight_col: str = "share",
) -> pd.Series:
    """Fraction of each conversion's credit that goes to each of its touches.

    ``touches`` has one row per touch with a conversion key (``group_col``) and a channel.
    ``channel_weights`` is a model result (its ``channel`` and ``weight_col`` columns, by
    default the ``share`` of :func:`markov_attribution` / :func:`shapley_attribution`) or a
    mapping channel -> weight; channels not listed get weight 0.

    Rule: within a conversion g, channel c receives ``w_c / sum(w over the distinct channels
    of g)``, and that is split equally over the ``n_gc`` touches of c in g::

        credit(touch of c in g) = (w_c / n_gc) / sum over touches t of g of (w_t / n_gt)

    (the denominator equals the sum of ``w`` over the distinct channels of g), so the credits
    of a conversion sum to 1 and a channel's part does not grow with its touch count, which
    is consistent with the models (both ignore repeats). If all channels of a conversion have
    weight 0, its credit is split equally over its touches (linear). SQL mirror::

        with t as (
            select t.*, coalesce(w.share, 0) / count(*) over (partition by conversion_id,
                   t.channel) as w_touch,
                   count(*) over (partition by conversion_id) as n_touches
            from touches t left join channel_weights w using (channel))
        select *, case when sum(w_touch) over (partition by conversion_id) > 0
                       then w_touch / sum(w_touch) over (partition by conversion_id)
                       else 1.0 / n_touches end as credit
        from t

    Returns a float Series aligned with ``touches.index``.
    """
    for col in (group_col, channel_col):
        if col not in touches.columns:
            raise ValueError(f"touches is missing required column {col!r}")
    if isinstance(channel_weights, pd.DataFrame):
        for col in ("channel", weight_col):
            if col not in channel_weights.columns:
                raise ValueError(f"channel_weights is missing required column {col!r}")
        mapping = dict(zip(channel_weights["channel"], channel_weights[weight_col], strict=True))
    else:
        mapping = dict(channel_weights)
    w = touches[channel_col].map(mapping).astype(np.float64).fillna(0.0)
    if (w < 0).any():
        raise ValueError("channel weights must be >= 0")
    keys = [touches[group_col], touches[channel_col]]
    n_gc = touches.groupby(keys, sort=False, dropna=False)[channel_col].transform("size")
    w_touch = w / n_gc
    group = touches[group_col]
    denom = w_touch.groupby(group, sort=False, dropna=False).transform("sum")
    n_touches = w_touch.groupby(group, sort=False, dropna=False).transform("size")
    credit = np.where(denom > 0, w_touch / denom.where(denom > 0, 1.0), 1.0 / n_touches)
    n_fallback = int(group[denom.to_numpy() <= 0].nunique())
    if n_fallback:
        logger.info(
            "touch_credit_weights: %d conversion(s) have only zero-weight channels; "
            "split equally over their touches",
            n_fallback,
        )
    return pd.Series(credit, index=touches.index, name="credit", dtype=np.float64)
