"""Sampling whole leads in the warehouse, so the full feature mart never has to reach Python.

Conversions are rare: most labeled snapshots belong to leads that never convert, and they carry
little information each. Above ``train_max_rows`` labeled snapshots, the dbt model keeps every
snapshot of the leads that converted and a seeded share of the *other leads* (all of a kept lead's
snapshots: a lead's weekly snapshots stay together, so lead-level statistics and the lead-level
bootstrap stay right), each row weighted by 1 / its lead's sampling rate: the weighted sample has
the expected loss of the whole history. If the converting leads alone exceed half the cap they are
sampled too. The draw is a hash of the lead id (salted md5, the first 32 bits), so it is the same
in every build and on any engine.
"""

from __future__ import annotations

__all__ = ["lead_sample_predicate", "lead_sample_rates", "lead_sample_weight_sql"]

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


def _hash_sql(column: str) -> str:
    return f"cast(('0x' || substr(md5('{SALT}' || {column}), 1, 8)) as ubigint)"


def _threshold(rate: float) -> int:
    return int(round(min(max(rate, 0.0), 1.0) * _BITS))


def lead_sample_predicate(
    converting_rate: float, other_rate: float, lead_column: str = "lead_id"
) -> str:
    """DuckDB predicate keeping a lead's rows when its hash falls under its stratum's rate
    (stratum: ``label_converted_at is not null``)."""
    h = _hash_sql(lead_column)
    return (
        f"(case when label_converted_at is not null then {h} < {_threshold(converting_rate)} "
        f"else {h} < {_threshold(other_rate)} end)"
    )


def lead_sample_weight_sql(converting_rate: float, other_rate: float) -> str:
    """The row weight: 1 / the sampling rate of the row's stratum (as the rate was applied)."""
    conv = _BITS / max(_threshold(converting_rate), 1)
    other = _BITS / max(_threshold(other_rate), 1)
    return (
        f"cast(case when label_converted_at is not null then {conv!r} else {other!r} end "
        "as double)"
    )
