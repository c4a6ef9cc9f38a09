"""Vectorised numpy/pyarrow building blocks shared by the generator's modules.

Time units, categorical draws (one distribution, or one row of a table per item), code -> string
lookups, fixed-width and opaque id arrays, timestamp arrays, and the operations on a *frame*: a
dict of equally long numpy columns (the generator's in-memory table of sessions or events).
No randomness of its own: every draw uses the ``rng`` it is given.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

DAY = 86_400
HOUR = 3_600
NULL = np.iinfo(np.int64).min  # "no value" in integer code arrays


def epoch_seconds(day: dt.date) -> int:
    """Seconds from 1970-01-01 to the start (00:00 UTC) of ``day``."""
    return (day - dt.date(1970, 1, 1)).days * DAY


def norm(p) -> np.ndarray:
    """Weights scaled to sum to 1."""
    p = np.asarray(p, dtype=np.float64)
    return p / p.sum()


def choice(rng: np.random.Generator, p, size: int) -> np.ndarray:
    """Categorical draws from one distribution (indices into p)."""
    cum = np.cumsum(norm(p))
    return np.minimum(np.searchsorted(cum, rng.random(size), side="right"), len(cum) - 1)


def cum_rows(weights: np.ndarray) -> np.ndarray:
    """Row-normalised cumulative probabilities of a (rows x categories) weight matrix."""
    w = np.asarray(weights, dtype=np.float64)
    total = w.sum(axis=1, keepdims=True)
    w = np.where(total > 0, w / np.where(total > 0, total, 1.0), 1.0 / w.shape[1])
    cum = np.cumsum(w, axis=1)
    cum[:, -1] = 1.0
    return cum


def categorical(rng: np.random.Generator, row_cums: np.ndarray, row: np.ndarray) -> np.ndarray:
    """One categorical draw per item, from the distribution in row ``row[i]`` of ``row_cums``.

    Vectorised without an (items x categories) matrix: row r's cumulative values are shifted by
    r so that one searchsorted over the flattened table finds every item's category.
    """
    n_rows, k = row_cums.shape
    flat = (row_cums + np.arange(n_rows)[:, None]).ravel()
    row = np.asarray(row, dtype=np.int64)
    pos = np.searchsorted(flat, row + rng.random(len(row)), side="right")
    return np.clip(pos - row * k, 0, k - 1)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function."""
    return 1.0 / (1.0 + np.exp(-x))


def take(dictionary: pa.Array, codes: np.ndarray) -> pa.Array:
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


def decimal_ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
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


def hex_ids(prefix: str, numbers: np.ndarray, width: int, salt: int) -> pa.Array:
    """Unique opaque ids like 'ev_3fa9c01b27de' from distinct non-negative numbers."""
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    y = _scramble(numbers, 4 * width, salt)
    chars = np.empty((len(y), len(head) + width), dtype=np.uint8)
    chars[:, : len(head)] = head
    for j in range(width):  # loop over digit positions
        shift = np.uint64(4 * (width - 1 - j))
        chars[:, len(head) + j] = _HEX[((y >> shift) & np.uint64(15)).astype(np.int64)]
    return _string_array(chars)


def timestamps(seconds: np.ndarray, millis: np.ndarray | None = None) -> pa.Array:
    """A ``timestamp[us]`` array from epoch seconds (plus optional milliseconds)."""
    us = np.asarray(seconds, dtype=np.int64) * 1_000_000
    if millis is not None:
        us = us + np.asarray(millis, dtype=np.int64) * 1_000
    return pa.array(us, type=pa.timestamp("us"))


def group_min(keys: np.ndarray, values: np.ndarray, n: int, fill) -> np.ndarray:
    """min(values) per key in [0, n); ``fill`` (not below any value) where a key has none."""
    out = np.full(n, fill, dtype=np.asarray(values).dtype)
    if len(keys):
        np.minimum.at(out, keys, values)
    return out


def frame_take(frame: dict[str, np.ndarray], idx) -> dict[str, np.ndarray]:
    """The rows ``idx`` (indices or a boolean mask) of every column of a frame."""
    return {k: v[idx] for k, v in frame.items()}


# compact dtypes of the event columns: memory and copy time scale with them
EVENT_DTYPES = {
    "t": np.int64, "dur": np.int64, "lead": np.int32, "sess": np.int32, "etype": np.int8,
    "url": np.int32, "ptype": np.int8, "asset": np.int32, "channel": np.int8,
    "source": np.int16, "medium": np.int16, "campaign": np.int32, "referrer": np.int16,
    "intent": np.float32, "kind": np.int8, "land": bool, "web": bool, "anon": bool,
    "unknown": bool, "has_sid": bool,
}  # fmt: skip


def frame_concat(frames: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Frames stacked row-wise (``None`` skipped), event columns cast to their compact dtype."""
    frames = [f for f in frames if f is not None]
    keys = frames[0].keys()
    return {
        k: np.concatenate([f[k] for f in frames], dtype=EVENT_DTYPES.get(k), casting="unsafe")
        for k in keys
    }


def hex_ids_masked(prefix: str, numbers: np.ndarray, width: int, salt: int) -> pa.Array:
    """Like :func:`hex_ids`, with a null id where the number is negative."""
    mask = numbers < 0
    ids = hex_ids(prefix, np.where(mask, 0, numbers), width, salt)
    return pc.if_else(pa.array(mask), pa.scalar(None, pa.string()), ids)
