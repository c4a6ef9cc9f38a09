"""Sampling whole leads in the warehouse, so the full feature mart never has to reach Python.

Conversions are rare: most labeled snapshots belong to leads that never convert, and they carry
little information each. Above ``train_max_rows`` labeled snapshots, the dbt model keeps every
snapshot of the leads that converted and a seeded share of the *other leads* (all of a kept lead's
snapshots: a lead's weekly snapshots stay together, so lead-level statistics and the lead-level
bootstrap stay right), each row weighted by 1 / its lead's sampling rate: the weighted sample has
the expected loss of the whole history. If the converting leads alone exceed half the cap they are
sampled too. The draw is a hash of the lead id (salted md5, the first 32 bits), so it is the same
in every build and on any engine: the predicate compares the md5's first eight hex digits with
the threshold's as text (fixed width, lowercase: the order of the numbers), which DuckDB and
Spark read alike, where a hex-to-integer cast is DuckDB's own.
"""

from __future__ import annotations

__all__ = [
    "lead_bucket_predicate",
    "lead_sample_predicate",
    "lead_sample_rates",
    "lead_sample_weight_sql",
]

SALT = "lead_scoring.sample:"
_BITS = 2**32


def lead_sample_rates(converting_rows: int, other_rows: int, max_rows: int | None) -> tuple[
    float, float
]:
    """``(rate for converting leads, rate for the others)``: (1, 1) when everything fits."""
    total = converting_rows + other_rows
    if max_rows is None or total <= max_rows:
        return 1.0, 1.0
    if converting_rows <= max_rows / 2:
        return 1.0, max(max_rows - converting_rows, 1) / max(other_rows, 1)
    half = max_rows / 2
    return min(1.0, half / converting_rows), min(1.0, half / max(other_rows, 1))


def _hash_hex_sql(column: str) -> str:
    """The lead's draw, the first 32 bits of the salted md5, as eight lowercase hex digits."""
    return f"substr(md5('{SALT}' || {column}), 1, 8)"


def _below_sql(column: str, threshold: int) -> str:
    """SQL: the lead's draw is below ``threshold`` (0 .. 2**32), in SQL both engines read."""
    if threshold >= _BITS:
        return "true"
    return f"{_hash_hex_sql(column)} < '{threshold:08x}'"


def _threshold(rate: float) -> int:
    return int(round(min(max(rate, 0.0), 1.0) * _BITS))


def lead_sample_predicate(
    converting_rate: float, other_rate: float, lead_column: str = "lead_id"
) -> str:
    """SQL predicate (DuckDB and Spark) keeping a lead's rows when its hash falls under its
    stratum's rate (stratum: ``label_converted_at is not null``)."""
    return (
        "(case when label_converted_at is not null "
        f"then {_below_sql(lead_column, _threshold(converting_rate))} "
        f"else {_below_sql(lead_column, _threshold(other_rate))} end)"
    )


def lead_bucket_predicate(buckets: int, bucket: int, lead_column: str = "lead_id") -> str:
    """SQL predicate: the lead is in ``bucket`` of ``buckets`` (0 .. buckets - 1), by the
    engine's own ``hash()``. Spark's is a signed integer, so the remainder is made non-negative;
    on DuckDB (an unsigned hash) the buckets are those of ``hash(lead_id) % buckets``."""
    n = int(buckets)
    return f"(hash({lead_column}) % {n} + {n}) % {n} = {int(bucket)}"


def lead_sample_weight_sql(converting_rate: float, other_rate: float) -> str:
    """The row weight: 1 / the sampling rate of the row's stratum (as the rate was applied)."""
    conv = _BITS / max(_threshold(converting_rate), 1)
    other = _BITS / max(_threshold(other_rate), 1)
    return (
        f"cast(case when label_converted_at is not null then {conv!r} else {other!r} end "
        "as double)"
    )
